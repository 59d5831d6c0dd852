"""Training runs through a real Celery worker process and Redis (platform fixtures), and train_symbol as a real
process."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import FAST_SUBPROCESS_ENV
from tests.training.runs_helpers import make_dataset, make_profile
from training.artifact_store import run_dir
from training.models import ModelResult, TrainingRun
from training.selectors.run_summary import system_line
from training.services.runs import training_run_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
Status = TrainingRun.Status
REPO_ROOT = Path(__file__).resolve().parents[3]
RUN_TIMEOUT_SECONDS = 600


def wait_for(run_id: int, statuses, timeout: float = RUN_TIMEOUT_SECONDS, worker=None) -> TrainingRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = TrainingRun.objects.get(pk=run_id)
        if run.status in statuses:
            return run
        time.sleep(0.2)
    tail = worker.log_tail() if worker else ""
    raise AssertionError(f"run {run_id} still {run.status} ({run.stage}) after {timeout} s\n{tail}")


def test_smoke_run_launched_from_the_web_form_succeeds_with_its_launch_snapshot(celery_worker_process, launcher_client):
    profile = make_profile("baseline", is_default=True)
    make_dataset()
    launch_config = profile.resolved_config()
    response = launcher_client.post(
        reverse("training:run_new"),
        {"symbol": "BTCUSDT", "interval": "1h", "exchange": "BINANCE", "profile": profile.pk, "preset": "smoke"},
    )
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and run.status in (Status.QUEUED, Status.RUNNING)
    profile.l2_alpha, profile.dropout_rate = 0.25, 0.4
    profile.save()

    run = wait_for(run.pk, TrainingRun.TERMINAL, worker=celery_worker_process)
    assert run.status == Status.SUCCEEDED, (run.error, run.traceback, celery_worker_process.log_tail())
    assert run.snapshot["config"] == launch_config != profile.resolved_config()
    assert run.result["regularization"]["config"] == launch_config
    assert run.celery_task_id and run.heartbeat_at and run.finished_at >= run.started_at
    assert ModelResult.objects.filter(run=run).exists()
    assert all((run_dir(run) / name).is_file() for name in run.result["plots"])
    page = launcher_client.get(reverse("training:run_detail", args=[run.pk])).content.decode()
    assert "profile changed since" in page and "succeeded" in page
    body = launcher_client.get(reverse("api:run-detail", args=[run.pk])).json()
    assert body["status"] == "succeeded" and body["metrics"]


def test_cancelling_a_running_run_ends_it_cancelled(celery_worker_process, launcher_client):
    profile = make_profile("baseline", is_default=True)
    make_dataset()
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset="smoke")
    wait_for(run.pk, [Status.RUNNING, *TrainingRun.TERMINAL], timeout=60, worker=celery_worker_process)
    launcher_client.post(reverse("training:run_cancel", args=[run.pk]))
    run = wait_for(run.pk, TrainingRun.TERMINAL, timeout=120, worker=celery_worker_process)
    assert run.status == Status.CANCELLED and run.cancel_requested, (run.status, run.error)


@pytest.mark.fault
def test_killing_the_pool_process_requeues_the_run_which_then_succeeds(celery_worker_process):
    profile = make_profile("baseline", is_default=True)
    make_dataset()
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset="smoke")
    running = wait_for(run.pk, [Status.RUNNING, *TrainingRun.TERMINAL], timeout=60, worker=celery_worker_process)
    assert running.status == Status.RUNNING and running.worker == celery_worker_process.node_name
    celery_worker_process.kill()
    run = wait_for(run.pk, TrainingRun.TERMINAL, worker=celery_worker_process)
    assert run.status == Status.SUCCEEDED and run.attempts == 2, (run.status, run.error)
    assert "the worker process running this task died; re-queued, attempt 2 of 3" in run.log


def _command(*args, env=None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "train_symbol", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.fault
def test_a_killed_inline_process_is_found_by_the_reconciler_and_its_run_retried(
    celery_worker_process, celery_worker_settings
):
    env = _subprocess_env(celery_worker_settings)
    make_profile("baseline", is_default=True)
    make_dataset()
    process = _command("BTCUSDT", "--preset", "smoke", "--inline", env=env)
    try:
        run_id = None
        deadline = time.monotonic() + 60
        while run_id is None and time.monotonic() < deadline:
            run_id = TrainingRun.objects.filter(status=Status.RUNNING).values_list("pk", flat=True).first()
            time.sleep(0.1)
        assert run_id, "train_symbol --inline never started running"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    before = TrainingRun.objects.get(pk=run_id)
    assert before.worker == f"inline-{process.pid}@{socket.gethostname()}"
    run = wait_for(run_id, TrainingRun.TERMINAL, worker=celery_worker_process)
    assert run.status == Status.SUCCEEDED and run.attempts == 2, (run.status, run.error)
    assert f"the worker {before.worker} stopped answering" in run.log
    assert run.worker == celery_worker_process.node_name


def _subprocess_env(worker_settings) -> dict:
    env = {**FAST_SUBPROCESS_ENV, **os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="ares_site.test_settings",
        DATABASE_URL=worker_settings["database_url"],
        REDIS_URL=worker_settings["redis_url"],
        CELERY_BROKER_URL=worker_settings["redis_url"],
        CELERY_RESULT_BACKEND=worker_settings["redis_url"],
        ARTIFACTS_DIR=worker_settings["artifacts_dir"],
    )
    return env


def test_train_symbol_end_to_end_through_the_worker(celery_worker_process, celery_worker_settings):
    make_profile("baseline", is_default=True)
    make_dataset()
    env = _subprocess_env(celery_worker_settings)
    done = subprocess.run(
        [sys.executable, "manage.py", "train_symbol", "BTCUSDT", "--preset", "tiny", "--poll", "0.3"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    run = TrainingRun.objects.get()
    assert done.returncode == 0, (done.stdout, done.stderr, celery_worker_process.log_tail())
    lines = done.stdout.splitlines()
    assert lines[0] == f"run {run.pk}" and run.status == Status.SUCCEEDED
    assert any("queued" in line or "running" in line for line in lines[1:])
    assert "100.0% succeeded" in done.stdout and lines[-2].startswith(f"run {run.pk} succeeded")
    run.refresh_from_db()
    assert lines[-1] == system_line(run) and lines[-1].startswith("system: Sharpe after")

    bad = subprocess.run(
        [sys.executable, "manage.py", "train_symbol", "NOPEUSDT", "--preset", "tiny"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "NOPEUSDT" in bad.stderr and "BTCUSDT" in bad.stderr
    assert TrainingRun.objects.count() == 1

    inline = subprocess.run(
        [sys.executable, "manage.py", "train_symbol", "BTCUSDT", "--preset", "tiny", "--inline"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    assert inline.returncode == 0, inline.stderr
    assert "100.0% succeeded" in inline.stdout
