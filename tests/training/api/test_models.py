"""/api/models/ and promotion through /api/runs/<id>/promote/, with a real trained run; predictions equal what
the project's loader gives in-process for the same bar."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse

from tests.training.trained_run import make_trained_run
from training.artifact_store import run_dir
from training.ml.artifacts import load_ensemble
from training.ml.labels import CLASS_NAMES
from training.ml.predict import MSG_TOO_FEW_BARS, predictor_for
from training.ml.regimes import classify_regimes
from training.models import ActiveModel, Promotion
from training.selectors.predictions import stored_candles_tail
from training.selectors.promotion_checks import promotion_checks_evaluate
from training.selectors.registry import MSG_NO_ACTIVE_MODEL
from training.services.registry import MSG_NOT_SUCCEEDED, model_promote

FORCE = {"force": True, "reason": "the tiny run is worse than a baseline in one regime; accepted for the test"}

pytestmark = pytest.mark.django_db

MARKET = ("BINANCE", "BTCUSDT", "1h")


def market_url(name: str, market=MARKET) -> str:
    return reverse(f"api:model-{name}", args=list(market))


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 403), ("full", 201)])
def test_promote_needs_the_add_promotion_permission(clients, trained_run, who, expected):
    response = clients[who].post(reverse("api:run-promote", args=[trained_run.pk]), FORCE, format="json")
    assert response.status_code == expected, response.content
    if expected == 201:
        body = response.json()
        assert (body["run"], body["replaced"], body["trigger"], body["promoted_by"]) == (
            trained_run.pk,
            None,
            "api",
            "api-full",
        )
        assert ActiveModel.objects.get(symbol="BTCUSDT").run_id == trained_run.pk


def test_promoting_again_keeps_the_history(full_api, trained_artifacts, trained_run):
    second = make_trained_run(trained_artifacts)
    assert full_api.post(reverse("api:run-promote", args=[trained_run.pk]), FORCE, format="json").status_code == 201
    assert full_api.post(reverse("api:run-promote", args=[second.pk]), FORCE, format="json").status_code == 201
    history = full_api.get(market_url("history")).json()["results"]
    assert [(h["run"], h["replaced"]) for h in history] == [(second.pk, trained_run.pk), (trained_run.pk, None)]
    assert Promotion.objects.count() == 2 and ActiveModel.objects.get().run_id == second.pk


def test_promote_without_force_is_a_409_with_the_failed_checks(full_api, trained_run):
    url = reverse("api:run-promote", args=[trained_run.pk])
    refused = full_api.post(url, {}, format="json")
    assert refused.status_code == 409, refused.content
    body = refused.json()
    failed = [check.key for check in promotion_checks_evaluate(run=trained_run) if check.failed]
    assert "not_worse_than_baseline" in failed  # the real tiny run is worse than a baseline in one regime
    assert [check["key"] for check in body["failed_checks"]] == failed
    assert {check["key"]: check["status"] for check in body["checks"]}["pbo"] == "not available"
    assert full_api.post(url, {"force": True}, format="json").status_code == 400
    assert not Promotion.objects.exists()
    accepted = full_api.post(url, FORCE, format="json")
    assert accepted.status_code == 201 and accepted.json()["overridden"] is True
    assert accepted.json()["reason"] == FORCE["reason"]


def test_rollback_endpoint(full_api, viewer_api, trained_artifacts, trained_run):
    second = make_trained_run(trained_artifacts)
    model_promote(run=trained_run, **FORCE)
    model_promote(run=second, **FORCE)
    assert viewer_api.post(market_url("rollback"), {}, format="json").status_code == 403
    back = full_api.post(market_url("rollback"), {"reason": "second misbehaves"}, format="json")
    assert back.status_code == 201, back.content
    assert (back.json()["run"], back.json()["replaced"], back.json()["trigger"]) == (
        trained_run.pk,
        second.pk,
        "rollback",
    )
    assert full_api.get(market_url("detail")).json()["run_id"] == trained_run.pk
    cleared = full_api.post(market_url("rollback"), {}, format="json").json()
    assert cleared["run"] is None and full_api.get(market_url("detail")).status_code == 404
    assert full_api.post(market_url("rollback"), {}, format="json").status_code == 400


def test_only_a_succeeded_run_is_promoted(full_api, profile, dataset):
    from tests.training.api.test_runs import queued_run

    run = queued_run(profile, dataset)
    response = full_api.post(reverse("api:run-promote", args=[run.pk]))
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [MSG_NOT_SUCCEEDED.format(pk=run.pk, status="queued")]}


def test_no_active_model_is_a_404_saying_to_promote(full_api, db):
    expected = {"detail": MSG_NO_ACTIVE_MODEL.format(market="BINANCE:BTCUSDT 1h")}
    assert full_api.get(market_url("detail")).json() == expected
    response = full_api.post(market_url("predict"), {}, format="json")
    assert response.status_code == 404 and response.json() == expected


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 200), ("full", 200)])
def test_model_endpoints_need_the_view_permission(clients, trained_run, who, expected):
    model_promote(run=trained_run, **FORCE)
    assert clients[who].get(reverse("api:model-list")).status_code == expected
    assert clients[who].get(market_url("detail")).status_code == expected
    assert clients[who].post(market_url("predict"), {}, format="json").status_code == expected


def test_active_model_describes_the_run(viewer_api, trained_run):
    model_promote(run=trained_run, **FORCE)
    body = viewer_api.get(market_url("detail", ("binance", "btcusdt", "1h"))).json()
    assert body["run_id"] == trained_run.pk
    assert body["settings"]["preset"] == trained_run.preset and body["settings"]["config"]
    assert "manifest.json" in body["artifacts"]["files"]
    assert body["download_url"] == reverse("api:run-artifacts", args=[trained_run.pk])
    assert set(body["regimes"]) == set(trained_run.result["ensembles"])
    zipped = viewer_api.get(body["download_url"])
    assert zipped.status_code == 200 and zipped["Content-Type"] == "application/zip"
    listed = viewer_api.get(reverse("api:model-list")).json()
    assert [m["run_id"] for m in listed] == [trained_run.pk]


def in_process(run, candles) -> tuple[str, np.ndarray, dict]:
    """What the project's loader gives for the last bar of ``candles``, without the API."""
    regime = classify_regimes(candles.reset_index(drop=True)).iloc[-1]
    ensemble = load_ensemble(run_dir(run) / regime)
    position = [len(candles) - 1]
    from training.ml.dataset import FeatureMatrix
    from training.ml.features import compute_features

    frame = compute_features(candles.reset_index(drop=True))
    matrix = FeatureMatrix.from_frame(frame, list(frame.columns))
    return (
        regime,
        ensemble.predict_candles(candles.reset_index(drop=True), position)[0],
        ensemble.base_proba(matrix, position),
    )


