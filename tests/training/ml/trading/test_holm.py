"""Holm's adjustment and the bootstrap p-value it adjusts."""

import numpy as np
import pytest

from training.ml.bootstrap import moving_block_bootstrap
from training.ml.trading.holm import NO_SKILL, adjusted_verdict, holm_adjust


def test_holm_step_down_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 → ×4, ×3, ×2, ×1 = 0.02, 0.03, 0.06, 0.04 → running max 0.02, 0.03, 0.06, 0.06
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_adjust([0.5]) == [0.5] and holm_adjust([]) == []


def test_adjusted_verdicts():
    assert adjusted_verdict(-0.01, 0.01, "better") == "better"
    assert adjusted_verdict(-0.01, 0.2, "better") == "no evidence"
    assert adjusted_verdict(0.01, 0.01, "worse") == "worse"
    assert adjusted_verdict(-0.01, 0.001, NO_SKILL) == NO_SKILL


def test_the_bootstrap_p_value_agrees_with_its_interval():
    rng = np.random.default_rng(0)
    for shift in (0.0, 0.02, 0.05, 0.2):
        a, b = rng.standard_normal(500) - shift, rng.standard_normal(500)
        record = moving_block_bootstrap(a, b, block=24, seed=1)
        excludes_zero = record["ci95_high"] < 0 or record["ci95_low"] > 0
        assert (record["p_value"] < 0.05) == excludes_zero
