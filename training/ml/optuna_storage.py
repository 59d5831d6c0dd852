"""Optuna's RDB storage, safe to open from several processes at once.

Opening an ``RDBStorage`` creates Optuna's tables, its version row and its Alembic stamp when they are missing.
Two workers doing that at the same moment on an empty PostgreSQL database collide
(``duplicate key value violates unique constraint "pg_type_typname_nsp_index"``) and one run fails. So the first
opening in a process is serialized across processes: on PostgreSQL by a session advisory lock, on a SQLite file by
an exclusive ``flock`` on a lock file beside it (SQLite's own write lock is not enough: each of Optuna's schema
steps - tables, version row, Alembic stamp - is its own transaction, and six racing processes lost at a different
step on each retry). Once a process has seen the schema made it opens later storages without creating tables.
Connections are not pooled: a long-lived worker keeps no idle connection per study it ran.

A tuning runs on an in-memory study and ``study_persist`` writes the finished study once (one transaction per
trial instead of a write per suggestion, report and attribute: that cost +9 % per tuning and 12.8 s of a
``quick`` run, issue 26).
"""

from __future__ import annotations

import fcntl
import threading
import zlib

ADVISORY_LOCK_KEY = zlib.crc32(b"ares-training:optuna-schema")  # one key per project, stable across processes
SQLITE_LOCK_SUFFIX = ".optuna-schema.lock"

_ready: set[str] = set()
_ready_lock = threading.Lock()


def rdb_storage(url: str):
    """An ``optuna.storages.RDBStorage`` for ``url`` (a SQLAlchemy URL) whose schema exists when it returns."""
    import optuna
    from sqlalchemy.pool import NullPool

    engine_kwargs = {"poolclass": NullPool}
    if url in _ready:
        return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs, skip_table_creation=True)
    with _ready_lock:
        storage = _create_schema_once(url, lambda: optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs))
        _ready.add(url)
    return storage


FINISHED_STATES = ("COMPLETE", "PRUNED", "FAIL")


def study_persist(study, *, url: str, name: str, user_attrs: dict | None = None) -> int:
    """Copy a finished (in-memory) study into the RDB storage at ``url`` under ``name``, with ``user_attrs`` on
    the study and its finished trials; returns the stored study's id. An existing study of that name gets the
    trials appended."""
    import optuna

    target = optuna.create_study(
        storage=rdb_storage(url), study_name=name, directions=study.directions, load_if_exists=True
    )
    for key, value in (user_attrs or {}).items():
        target.set_user_attr(key, value)
    target.add_trials([t for t in study.get_trials(deepcopy=False) if t.state.name in FINISHED_STATES])
    return target._study_id


def _create_schema_once(url: str, open_storage):
    if url.startswith("postgresql"):
        with _advisory_lock(url):
            return open_storage()
    database = _sqlite_file(url)
    if database is None:  # another dialect, or an in-memory SQLite no other process can see
        return open_storage()
    with open(database + SQLITE_LOCK_SUFFIX, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when the file closes, even if opening raises
        return open_storage()


def _sqlite_file(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


class _advisory_lock:
    """``pg_advisory_lock`` held on a connection of its own for the duration of the ``with`` block."""

    def __init__(self, url: str):
        self.url = url

    def __enter__(self):
        import sqlalchemy
        from sqlalchemy.pool import NullPool

        self.engine = sqlalchemy.create_engine(self.url, poolclass=NullPool)
        self.connection = self.engine.connect()
        self.connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        return self

    def __exit__(self, *exc):
        import sqlalchemy

        try:
            self.connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
        finally:
            self.connection.close()
            self.engine.dispose()
        return False
