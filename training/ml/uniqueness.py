"""Sample weights from label uniqueness (López de Prado, *Advances in Financial Machine Learning*, ch. 4.4–4.5).

The label of the row at bar t is decided by the returns of bars t+1 … t+H, so rows less than H bars apart share
part of their outcome: 1,000 overlapping rows carry much less than 1,000 independent labels. For every bar the
*concurrency* ``c`` is the number of the given rows whose label span covers it; a row's *average uniqueness* is
the mean of ``1 / c`` over its own span (1 for a row that overlaps nothing, 1/H for one inside a dense run of
consecutive rows). The weights are the uniqueness rescaled to mean 1, so the loss keeps its scale and a row that
shares its outcome with others counts less.

Concurrency is counted over the rows passed in (the rows a model is fitted on), not the whole series: a regime's
rows are scattered, and only the rows in the same fit set compete for the same outcome.
"""

from __future__ import annotations

import numpy as np

MSG_ORDER = "positions must be strictly increasing bar indices."


def average_uniqueness(positions, horizon: int) -> np.ndarray:
    """Per row, the mean of 1/concurrency over the bars t+1 … t+H its label depends on."""
    positions = np.asarray(positions, dtype=np.int64)
    if positions.size == 0:
        return np.zeros(0)
    if np.any(np.diff(positions) <= 0) or positions[0] < 0:
        raise ValueError(MSG_ORDER)
    horizon = int(horizon)
    start = positions - positions[0] + 1
    length = int(start[-1]) + horizon + 1
    change = np.zeros(length + 1)
    np.add.at(change, start, 1.0)
    np.add.at(change, start + horizon, -1.0)
    concurrency = np.cumsum(change)[:length]
    inverse = np.divide(1.0, concurrency, out=np.zeros(length), where=concurrency > 0)
    prefix = np.concatenate([[0.0], np.cumsum(inverse)])
    return (prefix[start + horizon] - prefix[start]) / horizon


def uniqueness_weights(positions, horizon: int) -> np.ndarray:
    """Average uniqueness rescaled to mean 1 (all ones when the rows never overlap)."""
    uniqueness = average_uniqueness(positions, horizon)
    if uniqueness.size == 0:
        return uniqueness
    return uniqueness / uniqueness.mean()


def effective_rows(positions, horizon: int) -> float:
    """Sum of the average uniqueness: roughly how many non-overlapping labels the rows are worth."""
    return float(average_uniqueness(positions, horizon).sum())
