"""Optuna's storage opened by several processes at the same moment on an empty database: every one gets a
working storage (two workers' first LightGBM studies once failed a run on PostgreSQL with a duplicate key)."""

import multiprocessing
import os
import uuid

import pytest

from training.ml.optuna_storage import rdb_storage

PROCESSES = 6


def _open_and_use(url, barrier, results):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    barrier.wait(timeout=60)
    try:
        study = optuna.create_study(study_name=f"s-{os.getpid()}", storage=rdb_storage(url))
        study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=2)
        results.put(("ok", len(study.trials)))
    except Exception as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def _open_all_at_once(url):
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_open_and_use, args=(url, barrier, results)) for _ in range(PROCESSES)]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    return outcomes


def test_processes_opening_a_fresh_sqlite_storage_at_once_all_succeed(tmp_path):
    outcomes = _open_all_at_once(f"sqlite:///{tmp_path / 'optuna.sqlite3'}?timeout=30")
    assert outcomes == [("ok", 2)] * PROCESSES


@pytest.fixture
def empty_postgres_database():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL names no PostgreSQL server")
    import psycopg

    server, name = url.rsplit("/", 1)[0], f"ares_optuna_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server.replace('postgres://', 'postgresql+psycopg://', 1)}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_processes_opening_a_fresh_postgres_storage_at_once_all_succeed(empty_postgres_database):
    assert _open_all_at_once(empty_postgres_database) == [("ok", 2)] * PROCESSES
