"""A finished run's page and API answer come from the run_pages cache (issue 26): the same HTML / JSON as rendered
without the cache, the result column never loaded on a cached page, and what can still change (the log, the
status) shown at once."""

import re

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from training.models import TrainingRun
from training.selectors.run_page import PAGE_CACHE, run_page_cache_key

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
RESULT_COLUMN = '"training_trainingrun"."result"'


@pytest.fixture(autouse=True)
def empty_cache():
    caches[PAGE_CACHE].clear()
    yield
    caches[PAGE_CACHE].clear()


def page(client, run) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("training:run_detail", args=[run.pk]))
    assert response.status_code == 200
    return CSRF.sub('name="csrfmiddlewaretoken" value=""', response.content.decode()), [
        q["sql"] for q in queries.captured_queries
    ]


def test_a_finished_runs_page_is_cached_identical_and_never_loads_the_result(launcher_client, real_run, settings):
    settings.RUN_PAGE_CACHE_SECONDS = 0
    uncached, _ = page(launcher_client, real_run)
    settings.RUN_PAGE_CACHE_SECONDS = 3600
    first, first_queries = page(launcher_client, real_run)
    cached, cached_queries = page(launcher_client, real_run)
    assert 'id="metrics"' in cached and 'id="system"' in cached and 'id="promotion-checks"' in cached
    assert uncached == first == cached
    assert any(RESULT_COLUMN in sql for sql in first_queries)
    assert not any(RESULT_COLUMN in sql for sql in cached_queries)
    assert len(cached_queries) < len(first_queries)


def test_the_log_and_a_status_change_show_at_once(launcher_client, real_run, settings):
    settings.RUN_PAGE_CACHE_SECONDS = 3600
    page(launcher_client, real_run)
    key = run_page_cache_key(real_run)
    TrainingRun.objects.filter(pk=real_run.pk).update(log=real_run.log + "schedule: kept the active model\n")
    assert "schedule: kept the active model" in page(launcher_client, real_run)[0]

    TrainingRun.objects.filter(pk=real_run.pk).update(status=TrainingRun.Status.FAILED, error="disk full")
    real_run.refresh_from_db()
    assert run_page_cache_key(real_run) != key
    changed, _ = page(launcher_client, real_run)
    settings.RUN_PAGE_CACHE_SECONDS = 0
    assert changed == page(launcher_client, real_run)[0]
    assert 'id="run-status">failed<' in changed and "disk full" in changed and 'id="promotion-checks"' not in changed
    assert 'id="advice"' not in changed  # the advisor section is drawn for succeeded runs only: re-rendered


def test_a_running_run_is_never_cached(launcher_client, real_run, settings):
    settings.RUN_PAGE_CACHE_SECONDS = 3600
    TrainingRun.objects.filter(pk=real_run.pk).update(status=TrainingRun.Status.RUNNING, finished_at=None)
    real_run.refresh_from_db()
    assert run_page_cache_key(real_run) is None
    page(launcher_client, real_run)
    assert not caches[PAGE_CACHE]._cache  # nothing stored


def test_the_api_detail_is_cached_identical_with_the_live_log(launcher_client, real_run, settings):
    url = reverse("api:run-detail", args=[real_run.pk])
    settings.RUN_PAGE_CACHE_SECONDS = 0
    uncached = launcher_client.get(url).content
    settings.RUN_PAGE_CACHE_SECONDS = 3600
    assert launcher_client.get(url).content == uncached
    with CaptureQueriesContext(connection) as queries:
        cached = launcher_client.get(url)
    assert cached.content == uncached
    assert not any(RESULT_COLUMN in q["sql"] for q in queries.captured_queries)
    assert cached.json()["trading"] and cached.json()["metrics"] and cached.json()["advice"] is not None

    TrainingRun.objects.filter(pk=real_run.pk).update(log=real_run.log + "appended after the finish\n")
    assert launcher_client.get(url).json()["log_tail"].endswith("appended after the finish\n")
