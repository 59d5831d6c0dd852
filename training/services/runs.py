"""Training runs: launch (validate, snapshot, enqueue on commit), execute (claim, drive the TrainingManager,
store the outcome), cancel, re-run and the stale-heartbeat sweep.

Reliability decisions:
- Redis unreachable at launch: the run is kept (never lost) but marked ``failed`` with ``MSG_BROKER_UNREACHABLE``
  and ``TrainingRunEnqueueFailed`` is raised so the caller shows the reason; "run again" relaunches it.
- A run executes at most once: ``training_run_execute`` claims it with a conditional UPDATE
  (``queued → running``); a redelivered or duplicated task finds nothing to claim and returns.
- While a run executes, a heartbeat thread writes ``heartbeat_at`` every ``TRAINING_HEARTBEAT_SECONDS`` and
  reads ``cancel_requested``. ``training_runs_mark_stale`` fails running runs whose heartbeat is older than
  ``TRAINING_STALE_AFTER_SECONDS`` with "worker lost". It is called without Celery beat: when the run
  pages / JSON endpoint / ``train_symbol`` read runs (at most every ``TRAINING_STALE_SWEEP_SECONDS`` per
  process), when a worker starts, and at the start of every training task.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback as traceback_module
import uuid
from datetime import timedelta
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from training.ml import artifacts
from training.ml.presets import PRESETS
from training.ml.regularization import validate_and_report_regularization
from training.models import MarketDataset, ModelResult, RegularizationProfile, TrainingRun
from training.selectors.market_data import DatasetNotFound, dataset_get
from training.selectors.profiles import profile_get_default

logger = logging.getLogger(__name__)

MSG_PROFILE_INVALID = "Profile '{name}' cannot be used: {errors}"
MSG_NO_PROFILE = "No regularization profile given and no default profile exists; create one in the admin."
MSG_UNKNOWN_PRESET = "Unknown preset '{preset}'; known presets: {known}."
MSG_BROKER_UNREACHABLE = (
    "Could not queue the run: the task broker (Redis) is unreachable ({error}). The run was not started; "
    "launch it again once Redis is back."
)
MSG_WORKER_LOST = "worker lost: no heartbeat for more than {seconds:g} s (the worker process died or was killed)."
MSG_WORKER_LOST_SIGNAL = "worker lost: the worker process running this task died"
MSG_NOT_CANCELLABLE = "Run #{pk} is {status}; only queued or running runs can be cancelled."
MSG_CANCELLED_QUEUED = "Cancelled before a worker picked it up."
MSG_CANCELLED = "Cancelled at the user's request."
MSG_NO_DATASET_ON_RUN = "Run #{pk} has no dataset."

STALE_SWEEP_CACHE_KEY = "training_runs_mark_stale:last"


class TrainingRunEnqueueFailed(Exception):
    def __init__(self, run: TrainingRun, message: str) -> None:
        super().__init__(message)
        self.run = run


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


@lru_cache(maxsize=1)
def library_versions() -> dict:
    """The engine's library versions plus the web stack's."""
    return {**artifacts.library_versions(), **{name: metadata.version(name) for name in ("django", "celery")}}


def optuna_storage_url() -> str | None:
    """SQLAlchemy URL of the Django database, for Optuna's RDB storage; None for an in-memory SQLite."""
    db = connections["default"].settings_dict
    engine, name = db["ENGINE"], str(db.get("NAME") or "")
    if engine.endswith("sqlite3"):
        if not name or name == ":memory:" or name.startswith("file:memorydb"):
            return None
        return f"sqlite:///{Path(name).resolve()}"
    if "postgresql" in engine:
        from urllib.parse import quote

        user = quote(db.get("USER") or "", safe="")
        password = quote(db.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = db.get("HOST") or "localhost"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgresql+psycopg://{auth}{host}{port}/{name}"
    return None


def _dataset_section(dataset: MarketDataset) -> dict:
    def iso(value):
        return value.isoformat() if value else None

    return {
        "dataset_id": dataset.pk,
        "exchange": dataset.exchange,
        "symbol": dataset.symbol,
        "interval": dataset.interval,
        "rows": dataset.row_count,
        "first_open_time": iso(dataset.first_open_time),
        "last_open_time": iso(dataset.last_open_time),
        "fingerprint": dataset.fingerprint,
    }


def training_run_validate(
    *,
    profile: RegularizationProfile | None,
    symbol: str,
    exchange: str,
    interval: str,
    preset: str,
    config: dict | None = None,
) -> tuple[RegularizationProfile, MarketDataset, dict, dict]:
    """Every launch check; raises ValidationError with all messages. Returns (profile, dataset, config, report).
    ``config`` (a resolved config, e.g. a sweep point's) replaces the profile's for this run only."""
    errors: list[str] = []
    if profile is None:
        profile = profile_get_default()
    report = {}
    if profile is None:
        errors.append(MSG_NO_PROFILE)
        config = {}
    else:
        config = profile.resolved_config() if config is None else config
        report = validate_and_report_regularization(config)
        if report["errors"]:
            errors.append(MSG_PROFILE_INVALID.format(name=profile.name, errors=" ".join(report["errors"])))
    if preset not in PRESETS:
        errors.append(MSG_UNKNOWN_PRESET.format(preset=preset, known=", ".join(PRESETS)))
    dataset = None
    try:
        dataset = dataset_get(symbol, exchange, interval)
    except DatasetNotFound as exc:
        errors.append(str(exc))
    if errors:
        raise ValidationError(errors)
    return profile, dataset, config, report


def _enqueue(run_id: int, task_id: str) -> str | None:
    """Publish the task; returns an error message instead of raising when the broker is unreachable."""
    from ares_site.celery import app
    from training.tasks import training_run_execute_task

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=_setting("TRAINING_BROKER_CONNECT_TIMEOUT", 3))
            training_run_execute_task.apply_async(args=[run_id], task_id=task_id, connection=conn, retry=False)
    except Exception as exc:  # kombu/redis raise several types; every one means "not queued"
        logger.warning("could not enqueue run %s: %s", run_id, exc)
        return MSG_BROKER_UNREACHABLE.format(error=f"{type(exc).__name__}: {exc}")
    return None


