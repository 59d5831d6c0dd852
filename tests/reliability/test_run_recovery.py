"""Faults against the real process tree of `make run` (run_app, its persistent Redis, a worker, gunicorn, on a
database of its own): every queued or interrupted run still ends `succeeded`.
Runs train on the offline sample run_app loads (BTCUSDT 1h): `smoke` for a run that must still be training when
the fault hits, `tiny` otherwise."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from ares_site.embedded_redis import free_port
from tests.reliability.supervised_app import SupervisedApp

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.fault]
TERMINAL = ("succeeded", "failed", "cancelled")
ACTIVE_OR_DONE = ("running", *TERMINAL)
LOCK_SECONDS = 8
SYMBOL = "BTCUSDT"


def new_app(tmp_path, *, redis_port: int | None = None) -> SupervisedApp:
    return SupervisedApp(state_dir=tmp_path / "app", redis_port=redis_port or free_port(), port=free_port())


@pytest.fixture
def app(tmp_path):
    app = new_app(tmp_path)
    try:
        yield app.start()
    finally:
        app.close()


def assert_succeeded(app: SupervisedApp, run_id: int, *, attempts: int) -> dict:
    run = app.wait_for(run_id, TERMINAL)
    assert run["status"] == "succeeded", (run["status"], run["error"], run["log"][-2000:], app.text()[-4000:])
    assert run["attempts"] == attempts, run["log"]
    assert "SystemExit" not in run["log"] + run["error"]
    return run


def test_sigkill_of_the_worker_main_process_restarts_it_and_retries_the_run(app):
    run_id = app.launch(SYMBOL, "smoke")
    running = app.wait_for(run_id, ACTIVE_OR_DONE)
    assert running["status"] == "running" and running["worker"].startswith("ares-local-1@")
    worker = app.child(contains="celery")
    worker.send_signal(signal.SIGKILL)

    done = assert_succeeded(app, run_id, attempts=2)
    assert f"the worker {running['worker']} was restarted while training; re-queued, attempt 2 of 3" in done["log"]
    text = app.text()
    assert f"[supervisor] celery worker 1 (pid {worker.pid}) exited with signal SIGKILL; restarting it in" in text
    assert "[supervisor] celery worker 1 restarted" in text
    assert app.process.poll() is None  # the app stayed up


def test_sigkill_of_redis_with_one_run_training_and_one_queued_loses_neither(app):
    training = app.launch(SYMBOL, "smoke")
    app.wait_for(training, ACTIVE_OR_DONE)
    queued = app.launch(SYMBOL, "tiny")
    assert app.run(queued)["status"] == "queued"
    redis_server = app.child(contains="redis-server")
    redis_server.send_signal(signal.SIGKILL)

    assert_succeeded(app, training, attempts=1)
    assert_succeeded(app, queued, attempts=1)
    assert f"[supervisor] redis-server (pid {redis_server.pid}) exited with signal SIGKILL" in app.text()


HOLD_WRITE_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE training_trainingrun SET stage = stage WHERE id < 0")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
print("released", flush=True)
"""


def test_an_8_second_sqlite_write_lock_during_a_run_does_not_fail_it(app):
    """The lock is taken once LightGBM has fitted a fold, so Optuna's next study writes meet it."""
    run_id = app.launch(SYMBOL, "smoke")
    deadline = time.monotonic() + 300
    while "lightgbm fold" not in (run := app.run(run_id))["stage"] and run["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, run
        time.sleep(0.1)
    assert run["status"] == "running", run
    holder = subprocess.run(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(app.database), str(LOCK_SECONDS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert holder.returncode == 0 and holder.stdout.split() == ["locked", "released"], holder.stderr
    assert_succeeded(app, run_id, attempts=1)


def test_the_lock_holder_really_blocks_writers(tmp_path):
    """The lock above is real: a writer with a short busy timeout fails while it is held."""
    path = tmp_path / "lock.sqlite3"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE training_trainingrun (id INTEGER PRIMARY KEY, stage TEXT)")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(path), "3"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    writer = sqlite3.connect(path, timeout=0.2)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        writer.execute("INSERT INTO training_trainingrun (stage) VALUES ('x')")
    writer.close()
    assert holder.wait(timeout=30) == 0


def test_ctrl_c_with_a_running_and_a_queued_run_then_a_restart_finishes_both(tmp_path):
    redis_port = free_port()
    first = new_app(tmp_path, redis_port=redis_port)
    try:
        first.start()
        running = first.launch(SYMBOL, "smoke")
        first.wait_for(running, ACTIVE_OR_DONE)
        queued = first.launch(SYMBOL, "tiny")
        assert first.interrupt() == 0
    finally:
        first.close()
    interrupted = first.run(running)
    assert interrupted["status"] == "queued", (interrupted["status"], interrupted["error"], first.text()[-4000:])
    assert interrupted["stage"] == "the worker was shut down while training; re-queued, attempt 2 of 3"
    assert first.run(queued)["status"] == "queued"

    second = new_app(tmp_path, redis_port=redis_port)  # the same state directory: database and Redis file
    try:
        second.start()
        assert_succeeded(second, running, attempts=2)
        assert_succeeded(second, queued, attempts=1)
    finally:
        second.close()
