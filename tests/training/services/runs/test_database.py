"""The run side's database helpers against a real SQLite lock held by another process."""

import sqlite3
import subprocess
import sys
import time

import pytest

from training.services.runs.database import is_locked_error, retry_when_locked

HOLD_WRITE_LOCK = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


@pytest.fixture
def locked_database(tmp_path):
    path = tmp_path / "runs.sqlite3"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE beats (at REAL)")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(path), "1.5"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    yield path
    holder.wait(timeout=30)


def test_a_write_that_meets_a_lock_is_retried_until_it_is_released(locked_database, settings):
    settings.TRAINING_DB_RETRY_SECONDS = 30
    attempts = []

    def beat():
        attempts.append(time.monotonic())
        with sqlite3.connect(locked_database, timeout=0.05) as db:
            return db.execute("INSERT INTO beats VALUES (?)", (time.time(),)).rowcount

    assert retry_when_locked(beat, what="heartbeat") == 1
    assert len(attempts) > 1 and attempts[-1] - attempts[0] >= 1.0


def test_the_retry_gives_up_after_its_deadline_with_the_lock_error(locked_database, settings):
    settings.TRAINING_DB_RETRY_SECONDS = 0.3

    def beat():
        with sqlite3.connect(locked_database, timeout=0.05) as db:
            db.execute("INSERT INTO beats VALUES (1)")

    with pytest.raises(sqlite3.OperationalError) as exc:
        retry_when_locked(beat, what="heartbeat")
    assert is_locked_error(exc.value)


def test_other_errors_are_not_retried():
    calls = []

    def broken():
        calls.append(1)
        raise sqlite3.OperationalError("no such table: beats")

    with pytest.raises(sqlite3.OperationalError):
        retry_when_locked(broken, what="heartbeat")
    assert calls == [1]
