"""python manage.py reconcile_runs: one pass of the reconciler, printing what it changed. Every worker starts it
beside itself with ``--node NAME --started-at ISO --parent-pid PID`` (``training.tasks``): then it passes every
``TRAINING_RECONCILE_SECONDS`` until the worker stops or dies."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from training.selectors.workers import WorkerBeat
from training.services.runs import training_runs_reconcile, training_runs_reconcile_loop

MSG_BAD_STARTED_AT = "--started-at must be an ISO date and time with its offset, not {value!r}."


class Command(BaseCommand):
    help = "Make queued and running runs agree with the broker and the workers (once, or beside a worker)."

    def add_arguments(self, parser):
        parser.add_argument("--node", default="", help="the worker's node name (its orphans are re-queued)")
        parser.add_argument("--started-at", default="", help="when that worker started (ISO 8601)")
        parser.add_argument("--parent-pid", type=int, default=None, help="loop until this worker process is gone")
        parser.add_argument("--queues", default=None, help="beat into the workers' registry with these queues")

    def handle(self, *args, node, started_at, parent_pid, queues, **options):
        started = parse_datetime(started_at) if started_at else None
        if started_at and (started is None or started.tzinfo is None):
            raise CommandError(MSG_BAD_STARTED_AT.format(value=started_at))
        if parent_pid is None:
            report = training_runs_reconcile(own_node=node, own_started_at=started)
            self.stdout.write(str(report))
            return
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
        # The worker's registry beat lives here too, never as a thread of the worker that forks its pool; a worker
        # that stops cleanly is forgotten, one that died stays registered (and is reported lost).
        beat = WorkerBeat(name=node, queues=[q for q in queues.split(",") if q]) if queues is not None else None
        if beat is not None:
            beat.start()
        training_runs_reconcile_loop(
            node=node,
            started_at=started,
            interval=settings.TRAINING_RECONCILE_SECONDS,
            parent_pid=parent_pid,
            stopped=stopped,
        )
        if beat is not None and stopped.is_set():
            beat.stop()
