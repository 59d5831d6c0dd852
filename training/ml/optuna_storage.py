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
``quick`` run, issue 26). Inside ``study_writes()`` (a run's regime) the write happens in a thread of its own
while the next model fits (LightGBM fits on one thread, so the other core was idle), and the block waits for
every write before it ends: a regime is not trained until its studies are stored, and a failed write fails it
with ``StudyWriteFailed``. One ``RDBStorage`` is kept per URL and process: opening one re-checks the schema
against Optuna's migrations (about 30 ms idle, 0.6 s under load); with ``NullPool`` it holds no idle connection.
"""

from __future__ import annotations

import contextvars
import fcntl
import os
import threading
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

ADVISORY_LOCK_KEY = zlib.crc32(b"ares-training:optuna-schema")  # one key per project, stable across processes
SQLITE_LOCK_SUFFIX = ".optuna-schema.lock"

MSG_WRITE_FAILED = "the Optuna study {name!r} could not be written to {where}: {error}"

_storages: dict[tuple[int, str], object] = {}  # (process id, url) -> RDBStorage; a forked child opens its own
_ready_lock = threading.Lock()
_writes: contextvars.ContextVar[list[tuple[str, Future]] | None] = contextvars.ContextVar("study_writes", default=None)
_writer: tuple[int, ThreadPoolExecutor] | None = None


class StudyWriteFailed(RuntimeError):
    """A finished study could not be stored (the regime that tuned it is not trained)."""


def rdb_storage(url: str):
    """An ``optuna.storages.RDBStorage`` for ``url`` (a SQLAlchemy URL) whose schema exists when it returns."""
    import optuna
    from sqlalchemy.pool import NullPool

    key = (os.getpid(), url)
    with _ready_lock:
        if key not in _storages:
            engine_kwargs = {"poolclass": NullPool}
            _storages[key] = _create_schema_once(
                url, lambda: optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
            )
        return _storages[key]


@contextmanager
def study_writes() -> Iterator[None]:
    """Studies persisted inside the block (``study_persist_soon``) are written by a background thread; the block
    waits for all of them when it ends and raises ``StudyWriteFailed`` for the first that failed. When the block
    ends by an exception (a cancelled or failed regime) the writes finish on their own and it does not wait."""
    pending: list[tuple[str, Future]] = []
    token = _writes.set(pending)
    try:
        yield
    finally:
        _writes.reset(token)
    for name, future in pending:
        error = future.exception()
        if error is not None:
            raise StudyWriteFailed(MSG_WRITE_FAILED.format(name=name, where="the project database", error=error))


def study_persist_soon(study, *, url: str, name: str, user_attrs: dict | None = None) -> Future:
    """``study_persist`` in the writer thread when inside ``study_writes()``, else at once; a Future of its id."""
    pending = _writes.get()
    if pending is None:
        done: Future = Future()
        done.set_result(study_persist(study, url=url, name=name, user_attrs=user_attrs))
        return done
    future = _writer_pool().submit(study_persist, study, url=url, name=name, user_attrs=user_attrs)
    pending.append((name, future))
    return future


def _writer_pool() -> ThreadPoolExecutor:
    """One writer thread per process (writes in submission order); a forked child starts its own."""
    global _writer
    with _ready_lock:
        if _writer is None or _writer[0] != os.getpid():
            _writer = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="optuna-study-writer"))
        return _writer[1]


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
