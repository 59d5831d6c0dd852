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


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_healthy_answer_past_its_ttl_is_served_while_its_refresh_runs_and_the_refresh_brings_the_news(
    client, celery_worker_process, settings
):
    """Under load the background refresh can finish after the TTL: a request then took the old answer at once
    instead of a broadcast of its own (2 s, the p99 of /healthz in bench_operations); the refresh still reports a
    lost worker to the next request. Past STALE_FACTOR x the TTL a request asks the cluster itself."""
    import threading
    import time

    from training.selectors.health import STALE_FACTOR, worker_check_cache
    from training.selectors.workers import worker_beat, worker_forget

    def wait_for_the_refresh() -> None:
        deadline = time.monotonic() + 10
        while any(t.name == "healthz-worker-ping" for t in threading.enumerate()) and time.monotonic() < deadline:
            time.sleep(0.05)

    settings.HEALTH_WORKER_CACHE_SECONDS = 0.5
    worker_check_cache.clear()
    assert client.get("/healthz").status_code == 200  # asks the cluster, then refreshes in the background
    wait_for_the_refresh()
    gone = "ares-gone-health@elsewhere"
    worker_beat(name=gone, queues=["default"])  # registered, never answers: a broadcast waits its whole timeout
    try:
        time.sleep(0.6)  # past the TTL, within STALE_FACTOR x the TTL
        started = time.perf_counter()
        response = client.get("/healthz")
        assert response.status_code == 200 and time.perf_counter() - started < 0.5  # the old answer, at once
        wait_for_the_refresh()
        response = client.get("/healthz")
        assert response.status_code == 503 and gone in response.json()["checks"]["celery_workers"]["detail"]
    finally:
        worker_forget(name=gone)
    worker_check_cache.clear()
    assert client.get("/healthz").status_code == 200
    wait_for_the_refresh()
    time.sleep(0.5 * STALE_FACTOR + 0.1)  # no request in between: nothing refreshed it
    assert worker_check_cache.age() > 0.5 * STALE_FACTOR
    assert client.get("/healthz").status_code == 200
    assert worker_check_cache.age() < 0.5  # asked the cluster itself before answering
    worker_check_cache.clear()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_healthz_without_a_kept_answer_ends_its_broadcast_when_every_registered_worker_replied(
    client, celery_worker_process
):
    """The broadcast stops at the registered workers' count (``inspect(limit=...)``) instead of always waiting
    its whole timeout (2 s: 50 probes of a cold bench each waited that long)."""
    import time

    from training.selectors.health import WORKER_PING_TIMEOUT_SECONDS, worker_check_cache

    worker_check_cache.clear()
    started = time.perf_counter()
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert time.perf_counter() - started < WORKER_PING_TIMEOUT_SECONDS / 2
