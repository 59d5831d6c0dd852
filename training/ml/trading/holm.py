"""Holm's step-down adjustment of a run's verdicts (each model and ensemble against its regime's best baseline).

Each verdict's p-value is the bootstrap's own (``bootstrap.moving_block_bootstrap``'s ``p_value``: twice the
smaller share of resampled mean differences on either side of 0, so p < 0.05 exactly when the 95 % interval
excludes 0). Holm (1979): sort the ``m`` p-values ascending, ``p̃(i) = max_{j ≤ i} min(1, (m − j + 1) p(j))``; an
adjusted verdict is ``better`` / ``worse`` only when ``p̃ < ALPHA`` (by the sign of the difference), else
``no evidence``; a ``no skill`` verdict stays ``no skill``.
"""

from __future__ import annotations

import numpy as np

from ..bootstrap import BETTER, NO_EVIDENCE, WORSE

ALPHA = 0.05
NO_SKILL = "no skill"


def holm_adjust(p_values) -> list[float]:
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.maximum.accumulate(adjusted)
    out = np.empty(m)
    out[order] = adjusted
    return [float(v) for v in out]


def adjusted_verdict(difference: float, p_adjusted: float, raw_verdict: str) -> str:
    if raw_verdict == NO_SKILL:
        return NO_SKILL
    if p_adjusted < ALPHA:
        return BETTER if difference < 0 else WORSE
    return NO_EVIDENCE
