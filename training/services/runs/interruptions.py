"""A run interrupted by something outside it (its worker shut down, died or was lost) goes back to the queue
and runs again from the start, up to ``TRAINING_MAX_ATTEMPTS`` attempts; a run that failed because of its own
error is not retried."""

from __future__ import annotations

import logging
import uuid

from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from training.models import TrainingRun
from training.services.runs.database import retry_when_locked
from training.services.runs.queue import training_run_publish

logger = logging.getLogger(__name__)

REASON_SHUTDOWN = "the worker was shut down while training"
REASON_POOL_DIED = "the worker process running this task died"
REASON_WORKER_GONE = "the worker {worker} stopped answering (no heartbeat for more than {seconds:g} s)"
REASON_WORKER_RESTARTED = "the worker {worker} was restarted while training"
REASON_DATABASE_BUSY = "the database stayed locked by another process"
MSG_REQUEUED = "{reason}; re-queued, attempt {attempt} of {total}"
MSG_GAVE_UP = "worker lost: {reason}; failed after {total} attempts"
MSG_NOT_REPUBLISHED = "re-queued, but the broker could not be reached; the reconciler publishes it again"


def training_run_requeue_or_fail(*, run_id: int, task_id: str, reason: str) -> str | None:
    """Put a running run back in the queue (a new task id, published now) or, after the last attempt, fail it.

    Acts only while the run is still ``running`` under ``task_id`` (a newer delivery that claimed it, or an
    earlier requeue, makes this a no-op). Returns the new status, or None when nothing changed.
    """
    Status = TrainingRun.Status
    row = TrainingRun.objects.filter(pk=run_id).values("attempts", "status", "celery_task_id").first()
    if not row or row["status"] != Status.RUNNING or (task_id and row["celery_task_id"] != task_id):
        return None
    now = timezone.now()
    attempt, total = row["attempts"], TrainingRun(pk=run_id).max_attempts
    current = TrainingRun.objects.filter(
        pk=run_id, status=Status.RUNNING, celery_task_id=row["celery_task_id"], attempts=attempt
    )
    if attempt >= total:
        message = MSG_GAVE_UP.format(reason=reason, total=total)
        done = retry_when_locked(
            lambda: current.update(
                status=Status.FAILED,
                error=message,
                stage="worker lost",
                finished_at=now,
                log=Concat(F("log"), Value(f"{now:%H:%M:%S} {message}\n")),
            ),
            what=f"failing run {run_id}",
        )
        logger.warning("run %s: %s", run_id, message)
        return Status.FAILED if done else None
    message = MSG_REQUEUED.format(reason=reason, attempt=attempt + 1, total=total)
    new_task_id = str(uuid.uuid4())
    done = retry_when_locked(
        lambda: current.update(
            status=Status.QUEUED,
            attempts=attempt + 1,
            celery_task_id=new_task_id,
            queued_at=now,
            stage=message[:200],
            progress=0.0,
            worker="",
            heartbeat_at=None,
            log=Concat(F("log"), Value(f"{now:%H:%M:%S} {message}\n")),
        ),
        what=f"re-queueing run {run_id}",
    )
    if not done:
        return None
    logger.warning("run %s: %s", run_id, message)
    if training_run_publish(run_id=run_id, task_id=new_task_id):
        logger.warning("run %s: %s", run_id, MSG_NOT_REPUBLISHED)
    return Status.QUEUED


def training_run_mark_failed(*, run_id: int, task_id: str, exception: BaseException | None) -> bool:
    """Celery's failure handler: the pool process died (WorkerLostError) → re-queue; any other exception that
    escaped the service while the run is still active → fail it with that error (its own error; no retry)."""
    if type(exception).__name__ == "WorkerLostError":
        return training_run_requeue_or_fail(run_id=run_id, task_id=task_id, reason=REASON_POOL_DIED) is not None
    error = f"{type(exception).__name__}: {exception}"[:5000]
    return bool(
        retry_when_locked(
            lambda: TrainingRun.objects.filter(
                pk=run_id, status=TrainingRun.Status.RUNNING, celery_task_id=task_id
            ).update(status=TrainingRun.Status.FAILED, error=error, stage="failed", finished_at=timezone.now()),
            what=f"failing run {run_id}",
        )
    )
