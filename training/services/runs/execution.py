"""Executing a run: claim it once (queued → running, recording the worker), drive the TrainingManager with a
monitor, store the outcome.

- A run executes at most once per attempt: the claim is a conditional UPDATE; a redelivered or duplicated task
  finds nothing to claim and returns.
- Shut down while training (SIGTERM/Ctrl-C reach the pool process as SystemExit/KeyboardInterrupt) → the run
  goes back to the queue (``interruptions``); the run's own error (bad data, a model error) → ``failed``.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import traceback as traceback_module
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from training.artifact_store import (
    MANIFEST,
    file_digest,
    local_files,
    missing_message,
    run_key,
    store_has_files,
    store_is_local,
    store_missing,
    store_upload,
    writer_of,
)
from training.ml.errors import TrainingCancelled, TrainingError
from training.ml.results import RunResult
from training.models import ModelResult, TrainingRun
from training.selectors.run_inputs import run_artifacts_dir, run_calendar, run_candles
from training.selectors.trading import run_trials
from training.services import run_parts
from training.services.runs.database import db_now, is_locked_error, optuna_storage_url, retry_when_locked
from training.services.runs.interruptions import (
    REASON_DATABASE_BUSY,
    REASON_SHUTDOWN,
    training_run_requeue_or_fail,
)
from training.services.runs.leaderboard import run_leaderboard_columns, wall_seconds
from training.services.runs.monitor import RunMonitor

logger = logging.getLogger(__name__)

MSG_CANCELLED = "Cancelled at the user's request."
MSG_UNKNOWN_STRATEGY = "Unknown training strategy {strategy!r}; known: {known}."
MSG_ARTIFACTS_FOLDER_EXISTS = (
    "The artifacts folder of run #{pk} exists before its first attempt ({path}); it is not this run's, so it is "
    "neither used nor deleted. Move it away and run again."
)


class ArtifactsFolderExists(RuntimeError):
    pass


def training_run_claim(*, run_id: int, task_id: str, worker: str = "") -> bool:
    """queued → running, at most once; records the task id and the worker's node name (times: the database's)."""
    now = db_now()
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


def run_artifacts_publish(*, run: TrainingRun, result: dict, artifacts_dir: Path) -> dict:
    """Upload the run's files into the store and read every file of its manifest back with its digest; a file
    that does not read back fails the run naming it and the worker that wrote it. Returns ``result`` with the
    run's key as its artifacts path."""
    started = time.perf_counter()
    key = run_key(run)
    store_upload(local_dir=artifacts_dir, key=key)
    manifest_path = artifacts_dir / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    if manifest:
        expected = {**manifest["files"], MANIFEST: file_digest(manifest_path)}
    else:
        expected = local_files(artifacts_dir)
    writers = dict(manifest.get("workers") or {})
    missing = store_missing(key=key, files=expected)
    if missing:
        raise TrainingError(missing_message([(name, writer_of(name, writers, run.worker)) for name in missing]))
    if not store_is_local():
        from training.models import RunPart
        from training.services.run_parts import run_parts_forget_files

        run_parts_forget_files(run=run, parts=list(RunPart.objects.filter(run=run, token=run.celery_task_id)))
        shutil.rmtree(artifacts_dir, ignore_errors=True)
    timings = dict(result.get("timings") or {})
    timings["stages"] = {**(timings.get("stages") or {}), "store": time.perf_counter() - started}
    return {**result, "timings": timings, "artifacts": {**(result.get("artifacts") or {}), "path": key}}


def run_artifacts_create(*, run: TrainingRun) -> Path:
    """Create the run's folder empty. A folder that exists before the first attempt is an error, never adopted;
    one from this run's own earlier attempt (it runs again from the start) is emptied first."""
    path = run_artifacts_dir(run)
    if run.attempts <= 1 and not store_is_local() and store_has_files(run_key(run)):
        raise ArtifactsFolderExists(MSG_ARTIFACTS_FOLDER_EXISTS.format(pk=run.pk, path=run_key(run)))
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
    started = TrainingRun.objects.filter(pk=run_id).values_list("started_at", flat=True).first()
    fields["wall_seconds"] = wall_seconds(started, fields["finished_at"])
    return bool(
        TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING, celery_task_id=task_id).update(
            **fields
        )
    )