def training_run_create(
    *,
    profile: RegularizationProfile | None,
    symbol: str,
    exchange: str = "BINANCE",
    interval: str = "1h",
    preset: str = "quick",
    user=None,
    seed: int | None = None,
    rerun_of: TrainingRun | None = None,
    enqueue: bool = True,
    config: dict | None = None,
    sweep=None,
    sweep_values: dict | None = None,
    trigger: str = TrainingRun.Trigger.WEB,
) -> TrainingRun:
    """Validate, store the run as ``queued`` with its immutable snapshot and enqueue it once committed.

    Raises ValidationError when the launch is refused, TrainingRunEnqueueFailed when the broker is down (the
    run is then stored as ``failed`` with the reason). ``enqueue=False`` leaves it queued for an in-process
    ``training_run_execute`` (``train_symbol --inline``). ``config`` overrides the profile's resolved config for
    this run only (a sweep point: ``sweep`` and its ``sweep_values`` are recorded on the run and its snapshot).
    """
    symbol, exchange = symbol.strip().upper(), exchange.strip().upper()
    profile, dataset, config, report = training_run_validate(
        profile=profile, symbol=symbol, exchange=exchange, interval=interval, preset=preset, config=config
    )
    seed = int(getattr(settings, "TRAINING_SEED", 42) if seed is None else seed)
    snapshot = {
        "config": config,
        "profile": {"id": profile.pk, "name": profile.name, "updated_at": profile.updated_at.isoformat()},
        "preset": {"name": preset, "params": PRESETS[preset]},
        "data": _dataset_section(dataset),
        "seed": seed,
        "library_versions": library_versions(),
    }
    if sweep is not None:
        snapshot["sweep"] = {"id": sweep.pk, "values": dict(sweep_values or {})}
    task_id = str(uuid.uuid4())
    enqueue_error: list[str] = []
    with transaction.atomic():
        run = TrainingRun(
            symbol=symbol,
            exchange=exchange,
            interval=interval,
            profile=profile,
            dataset=dataset,
            preset=preset,
            seed=seed,
            launched_by=user if user is not None and user.is_authenticated else None,
            rerun_of=rerun_of,
            sweep=sweep,
            trigger=trigger,
            snapshot=snapshot,
            report=report,
            celery_task_id=task_id,
            stage="queued",
        )
        run.full_clean()
        run.save()

        def enqueue_on_commit() -> None:
            message = _enqueue(run.pk, task_id)
            if message:
                enqueue_error.append(message)
                TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.QUEUED).update(
                    status=TrainingRun.Status.FAILED, error=message, stage="not queued", finished_at=timezone.now()
                )

        if enqueue:
            transaction.on_commit(enqueue_on_commit)
    if enqueue_error:
        run.refresh_from_db()
        raise TrainingRunEnqueueFailed(run, enqueue_error[0])
    return run


