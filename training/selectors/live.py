"""Live performance of a market's active model since its promotion (``training.ml.live`` computes; this module
reads the matured prediction log and rebuilds the training's baselines from the run's own training rows)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import numpy as np
from django.conf import settings

from training.ml.live import live_record
from training.ml.metrics import class_frequencies
from training.ml.regimes import classify_regimes
from training.models import ActiveModel, MarketDataset, PredictionLog, TrainingRun
from training.services.live import candles_between, label_rule, matured_columns


@lru_cache(maxsize=32)
def training_baselines(run_id: int, first: str, last: str) -> dict:
    """Per regime of the run's training rows: ``majority`` (Laplace class frequencies) and ``persistence``
    (P(y | label of bar t−H), Laplace), exactly as ``metrics.majority_predict`` / ``persistence_predict``
    estimate them; ``"*"`` holds the same over every training row (for a regime it did not see)."""
    import pandas as pd

    from training.marketdata.times import interval_ms

    run = TrainingRun.objects.get(pk=run_id)
    frame = candles_between(run.dataset_id, datetime.fromisoformat(first), datetime.fromisoformat(last))
    step = pd.Timedelta(milliseconds=interval_ms(run.interval))
    columns = matured_columns(frame, label_rule(run), step).reset_index(drop=True)
    columns["regime"] = classify_regimes(frame).to_numpy()
    labeled = columns.dropna(subset=["label"])
    out = {}
    for regime, rows in [("*", labeled), *labeled.groupby("regime")]:
        y = rows["label"].to_numpy(dtype=int)
        fallback = int(np.argmax(np.bincount(y, minlength=3)))
        prev = rows["persisted_label"].fillna(fallback).to_numpy(dtype=int)
        table = np.ones((3, 3))
        np.add.at(table, (prev, y), 1.0)
        out[str(regime)] = {
            "majority": class_frequencies(y),
            "persistence": table / table.sum(axis=1, keepdims=True),
            "fallback": fallback,
        }
    return out


def cost_per_turn(run: TrainingRun) -> float:
    """The run's own trading cost per side (its snapshot's ``cost_bps``), else ``LIVE_COST_PER_TURN``."""
    cost_bps = (((run.result or {}).get("trading") or {}).get("settings") or {}).get("cost_bps")
    return float(cost_bps) / 1e4 if cost_bps is not None else float(getattr(settings, "LIVE_COST_PER_TURN", 0.001))


def next_bar_returns(run: TrainingRun, logs: list) -> list[float]:
    """Per logged bar t: log(close[t+1] / close[t]), what the trading rule's position decided at t's close earns
    (as in training's evaluation, ``training.ml.trading.rule``); NaN where the next bar is not stored."""
    import pandas as pd

    from training.marketdata.times import interval_ms

    step = pd.Timedelta(milliseconds=interval_ms(run.interval))
    dataset = MarketDataset.objects.filter(exchange=run.exchange, symbol=run.symbol, interval=run.interval).first()
    if dataset is None or not logs:
        return [float("nan")] * len(logs)
    frame = candles_between(dataset.pk, logs[0].open_time, logs[-1].open_time + step.to_pytimedelta())
    close = pd.Series(frame["close"].astype(float).to_numpy(), index=frame["open_time"])
    out = []
    for log in logs:
        t = pd.Timestamp(log.open_time)
        t = t.tz_localize("UTC") if t.tzinfo is None else t
        a, b = close.get(t), close.get(t + step)
        out.append(float(np.log(b / a)) if a is not None and b is not None else float("nan"))
    return out


def live_metrics(*, active: ActiveModel, last: int | None = None) -> dict:
    """The ``live`` block of a market's active model: its matured predictions served since promotion (the
    ``last`` ones only, for the monitor)."""
    run = active.run
    matured = PredictionLog.objects.filter(
        exchange=active.exchange,
        symbol=active.symbol,
        interval=active.interval,
        run=run,
        served_at__gte=active.promoted_at,
        label__isnull=False,
    )
    logs = list(matured.order_by("-open_time")[:last] if last else matured.order_by("-open_time"))[::-1]
    pending = PredictionLog.objects.filter(
        exchange=active.exchange, symbol=active.symbol, interval=active.interval, run=run, label__isnull=True
    ).count()
    data = (run.result or {}).get("data") or {}
    if not logs or not data.get("first_open_time"):
        return {"matured": len(logs), "pending": pending}
    baselines = training_baselines(run.pk, data["first_open_time"], data["last_open_time"])
    majority, persistence = [], []
    for log in logs:
        regime = baselines.get(log.regime) or baselines["*"]
        majority.append(regime["majority"])
        prev = regime["fallback"] if log.persisted_label is None else log.persisted_label
        persistence.append(regime["persistence"][prev])
    record = live_record(
        [log.label for log in logs],
        [[log.probabilities[c] for c in ("down", "flat", "up")] for log in logs],
        {"majority": np.array(majority), "persistence": np.array(persistence)},
        horizon=label_rule(run)["horizon"],
        seed=run.seed,
        min_for_interval=int(getattr(settings, "LIVE_MIN_FOR_INTERVAL", 48)),
        positions=[log.position for log in logs],
        returns=next_bar_returns(run, logs),
        cost_per_turn=cost_per_turn(run),
    )
    return {**record, "pending": pending, "since": active.promoted_at.isoformat()}
