"""The reconciler: makes the database's queued and running runs agree with what the broker and the workers hold.
Every worker starts one beside it (``manage.py reconcile_runs``, a process of its own: at start, then every
``TRAINING_RECONCILE_SECONDS``), never on page reads.

- A ``queued`` run queued longer than ``TRAINING_REQUEUE_GRACE_SECONDS`` ago that no live worker holds (active or
  reserved) while some worker is idle is published again: an idle worker (every worker takes both queues, one task
  at a time) would have taken its message had it been in the queue. Decided from the database and the workers'
  replies, never from the broker's own key layout; claim-once makes a duplicate harmless.
- A ``running`` run claimed by this node before the node started was orphaned by a restart: re-queued at once.
- A ``running`` run whose heartbeat is older than ``TRAINING_STALE_AFTER_SECONDS`` is re-queued (or failed after
  its last attempt) only once its worker is confirmed gone: the node does not answer, or answers without that
  task. When the workers cannot be asked (broker down), nothing is touched — a busy database or a slow broker
  never fails a run.
- Parts of a failed or cancelled run that are still queued or running are cancelled with it.
- A sweep holding a point whose run has ended but is not recorded yet is reconciled (the sweep pages only read).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Q
from django.utils import timezone

from training.models import TrainingRun
from training.services.runs.database import db_now
from training.services.runs.interruptions import (
    REASON_WORKER_GONE,
    REASON_WORKER_RESTARTED,
    training_run_requeue_or_fail,
)
from training.services.runs.queue import WorkerInspector, training_run_publish

logger = logging.getLogger(__name__)

INLINE_WORKER_PREFIX = "inline-"
PARENT_CHECK_SECONDS = 1.0


def inline_worker_name() -> str:
    """The node name recorded for a run trained in a plain process (``train_symbol --inline``)."""
    return f"{INLINE_WORKER_PREFIX}{os.getpid()}@{socket.gethostname()}"


def _inline_process_alive(worker: str) -> bool | None:
    """True/False for an inline process on this host; None when it ran on another host (cannot be asked)."""
    pid, _, host = worker[len(INLINE_WORKER_PREFIX) :].partition("@")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_holds(*, worker: str, task_id: str, inspector: WorkerInspector) -> bool | None:
    """Is the run's worker alive and still holding the task? None when that cannot be confirmed."""
    if worker.startswith(INLINE_WORKER_PREFIX):
        alive = _inline_process_alive(worker)
        return False if alive is None else alive  # another host's inline process: only its heartbeat tells
    held = inspector.held()
    if held is None:
        return None
    if not worker:
        return task_id in set().union(*held.values()) if held else False
    return task_id in held.get(worker, set())


@dataclass
class ReconcileReport:
    republished: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    alive: list[int] = field(default_factory=list)
    sweeps: list[int] = field(default_factory=list)  # sweeps advanced because a point's run had ended
    parts_ended: int = 0  # parts of failed or cancelled runs closed

    def __bool__(self) -> bool:
        return bool(self.republished or self.requeued)


def _requeue_orphans(*, own_node: str, own_started_at: datetime, report: ReconcileReport) -> None:
    orphans = TrainingRun.objects.filter(
        status=TrainingRun.Status.RUNNING, worker=own_node, started_at__lt=own_started_at
    ).values_list("pk", "celery_task_id")
    for run_id, task_id in orphans:
        reason = REASON_WORKER_RESTARTED.format(worker=own_node)
        if training_run_requeue_or_fail(run_id=run_id, task_id=task_id, reason=reason):
            report.requeued.append(run_id)


