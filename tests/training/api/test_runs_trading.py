"""/api/runs/<id>/ carries the run's ``trading`` block (its typed record) and the schema documents it; the sweep
schema documents ``pbo``."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.training.runs_helpers import make_finished_run
from training.ml.results import RunResult
from training.services.runs import training_run_create

pytestmark = pytest.mark.django_db


def test_the_detail_carries_the_trading_record(viewer_api, profile, dataset, tiny_result):
    run = make_finished_run(profile, dataset, result=tiny_result)
    body = viewer_api.get(reverse("api:run-detail", args=[run.pk])).json()
    record = RunResult.from_dict(tiny_result).trading
    assert body["trading"] == json.loads(json.dumps(record.to_dict()))
    assert body["trading"]["after_costs"]["cost_bps"] == 10.0
    assert body["trading"]["before_costs"]["cost_bps"] == 0.0
    assert {"sharpe_ci95_low", "sharpe_ci95_high", "psr", "shift_null_p"} <= set(body["trading"]["after_costs"])
    assert {"n_trials", "sharpe_variance", "dsr"} <= set(body["trading"]["deflation"])


def test_a_queued_run_has_no_trading_block(viewer_api, profile, dataset):
    run = training_run_create(profile=profile, symbol=dataset.symbol, preset="tiny", enqueue=False)
    assert viewer_api.get(reverse("api:run-detail", args=[run.pk])).json()["trading"] is None


def test_the_schema_documents_trading_and_pbo(anonymous_api):
    schema = json.loads(anonymous_api.get(reverse("api:schema"), {"format": "json"}).content)
    components = schema["components"]["schemas"]
    trading = components["TradingResult"]["properties"]
    assert {"after_costs", "before_costs", "deflation", "theta", "verdicts", "equity", "verdict"} <= set(trading)
    evaluation = components["SystemEvaluation"]["properties"]
    assert {"sharpe_ci95_low", "sharpe_ci95_high", "psr", "shift_null_p", "stats"} <= set(evaluation)
    assert {"n_trials", "sharpe_variance", "dsr"} <= set(components["Deflation"]["properties"])
    assert "trading" in components["RunDetail"]["properties"]
    assert {"pbo", "trading"} <= set(components["SweepDetail"]["properties"])
    assert {"pbo", "configurations", "blocks", "degradation"} <= set(components["Pbo"]["properties"])


def test_launch_takes_trading_settings_and_refuses_bad_ones(full_api, profile, dataset):
    url = reverse("api:run-list")
    body = {"symbol": dataset.symbol, "preset": "tiny", "trading": {"cost_bps": 5, "allow_short": False}}
    response = full_api.post(url, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["snapshot"]["trading"]["cost_bps"] == 5.0
    assert response.json()["snapshot"]["trading"]["allow_short"] is False
    response = full_api.post(url, {**body, "trading": {"hold": "week"}}, format="json")
    assert response.status_code == 400 and "Trading settings are invalid" in response.content.decode()
