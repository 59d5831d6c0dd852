"""Moving-block bootstrap of a per-row loss difference, for an interval and a verdict.

Labels look H bars ahead, so neighbouring rows share most of their future and their losses are correlated; an
ordinary bootstrap that draws single rows would understate the uncertainty. The moving-block bootstrap draws whole
blocks of consecutive rows instead. Here the blocks are **circular** (Politis & Romano 1992): a block may wrap from
the last row to the first, so every row is equally likely to be drawn and the resampled mean is centred on the
observed mean. Each resample joins ``ceil(n / block)`` blocks with uniformly drawn start rows and keeps the first
``n`` rows. The 95 % interval is the 2.5 / 97.5 % percentile of the resampled mean differences.

Block sums are read from prefix sums, so a resample costs ``ceil(n / block)`` additions, not ``n``.
"""

from __future__ import annotations

import math

import numpy as np

MIN_BLOCK = 24
DEFAULT_RESAMPLES = 1000
BETTER = "better"
WORSE = "worse"
NO_EVIDENCE = "no evidence"
VERDICTS = (BETTER, WORSE, NO_EVIDENCE)

MSG_LENGTHS = "loss_a has {a} rows and loss_b {b}; the bootstrap needs the same rows."
MSG_EMPTY = "The bootstrap needs at least one row."
MSG_NOT_FINITE = "The losses hold {bad} non-finite values."
MSG_BLOCK = "The block length must be at least 1, got {block}."
MSG_RESAMPLES = "At least 1,000 resamples are required, got {n}."


def block_length(horizon: int) -> int:
    """Block of at least the label horizon and at least a day of hourly bars."""
    return max(int(horizon), MIN_BLOCK)


def verdict_of(ci95_low: float, ci95_high: float) -> str:
    """``better`` when the whole interval of loss_a − loss_b is below 0, ``worse`` when above, else no evidence."""
    if ci95_high < 0:
        return BETTER
    if ci95_low > 0:
        return WORSE
    return NO_EVIDENCE


def moving_block_bootstrap(loss_a, loss_b, *, block: int, n_resamples: int = DEFAULT_RESAMPLES, seed: int) -> dict:
    """Mean of ``loss_a − loss_b`` per row with its 95 % circular moving-block bootstrap interval and verdict.

    Rows must be in time order and paired (row i of both is the same bar). A block longer than the series is cut
    to the series' length.
    """
    a = np.asarray(loss_a, dtype=float).ravel()
    b = np.asarray(loss_b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(MSG_LENGTHS.format(a=a.size, b=b.size))
    if a.size == 0:
        raise ValueError(MSG_EMPTY)
    if block < 1:
        raise ValueError(MSG_BLOCK.format(block=block))
    if n_resamples < DEFAULT_RESAMPLES:
        raise ValueError(MSG_RESAMPLES.format(n=n_resamples))
    diff = a - b
    bad = int((~np.isfinite(diff)).sum())
    if bad:
        raise ValueError(MSG_NOT_FINITE.format(bad=bad))
    means = resampled_means(diff, block=block, n_resamples=n_resamples, seed=seed)
    low, high = np.percentile(means, [2.5, 97.5])
    return {
        "difference": float(diff.mean()),
        "ci95_low": float(low),
        "ci95_high": float(high),
        "verdict": verdict_of(float(low), float(high)),
        "p_value": bootstrap_p_value(means),
    }


def bootstrap_p_value(means: np.ndarray) -> float:
    """Two-sided p-value of "mean difference = 0": twice the smaller share of resampled means on either side of
    0 (at least 1 / resamples), so p < 0.05 when the 95 % percentile interval excludes 0."""
    below, above = float(np.mean(means <= 0)), float(np.mean(means >= 0))
    return float(min(1.0, max(2 * min(below, above), 1.0 / means.size)))


def resampled_means(values: np.ndarray, *, block: int, n_resamples: int, seed: int) -> np.ndarray:
    """``n_resamples`` means of circular moving-block resamples of ``values`` (same length as ``values``)."""
    n = values.size
    block = min(int(block), n)
    n_blocks = math.ceil(n / block)
    last = n - (n_blocks - 1) * block
    doubled = np.concatenate([values, values])
    prefix = np.concatenate([[0.0], np.cumsum(doubled)])
    starts = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n_blocks))
    full = prefix[starts[:, :-1] + block] - prefix[starts[:, :-1]]
    tail = prefix[starts[:, -1] + last] - prefix[starts[:, -1]]
    return (full.sum(axis=1) + tail) / n


def baseline_comparison(
    model_loss, baseline_loss, *, baseline: str, horizon: int, seed: int, n_resamples: int = DEFAULT_RESAMPLES
) -> dict:
    """The ``vs_baseline`` record: test log-loss difference model − baseline, its interval and verdict."""
    record = moving_block_bootstrap(
        model_loss, baseline_loss, block=block_length(horizon), n_resamples=n_resamples, seed=seed
    )
    rows = int(np.asarray(model_loss).size)
    return {
        "baseline": baseline,
        "metric": "log_loss",
        **record,
        "rows": rows,
        "block": min(block_length(horizon), rows),
    }