def _requeue_lost(*, now: datetime, inspector: WorkerInspector, report: ReconcileReport) -> None:
    stale_after = settings.TRAINING_STALE_AFTER_SECONDS
    stale = TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING).filter(
        Q(heartbeat_at__lt=now - timedelta(seconds=stale_after))
        | Q(heartbeat_at__isnull=True, started_at__lt=now - timedelta(seconds=stale_after))
    )
    for run_id, task_id, worker in stale.values_list("pk", "celery_task_id", "worker"):
        holds = worker_holds(worker=worker, task_id=task_id, inspector=inspector)
        if holds is None:
            logger.warning("run %s: no heartbeat, but its worker %s cannot be asked; left running", run_id, worker)
            continue
        if holds:
            report.alive.append(run_id)
            continue
        reason = REASON_WORKER_GONE.format(worker=worker or "(unknown)", seconds=stale_after)
        if training_run_requeue_or_fail(run_id=run_id, task_id=task_id, reason=reason):
            report.requeued.append(run_id)


def _republish_lost_messages(*, now: datetime, inspector: WorkerInspector, report: ReconcileReport) -> None:
    grace = timedelta(seconds=settings.TRAINING_REQUEUE_GRACE_SECONDS)
    waiting = list(
        TrainingRun.objects.filter(status=TrainingRun.Status.QUEUED)
        .filter(Q(queued_at__lt=now - grace) | Q(queued_at__isnull=True, created_at__lt=now - grace))
        .values_list("pk", "celery_task_id")
    )
    if not waiting:
        return
    held, idle = inspector.all_task_ids(), inspector.idle_nodes()
    if held is None or not idle:  # nobody free to have taken it: it may just be waiting in the queue
        return
    for run_id, task_id in waiting:
        if task_id in held:
            continue
        if not TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.QUEUED, celery_task_id=task_id).update(
            queued_at=timezone.now()
        ):
            continue
        if training_run_publish(run_id=run_id, task_id=task_id) is None:
            logger.warning("run %s was queued but its message was gone; published it again", run_id)
            report.republished.append(run_id)


def training_runs_reconcile(*, own_node: str = "", own_started_at: datetime | None = None) -> ReconcileReport:
    """One pass of the reconciler (see the module docstring). Returns what it changed. Staleness is judged by
    the database's clock (every worker's heartbeat is written with it)."""
    now = db_now()
    report = ReconcileReport()
    inspector = WorkerInspector()
    if own_node and own_started_at:
        _requeue_orphans(own_node=own_node, own_started_at=own_started_at, report=report)
    _requeue_lost(now=now, inspector=inspector, report=report)
    _republish_lost_messages(now=now, inspector=inspector, report=report)
    from training.services.run_parts import run_parts_end_with_their_runs  # they build on runs, not the other way
    from training.services.sweeps import sweeps_reconcile_pending

    report.parts_ended = run_parts_end_with_their_runs()
    report.sweeps = sweeps_reconcile_pending()
    return report


def training_runs_reconcile_loop(
    *, node: str, started_at: datetime, interval: float, parent_pid: int | None = None, stopped=None
) -> None:
    """The worker's reconciler (``manage.py reconcile_runs --node ...``): a first pass at once (orphans of this node
    included), then one every ``interval`` seconds, until ``stopped`` is set or the worker ``parent_pid`` is gone.

    It runs in a process of its own beside the worker, never in the worker's main process: that process forks the
    pool processes, and whatever a thread there holds at a fork is inherited. The broadcast a pass sends (inspect
    active/reserved) leaves its pooled broker connection waiting on a reply; every pool process forked after it
    blocked reading that shared socket while closing the pool it inherited, missed its UP message and was killed,
    and so was the next one (a death spiral that ended only when the socket timed out)."""
    stopped = stopped or threading.Event()
    first = True
    while not stopped.is_set() and (parent_pid is None or os.getppid() == parent_pid):
        try:
            close_old_connections()
            report = training_runs_reconcile(
                own_node=node if first else "", own_started_at=started_at if first else None
            )
            if report:
                logger.warning("reconciler: %s", report)
            first = False
        except Exception:
            logger.exception("reconciler pass failed; trying again in %.0f s", interval)
        finally:
            connection.close()
        deadline = time.monotonic() + interval
        while not stopped.is_set() and time.monotonic() < deadline:  # notice a dead worker within a second
            if parent_pid is not None and os.getppid() != parent_pid:
                return
            stopped.wait(min(PARENT_CHECK_SECONDS, max(deadline - time.monotonic(), 0.0)))
