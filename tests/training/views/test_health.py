import socket

import pytest
from django.test import override_settings

from ares_site.embedded_redis import free_port, start_embedded_redis
from tests.conftest import celery_app_using

pytestmark = pytest.mark.django_db


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections (the kernel's backlog) and never answers: a hung Redis."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


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


def test_healthz_reports_a_refused_redis_with_503(client):
    url = f"redis://127.0.0.1:{free_port()}/0"
    with celery_app_using(url):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failed"] == ["redis", "celery_workers"]
    assert url in body["checks"]["redis"]["detail"] and "Connection refused" in body["checks"]["redis"]["detail"]
    assert body["checks"]["database"]["ok"] is True


def test_healthz_with_a_redis_that_never_answers_gives_up_on_its_own_timeout(client, silent_server):
    """Without the checks' own timeouts this request would hang (until pytest's timeout fails it)."""
    with override_settings(CELERY_BROKER_URL=silent_server):
        response = client.get("/healthz")
    assert response.status_code == 503
    detail = response.json()["checks"]["redis"]["detail"]
    assert "redis" in response.json()["failed"]
    assert detail.startswith(f"Redis at {silent_server} did not answer: Timeout"), detail


def test_healthz_without_a_worker_is_503_naming_celery_workers(client, tmp_path):
    server = start_embedded_redis(directory=tmp_path)
    try:
        with celery_app_using(server.url):
            response = client.get("/healthz")
    finally:
        server.stop()
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["celery_workers"]
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["celery_workers"]["detail"] == "no Celery worker answered"


def test_healthz_is_served_over_plain_http_even_with_the_https_redirect_on(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code in (200, 503)
    assert client.get("/admin/login/").status_code == 301


def test_the_redis_check_follows_a_redis_that_stops_and_comes_back_on_its_cached_client(tmp_path):
    from training.selectors.health import _check_redis

    server = start_embedded_redis(directory=tmp_path / "first")
    port = server.port
    try:
        with override_settings(CELERY_BROKER_URL=server.url):
            assert _check_redis() == (True, "ok")
            server.stop()
            down = _check_redis()
            assert down[0] is False and "Connection refused" in down[1], down
            server = start_embedded_redis(port=port, directory=tmp_path / "second")
            assert _check_redis() == (True, "ok")
    finally:
        server.stop()
