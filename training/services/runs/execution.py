"""Executing a run: claim it once (queued → running, recording the worker), drive the TrainingManager with a
monitor, store the outcome.

- A run executes at most once per attempt: the claim is a conditional UPDATE; a redelivered or duplicated task
  finds nothing to claim and returns.
- Shut down while training (SIGTERM/Ctrl-C reach the pool process as SystemExit/KeyboardInterrupt) → the run
  goes back to the queue (``interruptions``); the run's own error (bad data, a model error) → ``failed``.
"""

from __future__ import annotations

import logging
import shutil
import traceback as traceback_module
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from training.ml.errors import TrainingCancelled
from training.ml.results import RunResult
from training.models import ModelResult, TrainingRun
from training.selectors.market_data import dataset_candles_frame
from training.selectors.trading import run_trials
from training.services.runs.database import is_locked_error, optuna_storage_url, retry_when_locked
from training.services.runs.interruptions import (
    REASON_DATABASE_BUSY,
    REASON_SHUTDOWN,
    training_run_requeue_or_fail,
)
from training.services.runs.monitor import RunMonitor

logger = logging.getLogger(__name__)

MSG_CANCELLED = "Cancelled at the user's request."
MSG_NO_DATASET_ON_RUN = "Run #{pk} has no dataset."
MSG_ARTIFACTS_FOLDER_EXISTS = (
    "The artifacts folder of run #{pk} exists before its first attempt ({path}); it is not this run's, so it is "
    "neither used nor deleted. Move it away and run again."
)


class ArtifactsFolderExists(RuntimeError):
    pass


def training_run_claim(*, run_id: int, task_id: str, worker: str = "") -> bool:
    """queued → running, at most once; records the task id and the worker's node name."""
    now = timezone.now()
    updates: dict[str, Any] = {
        "status": TrainingRun.Status.RUNNING,
        "started_at": now,
        "heartbeat_at": now,
        "stage": "starting",
        "progress": 0.0,
        "worker": worker[:200],
    }
    if task_id:
        updates["celery_task_id"] = task_id
    return bool(
        retry_when_locked(
            lambda: TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.QUEUED).update(**updates),
            what=f"claiming run {run_id}",
        )
    )


def model_result_rows(run: TrainingRun, result: dict) -> list[ModelResult]:
    """One row per regime and model, read from the typed run result; ``train_val_gap`` holds the accuracy gap
    (train − validation) of the same model."""
    rows = []
    for regime, section in RunResult.from_dict(result).ensembles.items():
        for model, info in section.models.items():
            validation, test, gap = info.metrics.validation, info.metrics.test, info.train_val_gap
            rows.append(
                ModelResult(
                    run=run,
                    regime=regime,
                    model=model,
                    metrics=info.metrics.to_dict(),
                    validation_balanced_accuracy=validation.balanced_accuracy if validation else None,
                    validation_macro_f1=validation.macro_f1 if validation else None,
                    test_macro_f1=test.macro_f1 if test else None,
                    train_val_gap=gap.accuracy if gap else None,
                    fit_seconds=info.fit_seconds,
                    best_params=info.best_params,
                )
            )
    return rows


def _candles_for(run: TrainingRun):
    """The dataset's candles within the range recorded in the snapshot at launch."""
    if run.dataset is None:
        raise ValueError(MSG_NO_DATASET_ON_RUN.format(pk=run.pk))
    data = run.snapshot.get("data") or {}
    bounds = {
        key: datetime.fromisoformat(data[f"{key}_open_time"])
        for key in ("first", "last")
        if data.get(f"{key}_open_time")
    }
    return dataset_candles_frame(run.dataset, start=bounds.get("first"), end=bounds.get("last"))


def run_artifacts_dir(run: TrainingRun) -> Path:
    """The run's own folder, named by its number and its key: a number reused after a restore names another."""
    return Path(settings.ARTIFACTS_DIR) / "runs" / f"{run.pk}-{run.artifacts_key}"


def run_artifacts_create(*, run: TrainingRun) -> Path:
    """Create the run's folder empty. A folder that exists before the first attempt is an error, never adopted;
    one from this run's own earlier attempt (it runs again from the start) is emptied first."""
    path = run_artifacts_dir(run)
    if path.exists():
        if run.attempts <= 1:
            raise ArtifactsFolderExists(MSG_ARTIFACTS_FOLDER_EXISTS.format(pk=run.pk, path=path))
        _empty_keeping_finished_parts(run, path)
    else:
        path.mkdir(parents=True)
    return path


def _empty_keeping_finished_parts(run: TrainingRun, path: Path) -> None:
    """Empty this run's folder from an earlier attempt, but keep the files of regime parts that attempt finished
    (``run_parts_create`` keeps their rows): a lost owner does not train them again."""
    from training.ml.regime_parts import PARTS_DIR, part_dir
    from training.models import RunPart

    finished = RunPart.objects.filter(run=run, status=RunPart.Status.SUCCEEDED).values_list("regime", flat=True)
    kept = [regime for regime in finished if part_dir(path, regime).is_dir()]
    stash = path.with_name(f"{path.name}.kept")
    shutil.rmtree(stash, ignore_errors=True)
    for regime in kept:
        (stash / regime).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(part_dir(path, regime)), str(stash / regime))
    shutil.rmtree(path)
    path.mkdir(parents=True)
    if kept:
        shutil.move(str(stash), str(path / PARTS_DIR))


