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


def _finished_study(trials: int = 4):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=3))
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1) ** 2, n_trials=trials)
    return study


def test_inside_study_writes_the_study_is_written_by_the_writer_thread_and_stored_when_the_block_ends(tmp_path):
    import threading

    import optuna

    from training.ml.optuna_storage import study_persist_soon, study_writes

    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = _finished_study()
    with study_writes():
        future = study_persist_soon(study, url=url, name="later", user_attrs={"run_id": 3})
    writers = [t for t in threading.enumerate() if t.name.startswith("optuna-study-writer")]
    assert future.done() and writers and threading.current_thread() not in writers
    stored = optuna.load_study(study_name="later", storage=url)
    assert [t.params for t in stored.trials] == [t.params for t in study.trials]
    assert stored.user_attrs == {"run_id": 3} and future.result() == stored._study_id


def test_a_study_that_cannot_be_written_fails_the_block_naming_it(tmp_path):
    from training.ml.optuna_storage import StudyWriteFailed, study_persist_soon, study_writes

    url = f"sqlite:///{tmp_path / 'missing-folder' / 'optuna.db'}"
    with pytest.raises(StudyWriteFailed, match="the Optuna study 'lost' could not be written"):
        with study_writes():
            study_persist_soon(_finished_study(), url=url, name="lost")


def test_outside_study_writes_the_study_is_written_before_the_call_returns(tmp_path):
    import optuna

    from training.ml.optuna_storage import study_persist_soon

    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    future = study_persist_soon(_finished_study(2), url=url, name="now")
    assert future.done() and len(optuna.load_study(study_name="now", storage=url).trials) == 2


def test_one_storage_is_kept_per_url_in_a_process(tmp_path):
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    assert rdb_storage(url) is rdb_storage(url)