SINGLE_PROCESS, IN_PARTS = "single-process", "regime parts"


def _train_in_one_process(run: TrainingRun, monitor: RunMonitor, artifacts_dir: Path) -> dict:
    from training.ml.manager import TrainingManager

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
        validated_report=run.report,  # validated once, at launch
        preset_overrides=run.snapshot.get("preset_overrides"),
    )
    return manager.run_full_training(
        run.symbol,
        exchange_name=run.exchange,
        interval=run.interval,
        candles=run_candles(run),
        calendar=run_calendar(run),
    )


def _train_in_parts(run: TrainingRun, monitor: RunMonitor, artifacts_dir: Path) -> dict:
    return run_parts.training_run_train_in_parts(
        run=run,
        candles=run_candles(run),
        worker=run.worker,
        should_stop=monitor.should_stop,
        log=monitor.log,
        progress=monitor.progress,
    )


STRATEGIES = {SINGLE_PROCESS: _train_in_one_process, IN_PARTS: _train_in_parts}


def default_strategy(run: TrainingRun | None = None) -> str:
    """Regime parts when the run's snapshot says so (``regime_tasks``, recorded at launch from
    ``TRAINING_REGIME_TASKS``), else the whole run in this process."""
    return IN_PARTS if run_parts.regime_tasks_enabled(run) else SINGLE_PROCESS


def _train(run: TrainingRun, monitor: RunMonitor, artifacts_dir: Path, strategy: str) -> dict:
    monitor.log(
        f"run #{run.pk}: {run.exchange}:{run.symbol} {run.interval}, preset {run.preset}, "
        f"profile '{run.snapshot.get('profile', {}).get('name')}', seed {run.seed}, attempt {run.attempts}"
        + (f", worker {run.worker}" if run.worker else "")
    )
    return STRATEGIES[strategy](run, monitor, artifacts_dir)


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
                **run_leaderboard_columns(result),
                report=regularization.get("report") or run.report,
                artifacts_path=(result.get("artifacts") or {}).get("path") or run_key(run),
            )
            if done:
                ModelResult.objects.filter(run_id=run.pk).delete()
                ModelResult.objects.bulk_create(model_result_rows(run, result))

    retry_when_locked(store, what=f"storing the result of run {run.pk}")


def _end_parts() -> None:
    try:
        retry_when_locked(run_parts.run_parts_end_with_their_runs, what="ending the parts of ended runs")
    except Exception:  # bookkeeping only: the reconciler ends them on its next pass
        logger.exception("could not end the parts of ended runs")


def training_run_execute(
    *, run_id: int, task_id: str = "", worker: str = "", strategy: str | None = None
) -> TrainingRun | None:
    """Claim the run (queued → running) and train it; returns None when there was nothing to claim. ``strategy``
    (``SINGLE_PROCESS`` or ``IN_PARTS``; ``default_strategy(run)`` when None) says how the run is trained."""
    if strategy is not None and strategy not in STRATEGIES:
        raise ValueError(MSG_UNKNOWN_STRATEGY.format(strategy=strategy, known=", ".join(STRATEGIES)))
    if not training_run_claim(run_id=run_id, task_id=task_id, worker=worker):
        logger.info("run %s was not queued (already claimed, cancelled or gone); nothing to do", run_id)
        return None
    run = TrainingRun.objects.select_related("dataset").get(pk=run_id)
    strategy = strategy or default_strategy(run)
    task_id = run.celery_task_id
    monitor = RunMonitor(run_id, task_id)
    monitor.start()
    try:
        artifacts_dir = run_artifacts_create(run=run)
        result = _train(run, monitor, artifacts_dir, strategy)
        result = run_artifacts_publish(run=run, result=result, artifacts_dir=artifacts_dir)
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
