"""Maturing logged predictions: when new candles arrive (import, fetch, scheduled fetch) each logged prediction
whose label horizon has passed gets its realized label (the run's own label rule), its realized log return and
the label of bar t−H (the persistence baseline's input). Bars across a gap in the candles wait (no label is
made up from rows that are not H bars apart)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
from django.utils import timezone

from training.marketdata.times import interval_ms
from training.ml.labels import DEFAULT_HORIZON, DEFAULT_K, DEFAULT_VOL_WINDOW, make_labels
from training.models import Candle, MarketDataset, PredictionLog


def label_rule(run) -> dict:
    labels = (run.result or {}).get("labels") or {}
    return {
        "horizon": int(labels.get("horizon") or DEFAULT_HORIZON),
        "k": float(labels.get("k") or DEFAULT_K),
        "vol_window": int(labels.get("vol_window") or DEFAULT_VOL_WINDOW),
    }


def candles_between(dataset_id: int, first, last) -> pd.DataFrame:
    rows = list(
        Candle.objects.filter(dataset_id=dataset_id, open_time__range=(first, last))
        .order_by("open_time")
        .values_list("open_time", "open", "high", "low", "close", "volume")
    )
    frame = pd.DataFrame(rows, columns=["open_time", "open", "high", "low", "close", "volume"])
    frame["open_time"] = pd.to_datetime(frame["open_time"], utc=True)
    return frame


def matured_columns(frame: pd.DataFrame, rule: dict, step: pd.Timedelta) -> pd.DataFrame:
    """Per bar: ``label``, ``realized_return`` and ``persisted_label``, NaN where the rows H apart are not H
    bars apart in time (a gap) or the horizon has not passed."""
    h = rule["horizon"]
    labels = make_labels(frame, **rule)
    times, close = frame["open_time"], frame["close"].astype(float)
    ahead_ok = (times.shift(-h) - times) == h * step
    behind_ok = (times - times.shift(h)) == h * step
    return pd.DataFrame(
        {
            "label": labels.where(ahead_ok),
            "realized_return": np.log(close.shift(-h) / close).where(ahead_ok),
            "persisted_label": labels.shift(h).where(behind_ok),
        }
    ).set_index(times)


def predictions_mature(*, exchange: str, symbol: str, interval: str) -> int:
    """Join realized labels and returns to the market's pending logged predictions; the number matured."""
    market = {"exchange": exchange, "symbol": symbol, "interval": interval}
    pending = list(PredictionLog.objects.filter(**market, label__isnull=True).select_related("run"))
    dataset = MarketDataset.objects.filter(**market).first()
    if not pending or dataset is None:
        return 0
    step = pd.Timedelta(milliseconds=interval_ms(interval))
    by_run = defaultdict(list)
    for log in pending:
        by_run[log.run_id].append(log)
    now, done = timezone.now(), []
    for logs in by_run.values():
        rule = label_rule(logs[0].run)
        before = (rule["vol_window"] + 2 * rule["horizon"] + 2) * step
        first = min(log.open_time for log in logs) - before
        last = max(log.open_time for log in logs) + (rule["horizon"] + 1) * step
        frame = candles_between(dataset.pk, first, last)
        if frame.empty:
            continue
        columns = matured_columns(frame, rule, step)
        for log in logs:
            key = pd.Timestamp(log.open_time)
            if key not in columns.index or np.isnan(columns.at[key, "label"]):
                continue
            persisted = columns.at[key, "persisted_label"]
            log.label = int(columns.at[key, "label"])
            log.realized_return = float(columns.at[key, "realized_return"])
            log.persisted_label = None if np.isnan(persisted) else int(persisted)
            log.matured_at = now
            done.append(log)
    PredictionLog.objects.bulk_update(done, ["label", "realized_return", "persisted_label", "matured_at"])
    return len(done)
