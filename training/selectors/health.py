"""Health of the parts the app needs: database, Redis and at least one Celery worker.

The worker check is the slow one (a broadcast ping), so each web process keeps its last answer for
``HEALTH_WORKER_CACHE_SECONDS`` and refreshes it in a background thread once it is half that old; without a
fresh answer it pings and returns at the first reply (a full list of workers follows in the background). A
request therefore never waits for the ping's whole timeout while a worker is up; with none up it still answers
503 naming ``celery_workers`` (after the ping's timeout).
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
DEFAULT_WORKER_CACHE_SECONDS = 5.0
FAILURE_CACHE_SECONDS = 1.0


def _check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except Exception as exc:  # any driver error means "down"; the message is reported
        return False, f"{type(exc).__name__}: {exc}"


def _check_redis() -> tuple[bool, str]:
    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        try:
            client.ping()
        finally:
            client.close()
        return True, "ok"
    except Exception as exc:
        return False, f"Redis at {settings.CELERY_BROKER_URL} did not answer: {exc}"


def _ping_workers(*, first_reply_only: bool) -> tuple[bool, str]:
    from ares_site.celery import app

    try:
        if first_reply_only:
            replies = app.control.ping(timeout=WORKER_PING_TIMEOUT_SECONDS, limit=1) or []
        else:
            replies = app.control.ping(timeout=WORKER_LIST_TIMEOUT_SECONDS) or []
    except Exception as exc:
        return False, f"could not ask workers: {exc}"
    if not replies:
        return False, "no Celery worker answered"
    names = sorted(name for reply in replies for name in reply)
    return True, f"{len(names)} worker(s): {', '.join(names)}"


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
    before it waits for a worker (one ping, up to WORKER_PING_TIMEOUT_SECONDS)."""
    answered, detail = _ping_workers(first_reply_only=True)
    if answered:
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
        ttl = float(getattr(settings, "HEALTH_WORKER_CACHE_SECONDS", DEFAULT_WORKER_CACHE_SECONDS))
        broker = settings.CELERY_BROKER_URL
        with self._lock:
            value, age = self._value, time.monotonic() - self._at
            keep = ttl if value and value[0] else min(ttl, FAILURE_CACHE_SECONDS)  # a failure is asked again soon
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
