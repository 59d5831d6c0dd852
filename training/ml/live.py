"""Live performance of a served model on its matured predictions (plain Python, no Django).

Inputs are the logged predictions whose label horizon has passed, in bar order: the realized class ``y``, the
model's probabilities, the baselines' probabilities for the same bars (the same baselines as training: the
training class frequencies of the bar's regime, and P(y | the label of bar t−H) estimated on the training rows),
and, where the trading rule logged one, the position and the realized log return.

- ``log_loss``: mean per-bar cross-entropy (``metrics.row_log_loss``'s clipping), the model's and each baseline's;
  against the best baseline (the lower live log loss) the per-bar difference gets the training's moving-block
  bootstrap interval and verdict once there are ``min_for_interval`` matured bars.
- ``hit_rate``: share of bars whose most probable class was the realized one, with a Wilson 95 % interval.
- ``calibration``: expected calibration error of the top class over ``CALIBRATION_BINS`` equal-width bins
  (Σ n_b/n · |mean confidence − hit rate|) and the multi-class Brier score.
- ``trading``: after-cost return and Sharpe of the logged positions, "not available" without positions.
"""

from __future__ import annotations

import math

import numpy as np

from .bootstrap import baseline_comparison
from .metrics import row_log_loss

CALIBRATION_BINS = 5
WILSON_Z = 1.959963984540054
MSG_NO_POSITIONS = "not available: no trading rule position was logged with these predictions"
MSG_NO_NEXT_BAR = "not available: a logged bar's next bar is not stored (its one-bar return is unknown)"


def wilson_interval(hits: int, n: int, z: float = WILSON_Z) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (centre - half, centre + half)


def calibration(y: np.ndarray, proba: np.ndarray, bins: int = CALIBRATION_BINS) -> dict:
    confidence = proba.max(axis=1)
    hit = (proba.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    ece, table = 0.0, []
    for b in range(bins):
        mask = index == b
        if not mask.any():
            continue
        gap = abs(float(confidence[mask].mean()) - float(hit[mask].mean()))
        ece += mask.sum() / len(y) * gap
        table.append(
            {
                "bin": [float(edges[b]), float(edges[b + 1])],
                "n": int(mask.sum()),
                "confidence": float(confidence[mask].mean()),
                "hit_rate": float(hit[mask].mean()),
            }
        )
    onehot = np.eye(proba.shape[1])[y]
    return {"ece": float(ece), "brier": float(((proba - onehot) ** 2).sum(axis=1).mean()), "bins": table}


def trading_record(positions, returns, *, cost_per_turn: float, periods_per_year: float) -> dict:
    positions = np.asarray([np.nan if p is None else p for p in positions], dtype=float)
    if positions.size == 0 or np.isnan(positions).any():
        return {"available": False, "note": MSG_NO_POSITIONS}
    returns = np.asarray(returns, dtype=float)
    if np.isnan(returns).any():
        return {"available": False, "note": MSG_NO_NEXT_BAR}
    turnover = np.abs(np.diff(np.concatenate([[0.0], positions])))
    net = positions * returns - cost_per_turn * turnover
    std = float(net.std(ddof=1)) if net.size > 1 else 0.0
    sharpe = float(net.mean() / std * math.sqrt(periods_per_year)) if std > 0 else None
    equity = np.cumsum(net)
    drawdown = float((np.maximum.accumulate(np.concatenate([[0.0], equity]))[1:] - equity).max())
    return {"available": True, "return": float(net.sum()), "sharpe": sharpe, "max_drawdown": drawdown}


def live_record(
    y,
    proba,
    baselines: dict[str, np.ndarray],
    *,
    horizon: int,
    seed: int,
    min_for_interval: int,
    positions=(),
    returns=(),
    cost_per_turn: float = 0.0,
    periods_per_year: float = 24 * 365,
) -> dict:
    """The ``live`` block: ``matured`` and, once there is one, every metric above."""
    y = np.asarray(y, dtype=int)
    n = int(y.size)
    if n == 0:
        return {"matured": 0}
    proba = np.asarray(proba, dtype=float)
    model_loss = row_log_loss(y, proba)
    baseline_loss = {name: row_log_loss(y, np.asarray(p, dtype=float)) for name, p in baselines.items()}
    best = min(baseline_loss, key=lambda name: (baseline_loss[name].mean(), name)) if baseline_loss else None
    hits = int((proba.argmax(axis=1) == y).sum())
    low, high = wilson_interval(hits, n)
    record = {
        "matured": n,
        "log_loss": float(model_loss.mean()),
        "baselines": {name: float(loss.mean()) for name, loss in baseline_loss.items()},
        "best_baseline": best,
        "vs_best_baseline": None,
        "hit_rate": {"value": hits / n, "ci95_low": low, "ci95_high": high},
        "calibration": calibration(y, proba),
        "trading": trading_record(
            list(positions) or [None] * n, returns, cost_per_turn=cost_per_turn, periods_per_year=periods_per_year
        ),
    }
    if best is not None and n >= min_for_interval:
        record["vs_best_baseline"] = baseline_comparison(
            model_loss, baseline_loss[best], baseline=best, horizon=horizon, seed=seed
        )
    return record
