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


def _correlate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``out[k] = Σ_t a[(t − k) mod n] · b[t]`` for every k, through the FFT."""
    return np.fft.irfft(np.conj(np.fft.rfft(a)) * np.fft.rfft(b), n=a.size)


def shifted_sharpes(position, next_return, *, cost_bps: float, min_shift: int) -> np.ndarray:
    """Per-bar Sharpe ratio of the positions shifted by each allowed ``k``.

    The shifted position is ``s_k[t] = p[(t − k) mod n]``; its turnover is the circular turnover ``d`` of ``p``
    shifted by ``k``, except on bar 0, which starts flat: ``|s_k[0]|`` instead of ``d[(−k) mod n]``. So every
    shift's sum and sum of squares of ``s_k·r − c·turnover`` are circular cross-correlations (one FFT each, O(n log
    n) for all shifts instead of O(n²)) plus that one-bar correction."""
    position = np.asarray(position, dtype=float)
    r = np.asarray(next_return, dtype=float)
    n = position.size
    lo = max(int(min_shift), 1)
    shifts = np.arange(lo, n - lo + 1)
    if shifts.size == 0:
        return np.zeros(0)
    cost = cost_bps * 1e-4
    d = np.abs(position - np.roll(position, 1))  # circular turnover
    start = (-shifts) % n  # where each shifted series starts in p
    first, d_first = position[start], d[start]  # s_k[0] and the circular turnover it would have had
    extra = np.abs(first) - d_first  # bar 0's turnover (it starts flat) minus the circular one
    held = _correlate(position, r)[shifts]  # Σ s_k r
    total = held - cost * (d.sum() + extra)
    squares = (
        _correlate(position * position, r * r)[shifts]
        - 2 * cost * (_correlate(position * d, r)[shifts] + first * r[0] * extra)
        + cost * cost * (np.sum(d * d) + 2 * d_first * extra + extra * extra)
    )
    var = (squares - total * total / n) / (n - 1)
    var[var <= 1e-12 * np.maximum(squares / n, 1e-300)] = 0.0  # rounding of a constant series' zero variance
    std = np.sqrt(var)
    return np.divide(total / n, std, out=np.zeros(shifts.size), where=std > 0)


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
