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


def test_killing_the_pool_process_mid_task_reports_worker_lost(celery_worker_process):
    result = ping.apply_async(args=["slow"], kwargs={"sleep_seconds": 30})
    assert wait_for_state(result, "STARTED") == "STARTED"
    killed = celery_worker_process.kill()
    with pytest.raises(WorkerLostError):
        result.get(timeout=30)
    again = ping.apply_async(args=["again"]).get(timeout=30)
    assert again["echo"] == "again"
    assert again["pid"] not in killed
