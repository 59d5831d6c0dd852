"""The circular-shift null of a strategy: the same positions, shifted in time against the returns.

Shifting the position series circularly by ``k`` bars keeps everything the rule did (how often it trades, how
long it holds, how much it is exposed) but breaks any link between a position and the return that follows it.
Shifts run over every ``k`` in ``[min_shift, n − min_shift]`` (``min_shift`` = the label horizon, at least 1), so
no shifted position lines up with the return window it was decided for; there are at least ``MIN_SHIFTS``
(1,000) of them on a window of a few thousand bars, and all of them are used. The p-value is
``(1 + #{null Sharpe ≥ observed}) / (1 + shifts)``; costs are charged on the shifted positions' own changes.
"""

from __future__ import annotations

import numpy as np

from .rule import turnover

MIN_SHIFTS = 1000
CHUNK = 256


def shifted_sharpes(position, next_return, *, cost_bps: float, min_shift: int) -> np.ndarray:
    """Per-bar Sharpe ratio of the positions shifted by each allowed ``k``."""
    position = np.asarray(position, dtype=float)
    r = np.asarray(next_return, dtype=float)
    n = position.size
    lo = max(int(min_shift), 1)
    shifts = np.arange(lo, n - lo + 1)
    if shifts.size == 0:
        return np.zeros(0)
    base = np.arange(n)
    out = np.empty(shifts.size)
    cost = cost_bps * 1e-4
    for start in range(0, shifts.size, CHUNK):
        ks = shifts[start : start + CHUNK]
        shifted = position[(base[None, :] - ks[:, None]) % n]
        changes = np.abs(np.diff(np.concatenate([np.zeros((len(ks), 1)), shifted], axis=1), axis=1))
        net = shifted * r[None, :] - cost * changes
        std = net.std(axis=1, ddof=1)
        out[start : start + len(ks)] = np.divide(net.mean(axis=1), std, out=np.zeros(len(ks)), where=std > 0)
    return out


def shift_null_p(position, next_return, *, cost_bps: float, min_shift: int) -> tuple[float | None, int]:
    """(p-value, number of shifts) of the observed per-bar Sharpe ratio against its circular-shift null."""
    position = np.asarray(position, dtype=float)
    r = np.asarray(next_return, dtype=float)
    null = shifted_sharpes(position, r, cost_bps=cost_bps, min_shift=min_shift)
    if null.size == 0:
        return None, 0
    net = position * r - cost_bps * 1e-4 * turnover(position)
    std = net.std(ddof=1)
    observed = net.mean() / std if std > 0 else 0.0
    return float((1 + np.sum(null >= observed - 1e-12)) / (1 + null.size)), int(null.size)