def training_run_rerun(*, run: TrainingRun, user=None, trigger: str = TrainingRun.Trigger.WEB) -> TrainingRun:
    """A new run of the same symbol, exchange, interval, profile (its current settings), preset and seed."""
    return training_run_create(
        profile=run.profile,
        symbol=run.symbol,
        exchange=run.exchange,
        interval=run.interval,
        preset=run.preset,
        user=user,
        seed=run.seed,
        rerun_of=run,
        trigger=trigger,
    )


def training_run_cancel(*, run: TrainingRun, user=None) -> TrainingRun:
    """A queued run ends ``cancelled`` at once; a running one is flagged and stops at its next check."""
    now = timezone.now()
    Status = TrainingRun.Status
    if TrainingRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
        status=Status.CANCELLED, cancel_requested=True, error=MSG_CANCELLED_QUEUED, finished_at=now, stage="cancelled"
    ):
        run.refresh_from_db()
        return run
    if TrainingRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(cancel_requested=True):
        run.refresh_from_db()
        return run
    run.refresh_from_db()
    raise ValidationError(MSG_NOT_CANCELLABLE.format(pk=run.pk, status=run.status))


def training_runs_mark_stale(*, older_than: timedelta | None = None) -> int:
    """Fail every running run whose heartbeat is older than ``older_than`` ("worker lost"). Returns the count."""
    if older_than is None:
        older_than = timedelta(seconds=_setting("TRAINING_STALE_AFTER_SECONDS", 120))
    now = timezone.now()
    message = MSG_WORKER_LOST.format(seconds=older_than.total_seconds())
    return TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING, heartbeat_at__lt=now - older_than).update(
        status=TrainingRun.Status.FAILED, error=message, stage="worker lost", finished_at=now
    )


def training_run_mark_failed(*, run_id: int, exception: BaseException | None) -> bool:
    """Fail a still-active run from outside its process (Celery's failure handler); "worker lost" when the pool
    process died."""
    lost = type(exception).__name__ == "WorkerLostError"
    error = MSG_WORKER_LOST_SIGNAL if lost else f"{type(exception).__name__}: {exception}"
    return bool(
        TrainingRun.objects.filter(pk=run_id, status__in=TrainingRun.ACTIVE).update(
            status=TrainingRun.Status.FAILED,
            error=f"{error} ({exception})" if lost else error[:5000],
            stage="worker lost" if lost else "failed",
            finished_at=timezone.now(),
        )
    )