def test_prediction_equals_the_loaded_ensemble_in_process(viewer_api, trained_run, settings):
    model_promote(run=trained_run, **FORCE)
    response = viewer_api.post(market_url("predict"), {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    needed = predictor_for(trained_run.pk, run_dir(trained_run)).needed_bars
    candles = stored_candles_tail(
        exchange="BINANCE", symbol="BTCUSDT", interval="1h", bars=needed + settings.PREDICT_EXTRA_BARS
    )
    regime, expected, base = in_process(trained_run, candles)
    assert body["run_id"] == trained_run.pk and body["regime"] == regime
    assert body["open_time"] == candles["open_time"].iloc[-1].isoformat()
    assert [body["probabilities"][c] for c in CLASS_NAMES] == pytest.approx(expected.tolist(), abs=1e-12)
    assert sum(body["probabilities"].values()) == pytest.approx(1.0, abs=1e-9)
    assert set(body["models"]) == set(base)
    for key, proba in base.items():
        assert [body["models"][key][c] for c in CLASS_NAMES] == pytest.approx(proba[0].tolist(), abs=1e-12)


def test_prediction_of_given_candles(viewer_api, trained_run):
    model_promote(run=trained_run, **FORCE)
    needed = predictor_for(trained_run.pk, run_dir(trained_run)).needed_bars
    candles = stored_candles_tail(exchange="BINANCE", symbol="BTCUSDT", interval="1h", bars=needed + 50).iloc[:-30]
    rows = [
        [int(t.timestamp() * 1000), o, h, lo, c, v]
        for t, o, h, lo, c, v in candles[["open_time", "open", "high", "low", "close", "volume"]].itertuples(
            index=False
        )
    ]
    body = viewer_api.post(market_url("predict"), {"candles": rows}, format="json").json()
    regime, expected, _ = in_process(trained_run, candles)
    assert body["open_time"] == candles["open_time"].iloc[-1].isoformat() and body["regime"] == regime
    assert [body["probabilities"][c] for c in CLASS_NAMES] == pytest.approx(expected.tolist(), abs=1e-12)
    response = viewer_api.post(market_url("predict"), {"candles": rows[-(needed - 1) :]}, format="json")
    assert response.status_code == 400
    assert response.json() == {"candles": [MSG_TOO_FEW_BARS.format(given=needed - 1, needed=needed)]}
    response = viewer_api.post(market_url("predict"), {"candles": [[1, 2, 3]]}, format="json")
    assert response.status_code == 400 and "candles" in response.json()


def test_verdicts_are_the_ensembles_records_of_the_result(viewer_api, trained_run):
    model_promote(run=trained_run, **FORCE)
    body = viewer_api.get(market_url("detail")).json()
    trained = {r: s["ensemble"] for r, s in trained_run.result["ensembles"].items() if s.get("ensemble")}
    assert trained and set(body["verdicts"]) == set(trained)
    for regime, ensemble in trained.items():
        assert body["verdicts"][regime]["vs_baseline"] == ensemble["vs_baseline"]
        assert body["verdicts"][regime]["vs_baseline"]["verdict"] in ("better", "worse", "no evidence")
        assert body["verdicts"][regime]["collapsed"] is ensemble["collapsed"]
