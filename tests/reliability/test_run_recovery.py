"""Faults against the real process tree of `make run` (run_app, its persistent Redis, a worker, gunicorn) sharing
the test database: every queued or interrupted run still ends `succeeded`. Run under `flock /work/heavy.lock`."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from ares_site.embedded_redis import free_port
from tests.conftest import celery_app_using, database_url_from_settings
from tests.reliability.supervised_app import SupervisedApp
from tests.training.runs_helpers import make_dataset
from training.models import TrainingRun
from training.services.profiles import profile_ensure_default
from training.services.runs import training_run_create

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
Status = TrainingRun.Status
RUN_TIMEOUT_SECONDS = 300
LOCK_SECONDS = 8
SYMBOL = "ETHUSDT"  # run_app loads the offline sample as BTCUSDT; the tests train on their own series


def start_app(tmp_path: Path, name: str, *, redis_port: int | None = None) -> SupervisedApp:
    from django.conf import settings

    app = SupervisedApp(
        database_url=database_url_from_settings(connection.settings_dict),
        redis_url=f"redis://127.0.0.1:{redis_port or free_port()}/0",
        port=free_port(),
        state_dir=tmp_path / name,
        artifacts_dir=str(settings.ARTIFACTS_DIR),
    )
    return app


@pytest.fixture
def app(tmp_path):
    app = start_app(tmp_path, "app")
    try:
        app.start()
        with celery_app_using(app.redis_url):
            yield app
    finally:
        app.close()


@pytest.fixture
def series(db):
    profile_ensure_default()  # run_app makes the same one when it starts first
    return make_dataset(SYMBOL, rows=2000)


def launch(preset: str) -> TrainingRun:
    return training_run_create(profile=None, symbol=SYMBOL, preset=preset)


def wait_for(run_id: int, statuses, *, app: SupervisedApp, timeout: float = RUN_TIMEOUT_SECONDS) -> TrainingRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = TrainingRun.objects.get(pk=run_id)
        if run.status in statuses:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {run.status} ({run.stage}) after {timeout} s\n{app.text()[-6000:]}")


def assert_succeeded(run_id: int, app: SupervisedApp, *, attempts: int) -> TrainingRun:
    run = wait_for(run_id, TrainingRun.TERMINAL, app=app)
    assert run.status == Status.SUCCEEDED, (run.status, run.error, run.log[-2000:], app.text()[-4000:])
    assert run.attempts == attempts, run.log
    assert "SystemExit" not in run.log
    return run


def test_sigkill_of_the_worker_main_process_restarts_it_and_retries_the_run(app, series):
    run = launch("smoke")
    running = wait_for(run.pk, [Status.RUNNING, *TrainingRun.TERMINAL], app=app)
    assert running.status == Status.RUNNING and running.worker.startswith("ares-local-1@")
    worker = app.child(contains="celery")
    worker.send_signal(signal.SIGKILL)

    done = assert_succeeded(run.pk, app, attempts=2)
    assert f"the worker {running.worker} was restarted while training; re-queued, attempt 2 of 3" in done.log
    text = app.text()
    assert f"[supervisor] celery worker 1 (pid {worker.pid}) exited with signal SIGKILL; restarting it in" in text
    assert "[supervisor] celery worker 1 restarted" in text
    assert app.process.poll() is None  # the app stayed up


def test_sigkill_of_redis_with_one_run_training_and_one_queued_loses_neither(app, series):
    training = launch("smoke")
    wait_for(training.pk, [Status.RUNNING, *TrainingRun.TERMINAL], app=app)
    queued = launch("tiny")
    assert TrainingRun.objects.get(pk=queued.pk).status == Status.QUEUED
    time.sleep(0.5)
    redis_server = app.child(contains="redis-server")
    redis_server.send_signal(signal.SIGKILL)

    assert_succeeded(training.pk, app, attempts=1)
    assert_succeeded(queued.pk, app, attempts=1)
    assert f"[supervisor] redis-server (pid {redis_server.pid}) exited with signal SIGKILL" in app.text()


def test_an_8_second_sqlite_write_lock_during_a_run_does_not_fail_it(app, series):
    database = connection.settings_dict["NAME"]
    run = launch("smoke")
    wait_for(run.pk, [Status.RUNNING, *TrainingRun.TERMINAL], app=app)
    holder = subprocess.run(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(database), str(LOCK_SECONDS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert holder.returncode == 0 and holder.stdout.strip() == "held", holder.stderr
    assert_succeeded(run.pk, app, attempts=1)


HOLD_WRITE_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE training_trainingrun SET stage = stage WHERE id < 0")
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
print("held")
"""


def test_ctrl_c_with_a_running_and_a_queued_run_then_a_restart_finishes_both(tmp_path, series):
    redis_port = free_port()
    first = start_app(tmp_path, "app", redis_port=redis_port)
    try:
        first.start()
        with celery_app_using(first.redis_url):
            running = launch("smoke")
            wait_for(running.pk, [Status.RUNNING, *TrainingRun.TERMINAL], app=first)
            queued = launch("tiny")
        assert first.interrupt() == 0
    finally:
        first.close()
    interrupted = TrainingRun.objects.get(pk=running.pk)
    assert interrupted.status == Status.QUEUED, (interrupted.status, interrupted.error)
    assert interrupted.stage == "the worker was shut down while training; re-queued, attempt 2 of 3"
    assert TrainingRun.objects.get(pk=queued.pk).status == Status.QUEUED

    second = start_app(tmp_path, "app", redis_port=redis_port)  # same state directory: the same Redis data
    try:
        second.start()
        assert_succeeded(running.pk, second, attempts=2)
        assert_succeeded(queued.pk, second, attempts=1)
    finally:
        second.close()


def test_the_lock_holder_really_blocks_writers(tmp_path):
    """The 8 s lock above is real: another writer with a short busy timeout fails while it is held."""
    path = tmp_path / "lock.sqlite3"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE training_trainingrun (id INTEGER PRIMARY KEY, stage TEXT)")
    setup.commit()
    setup.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(path), "3"], stdout=subprocess.PIPE, text=True
    )
    time.sleep(1.0)
    writer = sqlite3.connect(path, timeout=0.2)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        writer.execute("INSERT INTO training_trainingrun (stage) VALUES ('x')")
    writer.close()
    assert holder.wait(timeout=30) == 0
