"""Thin Celery tasks: load by id, call a service. The worker's reconciler (a process beside it) starts with it."""

import logging
import os
import subprocess
import sys
import time

import redis
from celery import shared_task
from celery.exceptions import WorkerLostError
from celery.signals import (
    task_failure,
    task_postrun,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutting_down,
)

logger = logging.getLogger(__name__)

PING_MAX_SLEEP_SECONDS = 60.0
MSG_WARM_IMPORTS = "warm worker: training libraries imported in {seconds:.1f} s ({each}) in pool process {pid}"
RECONCILER_STOP_SECONDS = 10.0
_reconcilers: list[subprocess.Popen] = []


@shared_task(name="training.ping")
def ping(value: str, sleep_seconds: float = 0.0) -> dict:
    """Round trip through the broker; `sleep_seconds` lets tests catch it mid-task."""
    time.sleep(min(max(float(sleep_seconds), 0.0), PING_MAX_SLEEP_SECONDS))
    return {"echo": value, "pid": os.getpid()}


@shared_task(name="training.tasks.training_run_execute_task", bind=True)
def training_run_execute_task(self, run_id: int) -> dict:
    from training.services.runs import training_run_execute

    run = training_run_execute(run_id=run_id, task_id=self.request.id or "", worker=self.request.hostname or "")
    return {"run_id": run_id, "status": run.status if run else "not claimed"}


@shared_task(name="training.tasks.training_run_part_task", bind=True)
def training_run_part_task(self, run_id: int, token: str) -> dict:
    """Help a run spread over workers: train its queued regime parts (``TRAINING_REGIME_TASKS``)."""
    from training.services.run_parts import training_run_help

    return {
        "run_id": run_id,
        "parts": training_run_help(run_id=run_id, token=token, worker=self.request.hostname or ""),
    }


@shared_task(name="training.monitor_markets")
def monitor_markets() -> dict:
    """What beat fires every MONITOR_EVERY_SECONDS: one monitor pass over every active model."""
    from training.services.monitor import monitor_run

    return monitor_run()


@worker_init.connect
def refuse_to_start_unless_ready(sender=None, **kwargs) -> None:
    """The worker checks the store, the migrations, its app version and its clock before it consumes anything
    (``services.worker_checks``); any problem stops it with the reasons and exit status 78."""
    from training.services.worker_checks import EXIT_REFUSED, MSG_REFUSED, worker_start_problems

    worker = getattr(sender, "hostname", "") or ""
    problems = worker_start_problems(worker=worker)
    from django.db import connections

    connections.close_all()  # no connection of the main process is inherited by the pool processes it forks
    if problems:
        message = MSG_REFUSED.format(worker=worker, reasons="; ".join(problems))
        logger.critical(message)
        print(message, file=sys.stderr, flush=True)
        raise SystemExit(EXIT_REFUSED)
    logger.info("worker %s: start checks passed (artifact store, migrations, app version, clock)", worker)


@worker_ready.connect
def start_reconciler_on_worker_start(sender=None, **kwargs) -> None:
    """The reconciler runs beside each worker (no Celery beat needed): a process of its own, a first pass now, then
    on a timer. Never a thread in this process: it forks the pool processes (see ``training_runs_reconcile_loop``)."""
    from django.conf import settings
    from django.utils import timezone

    node = getattr(sender, "hostname", "") or ""
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "reconcile_runs", "--node", node]
    command += ["--started-at", timezone.now().isoformat(), "--parent-pid", str(os.getpid())]
    try:
        queues = sorted(sender.app.amqp.queues.consume_from)
    except AttributeError:
        queues = []
    command += ["--queues", ",".join(queues)]  # it also beats into the workers' registry for this worker
    from training.selectors.workers import worker_beat

    try:  # the first beat from here: a worker that answers a ping is already registered with its heartbeat
        worker_beat(name=node, queues=queues)
    except redis.RedisError:  # the reconciler's beat retries; /healthz reports a broker problem
        logger.warning("worker %s: first registry beat failed", node, exc_info=True)
    _reconcilers.append(subprocess.Popen(command, cwd=settings.BASE_DIR, stdin=subprocess.DEVNULL))


@worker_process_init.connect
def import_training_libraries_in_the_pool_process(**kwargs) -> None:
    """``WORKER_WARM_IMPORTS``: the pool process that runs the tasks imports TensorFlow/Keras, torch, LightGBM and
    scikit-learn before it takes its first run. A failed import is logged; the run that needs it then fails
    with that error itself."""
    from django.conf import settings

    if not getattr(settings, "WORKER_WARM_IMPORTS", False):
        return
    from training.ml.warm import frameworks_import

    started = time.perf_counter()
    try:
        seconds = frameworks_import()
    except Exception:
        logger.exception("warm worker: importing the training libraries failed in pool process %s", os.getpid())
        return
    each = ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items()) or "nothing new"
    logger.info(MSG_WARM_IMPORTS.format(seconds=time.perf_counter() - started, each=each, pid=os.getpid()))


@worker_shutting_down.connect
def stop_reconciler_on_shutdown(**kwargs) -> None:
    for process in _reconcilers:
        process.terminate()
    for process in _reconcilers:
        try:
            process.wait(timeout=RECONCILER_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()


@task_failure.connect(sender=training_run_execute_task)
def mark_run_failed_on_task_failure(sender=None, task_id=None, exception=None, args=None, **kwargs) -> None:
    """The pool process died (WorkerLostError: re-queued) or the task raised outside the service (failed)."""
    from training.services.runs import training_run_mark_failed

    if args:
        training_run_mark_failed(run_id=args[0], task_id=task_id or "", exception=exception)


@shared_task(name="training.schedule_execute", bind=True)
def schedule_execute_task(self, schedule_id: int) -> dict:
    """Fired by celery beat (django-celery-beat) for a RetrainSchedule."""
    from training.services.schedules import schedule_execute

    run = schedule_execute(schedule_id=schedule_id, task_id=self.request.id or "", worker=self.request.hostname or "")
    return {"schedule_id": schedule_id, "run_id": run.pk if run else None, "status": run.status if run else "skipped"}


@task_postrun.connect(sender=training_run_execute_task)
def advance_sweep_on_run_end(sender=None, args=None, **kwargs) -> None:
    """A sweep's run ended (a failure raised by the task too): record its objective, tell optuna, ask the next trial."""
    _advance_sweep(args)


@task_failure.connect(sender=training_run_execute_task)
def advance_sweep_on_lost_worker(sender=None, args=None, exception=None, **kwargs) -> None:
    """The pool process running a sweep's run died: only ``task_failure`` is sent then (``task_postrun`` comes
    from the process that died); other failures already advanced the sweep through ``task_postrun``."""
    if isinstance(exception, WorkerLostError):
        _advance_sweep(args)


def _advance_sweep(args) -> None:
    from training.services.sweeps import sweep_run_finished

    if args:
        try:
            sweep_run_finished(run_id=args[0])
        except Exception:  # never let bookkeeping fail the task; pages and the command reconcile again
            logger.exception("could not advance the sweep of run %s", args[0])
