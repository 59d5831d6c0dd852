"""While a run trains: throttled progress and log writes from the training thread, and a heartbeat thread that
also reads ``cancel_requested``. Every write retries while SQLite says "database is locked"."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from training.models import TrainingRun
from training.services.runs.database import db_now, retry_when_locked

logger = logging.getLogger(__name__)


class RunMonitor:
    """``should_stop`` never touches the database. ``lost_event`` is set when the run is no longer ``running``
    under this task id (requeued by the reconciler, or claimed by another delivery): training stops."""

    def __init__(self, run_id: int, task_id: str) -> None:
        self.run_id = run_id
        self.task_id = task_id
        self.stop_event = threading.Event()
        self.lost_event = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._pending_log: list[str] = []
        self._latest: dict = {}
        self._last_write = 0.0
        self._write_every = settings.TRAINING_PROGRESS_WRITE_SECONDS
        self._beat_every = settings.TRAINING_HEARTBEAT_SECONDS
        self._thread = threading.Thread(target=self._beat_loop, name=f"run-{run_id}-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=max(5.0, self._beat_every * 2))
        self.flush()

    def _mine(self):
        return TrainingRun.objects.filter(
            pk=self.run_id, status=TrainingRun.Status.RUNNING, celery_task_id=self.task_id
        )

    def _beat(self) -> None:
        if not retry_when_locked(
            lambda: self._mine().update(heartbeat_at=db_now()), what=f"heartbeat of run {self.run_id}"
        ):
            self.lost_event.set()
            self.stop_event.set()
            return
        if self._mine().filter(cancel_requested=True).exists():
            self.stop_event.set()

    def _beat_loop(self) -> None:
        """A heartbeat every ``TRAINING_HEARTBEAT_SECONDS``; in between, progress the throttle held back is
        written when its window ends, so the step that started last shows within ``TRAINING_PROGRESS_WRITE_SECONDS``
        (a fit announced right after the previous one ended would otherwise wait for the next beat)."""
        next_beat = time.monotonic() + self._beat_every
        try:
            while not self._done.wait(min(self._beat_every, self._write_every)):
                try:
                    if time.monotonic() >= next_beat:
                        next_beat = time.monotonic() + self._beat_every
                        self.flush()
                        self._beat()
                    else:
                        self._flush_held_back()
                except Exception:
                    logger.exception("heartbeat of run %s failed", self.run_id)
        finally:
            connection.close()

    def _flush_held_back(self) -> None:
        with self._lock:
            if not (self._latest or self._pending_log) or time.monotonic() - self._last_write < self._write_every:
                return
            self._last_write = time.monotonic()
        self.flush()

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
            self._latest = {**self._latest, **fields}
            if now - self._last_write < self._write_every:
                return
            self._last_write = now
        self.flush()

    def flush(self) -> None:
        with self._lock:
            fields = dict(self._latest)
            self._latest = {}
            text = "".join(self._pending_log)
            self._pending_log.clear()
        if text:
            fields["log"] = Concat(F("log"), Value(text))
        if fields:
            fields["heartbeat_at"] = db_now()
            retry_when_locked(
                lambda: self._mine().update(**fields),
                what=f"progress of run {self.run_id}",
            )
