"""A run put back in the queue after its worker shut down shows its attempt on the run page and in the API."""

from django.urls import reverse

from ares_site.embedded_redis import start_embedded_redis
from tests.conftest import celery_app_using
from training.services.runs import (
    REASON_SHUTDOWN,
    training_run_claim,
    training_run_create,
    training_run_requeue_or_fail,
)


def test_a_requeued_run_shows_its_attempt_on_the_page_and_in_the_api(launcher_client, profile, dataset, tmp_path):
    run = training_run_create(profile=profile, symbol=dataset.symbol, preset="tiny", enqueue=False)
    assert training_run_claim(run_id=run.pk, task_id="first", worker="ares-local-1@box")
    server = start_embedded_redis(directory=tmp_path)  # the re-queued message goes here
    try:
        with celery_app_using(server.url):
            training_run_requeue_or_fail(run_id=run.pk, task_id="first", reason=REASON_SHUTDOWN)
    finally:
        server.stop()
    page = launcher_client.get(reverse("training:run_detail", args=[run.pk])).content.decode()
    assert '<dd id="run-attempts">2 of 3</dd>' in page
    assert "the worker was shut down while training; re-queued, attempt 2 of 3" in page
    body = launcher_client.get(reverse("api:run-detail", args=[run.pk])).json()
    assert body["status"] == "queued" and body["attempts"] == {"current": 2, "max": 3} and body["worker"] is None
