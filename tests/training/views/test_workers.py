"""The workers page and /healthz list every worker from the broker (issue 27): a real worker answers with its host,
queues and last heartbeat; a worker registered but gone is "lost" and makes /healthz 503 naming it."""

import pytest
from django.urls import reverse

from tests.training.runs_helpers import make_user
from training.selectors.health import worker_check_cache
from training.selectors.workers import worker_beat, worker_forget

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
GONE = "ares-gone-27@elsewhere"


@pytest.fixture
def gone_worker(redis_url):
    """A worker that registered (the real beat) and then died without shutting down, in the session's Redis (a
    test that starts no worker gets it from here)."""
    worker_beat(name=GONE, queues=["default", "training"])
    worker_check_cache.clear()
    yield GONE
    worker_forget(name=GONE)
    worker_check_cache.clear()


def test_the_workers_page_lists_the_live_worker_with_its_queues_and_heartbeat(client, celery_worker_process):
    client.force_login(make_user("viewer", can_launch=False))
    body = client.get(reverse("training:worker_list_json")).json()
    mine = next(w for w in body["workers"] if w["name"] == celery_worker_process.node_name)
    assert mine["state"] == "up" and mine["host"] == celery_worker_process.node_name.split("@")[1]
    assert mine["queues"] == ["default", "training"]
    assert mine["heartbeat_age_seconds"] is not None and mine["heartbeat_age_seconds"] >= 0
    page = client.get(reverse("training:worker_list"))
    assert page.status_code == 200 and celery_worker_process.node_name.encode() in page.content


def test_a_registered_worker_that_no_longer_answers_is_lost_and_fails_healthz(
    client, celery_worker_process, gone_worker
):
    client.force_login(make_user("viewer", can_launch=False))
    workers = {w["name"]: w for w in client.get(reverse("training:worker_list_json")).json()["workers"]}
    assert workers[gone_worker]["state"] == "lost" and workers[gone_worker]["host"] == "elsewhere"
    assert workers[celery_worker_process.node_name]["state"] == "up"
    response = client.get("/healthz")
    assert response.status_code == 503
    detail = response.json()["checks"]["celery_workers"]["detail"]
    assert celery_worker_process.node_name in detail and f"lost (registered, not answering): {gone_worker}" in detail


def test_a_lost_worker_silent_longer_than_the_forget_window_is_dropped_and_healthz_recovers(
    client, celery_worker_process, gone_worker, settings
):
    import time

    client.force_login(make_user("viewer", can_launch=False))
    assert client.get("/healthz").status_code == 503
    settings.WORKER_FORGET_AFTER_SECONDS = 0.5
    time.sleep(1.0)
    worker_check_cache.clear()
    workers = {w["name"] for w in client.get(reverse("training:worker_list_json")).json()["workers"]}
    assert gone_worker not in workers and celery_worker_process.node_name in workers
    worker_check_cache.clear()
    assert client.get("/healthz").status_code == 200


def test_the_workers_page_waits_for_a_silent_worker_only_as_long_as_the_setting_says(client, gone_worker, settings):
    import time

    settings.WORKER_INSPECT_TIMEOUT_SECONDS = 0.2
    client.force_login(make_user("viewer", can_launch=False))
    started = time.monotonic()
    body = client.get(reverse("training:worker_list_json")).json()
    waited = time.monotonic() - started
    assert {w["name"]: w["state"] for w in body["workers"]}[GONE] == "lost"
    assert 0.2 <= waited < 0.9  # the default (1 s) would wait for the silent worker a whole second
