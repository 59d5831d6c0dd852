"""Return statistics of a per-bar log-return series, and the Sharpe ratio's moving-block bootstrap interval.

Formulas (per-bar log returns ``r``, ``P`` bars per year): total return ``exp(Σr) − 1``; annualized return
``exp(mean(r)·P) − 1``; Sharpe ``mean(r) / std(r, ddof=1) · √P``; Sortino ``mean(r) / √mean(min(r, 0)²) · √P``
(downside deviation against 0, as empyrical computes it); maximum drawdown of the equity ``exp(cumsum r)``
(a negative fraction); turnover = Σ|Δposition| per year; exposure = share of bars with a position; hit rate =
share of positive bars among those with a position; trades = number of position changes to a non-zero position.
A zero standard deviation gives a Sharpe of 0 (a flat strategy earns nothing).

The interval: the per-bar Sharpe of each circular moving-block resample (``bootstrap.resampled_means`` of ``r`` and
of ``r²`` with the same seed draw the same blocks), annualized, 2.5 / 97.5 % percentiles.
"""

from __future__ import annotations

import re

import numpy as np

from ..bootstrap import DEFAULT_RESAMPLES, resampled_means
from .rule import turnover

HOURS_PER_YEAR = 24 * 365  # crypto trades every hour of the year
UNIT_HOURS = {"m": 1 / 60, "h": 1.0, "d": 24.0, "w": 24.0 * 7}
MSG_INTERVAL = "Cannot read the bar interval {interval!r} (expected e.g. 15m, 1h, 4h, 1d)."


def periods_per_year(interval: str) -> float:
    """Bars per year of a 24/7 market for an interval such as ``1h``."""
    match = re.fullmatch(r"(\d+)([mhdw])", str(interval).strip().lower())
    if not match:
        raise ValueError(MSG_INTERVAL.format(interval=interval))
    return HOURS_PER_YEAR / (int(match.group(1)) * UNIT_HOURS[match.group(2)])


def per_bar_sharpe(r) -> float:
    r = np.asarray(r, dtype=float)
    if r.size < 2:
        return 0.0
    std = r.std(ddof=1)
    return float(r.mean() / std) if std > 0 else 0.0


def sortino(r, periods: float) -> float:
    r = np.asarray(r, dtype=float)
    downside = np.sqrt(np.mean(np.minimum(r, 0.0) ** 2)) if r.size else 0.0
    return float(r.mean() / downside * np.sqrt(periods)) if downside > 0 else 0.0


def max_drawdown(r) -> float:
    equity = np.exp(np.cumsum(np.asarray(r, dtype=float)))
    peak = np.maximum.accumulate(np.concatenate([[1.0], equity]))[1:]
    return float((equity / peak - 1.0).min()) if equity.size else 0.0


def return_statistics(r, position, periods: float) -> dict:
    """The statistics of the module docstring (see there for each definition)."""
    r = np.asarray(r, dtype=float)
    position = np.asarray(position, dtype=float)
    held = position != 0
    changes = turnover(position)
    n = max(int(r.size), 1)
    return {
        "bars": int(r.size),
        "total_return": float(np.expm1(r.sum())),
        "annualized_return": float(np.expm1(r.mean() * periods)) if r.size else 0.0,
        "sharpe": per_bar_sharpe(r) * float(np.sqrt(periods)),
        "sortino": sortino(r, periods),
        "max_drawdown": max_drawdown(r),
        "turnover_per_year": float(changes.sum() / n * periods),
        "exposure": float(held.mean()) if r.size else 0.0,
        "hit_rate": float((r[held] > 0).mean()) if held.any() else None,
        "trades": int(((changes > 0) & held).sum()),
    }


def sharpe_interval(r, *, block: int, periods: float, seed: int, n_resamples: int = DEFAULT_RESAMPLES) -> tuple:
    """(low, high): the 95 % moving-block bootstrap interval of the annualized Sharpe ratio."""
    r = np.asarray(r, dtype=float)
    if r.size < 2:
        return 0.0, 0.0
    m1 = resampled_means(r, block=block, n_resamples=n_resamples, seed=seed)
    m2 = resampled_means(r * r, block=block, n_resamples=n_resamples, seed=seed)
    n = r.size
    var = np.maximum(m2 - m1**2, 0.0) * n / (n - 1)
    std = np.sqrt(var)
    sharpe = np.divide(m1, std, out=np.zeros_like(m1), where=std > 0) * np.sqrt(periods)
    low, high = np.percentile(sharpe, [2.5, 97.5])
    return float(low), float(high)


def paired_sharpe_difference(
    a, b, *, block: int, periods: float, seed: int, n_resamples: int = DEFAULT_RESAMPLES
) -> dict:
    """Annualized Sharpe of ``a`` minus that of ``b`` (per-bar returns on the same bars) with its 95 % interval:
    both series resampled with the same circular blocks (the same seed draws the same blocks)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    draws = [resampled_means(x, block=block, n_resamples=n_resamples, seed=seed) for x in (a, a * a, b, b * b)]
    n = a.size

    def sharpe(m1, m2):
        std = np.sqrt(np.maximum(m2 - m1**2, 0.0) * n / max(n - 1, 1))
        return np.divide(m1, std, out=np.zeros_like(m1), where=std > 0) * np.sqrt(periods)

    diff = sharpe(draws[0], draws[1]) - sharpe(draws[2], draws[3])
    low, high = np.percentile(diff, [2.5, 97.5])
    return {
        "difference": (per_bar_sharpe(a) - per_bar_sharpe(b)) * float(np.sqrt(periods)),
        "ci95_low": float(low),
        "ci95_high": float(high),
    }
