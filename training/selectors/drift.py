"""Drift of what the active model is served: per feature, the PSI of the last N served bars of each regime
against the training rows of that regime (the run's own training range, its engine's features and regimes),
on the regime's top-5 features; and the regime mix served vs trained."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import numpy as np
import pandas as pd
from django.conf import settings

from training.ml.drift import psi, regime_mix, top_features
from training.ml.features import compute_features
from training.ml.regimes import classify_regimes
from training.models import ActiveModel, PredictionLog, TrainingRun
from training.services.live import candles_between


@lru_cache(maxsize=16)
def training_features(run_id: int, first: str, last: str) -> pd.DataFrame:
    """The run's training rows: every feature column and ``regime``."""
    run = TrainingRun.objects.get(pk=run_id)
    frame = candles_between(run.dataset_id, datetime.fromisoformat(first), datetime.fromisoformat(last))
    features = compute_features(frame)
    features["regime"] = classify_regimes(frame).to_numpy()
    return features.dropna()


def regime_top_features(run: TrainingRun, regime: str, n: int = 5) -> list[str]:
    section = ((run.result or {}).get("ensembles") or {}).get(regime) or {}
    models = [(m or {}).get("feature_importance") for m in (section.get("models") or {}).values()]
    return top_features(models, n) or list(section.get("feature_names") or [])[:n]


def drift_report(*, active: ActiveModel, bars: int | None = None) -> dict:
    """``{"bars", "regimes": {regime: {"bars", "features": {name: psi}}}, "max_psi", "max_feature",
    "regime_mix"}``; a regime with fewer than ``MONITOR_DRIFT_MIN_BARS`` served bars is left out (an undrifted
    sample's PSI over 10 bins averages 1.03 at 20 bars, 0.23 at 50, 0.10 at 100: small samples read as drift)."""
    run = active.run
    bars = int(bars or getattr(settings, "MONITOR_DRIFT_BARS", 168))
    minimum = int(getattr(settings, "MONITOR_DRIFT_MIN_BARS", 100))
    served = list(
        PredictionLog.objects.filter(
            exchange=active.exchange, symbol=active.symbol, interval=active.interval, run=run
        ).order_by("-open_time")[:bars]
    )
    data = (run.result or {}).get("data") or {}
    if not served or not data.get("first_open_time"):
        return {"bars": len(served), "regimes": {}, "max_psi": None, "max_feature": None, "regime_mix": {}}
    reference = training_features(run.pk, data["first_open_time"], data["last_open_time"])
    out: dict = {"bars": len(served), "regimes": {}, "max_psi": None, "max_feature": None}
    for regime in sorted({log.regime for log in served}):
        logs = [log for log in served if log.regime == regime]
        rows = reference[reference["regime"] == regime]
        if len(logs) < minimum or rows.empty:
            continue
        values = {}
        for name in regime_top_features(run, regime):
            if name in rows:
                current = np.array([log.features.get(name, np.nan) for log in logs], dtype=float)
                value = psi(rows[name].to_numpy(), current)
                if np.isfinite(value):  # stored as JSON (PostgreSQL refuses NaN)
                    values[name] = value
        out["regimes"][regime] = {"bars": len(logs), "features": values}
        for name, value in values.items():
            if out["max_psi"] is None or value > out["max_psi"]:
                out["max_psi"], out["max_feature"] = value, f"{regime}:{name}"
    out["regime_mix"] = regime_mix([log.regime for log in served], reference["regime"].astype(str).tolist())
    return out
