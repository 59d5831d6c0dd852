"""Live performance: logged predictions of the active model mature when later candles are imported, and the live
metrics equal a hand computation on a 20-bar example (labels from the label rule's own formula, written out)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from django.urls import reverse

from tests.training.trained_run import make_trained_run
from training.marketdata.candles import Candles, ParsedFile
from training.models import ActiveModel, PredictionLog
from training.selectors.live import live_metrics
from training.selectors.predictions import stored_candles_tail
from training.services.market_data import dataset_import_candles
from training.services.predictions import prediction_serve
from training.services.registry import model_promote

pytestmark = pytest.mark.django_db
BARS, HORIZON_PAD = 20, 4


def continuation(tail: pd.DataFrame, n: int, seed: int = 11) -> pd.DataFrame:
    """``n`` hourly candles after ``tail``: a seeded random walk from its last close."""
    rng = np.random.default_rng(seed)
    close = float(tail["close"].iloc[-1]) * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate([[float(tail["close"].iloc[-1])], close[:-1]])
    times = tail["open_time"].iloc[-1] + pd.to_timedelta(np.arange(1, n + 1), unit="h")
    return pd.DataFrame(
        {
            "open_time": times,
            "open": open_,
            "high": np.maximum(open_, close) * 1.001,
            "low": np.minimum(open_, close) * 0.999,
            "close": close,
            "volume": 1000 + rng.random(n) * 50,
        }
    )


def as_parsed(frame: pd.DataFrame) -> ParsedFile:
    n = len(frame)
    candles = Candles(
        open_time=(frame["open_time"].astype("int64") // 1_000_000).to_numpy(dtype="int64"),
        open=frame["open"].to_numpy(),
        high=frame["high"].to_numpy(),
        low=frame["low"].to_numpy(),
        close=frame["close"].to_numpy(),
        volume=frame["volume"].to_numpy(),
        quote_volume=np.full(n, np.nan),
        trades=np.full(n, -1, dtype="int64"),
    )
    return ParsedFile(name="later", candles=candles, rows_read=n, line_numbers=np.arange(1, n + 1))


def rows_of(frame: pd.DataFrame) -> list:
    return [[t.isoformat(), o, h, lo, c, v] for t, o, h, lo, c, v in frame.itertuples(index=False)]


def test_later_candles_mature_the_log_and_live_metrics_match_a_hand_computation(
    settings,
    trained_artifacts,
    admin_client,
):
    settings.LIVE_MIN_FOR_INTERVAL = BARS
    run = make_trained_run(trained_artifacts)
    model_promote(run=run, force=True, reason="live test")
    tail = stored_candles_tail(exchange="BINANCE", symbol="BTCUSDT", interval="1h", bars=800)
    later = continuation(tail, BARS + HORIZON_PAD)
    series = pd.concat([tail, later], ignore_index=True)
    for i in range(BARS):  # the bot asks for each new bar before it is stored
        prediction_serve(run=run, candles=rows_of(series.iloc[: len(tail) + i + 1]))
    active = ActiveModel.objects.get()
    assert live_metrics(active=active) == {"matured": 0, "pending": BARS}
    dataset_import_candles(
        parsed=as_parsed(later), symbol="BTCUSDT", exchange="BINANCE", interval="1h", source="later", is_sample=True
    )
    logs = list(PredictionLog.objects.order_by("open_time"))
    assert len(logs) == BARS and all(log.label is not None for log in logs)

    # By hand: r = log(close[t+4]/close[t]); thr = 0.3 * std(24 one-bar log returns ending at t) * sqrt(4).
    close = series["close"].to_numpy()
    offset = len(tail)
    y, proba, returns = [], [], []
    for i, log in enumerate(logs):
        t = offset + i
        r = math.log(close[t + 4] / close[t])
        one_bar = np.diff(np.log(close[t - 24 : t + 1]))
        thr = 0.3 * one_bar.std(ddof=1) * 2.0
        y.append(2 if r > thr else 0 if r < -thr else 1)
        returns.append(r)
        proba.append([log.probabilities[c] for c in ("down", "flat", "up")])
    y, proba = np.array(y), np.clip(np.array(proba), 1e-7, 1.0)
    proba = proba / proba.sum(axis=1, keepdims=True)
    assert [log.label for log in logs] == y.tolist()
    assert [log.realized_return for log in logs] == pytest.approx(returns, rel=1e-12)
    live = live_metrics(active=active)
    assert live["matured"] == BARS and live["pending"] == 0
    assert live["log_loss"] == pytest.approx(float(np.mean(-np.log(proba[np.arange(BARS), y]))), rel=1e-12)
    hits = int((proba.argmax(axis=1) == y).sum())
    assert live["hit_rate"]["value"] == pytest.approx(hits / BARS)
    p, z = hits / BARS, 1.959963984540054
    centre = (p + z * z / 40) / (1 + z * z / 20)
    half = z * math.sqrt(p * (1 - p) / 20 + z * z / 1600) / (1 + z * z / 20)
    assert (live["hit_rate"]["ci95_low"], live["hit_rate"]["ci95_high"]) == pytest.approx(
        (centre - half, centre + half)
    )
    brier = float(((proba - np.eye(3)[y]) ** 2).sum(axis=1).mean())
    assert live["calibration"]["brier"] == pytest.approx(brier, rel=1e-9)
    confidence, hit = proba.max(axis=1), (proba.argmax(axis=1) == y)
    ece = sum(
        mask.sum() / BARS * abs(confidence[mask].mean() - hit[mask].mean())
        for lo, hi in zip(np.linspace(0, 0.8, 5), np.linspace(0.2, 1.0, 5), strict=True)
        if (mask := (confidence > lo) & (confidence <= hi)).any()
    )
    assert live["calibration"]["ece"] == pytest.approx(ece, rel=1e-9)
    assert set(live["baselines"]) == {"majority", "persistence"} and live["best_baseline"] in live["baselines"]
    vs = live["vs_best_baseline"]
    assert vs["rows"] == BARS and vs["ci95_low"] <= vs["difference"] <= vs["ci95_high"]
    assert vs["difference"] == pytest.approx(live["log_loss"] - live["baselines"][live["best_baseline"]])
    # The trading rule by hand: +1/0/-1 from P(up) - P(down) against the run's own theta; the position decided at
    # bar t earns log(close[t+1]/close[t]), less the run's cost per side on each change of position.
    trading = run.result["trading"]
    theta, cost = trading["theta"]["theta"], trading["settings"]["cost_bps"] / 1e4
    short = trading["settings"]["allow_short"]
    score = [log.probabilities["up"] - log.probabilities["down"] for log in logs]
    position = np.array([1.0 if s > theta else (-1.0 if short and s < -theta else 0.0) for s in score])
    assert [log.position for log in logs] == position.tolist()
    one_bar = np.log(close[offset + 1 : offset + BARS + 1] / close[offset : offset + BARS])
    net = position * one_bar - cost * np.abs(np.diff(np.concatenate([[0.0], position])))
    assert live["trading"]["available"] is True
    assert live["trading"]["return"] == pytest.approx(float(net.sum()), abs=1e-12)
    body = admin_client.get(reverse("api:model-detail", args=["BINANCE", "BTCUSDT", "1h"])).json()
    assert body["live"]["matured"] == BARS and body["live"]["log_loss"] == pytest.approx(live["log_loss"])
