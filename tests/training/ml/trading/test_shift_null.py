"""The circular-shift null: a planted edge is found, noise gives p-values spread uniformly."""

import numpy as np
from scipy import stats

from training.ml.trading.shift_null import MIN_SHIFTS, shift_null_p


def test_a_planted_edge_has_a_small_p_value():
    rng = np.random.default_rng(1)
    n = 2000
    position = np.repeat(rng.choice([-1.0, 0.0, 1.0], size=n // 4), 4)
    r = 0.01 * rng.standard_normal(n) + 0.002 * position  # the position knows the sign of the drift
    p, shifts = shift_null_p(position, r, cost_bps=0.0, min_shift=4)
    assert shifts >= MIN_SHIFTS
    assert p < 0.01


def test_noise_gives_uniform_p_values():
    """Coverage over repetitions: positions unrelated to the returns give p < 0.05 about 5 % of the time and a
    p-value distribution a Kolmogorov–Smirnov test cannot tell from uniform."""
    rng = np.random.default_rng(7)
    values = []
    for _ in range(200):
        position = np.repeat(rng.choice([-1.0, 0.0, 1.0], size=60), 4)
        r = 0.01 * rng.standard_normal(240)
        values.append(shift_null_p(position, r, cost_bps=0.0, min_shift=4)[0])
    values = np.asarray(values)
    assert 0.01 <= np.mean(values < 0.05) <= 0.10
    assert stats.kstest(values, "uniform").pvalue > 0.01


def test_too_short_a_window_has_no_null():
    assert shift_null_p(np.ones(6), np.zeros(6), cost_bps=0.0, min_shift=4) == (None, 0)
