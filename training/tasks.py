"""Thin Celery tasks: load by id, call a service."""
import logging

from celery import shared_task
from celery.signals import worker_ready

logger = logging.getLogger(__name__)


@shared_task(name="training.ping")
def ping(value: str) -> dict:
    """Round trip through the broker; used by the integration test and health tooling."""
    import os

    return {"echo": value, "pid": os.getpid()}


@shared_task(name="training.tasks.training_run_execute_task", bind=True)
def training_run_execute_task(self, run_id: int) -> dict:
    from training.services.runs import training_run_execute, training_runs_mark_stale

    training_runs_mark_stale()
    run = training_run_execute(run_id=run_id, task_id=self.request.id or "")
    return {"run_id": run_id, "status": run.status if run else "not claimed"}


@worker_ready.connect
def mark_stale_runs_on_worker_start(**kwargs) -> None:
    from training.services.runs import training_runs_mark_stale

    count = training_runs_mark_stale()
    if count:
        logger.warning("marked %s run(s) with a stale heartbeat as failed (worker lost)", count)
