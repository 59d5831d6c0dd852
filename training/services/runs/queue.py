"""Publishing a run's task to the broker, and asking the workers what they hold (for the reconciler)."""

from __future__ import annotations

import logging

import redis
from django.conf import settings

from ares_site.celery import app
from training.tasks import training_run_execute_task

logger = logging.getLogger(__name__)

MSG_BROKER_UNREACHABLE = (
    "Could not queue the run: the task broker (Redis) is unreachable ({error}). The run was not started; "
    "launch it again once Redis is back."
)
MSG_BROKER_REFUSED = (
    "Could not queue the run: the task broker (Redis) is reachable but refused the message ({error}). The run was "
    "not started; fix what Redis says, then launch it again."
)
INSPECT_TIMEOUT_SECONDS = 1.0


def training_run_publish(*, run_id: int, task_id: str) -> str | None:
    """Publish the run's task; returns an error message instead of raising when the broker is unreachable."""
    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.TRAINING_BROKER_CONNECT_TIMEOUT)
            training_run_execute_task.apply_async(args=[run_id], task_id=task_id, connection=conn, retry=False)
    except Exception as exc:  # kombu/redis raise several types; every one means "not queued"
        logger.warning("could not enqueue run %s: %s", run_id, exc)
        refused = _redis_refusal(exc)
        if refused is not None:  # Redis answered with an error (MISCONF, OOM, READONLY, …): name it as it is
            return MSG_BROKER_REFUSED.format(error=f"{type(refused).__name__}: {refused}")
        return MSG_BROKER_UNREACHABLE.format(error=f"{type(exc).__name__}: {exc}")
    return None


def _redis_refusal(exc: BaseException) -> BaseException | None:
    """The Redis error reply in `exc` or its causes (a ResponseError is an answer, not a lost connection)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, redis.ResponseError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


class WorkerInspector:
    """What the live workers hold (active and reserved task ids, per node), asked once per reconcile pass."""

    def __init__(self, *, timeout: float = INSPECT_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._held: dict[str, set[str]] | None = None
        self._asked = False

    def held(self) -> dict[str, set[str]] | None:
        """{node name: task ids}; None when the broker could not be asked."""
        if not self._asked:
            self._asked = True
            try:
                inspect = app.control.inspect(timeout=self.timeout)
                held: dict[str, set[str]] = {}
                for reply in (inspect.active() or {}, inspect.reserved() or {}):
                    for node, tasks in reply.items():
                        held.setdefault(node, set()).update(task.get("id") for task in tasks or [])
                self._held = held
            except Exception as exc:  # the broker is down or answered garbage: nothing can be confirmed
                logger.warning("could not ask the workers what they hold: %s", exc)
                self._held = None
        return self._held

    def idle_nodes(self) -> set[str]:
        """The nodes that answered holding no task (none when the workers could not be asked)."""
        held = self.held()
        return {node for node, tasks in (held or {}).items() if not tasks}

    def all_task_ids(self) -> set[str] | None:
        held = self.held()
        return None if held is None else set().union(*held.values()) if held else set()
