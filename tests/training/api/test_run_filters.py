"""The run list's ``status``/``trigger`` filters run without ``SELECT DISTINCT`` (no join needs it) and give the
same rows as the DISTINCT query django-filter used to build (issue 26)."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from training.models import TrainingRun
from training.services.runs import training_run_create

pytestmark = pytest.mark.django_db

STATUSES = ("queued", "failed", "succeeded", "cancelled")
TRIGGERS = ("web", "cli", "api")


@pytest.fixture
def mixed_runs(profile, dataset):
    runs = []
    for status, trigger in itertools.islice(itertools.cycle(itertools.product(STATUSES, TRIGGERS)), 14):
        run = training_run_create(
            profile=profile,
            symbol=dataset.symbol,
            interval=dataset.interval,
            preset="smoke",
            enqueue=False,
            trigger=trigger,
        )
        TrainingRun.objects.filter(pk=run.pk).update(status=status)
        runs.append(run)
    return runs


@pytest.mark.parametrize(
    "query",
    [
        {"status": ["failed", "queued"]},
        {"trigger": ["cli"]},
        {"status": ["succeeded", "cancelled", "queued"], "trigger": ["web", "api"]},
        {"status": ["failed"], "trigger": ["api"], "symbol": "btcusdt"},
    ],
)
def test_the_filtered_list_gives_the_distinct_querys_rows_without_distinct(viewer_api, mixed_runs, query):
    with CaptureQueriesContext(connection) as queries:
        body = viewer_api.get(reverse("api:run-list"), {**query, "page_size": 100}).json()
    run_queries = [q["sql"] for q in queries.captured_queries if '"training_trainingrun"' in q["sql"]]
    assert run_queries and not any("DISTINCT" in sql.upper() for sql in run_queries)

    reference = TrainingRun.objects.all()
    for name in ("status", "trigger"):
        if name in query:
            reference = reference.filter(**{f"{name}__in": query[name]})
    if "symbol" in query:
        reference = reference.filter(symbol=query["symbol"].upper())
    expected = list(reference.distinct().order_by("-created_at", "-id").values_list("id", flat=True))
    assert expected and body["count"] == len(expected)
    assert [r["id"] for r in body["results"]] == expected
