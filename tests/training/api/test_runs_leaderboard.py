"""The API's run list carries the leaderboard's columns, orders (``?sort=``) and filters (``verdict``,
``sharpe_min``, ``log_loss_max``) the run list page has, on runs with real results; the schema documents them."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.training.runs_helpers import make_finished_run
from training.ml.results import RunResult
from training.selectors.runs import RUN_LIST_SORTS, VERDICT_CHOICES

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(profile, dataset, strength_results, tiny_result):
    made = [make_finished_run(profile, dataset, result=r) for r in (*strength_results, tiny_result)]
    make_finished_run(profile, dataset, result=tiny_result, status="failed")
    for run in made:
        run.refresh_from_db()
    return made


def sharpe(run) -> float:
    return RunResult.from_dict(run.result).trading.after_costs.stats.sharpe


def test_the_list_has_the_leaderboard_fields(viewer_api, runs):
    answer = viewer_api.get(reverse("api:run-list")).json()["results"]
    by_id = {row["id"]: row for row in answer}
    for run in runs:
        row = by_id[run.pk]
        trading = RunResult.from_dict(run.result).trading
        assert row["system_verdict"] == trading.verdict
        assert row["sharpe_after_costs"] == pytest.approx(trading.after_costs.stats.sharpe)
        assert row["log_loss_delta"] == pytest.approx(run.log_loss_delta)
        assert row["regime_verdicts"] == run.regime_verdicts and set(row["regime_verdicts"]) == set(
            run.result["ensembles"]
        )


def test_sort_and_filters_match_the_page(viewer_api, launcher_client, runs):
    floor = sorted(sharpe(r) for r in runs)[1]
    query = {"sort": "sharpe", "sharpe_min": repr(floor)}
    answer = viewer_api.get(reverse("api:run-list"), query).json()
    expected = [r.pk for r in sorted((r for r in runs if sharpe(r) >= floor), key=lambda r: (sharpe(r), r.pk))][::-1]
    assert [row["id"] for row in answer["results"]] == expected and answer["count"] == len(expected)
    page = launcher_client.get(reverse("training:run_list"), query).content.decode()
    assert [int(p.split('"')[0]) for p in page.split('<tr data-run="')[1:]] == expected
    low = viewer_api.get(reverse("api:run-list"), {"sort": "log_loss"}).json()["results"]
    assert [row["log_loss_delta"] for row in low] == sorted(r.log_loss_delta for r in runs)
    verdict = runs[0].system_verdict
    chosen = viewer_api.get(reverse("api:run-list"), {"verdict": verdict}).json()["results"]
    assert {row["id"] for row in chosen} == {r.pk for r in runs if r.system_verdict == verdict}


def test_an_unknown_sort_or_a_bad_number_is_a_400(viewer_api, runs):
    assert viewer_api.get(reverse("api:run-list"), {"sort": "nope"}).status_code == 400
    response = viewer_api.get(reverse("api:run-list"), {"sharpe_min": "abc"})
    assert response.status_code == 400 and "sharpe_min" in json.dumps(response.json())


def test_the_schema_documents_the_leaderboard(anonymous_api):
    schema = json.loads(anonymous_api.get(reverse("api:schema"), {"format": "json"}).content)
    parameters = {p["name"]: p for p in schema["paths"]["/api/runs/"]["get"]["parameters"]}
    assert set(parameters["sort"]["schema"]["enum"]) == set(RUN_LIST_SORTS)
    assert set(parameters["verdict"]["schema"]["enum"]) == set(VERDICT_CHOICES)
    assert parameters["sharpe_min"]["schema"]["type"] == "number"
    row = schema["components"]["schemas"]["RunList"]["properties"]
    for name in ("system_verdict", "sharpe_after_costs", "log_loss_delta", "regime_verdicts", "wall_seconds"):
        assert name in row
