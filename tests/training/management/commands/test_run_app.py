"""`manage.py run_app` for real: embedded Redis, a Celery worker, gunicorn; started twice, stopped by SIGINT."""

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ares_site.embedded_redis import free_port, redis_answers

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[4]
UP_TIMEOUT_SECONDS = 180


@contextmanager
def running_app(env: dict, port: int, state_dir: Path):
    """Start run_app (in a process group of its own) and wait until it is up; on leaving, whatever happened
    in the block, make sure run_app and everything it started are gone."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_app", "--port", str(port), "--state-dir", str(state_dir)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    descendants: list[psutil.Process] = []
    try:
        output, lines = wait_until_up(process)
        descendants = psutil.Process(process.pid).children(recursive=True)
        yield process, output, lines
    finally:
        ensure_stopped(process, descendants)


def wait_until_up(process):
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    output = []
    deadline = time.monotonic() + UP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        output.append(line)
        if "Ares Training Manager is up" in line:
            return output, lines
    pytest.fail("run_app did not come up:\n" + "".join(output[-80:]))


def ensure_stopped(process, descendants):
    """Cleanup that is a no-op after a clean stop: SIGINT run_app, wait, then SIGKILL its process group if it is
    still alive, and SIGKILL any of its descendants (Redis, Celery and gunicorn run in sessions of their own)."""
    if process.poll() is None:
        with suppress(psutil.NoSuchProcess):
            descendants = [*descendants, *psutil.Process(process.pid).children(recursive=True)]
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    for child in descendants:
        with suppress(psutil.NoSuchProcess):
            child.kill()  # psutil checks the pid still names the same process
    psutil.wait_procs(descendants, timeout=10)


def stop_with_sigint(process, lines, output):
    descendants = psutil.Process(process.pid).children(recursive=True)
    assert len(descendants) >= 4  # redis-server, celery main + pool, gunicorn master + workers
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    while not lines.empty():
        output.append(lines.get())
    gone, alive = psutil.wait_procs(descendants, timeout=10)
    assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_run_app_starts_everything_twice_and_stops_all_on_sigint(tmp_path):
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    port, redis_port = free_port(), free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "ENV_FILE": str(env_file),
        "DJANGO_SETTINGS_MODULE": "ares_site.settings",
        "SECRET_KEY": "run-app-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "HTTPS": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "ARTIFACTS_DIR": str(tmp_path / "artifacts"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "WORKERS": "1",
    }
    state_dir = tmp_path / "state"
    base = f"http://127.0.0.1:{port}"

    with running_app(env, port, state_dir) as (process, output, lines):
        text = "".join(output)
        assert f"Redis is not answering at redis://127.0.0.1:{redis_port}/0; starting the embedded redis-server" in text
        with sqlite3.connect(tmp_path / "run.sqlite3") as db:  # what the bootstrap commands leave behind
            assert db.execute("SELECT count(*) FROM training_regularizationprofile WHERE is_default").fetchone() == (1,)
            samples = db.execute("SELECT interval FROM training_marketdataset WHERE is_sample ORDER BY interval")
            assert samples.fetchall() == [("1h",), ("4h",)]  # the offline sample and its 4-hour market
        credentials = (state_dir / "admin-credentials.txt").read_text()
        password = credentials.split("password: ")[1].strip()
        assert f"Login: admin / {password}" in text
        status, body = get(f"{base}/healthz")
        assert status == 200, body
        assert '"celery_workers": {"ok": true' in body
        status, body = get(f"{base}/admin/login/")
        assert status == 200 and "csrfmiddlewaretoken" in body
        status, body = get(f"{base}/metrics")  # loopback: open; request samples summed over the web processes
        found = {
            (sample.name, tuple(sorted(sample.labels.items())))
            for family in text_string_to_metric_families(body)
            for sample in family.samples
        }
        assert status == 200 and ("ares_runs", (("status", "queued"),)) in found, body[:2000]
        healthz = (("method", "GET"), ("status", "2xx"), ("view", "training:healthz"))
        assert ("ares_http_request_duration_seconds_count", healthz) in found, body[-3000:]
        assert ("ares_workers", ()) in found
        assert get(f"{base}/static/admin/css/base.css")[0] == 200
        stop_with_sigint(process, lines, output)
        assert "1 worker process(es), one run at a time each. A part that stops is restarted." in "".join(output)
    assert not redis_answers(env["REDIS_URL"], timeout=0.5)

    with running_app(env, port, state_dir) as (process, output, lines):
        text = "".join(output)
        assert password not in text
        assert f"Login: admin / password stored in {state_dir / 'admin-credentials.txt'}" in text
        assert (state_dir / "admin-credentials.txt").read_text() == credentials
        assert get(f"{base}/healthz")[0] == 200
        stop_with_sigint(process, lines, output)
