"""Delete the stored Optuna studies of runs that no longer exist (after a run is deleted, on commit)."""

from __future__ import annotations

import logging

from django.db import transaction

from training.models import TrainingRun
from training.selectors.optuna_studies import optuna_study_ids_by_run
from training.services.runs.database import optuna_storage_url

logger = logging.getLogger(__name__)


def optuna_studies_delete_orphans() -> int:
    """Delete every stored study whose ``run_id`` names no run; returns how many were deleted."""
    by_run = optuna_study_ids_by_run()
    if not by_run:
        return 0
    existing = set(TrainingRun.objects.filter(pk__in=list(by_run)).values_list("pk", flat=True))
    orphans = [study_id for run_id, ids in by_run.items() if run_id not in existing for study_id in ids]
    url = optuna_storage_url()
    if not orphans or url is None:
        return 0
    from training.ml.optuna_storage import rdb_storage

    storage = rdb_storage(url)
    for study_id in orphans:
        storage.delete_study(study_id)
    logger.info("deleted %d Optuna studies of deleted runs", len(orphans))
    return len(orphans)


def _clean_up() -> None:
    optuna_studies_delete_orphans()


def run_deleted(sender, instance, using=None, **kwargs) -> None:
    """``post_delete`` of a run: once the deleting transaction commits, delete the studies it left behind (one
    clean-up per transaction, however many runs it deleted; a rolled-back delete deletes none)."""
    pending = getattr(transaction.get_connection(using), "run_on_commit", [])
    if not any(entry[1] is _clean_up for entry in pending):
        transaction.on_commit(_clean_up, using=using, robust=True)  # a failed clean-up is logged, not raised
