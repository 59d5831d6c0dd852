"""One real trained run per test session (the offline sample, the smallest preset), and succeeded runs that carry
its stored outcome. Import the fixtures into a conftest or a test module."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.training.runs_helpers import make_profile

# --- one real trained run per session (the offline sample, the smallest preset) --------------------------------
TRAIN_PRESET = "tiny"


@pytest.fixture(scope="session")
def trained_artifacts(django_db_setup, django_db_blocker, tmp_path_factory):
    """Train one real run (inline, committed rows), keep its result and move its artifacts to a session folder;
    the rows are deleted again so each test starts from an empty database."""
    import shutil

    from training.artifact_store import run_dir
    from training.models import MarketDataset, RegularizationProfile, TrainingRun
    from training.services.market_data import dataset_load_sample
    from training.services.runs import training_run_create, training_run_execute

    with django_db_blocker.unblock():
        dataset_load_sample()
        profile = RegularizationProfile.objects.create(name="session-trained", is_default=False)
        run = training_run_create(profile=profile, symbol="BTCUSDT", preset=TRAIN_PRESET, enqueue=False)
        training_run_execute(run_id=run.pk, task_id="session")
        run.refresh_from_db()
        assert run.status == TrainingRun.Status.SUCCEEDED, (run.error, run.traceback)
        target = tmp_path_factory.mktemp("trained") / "run"
        shutil.move(str(run_dir(run)), target)
        result = {**run.result, "artifacts": {**run.result["artifacts"], "path": str(target)}}
        saved = {"result": result, "report": run.report, "log": run.log, "artifacts_path": str(target)}
        TrainingRun.objects.filter(pk=run.pk).delete()
        profile.delete()
        MarketDataset.objects.all().delete()
    return saved


def make_trained_run(trained_artifacts, *, user=None):
    """A succeeded run whose stored outcome is the session's real training (the offline sample loaded)."""
    from django.utils import timezone

    from training.models import ModelResult, RegularizationProfile, TrainingRun
    from training.services.market_data import dataset_load_sample
    from training.services.runs import model_result_rows, training_run_create

    dataset_load_sample()
    profile = RegularizationProfile.objects.filter(name="trained").first() or make_profile("trained")
    run = training_run_create(profile=profile, symbol="BTCUSDT", preset=TRAIN_PRESET, user=user, enqueue=False)
    now = timezone.now()
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.SUCCEEDED,
        progress=1.0,
        stage="done",
        started_at=now,
        finished_at=now,
        result=trained_artifacts["result"],
        report=trained_artifacts["report"],
        log=trained_artifacts["log"],
        artifacts_path=trained_artifacts["artifacts_path"],
    )
    run.refresh_from_db()
    ModelResult.objects.bulk_create(model_result_rows(run, run.result))
    return run


@pytest.fixture
def trained_run(db, trained_artifacts):
    return make_trained_run(trained_artifacts)


def worse_copy(run, tmp_path: Path):
    """The same run with artifacts whose stored test predictions put 0.98 on a wrong class for every bar."""
    from training.artifact_store import run_dir

    target = tmp_path / f"worse-{run.pk}"
    shutil.copytree(run_dir(run), target)
    for npz in target.glob("*/test_predictions.npz"):
        data = dict(np.load(npz))
        wrong = (data["y"].astype(int) + 1) % 3
        proba = np.full((len(wrong), 3), 0.01)
        proba[np.arange(len(wrong)), wrong] = 0.98
        data["ensemble"] = proba
        np.savez(npz, **data)
    from training.models import TrainingRun

    TrainingRun.objects.filter(pk=run.pk).update(artifacts_path=str(target))
    run.refresh_from_db()
    return run
