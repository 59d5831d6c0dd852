import os
import time

import pytest
from billiard.exceptions import WorkerLostError

from training.tasks import ping

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def wait_for_state(result, state: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and result.state != state:
        time.sleep(0.1)
    return result.state


def test_ping_task_round_trips_through_the_broker_to_a_worker_process(celery_worker_process):
    from ares_site.celery import app

    assert app.conf.task_always_eager is False
    result = ping.apply_async(args=["hello"])
    reply = result.get(timeout=30)
    assert reply["echo"] == "hello"
    assert reply["pid"] != os.getpid()
    assert reply["pid"] in celery_worker_process.pool_pids()
    assert result.status == "SUCCESS"


@pytest.mark.fault
def test_killing_the_pool_process_mid_task_reports_worker_lost(celery_worker_process):
    result = ping.apply_async(args=["slow"], kwargs={"sleep_seconds": 30})
    assert wait_for_state(result, "STARTED") == "STARTED"
    killed = celery_worker_process.kill()
    with pytest.raises(WorkerLostError):
        result.get(timeout=30)
    again = ping.apply_async(args=["again"]).get(timeout=30)
    assert again["echo"] == "again"
    assert again["pid"] not in killed


@pytest.mark.fault
def test_a_new_pool_process_reports_up_after_the_reconciler_asked_the_workers(celery_worker_process, profile, dataset):
    """The reconciler's broadcast (inspect active/reserved) must leave nothing that a pool process forked later
    inherits: a worker whose reconciler ran in its main process left a pooled broker connection waiting on a reply
    (BRPOP), and every replacement pool process blocked reading that shared socket while closing the pool it
    inherited, was killed for not reporting UP, and the next one blocked the same way (the pool-kill flake)."""
    from datetime import timedelta

    from django.utils import timezone

    from training.models import TrainingRun
    from training.services.runs import training_run_claim, training_run_create

    stale = training_run_create(profile=profile, symbol=dataset.symbol, preset="smoke", enqueue=False)
    assert training_run_claim(run_id=stale.pk, task_id=f"task-{stale.pk}", worker="ares-gone@nowhere")
    TrainingRun.objects.filter(pk=stale.pk).update(attempts=3, heartbeat_at=timezone.now() - timedelta(hours=1))
    deadline = time.monotonic() + 120  # the worker's reconciler asks the workers, finds the node gone, fails the run
    while time.monotonic() < deadline and TrainingRun.objects.get(pk=stale.pk).status == TrainingRun.Status.RUNNING:
        time.sleep(0.2)
    assert TrainingRun.objects.get(pk=stale.pk).status == TrainingRun.Status.FAILED, celery_worker_process.log_tail()
    for attempt in range(3):
        result = ping.apply_async(args=["slow"], kwargs={"sleep_seconds": 30})
        assert wait_for_state(result, "STARTED") == "STARTED", celery_worker_process.log_tail()
        killed = celery_worker_process.kill()
        try:
            with pytest.raises(WorkerLostError):
                result.get(timeout=30)
            again = ping.apply_async(args=[f"again {attempt}"]).get(timeout=30)
        except Exception as exc:
            raise AssertionError(f"attempt {attempt}: {exc!r}\n{celery_worker_process.log_tail(6000)}") from exc
        assert again["pid"] not in killed
    assert "Timed out waiting for UP message" not in celery_worker_process.log_tail(200_000)
