"""Scheduled retraining for real: celery beat (database scheduler) fires a schedule every minute, a Celery worker
fetches (offline: the run goes ahead on stored candles and its log says so), trains the tiny preset and
applies the policy 'not_worse' against the active model, behind the promotion guard (which it never overrides)."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from tests.conftest import REPO_ROOT, CeleryWorker
from tests.training.market_data_server import closed_port_url  # noqa: F401
from tests.training.trained_run import make_trained_run, trained_artifacts, worse_copy  # noqa: F401
from training.models import ActiveModel, Promotion, RetrainSchedule, TrainingRun
from training.services.registry import model_promote
from training.services.schedules import MSG_OFFLINE, schedule_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(400)]

FIRE_TIMEOUT_SECONDS = 150
TRAIN_TIMEOUT_SECONDS = 180


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=20)


def test_beat_fires_a_schedule_that_trains_and_applies_the_guarded_policy(
    trained_artifacts,  # noqa: F811
    celery_worker_settings,
    closed_port_url,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    monkeypatch.setenv("BINANCE_API_URL", closed_port_url)
    worker = CeleryWorker(**celery_worker_settings, log_path=tmp_path / "worker.log", queues="default,training")
    old = worse_copy(make_trained_run(trained_artifacts), tmp_path)
    model_promote(run=old, force=True, reason="the active model the schedule competes with")
    schedule = schedule_create(
        symbol="BTCUSDT", crontab="* * * * *", preset="tiny", fetch=True, promote="not_worse", profile=old.profile
    )
    # As if beat had last fired it two minutes ago: the minute it missed is due at once, so beat fires on start
    # instead of at the next minute boundary (up to 60 s of waiting).
    PeriodicTask.objects.filter(pk=schedule.periodic_task_id).update(last_run_at=timezone.now() - timedelta(minutes=2))
    worker.start()
    beat_log = open(tmp_path / "beat.log", "wb")
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ares_site", "beat", "--loglevel", "INFO", "-s", str(tmp_path / "s")],
        cwd=REPO_ROOT,
        env=worker.env,
        stdout=beat_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + FIRE_TIMEOUT_SECONDS
        while not TrainingRun.objects.filter(trigger="schedule").exists():
            assert not RetrainSchedule.objects.get(pk=schedule.pk).last_error, worker.log_tail()
            assert time.monotonic() < deadline, (tmp_path / "beat.log").read_text()[-3000:] + worker.log_tail()
            time.sleep(1)
        run = TrainingRun.objects.filter(trigger="schedule").earliest("created_at")
        stop(beat)  # it fired; its next minute could fire again while this run trains and promote that one
        deadline = time.monotonic() + TRAIN_TIMEOUT_SECONDS
        while not Promotion.objects.filter(run=run).exists() and "promotion policy" not in run.log:
            assert time.monotonic() < deadline, worker.log_tail()
            time.sleep(1)
            run.refresh_from_db()
    finally:
        stop(beat)
        beat_log.close()
        worker.stop()
    run.refresh_from_db()
    assert run.status == "succeeded", (run.error, worker.log_tail())
    assert (run.preset, run.symbol, run.trigger) == ("tiny", "BTCUSDT", "schedule")
    assert MSG_OFFLINE.split("(")[0] in run.log and "training on the stored candles" in run.log, run.log
    # The policy 'not_worse' holds against the worse active copy, but the tiny run is worse than a baseline in one
    # regime: the promotion guard refuses and a schedule never overrides it.
    assert "promotion checks failed: not_worse_than_baseline" in run.log, run.log
    assert not Promotion.objects.filter(run=run).exists()
    assert ActiveModel.objects.get().run_id == old.pk
    assert RetrainSchedule.objects.get(pk=schedule.pk).last_run_id == run.pk
