"""A run spread over workers (``TRAINING_REGIME_TASKS``): its regimes are parts that any free worker takes.

The run's own task (which claimed the run, owns its heartbeat and answers cancel) creates one part per regime,
publishes helper tasks, trains parts itself until none is left to take, waits for the parts other workers hold,
then finishes the run (merge, plots, manifest, summary). A helper task takes queued parts one at a time and exits
when none is left. Every part records the worker that trained it.

Why the run's task finishes the run instead of a Celery chord callback: the runs reconciler judges a running run
by its task on its worker; a chord would leave the run without a live task while its parts wait in the queue.
Here the run's task is always alive, and a sweep with more points than workers cannot deadlock: a run's task
can train every part alone.

- Cancel: the run's monitor stops the run's task; a helper's monitor sees ``cancel_requested`` and stops too.
- Retry: a new attempt has a new task id; parts carry the attempt's id (``token``) so stale helpers write nothing.
- A helper lost mid-part (no part heartbeat for ``TRAINING_STALE_AFTER_SECONDS``): the part is queued again and
  the run's task takes it.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import traceback as traceback_module
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from training.artifact_store import (
    local_files,
    missing_message,
    run_key,
    store_delete,
    store_download,
    store_is_local,
    store_missing,
    store_upload,
)
from training.ml.errors import TrainingCancelled, TrainingError
from training.ml.regime_parts import PARTS_DIR, merge_regime_parts, part_dir, regimes_of_run, train_regime_part
from training.models import RunPart, TrainingRun
from training.selectors.run_inputs import run_artifacts_dir, run_calendar, run_candles
from training.selectors.trading import run_trials
from training.services.runs.database import db_now, optuna_storage_url, retry_when_locked
from training.tasks import training_run_part_task

logger = logging.getLogger(__name__)

MSG_PART_FAILED = "Regime {regime} failed on worker {worker}: {error}"
MSG_PART_ENDED_WITH_RUN = "ended with its run ({status}) before this part finished"
MSG_PART_REQUEUED = "part {regime}: no heartbeat from worker {worker} for more than {seconds:g} s; queued again"
# How often the run's task looks at the parts it waits for: the run ends at most this late after its last part.
WAIT_POLL_SECONDS = 0.2


def regime_tasks_enabled(run: TrainingRun | None = None) -> bool:
    """The run's own setting (``regime_tasks`` in its snapshot, recorded at launch), else ``TRAINING_REGIME_TASKS``."""
    recorded = (run.snapshot or {}).get("regime_tasks") if run is not None else None
    return bool(getattr(settings, "TRAINING_REGIME_TASKS", True) if recorded is None else recorded)


def part_key(run: TrainingRun, regime: str) -> str:
    return f"{run_key(run)}/{PARTS_DIR}/{regime}"


def _part_missing(run: TrainingRun, part: RunPart) -> list[tuple[str, str]]:
    """The part's files that do not read back from the store with their digest, each with the part's worker (a
    part whose regime was skipped wrote none)."""
    return [
        (f"{PARTS_DIR}/{part.regime}/{name}", part.worker)
        for name in store_missing(key=part_key(run, part.regime), files=part.files)
    ]


def run_parts_collect(*, run: TrainingRun, parts: list[RunPart], run_dir) -> None:
    """Before the merge: every part's files read back from the store with their digests (else the run fails naming
    the missing files and the worker that wrote them) and are brought into this worker's working folder."""
    missing = [pair for part in parts for pair in _part_missing(run, part)]
    if missing:
        raise TrainingError(missing_message(missing))
    for part in parts:
        lost = store_download(key=part_key(run, part.regime), files=part.files, target=part_dir(run_dir, part.regime))
        if lost:
            raise TrainingError(missing_message([(f"{PARTS_DIR}/{part.regime}/{n}", part.worker) for n in lost]))


def run_parts_forget_files(*, run: TrainingRun, parts: list[RunPart]) -> None:
    """The parts' copies in an object store, once the run's own files are stored (the local store moved them)."""
    if store_is_local():
        return
    for part in parts:
        store_delete(key=part_key(run, part.regime), names=part.files)


class _PartBeat:
    """Writes the part's heartbeat while it trains."""

    def __init__(self, part_id: int) -> None:
        self.part_id = part_id
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"part-{part_id}-heartbeat", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        try:
            while not self._done.wait(settings.TRAINING_HEARTBEAT_SECONDS):
                try:
                    retry_when_locked(
                        lambda: RunPart.objects.filter(pk=self.part_id, status=RunPart.Status.RUNNING).update(
                            heartbeat_at=db_now()
                        ),
                        what=f"heartbeat of part {self.part_id}",
                    )
                except Exception:
                    logger.exception("heartbeat of part %s failed", self.part_id)
        finally:
            connection.close()


