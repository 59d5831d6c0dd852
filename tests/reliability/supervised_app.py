"""`manage.py run_app` as a real process tree for the fault tests, on a SQLite file of its own (never the test
database, so no other worker of the test session sees its runs), with its own embedded (persistent) Redis and
one worker with a fast heartbeat and reconciler. Runs are launched with `train_symbol --no-wait` and read with
plain sqlite3; the test kills the parts.

A new state folder starts from a copy of a database that the same migrations and bootstrap commands as run_app's
built once per test process (``template_database``): run_app then finds it migrated and loaded, as on a second
`make run`, instead of spending 3-5 s on them at every start. The first start from an empty folder is
`tests/training/management/commands/test_run_app.py`'s."""

from __future__ import annotations

import atexit
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from pathlib import Path

import psutil

from training.management.commands.run_app import BOOTSTRAP_COMMANDS

REPO_ROOT = Path(__file__).resolve().parents[2]
UP_TIMEOUT_SECONDS = 180
STOP_TIMEOUT_SECONDS = 60

FAST_RECOVERY_ENV = {
    "WORKERS": "1",
    "TRAINING_HEARTBEAT_SECONDS": "0.5",
    "TRAINING_PROGRESS_WRITE_SECONDS": "0.2",
    "TRAINING_RECONCILE_SECONDS": "1",
    "TRAINING_STALE_AFTER_SECONDS": "5",
    "TRAINING_REQUEUE_GRACE_SECONDS": "3",
}


_TEMPLATE: dict[str, Path] = {}
BUILD_TEMPLATE = """
import sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
for name in sys.argv[1:]:
    call_command(name)
"""


def template_database(env: dict) -> Path:
    """A SQLite file migrated and bootstrapped by run_app's own steps with ``env``'s settings, built once per test
    process in a temporary folder removed when the process exits."""
    if "path" not in _TEMPLATE:
        directory = Path(tempfile.mkdtemp(prefix="ares-app-template-"))
        atexit.register(shutil.rmtree, directory, True)
        path = directory / "template.sqlite3"
        built = subprocess.run(
            [sys.executable, "-c", BUILD_TEMPLATE, *BOOTSTRAP_COMMANDS],
            cwd=REPO_ROOT,
            env={**env, "DATABASE_URL": f"sqlite:///{path}"},
            capture_output=True,
            text=True,
            timeout=UP_TIMEOUT_SECONDS,
        )
        assert built.returncode == 0, (built.stdout, built.stderr)
        _TEMPLATE["path"] = path
    return _TEMPLATE["path"]


class SupervisedApp:
    def __init__(self, *, state_dir: Path, redis_port: int, port: int) -> None:
        self.port = port
        self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        self.state_dir = state_dir
        self.database = state_dir / "db.sqlite3"
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "ENV_FILE": str(state_dir / "empty.env"),
            "DJANGO_SETTINGS_MODULE": "ares_site.settings",
            "SECRET_KEY": "reliability-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "ADMIN_PASSWORD": "reliability-admin-pw-123",
            "HTTPS": "0",
            "DATABASE_URL": f"sqlite:///{self.database}",
            "REDIS_URL": self.redis_url,
            "ARTIFACTS_DIR": str(state_dir / "artifacts"),
            "STATIC_ROOT": str(state_dir / "static"),
            **FAST_RECOVERY_ENV,
        }
        self.process: subprocess.Popen | None = None
        self.output: list[str] = []
        self._lines: queue.Queue = queue.Queue()
        self._known: list[psutil.Process] = []

    def start(self) -> SupervisedApp:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "empty.env").write_text("")
        if not self.database.exists():
            template = template_database(self.env)
            shutil.copyfile(template, self.database)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_app", "--port", str(self.port), "--state-dir", str(self.state_dir)],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        stdout = self.process.stdout
        threading.Thread(target=lambda: [self._lines.put(line) for line in stdout], daemon=True).start()
        self.wait_for_output("Ares Training Manager is up", timeout=UP_TIMEOUT_SECONDS)
        return self

    def launch(self, symbol: str, preset: str) -> int:
        """`train_symbol SYMBOL --preset PRESET --no-wait` against this app; returns the run id."""
        done = subprocess.run(
            [sys.executable, "manage.py", "train_symbol", symbol, "--preset", preset, "--no-wait"],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0 and done.stdout.startswith("run "), (done.stdout, done.stderr)
        return int(done.stdout.split()[1])

    def run(self, run_id: int) -> dict:
        with sqlite3.connect(self.database, timeout=30) as db:
            db.row_factory = sqlite3.Row
            row = db.execute(
                "SELECT id, status, stage, error, log, attempts, worker, celery_task_id FROM training_trainingrun "
                "WHERE id = ?",
                (run_id,),
            ).fetchone()
        return dict(row)

    def wait_for(self, run_id: int, statuses, *, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.run(run_id)
            if run["status"] in statuses:
                return run
            time.sleep(0.2)
        raise AssertionError(
            f"run {run_id} still {run['status']} ({run['stage']}) after {timeout} s\n{self.text()[-6000:]}"
        )

    def _drain(self) -> None:
        while True:
            try:
                self.output.append(self._lines.get_nowait())
            except queue.Empty:
                return

    def text(self) -> str:
        self._drain()
        return "".join(self.output)

    def wait_for_output(self, needle: str, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"run_app never printed {needle!r}:\n{self.text()[-6000:]}")

    def children(self) -> list[psutil.Process]:
        found = psutil.Process(self.process.pid).children(recursive=True)
        self._known.extend(found)
        return found

    def child(self, *, contains: str) -> psutil.Process:
        """The direct child of run_app whose command line contains `contains` (redis-server, celery, gunicorn)."""
        for child in psutil.Process(self.process.pid).children():
            if contains in " ".join(child.cmdline()):
                return child
        raise AssertionError(f"run_app has no child running {contains!r}")

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to run_app; returns its exit code."""
        self.children()
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self._drain()
        return code

    def close(self) -> None:
        """Whatever happened: run_app and everything it started are gone."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with suppress(psutil.NoSuchProcess):
                self.children()
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        for child in self._known:
            with suppress(psutil.NoSuchProcess):
                child.kill()
        psutil.wait_procs(self._known, timeout=10)