def training_runs_mark_stale_throttled() -> int:
    """``training_runs_mark_stale`` at most once per ``TRAINING_STALE_SWEEP_SECONDS`` in this process's cache."""
    if not cache.add(STALE_SWEEP_CACHE_KEY, 1, timeout=_setting("TRAINING_STALE_SWEEP_SECONDS", 10)):
        return 0
    return training_runs_mark_stale()


# --- execution -------------------------------------------------------------------------------------------
class _RunMonitor:
    """Progress and log writes (throttled) from the training thread, and a heartbeat thread that also reads
    ``cancel_requested``. ``should_stop`` never touches the database."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.stop_event = threading.Event()
        self.lost_event = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._pending_log: list[str] = []
        self._last_write = 0.0
        self._write_every = _setting("TRAINING_PROGRESS_WRITE_SECONDS", 1.0)
        self._beat_every = _setting("TRAINING_HEARTBEAT_SECONDS", 10.0)
        self._thread = threading.Thread(target=self._beat_loop, name=f"run-{run_id}-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=max(5.0, self._beat_every * 2))
        self.flush()

    def _running(self):
        return TrainingRun.objects.filter(pk=self.run_id, status=TrainingRun.Status.RUNNING)

    def _beat_loop(self) -> None:
        try:
            while not self._done.wait(self._beat_every):
                try:
                    if not self._running().update(heartbeat_at=timezone.now()):
                        self.lost_event.set()
                        self.stop_event.set()
                        continue
                    if self._running().filter(cancel_requested=True).exists():
                        self.stop_event.set()
                except Exception:
                    logger.exception("heartbeat of run %s failed", self.run_id)
        finally:
            connection.close()

    def should_stop(self) -> bool:
        return self.stop_event.is_set()

    def log(self, message: str) -> None:
        line = f"{timezone.now():%H:%M:%S} {message}\n"
        with self._lock:
            self._pending_log.append(line)
        self._maybe_write({})

    def progress(self, stage: str, fraction: float, message: str = "") -> None:
        fraction = min(max(float(fraction or 0.0), 0.0), 1.0)
        text = f"{stage}: {message}" if message else str(stage)
        self._maybe_write({"progress": fraction, "stage": text[:200]})

    def _maybe_write(self, fields: dict) -> None:
        now = time.monotonic()
        with self._lock:
            self._latest = {**getattr(self, "_latest", {}), **fields}
            if now - self._last_write < self._write_every:
                return
            self._last_write = now
        self.flush()

    def flush(self) -> None:
        with self._lock:
            fields = dict(getattr(self, "_latest", {}))
            self._latest = {}
            text = "".join(self._pending_log)
            self._pending_log.clear()
        if text:
            fields["log"] = Concat(F("log"), Value(text))
        if fields:
            fields["heartbeat_at"] = timezone.now()
            TrainingRun.objects.filter(pk=self.run_id).update(**fields)


def _claim(run_id: int, task_id: str) -> bool:
    now = timezone.now()
    updates: dict[str, Any] = {
        "status": TrainingRun.Status.RUNNING,
        "started_at": now,
        "heartbeat_at": now,
        "stage": "starting",
        "progress": 0.0,
    }
    if task_id:
        updates["celery_task_id"] = task_id
    return bool(TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.QUEUED).update(**updates))


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        for key in ("macro_f1", "balanced_accuracy", "accuracy"):
            if isinstance(value.get(key), (int, float)):
                return float(value[key])
    return None


def model_result_rows(run: TrainingRun, result: dict) -> list[ModelResult]:
    rows = []
    for regime, ensemble in (result.get("ensembles") or {}).items():
        for model, info in (ensemble.get("models") or {}).items():
            metrics = info.get("metrics") or {}
            validation, test = metrics.get("validation") or {}, metrics.get("test") or {}
            rows.append(
                ModelResult(
                    run=run,
                    regime=regime,
                    model=model,
                    metrics=metrics,
                    validation_balanced_accuracy=_number(validation.get("balanced_accuracy")),
                    validation_macro_f1=_number(validation.get("macro_f1")),
                    test_macro_f1=_number(test.get("macro_f1")),
                    train_val_gap=_number(info.get("train_val_gap")),
                    fit_seconds=_number(info.get("fit_seconds")),
                    best_params=info.get("best_params") or {},
                )
            )
    return rows


def _candles_for(run: TrainingRun):
    """The dataset's candles within the range recorded in the snapshot at launch."""
    from datetime import datetime

    from training.selectors.market_data import dataset_candles_frame

    if run.dataset is None:
        raise ValueError(MSG_NO_DATASET_ON_RUN.format(pk=run.pk))
    data = run.snapshot.get("data") or {}
    bounds = {
        key: datetime.fromisoformat(data[f"{key}_open_time"])
        for key in ("first", "last")
        if data.get(f"{key}_open_time")
    }
    return dataset_candles_frame(run.dataset, start=bounds.get("first"), end=bounds.get("last"))