def run_parts_create(*, run: TrainingRun) -> list[RunPart]:
    """The parts of this attempt: those an earlier attempt finished (their files still in the run's folder) are
    kept and handed to this attempt; every other regime gets a new queued part."""
    finished = RunPart.objects.filter(run=run, status=RunPart.Status.SUCCEEDED)
    kept = [p.pk for p in finished if not _part_missing(run, p)]
    RunPart.objects.filter(run=run).exclude(pk__in=kept).delete()
    RunPart.objects.filter(pk__in=kept).update(token=run.celery_task_id)
    done = set(RunPart.objects.filter(pk__in=kept).values_list("regime", flat=True))
    RunPart.objects.bulk_create(
        [RunPart(run=run, regime=r, token=run.celery_task_id) for r in regimes_of_run() if r not in done]
    )
    return list(RunPart.objects.filter(run=run, token=run.celery_task_id))


def run_parts_publish_helpers(*, run: TrainingRun, count: int) -> None:
    queue = getattr(settings, "CELERY_TRAINING_QUEUE", "training")
    for _ in range(count):
        try:
            training_run_part_task.apply_async(args=[run.pk, run.celery_task_id], queue=queue, retry=False)
        except Exception as exc:  # the run's task trains every part itself when no helper comes
            logger.warning("could not publish a helper for run %s: %s", run.pk, exc)
            return


def _claim(run_id: int, token: str, worker: str) -> RunPart | None:
    for part in RunPart.objects.filter(run_id=run_id, token=token, status=RunPart.Status.QUEUED).order_by("id"):
        now = db_now()
        claimed = retry_when_locked(
            lambda part=part, now=now: RunPart.objects.filter(pk=part.pk, status=RunPart.Status.QUEUED).update(
                status=RunPart.Status.RUNNING,
                worker=worker[:200],
                started_at=now,
                heartbeat_at=now,
                attempts=F("attempts") + 1,
            ),
            what=f"claiming part {part.pk}",
        )
        if claimed:
            part.refresh_from_db()
            return part
    return None


def _train_one(
    run: TrainingRun,
    part: RunPart,
    candles,
    *,
    should_stop: Callable[[], bool],
    log: Callable[[str], None],
    progress: Callable[[str, float, str], None] | None = None,
) -> None:
    mine = RunPart.objects.filter(pk=part.pk, status=RunPart.Status.RUNNING, token=part.token)
    log(f"part {part.regime}: training on {part.worker}")
    try:
        with _PartBeat(part.pk):
            result = train_regime_part(
                regime=part.regime,
                config=run.snapshot["config"],
                preset=run.preset,
                seed=run.seed,
                run_dir=run_artifacts_dir(run),
                candles=candles,
                symbol=run.symbol,
                exchange=run.exchange,
                interval=run.interval,
                calendar=run_calendar(run),
                optuna_storage=optuna_storage_url(),
                run_id=run.pk,
                should_stop=should_stop,
                log=log,
                progress=progress,
                validated_report=run.report,  # validated once, at launch
                preset_overrides=run.snapshot.get("preset_overrides"),
            )
    except TrainingCancelled:
        retry_when_locked(lambda: mine.update(status=RunPart.Status.QUEUED, worker=""), what="releasing a part")
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:5000]
        retry_when_locked(
            lambda: mine.update(
                status=RunPart.Status.FAILED,
                error=error + "\n" + traceback_module.format_exc(),
                finished_at=timezone.now(),
            ),
            what="failing a part",
        )
        raise
    try:
        local = part_dir(run_artifacts_dir(run), part.regime)
        store_upload(local_dir=local, key=part_key(run, part.regime))
        files = local_files(local)
        lost = store_missing(key=part_key(run, part.regime), files=files)
        if lost:
            raise TrainingError(missing_message([(f"{PARTS_DIR}/{part.regime}/{n}", part.worker) for n in lost]))
        if not store_is_local() and part.worker != run.worker:  # another worker's part: the store holds it now
            shutil.rmtree(local, ignore_errors=True)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:5000]
        retry_when_locked(
            lambda: mine.update(status=RunPart.Status.FAILED, error=error, finished_at=timezone.now()),
            what="failing a part",
        )
        raise
    retry_when_locked(
        lambda: mine.update(status=RunPart.Status.SUCCEEDED, result=result, files=files, finished_at=timezone.now()),
        what="storing a part",
    )
    log(f"part {part.regime}: done on {part.worker}")


def run_parts_work(
    *,
    run: TrainingRun,
    candles,
    worker: str,
    should_stop: Callable[[], bool],
    log: Callable[[str], None],
    progress: Callable[[str, float, str], None] | None = None,
) -> int:
    """Take and train queued parts of the run until none is left; returns how many this worker trained.
    ``progress`` (the run's own task only) gets each part's training steps."""
    done = 0
    while not should_stop():
        part = _claim(run.pk, run.celery_task_id, worker)
        if part is None:
            return done
        _train_one(run, part, candles, should_stop=should_stop, log=log, progress=progress)
        done += 1
    raise TrainingCancelled("cancelled while taking regime parts")


