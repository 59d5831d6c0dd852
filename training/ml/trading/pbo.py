"""The probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV; Bailey, Borwein,
López de Prado & Zhu, "The Probability of Backtest Overfitting", Journal of Computational Finance 20(4), 2017;
working paper 2015).

Input: a ``T × N`` matrix of per-bar returns of ``N`` configurations on the same ``T`` bars. The rows are cut into
``S`` (even) consecutive blocks; every combination ``C`` of ``S/2`` blocks is an in-sample set, the other blocks
its out-of-sample set (``binom(S, S/2)`` splits; 12,870 for S = 16). For each split the configuration with the best
in-sample Sharpe ratio ``n*`` is ranked out of sample: ``ω = rank / (N + 1)`` (rank 1 = worst, ties averaged),
``λ = ln(ω / (1 − ω))``. PBO = the share of splits with ``λ ≤ 0`` (the in-sample best is at or below the
out-of-sample median). The performance degradation: the pairs (in-sample Sharpe of ``n*``, its out-of-sample
Sharpe), their means and the least-squares slope of out-of-sample on in-sample.

Block sums of ``r`` and ``r²`` make each split's Sharpe ratios a matrix product, not a pass over the rows.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

DEFAULT_BLOCKS = 16
MSG_BLOCKS = "S must be an even number of blocks of at least 2; got {s!r}."
MSG_CONFIGS = "PBO needs at least 2 configurations on the same bars; got {n}."
MSG_ROWS = "{rows} bars cannot be cut into {s} blocks of at least 2 bars."


def _sharpe(sums, squares, counts):
    mean = sums / counts
    var = np.maximum(squares / counts - mean**2, 0.0) * counts / np.maximum(counts - 1, 1)
    std = np.sqrt(var)
    return np.divide(mean, std, out=np.zeros_like(mean), where=std > 0)


def cscv(returns, *, blocks: int = DEFAULT_BLOCKS) -> dict:
    """PBO, the logits and the degradation of a ``T × N`` return matrix (see the module docstring)."""
    m = np.asarray(returns, dtype=float)
    if m.ndim != 2 or m.shape[1] < 2:
        raise ValueError(MSG_CONFIGS.format(n=m.shape[1] if m.ndim == 2 else 0))
    if blocks < 2 or blocks % 2:
        raise ValueError(MSG_BLOCKS.format(s=blocks))
    t, n = m.shape
    if t < 2 * blocks:
        raise ValueError(MSG_ROWS.format(rows=t, s=blocks))
    parts = np.array_split(np.arange(t), blocks)
    sums = np.stack([m[p].sum(axis=0) for p in parts])
    squares = np.stack([(m[p] ** 2).sum(axis=0) for p in parts])
    counts = np.array([len(p) for p in parts], dtype=float)
    chosen = np.array(
        [[1.0 if b in c else 0.0 for b in range(blocks)] for c in combinations(range(blocks), blocks // 2)]
    )
    rest = 1.0 - chosen
    is_sharpe = _sharpe(chosen @ sums, chosen @ squares, (chosen @ counts)[:, None])
    oos_sharpe = _sharpe(rest @ sums, rest @ squares, (rest @ counts)[:, None])
    best = is_sharpe.argmax(axis=1)
    rows = np.arange(len(best))
    chosen_oos = oos_sharpe[rows, best][:, None]
    ranks = (oos_sharpe < chosen_oos).sum(axis=1) + ((oos_sharpe == chosen_oos).sum(axis=1) + 1) / 2
    omega = ranks / (n + 1)
    logits = np.log(omega / (1 - omega))
    x, y = is_sharpe[rows, best], oos_sharpe[rows, best]
    slope = float(np.polyfit(x, y, 1)[0]) if np.ptp(x) > 0 else None
    return {
        "pbo": float(np.mean(logits <= 0)),
        "logits": logits,
        "splits": int(len(best)),
        "blocks": int(blocks),
        "configurations": int(n),
        "bars": int(t),
        "in_sample_sharpe": x,
        "out_of_sample_sharpe": y,
        "degradation_slope": slope,
        "mean_in_sample_sharpe": float(x.mean()),
        "mean_out_of_sample_sharpe": float(y.mean()),
        "prob_out_of_sample_loss": float(np.mean(y < 0)),
    }
