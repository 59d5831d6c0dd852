"""The Probabilistic and the Deflated Sharpe Ratio, on per-bar (not annualized) Sharpe ratios.

PSR (Bailey & López de Prado, "The Sharpe Ratio Efficient Frontier", Journal of Risk 15(2), 2012, eq. for
PSR[SR*]): the probability that the true Sharpe ratio exceeds ``SR*`` given the estimate ``SR`` from ``T``
returns with skewness ``γ3`` and kurtosis ``γ4`` (3 for normal returns)::

    PSR = Φ( (SR − SR*) √(T − 1) / √(1 − γ3·SR + (γ4 − 1)/4 · SR²) )

DSR (Bailey & López de Prado, "The Deflated Sharpe Ratio", Journal of Portfolio Management 40(5), 2014): the PSR
against the Sharpe ratio the best of ``N`` independent trials would reach by luck, given the variance of the
trials' Sharpe ratios ``V``::

    SR0 = √V · ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e)))     (γ: Euler–Mascheroni constant)
    DSR = PSR[SR0]

With one trial there is no selection: ``SR0 = 0`` and DSR = PSR against 0.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

EULER_GAMMA = 0.5772156649015329
MSG_TRIALS = "The number of trials must be at least 1; got {n!r}."


def moments(r) -> tuple[float, float]:
    """(skewness, kurtosis) of the returns; kurtosis is not excess (3 for normal returns)."""
    r = np.asarray(r, dtype=float)
    if r.size < 3 or r.std() == 0:
        return 0.0, 3.0
    return float(stats.skew(r)), float(stats.kurtosis(r, fisher=False))


def probabilistic_sharpe_ratio(sr: float, n_obs: int, *, skew: float, kurtosis: float, benchmark: float = 0.0):
    """PSR[benchmark] of a per-bar Sharpe ratio ``sr`` measured on ``n_obs`` returns."""
    if n_obs < 2:
        return None
    denominator = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr * sr
    if denominator <= 0:
        return None
    return float(stats.norm.cdf((sr - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(denominator)))


def expected_max_sharpe(n_trials: int, variance: float) -> float:
    """SR0: the expected maximum per-bar Sharpe ratio of ``n_trials`` unskilled trials with that variance."""
    if n_trials < 1:
        raise ValueError(MSG_TRIALS.format(n=n_trials))
    if n_trials == 1 or variance <= 0:
        return 0.0
    z = (1 - EULER_GAMMA) * stats.norm.ppf(1 - 1 / n_trials) + EULER_GAMMA * stats.norm.ppf(1 - 1 / (n_trials * math.e))
    return float(math.sqrt(variance) * z)


def deflated_sharpe_ratio(
    sr: float, n_obs: int, *, skew: float, kurtosis: float, n_trials: int, variance: float
) -> tuple[float | None, float]:
    """(DSR, SR0) of a per-bar Sharpe ratio selected among ``n_trials`` with per-bar Sharpe variance ``variance``."""
    sr0 = expected_max_sharpe(n_trials, variance)
    return probabilistic_sharpe_ratio(sr, n_obs, skew=skew, kurtosis=kurtosis, benchmark=sr0), sr0
