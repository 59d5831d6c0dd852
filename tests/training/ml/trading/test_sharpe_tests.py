"""PSR and DSR against the published worked example and the formula's own limits."""

import math

import numpy as np
import pytest
from scipy import stats

from training.ml.trading.sharpe_tests import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    moments,
    probabilistic_sharpe_ratio,
)


def test_dsr_reproduces_the_papers_numerical_example():
    """Bailey & López de Prado, "The Deflated Sharpe Ratio" (J. Portfolio Management 40(5), 2014), numerical
    example: N = 100 trials whose annualized Sharpe ratios have variance 1/2, T = 1,250 daily returns, the selected
    strategy's annualized Sharpe 2.5, skewness −3, kurtosis 10 → E[max SR] = 0.1132 (daily) and DSR = 0.9004."""
    daily_variance = 0.5 / 250
    sr = 2.5 / math.sqrt(250)
    assert expected_max_sharpe(100, daily_variance) == pytest.approx(0.1132, abs=5e-5)
    dsr, sr0 = deflated_sharpe_ratio(sr, 1250, skew=-3.0, kurtosis=10.0, n_trials=100, variance=daily_variance)
    assert dsr == pytest.approx(0.9004, abs=5e-5)
    # DSR is the PSR (Bailey & López de Prado 2012) against SR0
    assert probabilistic_sharpe_ratio(sr, 1250, skew=-3.0, kurtosis=10.0, benchmark=sr0) == pytest.approx(dsr)


def test_psr_with_normal_returns_is_the_normal_tail_of_the_sharpe_estimate():
    sr, n = 0.1, 401
    expected = stats.norm.cdf(sr * math.sqrt(n - 1) / math.sqrt(1 + sr * sr / 2))
    assert probabilistic_sharpe_ratio(sr, n, skew=0.0, kurtosis=3.0) == pytest.approx(expected)
    assert probabilistic_sharpe_ratio(0.0, n, skew=0.0, kurtosis=3.0) == pytest.approx(0.5)
    # fat tails and negative skew widen the estimate's error: the same Sharpe is less convincing
    assert probabilistic_sharpe_ratio(sr, n, skew=-2.0, kurtosis=12.0) < expected


def test_one_trial_is_no_selection():
    assert expected_max_sharpe(1, 0.3) == 0.0
    dsr, sr0 = deflated_sharpe_ratio(0.05, 500, skew=0.0, kurtosis=3.0, n_trials=1, variance=0.0)
    assert sr0 == 0.0 and dsr == probabilistic_sharpe_ratio(0.05, 500, skew=0.0, kurtosis=3.0)


def test_more_trials_deflate_more():
    values = [deflated_sharpe_ratio(0.08, 1000, skew=0, kurtosis=3, n_trials=n, variance=1e-3)[0] for n in (2, 10, 100)]
    assert values == sorted(values, reverse=True)


def test_moments_are_not_excess_kurtosis():
    r = np.random.default_rng(0).standard_normal(20000)
    skew, kurt = moments(r)
    assert abs(skew) < 0.1 and kurt == pytest.approx(3.0, abs=0.15)
