import time

import pytest
from django.test import override_settings

from ares_site.embedded_redis import free_port, start_embedded_redis
from tests.conftest import celery_app_using

pytestmark = pytest.mark.django_db
DOWN_ANSWER_WITHIN_SECONDS = 6


def timed_get(client, url="/healthz"):
    started = time.monotonic()
    response = client.get(url)
    return response, time.monotonic() - started


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_healthz_is_200_with_real_redis_and_a_real_worker(client, celery_worker_process):
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "redis": True,
        "celery_workers": True,
    }
    assert celery_worker_process.node_name in body["checks"]["celery_workers"]["detail"]


def test_healthz_reports_redis_down_with_503_quickly(client):
    url = f"redis://127.0.0.1:{free_port()}/0"
    with celery_app_using(url):
        response, seconds = timed_get(client)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failed"] == ["redis", "celery_workers"]
    assert url in body["checks"]["redis"]["detail"]
    assert body["checks"]["database"]["ok"] is True
    assert seconds < DOWN_ANSWER_WITHIN_SECONDS


@override_settings(CELERY_BROKER_URL="redis://192.0.2.1:6379/0")  # TEST-NET-1: packets go nowhere
def test_healthz_with_unreachable_redis_answers_within_a_few_seconds(client):
    response, seconds = timed_get(client)
    assert response.status_code == 503
    assert "redis" in response.json()["failed"]
    assert seconds < DOWN_ANSWER_WITHIN_SECONDS


def test_healthz_without_a_worker_is_503_naming_celery_workers(client, tmp_path):
    server = start_embedded_redis(directory=tmp_path)
    try:
        with celery_app_using(server.url):
            response, seconds = timed_get(client)
    finally:
        server.stop()
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["celery_workers"]
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["celery_workers"]["detail"] == "no Celery worker answered"
    assert seconds < DOWN_ANSWER_WITHIN_SECONDS


def test_healthz_is_served_over_plain_http_even_with_the_https_redirect_on(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/admin/login/").status_code == 301
