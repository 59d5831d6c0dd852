"""The run page loads its typed result with type hints computed once per record class (issue 26), and renders
the same HTML as the uncached path."""

import re

import pytest
from django.urls import reverse

from training.ml.results import base

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def page_html(client, run) -> str:
    response = client.get(reverse("training:run_detail", args=[run.pk]))
    assert response.status_code == 200
    return CSRF.sub('name="csrfmiddlewaretoken" value=""', response.content.decode())


def test_the_run_page_is_identical_with_and_without_the_type_hint_cache(
    launcher_client, real_run, monkeypatch, settings
):
    settings.RUN_PAGE_CACHE_SECONDS = 0  # every page parses the result (no cached page: test_run_page_cache.py)
    base.record_schema.cache_clear()
    cold = page_html(launcher_client, real_run)
    classes = base.record_schema.cache_info().currsize
    warm = page_html(launcher_client, real_run)
    info = base.record_schema.cache_info()
    assert classes > 5 and info.currsize == classes and info.misses == classes  # the warm page computed none

    with monkeypatch.context() as patched:
        patched.setattr(base, "record_schema", base.record_schema.__wrapped__)  # the uncached path
        uncached = page_html(launcher_client, real_run)
    assert 'id="summary"' in cold
    assert cold == warm == uncached