def _requeue_stale_parts(run: TrainingRun, log: Callable[[str], None]) -> None:
    seconds = settings.TRAINING_STALE_AFTER_SECONDS
    cutoff = db_now() - timedelta(seconds=seconds)
    for part in RunPart.objects.filter(run=run, token=run.celery_task_id, status=RunPart.Status.RUNNING):
        if part.heartbeat_at and part.heartbeat_at < cutoff:
            if RunPart.objects.filter(pk=part.pk, status=RunPart.Status.RUNNING, heartbeat_at=part.heartbeat_at).update(
                status=RunPart.Status.QUEUED
            ):
                log(MSG_PART_REQUEUED.format(regime=part.regime, worker=part.worker, seconds=seconds))


def training_run_train_in_parts(
    *,
    run: TrainingRun,
    candles,
    worker: str,
    should_stop: Callable[[], bool],
    log: Callable[[str], None],
    progress: Callable[[str, float, str], None] | None = None,
) -> dict:
    """The run's task: create the parts, publish helpers, train parts, wait for the others, merge."""
    wall_started = time.perf_counter()
    parts = run_parts_create(run=run)
    if worker and not worker.startswith("inline-"):
        run_parts_publish_helpers(run=run, count=len(parts) - 1)
    finished = {"parts": 0}  # parts known to be done: seen in the database, or finished here since

    def own_part_steps(stage: str, fraction: float, message: str) -> None:
        """The part this task trains itself names its running step and moves the bar inside its share."""
        if not progress:
            return
        if stage == "done":
            finished["parts"] += 1
        elif stage == "training":
            progress("training", 0.1 + 0.8 * (finished["parts"] + fraction) / len(parts), message)

    while True:
        run_parts_work(
            run=run, candles=candles, worker=worker, should_stop=should_stop, log=log, progress=own_part_steps
        )
        current = list(RunPart.objects.filter(run=run, token=run.celery_task_id))
        failed = [p for p in current if p.status == RunPart.Status.FAILED]
        if failed:
            part = failed[0]
            raise TrainingError(
                MSG_PART_FAILED.format(regime=part.regime, worker=part.worker, error=part.error.splitlines()[0])
            )
        done = sum(p.status == RunPart.Status.SUCCEEDED for p in current)
        if progress:
            running = [f"{p.regime} on {p.worker}" for p in current if p.status == RunPart.Status.RUNNING]
            now = f"; training now: {', '.join(running)}" if running else ""
            finished["parts"] = max(finished["parts"], done)
            progress(
                "training",
                0.1 + 0.8 * finished["parts"] / len(current),
                f"{done}/{len(current)} regime parts done{now}",
            )
        if done == len(current):
            break
        if should_stop():
            raise TrainingCancelled("cancelled while waiting for regime parts")
        _requeue_stale_parts(run, log)
        time.sleep(WAIT_POLL_SECONDS)
    run_parts_collect(run=run, parts=current, run_dir=run_artifacts_dir(run))
    log("merging the regime parts: plots, manifest, summary")
    return merge_regime_parts(
        parts={p.regime: p.result for p in current},
        workers={p.regime: p.worker for p in current},
        run_dir=run_artifacts_dir(run),
        preset=run.preset,
        wall_started=wall_started,
        candles=candles,
        trading=run.snapshot.get("trading"),
        trials=run_trials(run=run),
        preset_overrides=run.snapshot.get("preset_overrides"),
    )


def training_run_help(*, run_id: int, token: str, worker: str) -> int:
    """A helper task: train queued parts of the run while it is running under this attempt."""
    from training.services.runs.monitor import RunMonitor

    run = TrainingRun.objects.select_related("dataset").filter(pk=run_id).first()
    if run is None or run.status != TrainingRun.Status.RUNNING or run.celery_task_id != token:
        return 0
    if not RunPart.objects.filter(run=run, token=token, status=RunPart.Status.QUEUED).exists():
        return 0
    monitor = RunMonitor(run_id, token)
    monitor.start()
    try:
        return run_parts_work(
            run=run, candles=run_candles(run), worker=worker, should_stop=monitor.should_stop, log=monitor.log
        )
    except TrainingCancelled:
        return 0
    except Exception:  # the part is marked failed; the run's task fails the run with its error
        logger.exception("a part of run %s failed on %s", run_id, worker)
        return 0
    finally:
        monitor.stop()


def run_parts_end_with_their_runs() -> int:
    """Queued or running parts of failed or cancelled runs are cancelled (they stayed "queued" for ever).
    Returns how many; a helper still training one finds its part gone and stores nothing."""
    ended = 0
    for status in (TrainingRun.Status.FAILED, TrainingRun.Status.CANCELLED):
        ended += RunPart.objects.filter(
            status__in=[RunPart.Status.QUEUED, RunPart.Status.RUNNING], run__status=status
        ).update(
            status=RunPart.Status.CANCELLED,
            finished_at=timezone.now(),
            error=MSG_PART_ENDED_WITH_RUN.format(status=status),
        )
    return ended
