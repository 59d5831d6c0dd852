"""The run monitor's throttle: progress held back is written when its window ends, not at the next heartbeat."""

import time

import pytest

from tests.training.runs_helpers import make_dataset, make_profile
from training.models import TrainingRun
from training.services.runs import training_run_create
from training.services.runs.monitor import RunMonitor

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_step_announced_right_after_a_write_shows_within_the_write_window(settings):
    settings.TRAINING_HEARTBEAT_SECONDS = 60  # no heartbeat during the test
    settings.TRAINING_PROGRESS_WRITE_SECONDS = 0.2
    profile, _ = make_profile("baseline", is_default=True), make_dataset()
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset="tiny", enqueue=False)
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.RUNNING, celery_task_id="attempt-1")
    monitor = RunMonitor(run.pk, "attempt-1")
    monitor.start()
    try:
        monitor.progress("training", 0.3, "bull_trend: logreg fold 1/2 fitted in 0.1s")  # written at once
        monitor.progress("training", 0.3, "bull_trend: fitting logreg, fold 2/2 …")  # inside the window
        assert TrainingRun.objects.get(pk=run.pk).stage == "training: bull_trend: logreg fold 1/2 fitted in 0.1s"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            stage = TrainingRun.objects.get(pk=run.pk).stage
            if "fitting" in stage:
                break
            time.sleep(0.05)
        assert stage == "training: bull_trend: fitting logreg, fold 2/2 …"
    finally:
        monitor.stop()