def run_artifacts_dir(run_id: int) -> Path:
    return Path(settings.ARTIFACTS_DIR) / "runs" / str(run_id)


def _finish(run_id: int, **fields) -> bool:
    fields.setdefault("finished_at", timezone.now())
    return bool(TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.RUNNING).update(**fields))


def training_run_execute(*, run_id: int, task_id: str = "") -> TrainingRun | None:
    """Claim the run (queued → running) and train it; returns None when there was nothing to claim."""
    from training.ml.errors import TrainingCancelled
    from training.ml.manager import TrainingManager

    if not _claim(run_id, task_id):
        logger.info("run %s was not queued (already claimed, cancelled or gone); nothing to do", run_id)
        return None
    run = TrainingRun.objects.select_related("dataset").get(pk=run_id)
    monitor = _RunMonitor(run_id)
    monitor.start()
    artifacts_dir = run_artifacts_dir(run_id)
    try:
        monitor.log(
            f"run #{run_id}: {run.exchange}:{run.symbol} {run.interval}, preset {run.preset}, "
            f"profile '{run.snapshot.get('profile', {}).get('name')}', seed {run.seed}"
        )
        candles = _candles_for(run)
        manager = TrainingManager(
            config=run.snapshot["config"],
            preset=run.preset,
            seed=run.seed,
            artifacts_dir=str(artifacts_dir),
            optuna_storage=optuna_storage_url(),
            progress=monitor.progress,
            should_stop=monitor.should_stop,
            log=monitor.log,
        )
        result = manager.run_full_training(
            run.symbol, exchange_name=run.exchange, interval=run.interval, candles=candles
        )
    except TrainingCancelled as exc:
        monitor.log(f"cancelled: {exc}")
        monitor.stop()
        if monitor.lost_event.is_set():
            return TrainingRun.objects.get(pk=run_id)
        _finish(run_id, status=TrainingRun.Status.CANCELLED, error=MSG_CANCELLED, stage="cancelled")
        return TrainingRun.objects.get(pk=run_id)
    except BaseException as exc:  # record every failure, then let Celery see it too
        monitor.log(f"failed: {type(exc).__name__}: {exc}")
        monitor.stop()
        _finish(
            run_id,
            status=TrainingRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:5000],
            traceback=traceback_module.format_exc(),
            stage="failed",
        )
        if isinstance(exc, Exception):
            return TrainingRun.objects.get(pk=run_id)
        raise
    monitor.log("finished")
    monitor.stop()
    regularization = result.get("regularization") or {}
    with transaction.atomic():
        done = _finish(
            run_id,
            status=TrainingRun.Status.SUCCEEDED,
            progress=1.0,
            stage="done",
            result=result,
            report=regularization.get("report") or run.report,
            artifacts_path=str((result.get("artifacts") or {}).get("path") or artifacts_dir),
        )
        if done:
            ModelResult.objects.filter(run_id=run_id).delete()
            ModelResult.objects.bulk_create(model_result_rows(run, result))
    return TrainingRun.objects.get(pk=run_id)
