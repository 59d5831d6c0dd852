"""The circular-shift null: a planted edge is found, noise gives p-values spread uniformly."""

import numpy as np
import pytest
from scipy import stats

from training.ml.trading.rule import net_returns
from training.ml.trading.shift_null import MIN_SHIFTS, shift_null_p, shifted_sharpes
from training.ml.trading.stats import per_bar_sharpe


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


def _direct_shifted_sharpes(position, r, *, cost_bps, min_shift):
    """The definition, one shift at a time: roll the positions, charge their own turnover, take the Sharpe."""
    n = len(position)
    out = []
    for k in range(max(min_shift, 1), n - max(min_shift, 1) + 1):
        out.append(per_bar_sharpe(net_returns(np.roll(position, k), r, cost_bps)))
    return np.asarray(out)


@pytest.mark.parametrize(
    ("n", "cost_bps", "min_shift", "hold"),
    [(240, 0.0, 4, 4), (501, 10.0, 4, 4), (1000, 25.0, 1, 1), (997, 10.0, 7, 3)],
)
def test_the_fft_shifts_equal_the_shifts_one_at_a_time(n, cost_bps, min_shift, hold):
    rng = np.random.default_rng(n)
    position = np.repeat(rng.choice([-1.0, 0.0, 1.0], size=n // hold + 1), hold)[:n]
    position[:5] = 0.0  # flat at the start and, for one case, a long flat stretch
    if n == 1000:
        position[200:700] = 0.0
    r = 0.01 * rng.standard_normal(n)
    fast = shifted_sharpes(position, r, cost_bps=cost_bps, min_shift=min_shift)
    np.testing.assert_allclose(
        fast, _direct_shifted_sharpes(position, r, cost_bps=cost_bps, min_shift=min_shift), rtol=1e-9, atol=1e-12
    )


def test_a_flat_or_constant_series_has_sharpe_zero_on_every_shift():
    r = 0.01 * np.random.default_rng(3).standard_normal(50)
    assert not shifted_sharpes(np.zeros(50), r, cost_bps=10.0, min_shift=4).any()
    assert not shifted_sharpes(np.ones(50), np.full(50, 0.001), cost_bps=0.0, min_shift=4).any()
