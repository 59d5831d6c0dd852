"""The run side's database helpers: Optuna's storage URL (same file and busy timeout as Django) and a retry for
short writes that meet SQLite's "database is locked" after the busy timeout ran out."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from django.conf import settings
from django.db import OperationalError, connections

logger = logging.getLogger(__name__)

T = TypeVar("T")
LOCKED_MARKERS = ("database is locked", "database table is locked")
DEFAULT_SQLITE_TIMEOUT_SECONDS = 30
RETRY_FIRST_DELAY_SECONDS = 0.2
RETRY_MAX_DELAY_SECONDS = 5.0


def sqlite_busy_timeout() -> float:
    """The busy timeout Django's SQLite connections use (settings' OPTIONS["timeout"])."""
    options = connections["default"].settings_dict.get("OPTIONS") or {}
    return float(options.get("timeout") or DEFAULT_SQLITE_TIMEOUT_SECONDS)


def optuna_storage_url() -> str | None:
    """SQLAlchemy URL of the Django database, for Optuna's RDB storage; None for an in-memory SQLite.

    SQLite gets Django's busy timeout (``?timeout=30``; pysqlite's default is 5 s) so a long write elsewhere
    makes Optuna wait instead of failing the run; the WAL journal is a property of the file, set by Django.
    """
    db = connections["default"].settings_dict
    engine, name = db["ENGINE"], str(db.get("NAME") or "")
    if engine.endswith("sqlite3"):
        if not name or name == ":memory:" or name.startswith("file:memorydb"):
            return None
        return f"sqlite:///{Path(name).resolve()}?timeout={sqlite_busy_timeout():g}"
    if "postgresql" in engine:
        user = quote(db.get("USER") or "", safe="")
        password = quote(db.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = db.get("HOST") or "localhost"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgresql+psycopg://{auth}{host}{port}/{name}"
    return None


def is_locked_error(exc: BaseException) -> bool:
    """SQLite's "database is locked", as Django, sqlite3 or SQLAlchemy (Optuna) raise it."""
    is_operational = isinstance(exc, OperationalError) or type(exc).__name__ == "OperationalError"
    return is_operational and any(marker in str(exc).lower() for marker in LOCKED_MARKERS)


def retry_when_locked(write: Callable[[], T], *, what: str) -> T:
    """Run a short autocommit write; while it fails with "database is locked", wait and try again for up to
    ``TRAINING_DB_RETRY_SECONDS``. Never call it inside ``transaction.atomic``."""
    deadline = time.monotonic() + float(getattr(settings, "TRAINING_DB_RETRY_SECONDS", 120))
    delay = RETRY_FIRST_DELAY_SECONDS
    while True:
        try:
            return write()
        except Exception as exc:
            if not is_locked_error(exc) or time.monotonic() + delay > deadline:
                raise
            logger.warning("%s: the database is locked; retrying in %.1f s", what, delay)
            time.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY_SECONDS)


def db_now():
    """The database's clock (aware, UTC): heartbeats and staleness are judged by it, so workers whose clocks
    differ still agree on which heartbeat is old."""
    from datetime import datetime

    with connections["default"].cursor() as cursor:
        if connections["default"].vendor == "sqlite":
            cursor.execute("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")
            return datetime.fromisoformat(cursor.fetchone()[0]).replace(tzinfo=UTC)
        cursor.execute("SELECT CURRENT_TIMESTAMP")
        value = cursor.fetchone()[0]
    return value if value.tzinfo else value.replace(tzinfo=UTC)
