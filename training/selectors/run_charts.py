"""Data for the charts the browser draws (training/static/training/js/run_charts.js) from the typed result."""

from __future__ import annotations

from training.ml.backends import get_backend
from training.ml.results import RunResult

TOP_FEATURES = 12
REGIME_COLORS = {"bull_trend": "#1b7f3b", "bear_trend": "#c0392b", "sideways_range": "#5d6778", "volatile": "#b35c00"}


def _importance(values: dict[str, float]) -> dict:
    magnitudes = {name: abs(float(v)) for name, v in values.items()}
    total = sum(magnitudes.values()) or 1.0
    top = sorted(magnitudes.items(), key=lambda item: item[1], reverse=True)[:TOP_FEATURES]
    return {"features": [n for n, _ in top], "shares": [round(v / total, 4) for _, v in top]}


def history_unit(key: str) -> str:
    """What one step of a model's history is, as its backend declares (``Backend.history_unit``)."""
    try:
        return get_backend(key).history_unit
    except KeyError:
        return "step"


def chart_data(result: RunResult) -> dict:
    """Per trained regime: each model's learning curves (data loss per step) grouped by what a step is (boosting
    round, epoch: one chart and axis each), its top feature importances as shares of the total; the price with
    each bar's regime for the regimes chart."""
    regimes = {}
    for regime, section in result.ensembles.items():
        if not section.trained:
            continue
        curves: dict[str, dict] = {}
        for key, m in section.models.items():
            if m.history.get("train_loss") or m.history.get("val_loss"):
                curves.setdefault(history_unit(key), {})[key] = {
                    "train": m.history.get("train_loss") or [],
                    "validation": m.history.get("val_loss") or [],
                }
        importance = {
            key: _importance(m.feature_importance) for key, m in section.models.items() if m.feature_importance
        }
        regimes[regime] = {"curves": curves, "importance": importance}
    series = result.regime_series or {}
    return {
        "regimes": regimes,
        "series": {
            "time": [str(t)[:16].replace("T", " ") for t in series.get("time") or []],
            "close": series.get("close") or [],
            "regime": series.get("regime") or [],
        },
        "colors": REGIME_COLORS,
    }