def _finish(run_id: int, task_id: str, **fields) -> bool:
    fields.setdefault("finished_at", timezone.now())
    return bool(
        TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING, celery_task_id=task_id).update(
            **fields
        )
    )


def _train(run: TrainingRun, monitor: RunMonitor, artifacts_dir: Path) -> dict:
    from training.ml.manager import TrainingManager
    from training.services.run_parts import regime_tasks_enabled, training_run_train_in_parts

    monitor.log(
        f"run #{run.pk}: {run.exchange}:{run.symbol} {run.interval}, preset {run.preset}, "
        f"profile '{run.snapshot.get('profile', {}).get('name')}', seed {run.seed}, attempt {run.attempts}"
        + (f", worker {run.worker}" if run.worker else "")
    )
    if regime_tasks_enabled():
        return training_run_train_in_parts(
            run=run,
            candles=_candles_for(run),
            worker=run.worker,
            should_stop=monitor.should_stop,
            log=monitor.log,
            progress=monitor.progress,
        )
    manager = TrainingManager(
        config=run.snapshot["config"],
        preset=run.preset,
        seed=run.seed,
        artifacts_dir=str(artifacts_dir),
        optuna_storage=optuna_storage_url(),
        run_id=run.pk,
        progress=monitor.progress,
        should_stop=monitor.should_stop,
        log=monitor.log,
        trading=run.snapshot.get("trading"),
        trials=run_trials(run=run),
        preset_overrides=run.snapshot.get("preset_overrides"),
    )
    return manager.run_full_training(
        run.symbol,
        exchange_name=run.exchange,
        interval=run.interval,
        candles=_candles_for(run),
        calendar=run_calendar(run),
    )


def run_calendar(run: TrainingRun) -> str:
    """The market calendar in the run's snapshot (24/7 for runs launched before calendars existed)."""
    return (run.snapshot or {}).get("data", {}).get("calendar") or "24/7"


def _store_success(run: TrainingRun, task_id: str, result: dict, artifacts_dir: Path) -> None:
    regularization = result.get("regularization") or {}

    def store() -> None:
        with transaction.atomic():
            done = _finish(
                run.pk,
                task_id,
                status=TrainingRun.Status.SUCCEEDED,
                progress=1.0,
                stage="done",
                result=result,
                report=regularization.get("report") or run.report,
                artifacts_path=str((result.get("artifacts") or {}).get("path") or artifacts_dir),
            )
            if done:
                ModelResult.objects.filter(run_id=run.pk).delete()
                ModelResult.objects.bulk_create(model_result_rows(run, result))

    retry_when_locked(store, what=f"storing the result of run {run.pk}")


def _end_parts() -> None:
    from training.services.run_parts import run_parts_end_with_their_runs

    try:
        retry_when_locked(run_parts_end_with_their_runs, what="ending the parts of ended runs")
    except Exception:  # bookkeeping only: the reconciler ends them on its next pass
        logger.exception("could not end the parts of ended runs")


def training_run_execute(*, run_id: int, task_id: str = "", worker: str = "") -> TrainingRun | None:
    """Claim the run (queued → running) and train it; returns None when there was nothing to claim."""
    if not training_run_claim(run_id=run_id, task_id=task_id, worker=worker):
        logger.info("run %s was not queued (already claimed, cancelled or gone); nothing to do", run_id)
        return None
    run = TrainingRun.objects.select_related("dataset").get(pk=run_id)
    task_id = run.celery_task_id
    monitor = RunMonitor(run_id, task_id)
    monitor.start()
    try:
        artifacts_dir = run_artifacts_create(run=run)
        result = _train(run, monitor, artifacts_dir)
    except TrainingCancelled as exc:
        monitor.log(f"cancelled: {exc}")
        monitor.stop()
        if not monitor.lost_event.is_set():
            retry_when_locked(
                lambda: _finish(
                    run_id, task_id, status=TrainingRun.Status.CANCELLED, error=MSG_CANCELLED, stage="cancelled"
                ),
                what=f"cancelling run {run_id}",
            )
        _end_parts()
        return TrainingRun.objects.get(pk=run_id)
    except BaseException as exc:  # record every failure, then let Celery see a shutdown too
        reason = REASON_SHUTDOWN if not isinstance(exc, Exception) else REASON_DATABASE_BUSY
        interrupted = not isinstance(exc, Exception) or is_locked_error(exc)
        monitor.log(f"interrupted: {reason}" if interrupted else f"failed: {type(exc).__name__}: {exc}")
        monitor.stop()
        if interrupted:
            training_run_requeue_or_fail(run_id=run_id, task_id=task_id, reason=reason)
        else:
            error, trace = f"{type(exc).__name__}: {exc}"[:5000], traceback_module.format_exc()
            retry_when_locked(
                lambda: _finish(
                    run_id, task_id, status=TrainingRun.Status.FAILED, error=error, traceback=trace, stage="failed"
                ),
                what=f"failing run {run_id}",
            )
        _end_parts()
        if isinstance(exc, Exception):
            return TrainingRun.objects.get(pk=run_id)
        raise
    monitor.log("finished")
    monitor.stop()
    _store_success(run, task_id, result, artifacts_dir)
    return TrainingRun.objects.get(pk=run_id)
