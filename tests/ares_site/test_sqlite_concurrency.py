"""Two processes write the same SQLite file at once (like the web server and the Celery worker)."""

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
WRITES_PER_PROCESS = 150
WRITER = (
    """
import os, sys, time
import django
django.setup()
from django.conf import settings
from django.db import connection, transaction
mode, barrier, name = sys.argv[1], sys.argv[2], sys.argv[3]
if mode != "settings":
    settings.DATABASES["default"]["OPTIONS"].update({"transaction_mode": mode, "timeout": 0.2})
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS progress (id INTEGER PRIMARY KEY, writer TEXT, seen INTEGER)")
# Both writers start together once both are set up (however long django.setup() takes on a loaded machine).
open(os.path.join(barrier, name), "w").close()
while len(os.listdir(barrier)) < 2:
    time.sleep(0.001)
for _ in range(%d):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM progress")
            seen = cursor.fetchone()[0]
            cursor.execute("INSERT INTO progress (writer, seen) VALUES (%%s, %%s)", [name, seen])
print("done", name)
"""
    % WRITES_PER_PROCESS
)


def run_writers(tmp_path: Path, mode: str) -> tuple[list[subprocess.CompletedProcess], Path]:
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    database = tmp_path / "shared.sqlite3"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "ENV_FILE": str(env_file),
        "DJANGO_SETTINGS_MODULE": "ares_site.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{database}",
    }
    barrier = tmp_path / "ready"
    barrier.mkdir()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, mode, str(barrier), name],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("web", "worker")
    ]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return results, database


def test_two_processes_writing_the_same_file_never_hit_database_is_locked(tmp_path):
    results, database = run_writers(tmp_path, "settings")
    for result in results:
        assert result.returncode == 0, result.stderr[-2000:]
        assert "database is locked" not in result.stderr
    import sqlite3

    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = dict(connection.execute("SELECT writer, COUNT(*) FROM progress GROUP BY writer").fetchall())
        seen = [row[0] for row in connection.execute("SELECT seen FROM progress ORDER BY id")]
    assert rows == {"web": WRITES_PER_PROCESS, "worker": WRITES_PER_PROCESS}
    assert seen == list(range(2 * WRITES_PER_PROCESS))  # every read-then-write saw all earlier writes


def test_control_deferred_transactions_do_hit_database_is_locked(tmp_path):
    """Shows the workload above is contended: without IMMEDIATE, upgrading a read to a write fails."""
    results, _ = run_writers(tmp_path, "DEFERRED")
    assert any("database is locked" in result.stderr for result in results)
