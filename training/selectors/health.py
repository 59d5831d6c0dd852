"""Health of the parts the app needs: database, Redis and at least one Celery worker."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection

REDIS_TIMEOUT_SECONDS = 2.0
WORKER_PING_TIMEOUT_SECONDS = 2.0


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
        client.ping()
        return True, "ok"
    except Exception as exc:
        return False, f"Redis at {settings.CELERY_BROKER_URL} did not answer: {exc}"


def _check_workers() -> tuple[bool, str]:
    from ares_site.celery import app

    try:
        replies = app.control.ping(timeout=WORKER_PING_TIMEOUT_SECONDS) or []
    except Exception as exc:
        return False, f"could not ask workers: {exc}"
    if not replies:
        return False, "no Celery worker answered"
    names = sorted(name for reply in replies for name in reply)
    return True, f"{len(names)} worker(s): {', '.join(names)}"


def health_status() -> dict:
    database = _check_database()
    redis_ok = _check_redis()
    workers = _check_workers() if redis_ok[0] else (False, "skipped: Redis is down")
    checks = {
        "database": {"ok": database[0], "detail": database[1]},
        "redis": {"ok": redis_ok[0], "detail": redis_ok[1]},
        "celery_workers": {"ok": workers[0], "detail": workers[1]},
    }
    failed = [name for name, check in checks.items() if not check["ok"]]
    return {"status": "ok" if not failed else "fail", "failed": failed, "checks": checks}
