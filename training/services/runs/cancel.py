"""Cancelling a run: a queued one ends at once, a running one is flagged and its worker stops at its next check."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone

from training.models import TrainingRun

MSG_NOT_CANCELLABLE = "Run #{pk} is {status}; only queued or running runs can be cancelled."
MSG_CANCELLED_QUEUED = "Cancelled before a worker picked it up."


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
