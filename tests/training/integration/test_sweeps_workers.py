"""Sweeps over two real Celery worker processes (platform fixtures), and the sweep command as a real process."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import CeleryWorker, workers_on_own_broker
from tests.training.runs_helpers import make_dataset, make_profile
from training.models import RegularizationProfile, Sweep, TrainingRun
from training.selectors.sweeps import MSG_POINT_RETRIED, sweep_points, sweep_status
from training.services import sweep_optuna
from training.services.sweeps import sweep_cancel, sweep_create, sweep_reconcile

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
Status = TrainingRun.Status
REPO_ROOT = Path(__file__).resolve().parents[3]
SWEEP_TIMEOUT_SECONDS = 600
PRESET = "tiny"
LONG_PRESET = "smoke"  # long enough to catch a run while it trains


@pytest.fixture(scope="module")
def two_workers(celery_worker_settings, tmp_path_factory):
    with workers_on_own_broker(celery_worker_settings, tmp_path_factory.mktemp("two")) as workers:
        yield workers


def logs(workers) -> str:
    return "\n".join(w.log_tail(6000) for w in workers)


def wait_sweep(sweep: Sweep, workers, *, until, timeout: float = SWEEP_TIMEOUT_SECONDS) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sweep = sweep_reconcile(sweep=Sweep.objects.get(pk=sweep.pk))
        status = sweep_status(sweep=sweep)
        if until(status, sweep):
            return status
        time.sleep(0.5)
    raise AssertionError(f"sweep {sweep.pk} still {sweep_status(sweep=sweep)} after {timeout} s\n{logs(workers)}")


def finished(status, sweep) -> bool:
    """No run active or to ask, and every point's outcome recorded (a run can end between a reconcile's recording
    and its status read; its point, alone or grouped with equal values, then joins the best on the next pass)."""
    return status["active"] == 0 and status["pending"] == 0 and not sweep.points.filter(recorded=False).exists()


def env_for(worker: CeleryWorker) -> dict:
    return worker.env


def worker_of(task_id: str, workers) -> CeleryWorker | None:
    from ares_site.celery import app

    for worker in workers:
        active = app.control.inspect(destination=[worker.node_name], timeout=2.0).active() or {}
        if any(task["id"] == task_id for task in active.get(worker.node_name, [])):
            return worker
    return None


def test_a_grid_sweep_from_the_command_spreads_over_both_workers_and_its_best_saves_as_a_profile(
    two_workers, admin_client
):
    profile = make_profile("baseline", is_default=True)
    make_dataset()
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "sweep",
            "BTCUSDT",
            "--param",
            "l1_alpha=0.0001,1",
            "--preset",
            PRESET,
            "--name",
            "two values",
            "--poll",
            "0.5",
        ],
        cwd=REPO_ROOT,
        env=env_for(two_workers[0]),
        capture_output=True,
        text=True,
        timeout=SWEEP_TIMEOUT_SECONDS,
    )
    sweep = Sweep.objects.get()
    assert done.returncode == 0, (done.stdout, done.stderr, logs(two_workers))
    lines = done.stdout.splitlines()
    assert lines[0] == f"sweep {sweep.pk}" and lines[-1].startswith(f"sweep {sweep.pk} succeeded")
    assert any(line.startswith("running:") or line.startswith("queued:") for line in lines)
    points = sweep_points(sweep=sweep)
    assert [p.values for p in points] == [{"l1_alpha": 0.0001}, {"l1_alpha": 1.0}]
    assert all(p.run.status == Status.SUCCEEDED and p.objective is not None for p in points)
    for worker in two_workers:  # each worker trained one of the two points
        assert sum(p.run.celery_task_id in worker.log_tail(10**6) for p in points) >= 1, logs(two_workers)
    sweep.refresh_from_db()
    assert sweep.best_point == min(points, key=lambda p: p.objective)
    assert lines[-1].endswith(f"/sweeps/{sweep.pk}/")  # the sweep's page, after the best run's verdict lines
    regimes = list(sweep.best_point.run.result["ensembles"])
    best_at = next(i for i, line in enumerate(lines) if line.startswith("best: "))
    verdicts = [line.strip() for line in lines[best_at + 1 : best_at + 1 + len(regimes)]]  # the best run's regimes
    assert [v.split(":")[0] for v in verdicts] == regimes
    assert f"best: l1_alpha={sweep.best_point.values['l1_alpha']:g}" in done.stdout

    page = admin_client.get(reverse("training:sweep_detail", args=[sweep.pk])).content.decode()
    assert page.count("<canvas") >= 2 and 'class="best"' in page and "best-point" in page  # drawn by Chart.js
    response = admin_client.post(reverse("training:sweep_save_profile", args=[sweep.pk]), {"name": "l1 best"})
    assert response.status_code == 302
    saved = RegularizationProfile.objects.get(name="l1 best")
    assert saved.l1_alpha == sweep.best_point.values["l1_alpha"] and f"sweep #{sweep.pk}" in saved.description
    assert saved.resolved_config() == sweep.best_point.run.snapshot["config"] != profile.resolved_config()


def test_an_optuna_sweep_of_three_trials_tells_each_finished_run(two_workers):
    profile = make_profile("baseline", is_default=True)
    make_dataset()
    sweep = sweep_create(
        profile=profile, symbol="BTCUSDT", preset=PRESET, axes=["l1_alpha=1e-4:1:5"], mode="optuna", n_trials=3
    )
    status = wait_sweep(sweep, two_workers, until=finished)
    sweep.refresh_from_db()
    assert status["status"] == "succeeded" and sweep.asked == 3, status
    points = sweep_points(sweep=sweep)
    trials = sweep_optuna.study_trials(name=sweep.optuna_study_name, seed=sweep.seed)
    assert [t["state"] for t in trials] == ["COMPLETE"] * 3
    assert [t["value"] for t in trials] == [p.objective for p in points]
    assert sweep.best_point.objective == min(t["value"] for t in trials)


def test_cancelling_a_running_sweep_cancels_its_runs(two_workers):
    profile = make_profile("baseline", is_default=True)
    make_dataset()
    sweep = sweep_create(profile=profile, symbol="BTCUSDT", preset=LONG_PRESET, axes=["l2_alpha=0.001,0.01,0.1"])
    wait_sweep(sweep, two_workers, until=lambda status, s: status["counts"]["running"] >= 1, timeout=120)
    sweep_cancel(sweep=sweep)
    status = wait_sweep(sweep, two_workers, until=finished, timeout=180)
    assert status["status"] == "cancelled", status
    assert {p.run.status for p in sweep_points(sweep=sweep)} <= {Status.CANCELLED, Status.SUCCEEDED}
    assert Status.CANCELLED in {p.run.status for p in sweep_points(sweep=sweep)}


@pytest.mark.fault
def test_killing_a_worker_during_a_sweep_retries_its_run_and_the_sweep_says_so(two_workers):
    profile = make_profile("baseline", is_default=True)
    make_dataset()
    sweep = sweep_create(profile=profile, symbol="BTCUSDT", preset=LONG_PRESET, axes=["dropout_rate=0,0.5"])
    wait_sweep(sweep, two_workers, until=lambda status, s: status["counts"]["running"] >= 1, timeout=120)
    running = next(p.run for p in sweep_points(sweep=sweep) if p.run.status == Status.RUNNING)
    victim = worker_of(running.celery_task_id, two_workers)
    assert victim is not None, logs(two_workers)
    victim.kill()
    status = wait_sweep(sweep, two_workers, until=finished)
    running.refresh_from_db()
    assert running.attempts == 2, (running.status, running.error, running.log[-2000:])
    if running.status == Status.SUCCEEDED:  # retried on a live worker
        assert status["status"] == "succeeded", status
        assert MSG_POINT_RETRIED.format(run=running.pk, attempt=2) in status["detail"], status
    else:
        assert running.status == Status.FAILED and running.error.startswith("worker lost"), running.error
        assert status["status"] == "failed" and f"run #{running.pk}: worker lost" in status["detail"], status
