"""Health of the parts the app needs: database, Redis and at least one Celery worker.

The worker check is the slow one (a broadcast ping), so each web process keeps its last answer for
``HEALTH_WORKER_CACHE_SECONDS`` and refreshes it in a background thread once it is half that old. A healthy answer
is still served while that refresh is under way, up to STALE_FACTOR x the TTL (under load the refresh can take
longer than the half TTL left: requests then waited 2 s for a broadcast of their own, the p99 of /healthz in
``bench/bench_operations.py``). Without a recent answer a request asks the whole cluster (``selectors.workers``:
up to WORKER_PING_TIMEOUT_SECONDS, so that a registered worker that is silent makes it 503 at once); with no worker
up it answers 503 naming ``celery_workers``.
"""

from __future__ import annotations

import threading
import time

import redis
from django.conf import settings
from django.db import connection

REDIS_TIMEOUT_SECONDS = 2.0
WORKER_PING_TIMEOUT_SECONDS = 2.0
WORKER_LIST_TIMEOUT_SECONDS = 1.0
FAILURE_CACHE_SECONDS = 1.0
STALE_FACTOR = 3.0


def _check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except Exception as exc:  # any driver error means "down"; the message is reported
        return False, f"{type(exc).__name__}: {exc}"


_redis_clients: dict[str, redis.Redis] = {}
_redis_clients_lock = threading.Lock()


def _redis_client(url: str) -> redis.Redis:
    """One client (and connection pool) per broker URL and process: building a client reads package metadata
    from disk (about 2 ms of CPU), a probe answered many times a second should not pay that each time. A
    connection that broke (Redis restarted) is dropped and made again by the client itself."""
    with _redis_clients_lock:
        client = _redis_clients.get(url)
        if client is None:
            client = _redis_clients[url] = redis.Redis.from_url(
                url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
            )
        return client


def _check_redis() -> tuple[bool, str]:
    try:
        _redis_client(settings.CELERY_BROKER_URL).ping()
        return True, "ok"
    except Exception as exc:
        return False, f"Redis at {settings.CELERY_BROKER_URL} did not answer: {exc}"


def _ping_workers(*, first_reply_only: bool = False) -> tuple[bool, str]:
    """Every worker of the cluster (``selectors.workers``): ok when one answers and none registered is lost.
    The full broadcast every time, so any web process gives the same list."""
    from training.selectors.workers import cluster_workers

    try:
        workers = cluster_workers(
            timeout=WORKER_PING_TIMEOUT_SECONDS if first_reply_only else WORKER_LIST_TIMEOUT_SECONDS
        )
    except Exception as exc:
        return False, f"could not ask workers: {exc}"
    up = [w["name"] for w in workers if w["state"] == "up"]
    lost = [w for w in workers if w["state"] != "up"]
    if not up:
        return False, "no Celery worker answered" + (f"; {_lost(lost)}" if lost else "")
    detail = f"{len(up)} worker(s): {', '.join(up)}"
    return (False, f"{detail}; {_lost(lost)}") if lost else (True, detail)


def _lost(lost: list[dict]) -> str:
    return "lost (registered, not answering): " + ", ".join(
        f"{w['name']} (last heartbeat {w['heartbeat_age_seconds']:g} s ago)" for w in lost
    )


MSG_NO_WORKER = (
    "No Celery worker answers on {broker} ({detail}): the {what} waits in the queue until one starts there "
    "(`make run`, or `make worker` with REDIS_URL={broker})."
)


def broker_display() -> str:
    """The broker URL without its password, for messages."""
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(settings.CELERY_BROKER_URL)


def worker_absent_message(*, what: str) -> str | None:
    """None when a worker answers a ping on the broker this process uses; otherwise the sentence a command prints
    before it waits for a worker. The ping returns at the first reply (a command follows its run only after this,
    and a tiny run on a warm worker ends within the whole broadcast's timeout); with no reply the cluster view
    names the registered workers that are lost."""
    from ares_site.celery import app

    try:
        if app.control.ping(timeout=WORKER_PING_TIMEOUT_SECONDS, limit=1):
            return None
    except Exception:
        pass  # the broker cannot be asked: the cluster view below says so
    answered, detail = _ping_workers(first_reply_only=False)
    if answered:  # a worker answered late, after the first ping gave up
        return None
    return MSG_NO_WORKER.format(broker=broker_display(), detail=detail, what=what)


class WorkerCheckCache:
    """The last worker-ping answer of this process, with its broker URL and age."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._value: tuple[bool, str] | None = None
        self._at = 0.0
        self._broker = ""

    def _store(self, broker: str, value: tuple[bool, str]) -> None:
        with self._lock:
            self._value, self._at, self._broker = value, time.monotonic(), broker

    def _refresh_in_background(self, broker: str) -> None:
        if not self._refreshing.acquire(blocking=False):
            return

        def refresh() -> None:
            try:
                self._store(broker, _ping_workers(first_reply_only=False))
            finally:
                self._refreshing.release()

        threading.Thread(target=refresh, name="healthz-worker-ping", daemon=True).start()

    def get(self) -> tuple[bool, str]:
        ttl = float(settings.HEALTH_WORKER_CACHE_SECONDS)
        broker = settings.CELERY_BROKER_URL
        with self._lock:
            value, age = self._value, time.monotonic() - self._at
            # a healthy answer is served while its refresh is under way (a busy machine can take longer than the
            # half TTL left to finish it), up to STALE_FACTOR x the TTL; a failure is asked again soon
            keep = ttl * STALE_FACTOR if value and value[0] else min(ttl, FAILURE_CACHE_SECONDS)
            fresh = value is not None and self._broker == broker and age < keep
        if fresh:
            if age >= ttl / 2:
                self._refresh_in_background(broker)
            return value
        value = _ping_workers(first_reply_only=True)
        self._store(broker, value)
        if value[0]:
            self._refresh_in_background(broker)
        return value

    def age(self) -> float | None:
        """Seconds since the answer kept now was asked (None: none kept)."""
        with self._lock:
            return None if self._value is None else time.monotonic() - self._at

    def clear(self) -> None:
        with self._lock:
            self._value, self._at = None, 0.0


worker_check_cache = WorkerCheckCache()


def health_status() -> dict:
    database = _check_database()
    redis_ok = _check_redis()
    workers = worker_check_cache.get() if redis_ok[0] else (False, "skipped: Redis is down")
    checks = {
        "database": {"ok": database[0], "detail": database[1]},
        "redis": {"ok": redis_ok[0], "detail": redis_ok[1]},
        "celery_workers": {"ok": workers[0], "detail": workers[1]},
    }
    failed = [name for name, check in checks.items() if not check["ok"]]
    return {"status": "ok" if not failed else "fail", "failed": failed, "checks": checks}
