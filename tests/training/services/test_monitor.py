"""The monitor: a top feature of the served bars shifted by 3 standard deviations raises PSI above 0.25 and a drift
alert (models page, API); serving unshifted bars again clears it, with the time it cleared."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from tests.training.trained_run import make_trained_run
from training.models import ActiveModel, MonitorAlert, PredictionLog
from training.selectors.drift import drift_report, regime_top_features, training_features
from training.services.monitor import monitor_run
from training.services.registry import model_promote
from training.tasks import monitor_markets

pytestmark = pytest.mark.django_db
SERVED = 150


def serve(run, rows, regime: str, start, *, shift: dict | None = None) -> None:
    """Log ``rows`` (real training feature rows of ``regime``) as served bars from ``start`` on, hour by hour;
    ``shift`` adds a constant to named features (the planted drift)."""
    now = timezone.now()
    PredictionLog.objects.bulk_create(
        PredictionLog(
            exchange=run.exchange,
            symbol=run.symbol,
            interval=run.interval,
            run=run,
            open_time=start + timedelta(hours=i),
            regime=regime,
            probabilities={"down": 0.3, "flat": 0.4, "up": 0.3},
            features={k: float(v) + (shift or {}).get(k, 0.0) for k, v in row.items()},
            source="api",
            served_at=now,
        )
        for i, row in enumerate(rows)
    )


def test_a_shifted_feature_raises_the_drift_alert_which_clears(
    trained_artifacts,
    admin_client,
    settings,
    test_broker,
    django_capture_on_commit_callbacks,
):
    from training.services.schedules import schedule_create

    settings.MONITOR_DRIFT_BARS = SERVED
    settings.MONITOR_RETRAIN_ON_ALERT = True
    retrain = schedule_create(symbol="BTCUSDT", crontab="0 3 * * *", preset="tiny")
    schedule_create(symbol="BTCUSDT", crontab="0 * * * *", preset="tiny", fetch_only=True)
    run = make_trained_run(trained_artifacts)
    model_promote(run=run, force=True, reason="monitor test")
    data = run.result["data"]
    reference = training_features(run.pk, data["first_open_time"], data["last_open_time"])
    regime = reference["regime"].value_counts().idxmax()
    rows = reference[reference["regime"] == regime].drop(columns="regime")
    feature = regime_top_features(run, regime)[0]
    rng = np.random.default_rng(5)
    sample = lambda: rows.iloc[rng.choice(len(rows), SERVED)].to_dict("records")  # noqa: E731
    start = timezone.now().replace(minute=0, second=0, microsecond=0)

    serve(run, sample(), regime, start)
    assert max(drift_report(active=ActiveModel.objects.get())["regimes"][regime]["features"].values()) < 0.25
    assert monitor_markets() == {"BINANCE:BTCUSDT 1h": 0}

    serve(run, sample(), regime, start + timedelta(hours=SERVED), shift={feature: 3 * float(rows[feature].std())})
    report = drift_report(active=ActiveModel.objects.get())
    assert report["regimes"][regime]["features"][feature] > 0.25 and report["max_psi"] > 0.25
    assert set(report["regime_mix"]) >= {regime}
    with django_capture_on_commit_callbacks(execute=True):
        assert monitor_run() == {"BINANCE:BTCUSDT 1h": 1}
    alert = MonitorAlert.objects.get()
    assert (alert.kind, alert.cleared_at, alert.run_id) == ("drift", None, run.pk) and feature in alert.message
    assert alert.details["retrain_schedule"] == retrain.pk  # the training schedule, not the fetch-only one
    assert test_broker.llen("training") == 1  # the market's retrain schedule was fired
    body = admin_client.get(reverse("api:model-detail", args=["BINANCE", "BTCUSDT", "1h"])).json()
    assert [(a["kind"], a["open"]) for a in body["alerts"]] == [("drift", True)]
    assert 'data-kind="drift"' in admin_client.get(reverse("training:model_list")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert monitor_run() == {"BINANCE:BTCUSDT 1h": 1} and MonitorAlert.objects.count() == 1  # still one
    assert test_broker.llen("training") == 1  # an alert that stays open fires no second retrain

    serve(run, sample(), regime, start + timedelta(hours=2 * SERVED))
    assert monitor_run() == {"BINANCE:BTCUSDT 1h": 0}
    alert.refresh_from_db()
    assert alert.cleared_at is not None and alert.cleared_at >= alert.raised_at
    body = admin_client.get(reverse("api:model-detail", args=["BINANCE", "BTCUSDT", "1h"])).json()
    assert body["alerts"][0]["open"] is False and body["alerts"][0]["cleared_at"]
