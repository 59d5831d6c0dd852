import numpy as np

from training.ml.regimes import PERCENTILE_WINDOW, REGIMES, RULE, classify_regimes, regime_distribution

from .conftest import candles_from_close


def test_every_bar_after_warm_up_has_a_known_regime(btc_candles):
    regimes = classify_regimes(btc_candles.iloc[-3000:].reset_index(drop=True))
    assert regimes.iloc[: PERCENTILE_WINDOW - 1].isna().all()
    assert set(regimes.dropna().unique()) <= set(REGIMES)
    assert regimes.iloc[PERCENTILE_WINDOW + 30 :].notna().all()
    dist = regime_distribution(regimes)
    assert set(dist) == set(REGIMES) and sum(dist.values()) == regimes.notna().sum()
    assert all(v > 0 for v in dist.values())
    assert "ADX" in RULE and "percentile" in RULE


def test_steady_trends_and_a_volatility_burst():
    rng = np.random.default_rng(0)
    n = 2000
    steps = np.r_[np.full(1400, 0.002), np.full(600, -0.002)] + rng.normal(0, 0.0005, n)
    steps[1800:1830] += rng.normal(0, 0.03, 30)
    close = 100 * np.exp(np.cumsum(steps))
    regimes = classify_regimes(candles_from_close(close, spread=0.001))
    assert (regimes.iloc[1000:1400] == "bull_trend").mean() > 0.8
    assert (regimes.iloc[1500:1790] == "bear_trend").mean() > 0.8
    assert (regimes.iloc[1805:1830] == "volatile").mean() > 0.8


def test_flat_noise_is_mostly_sideways():
    rng = np.random.default_rng(1)
    close = 100 * np.exp(rng.normal(0, 0.003, 2000))
    regimes = classify_regimes(candles_from_close(close, spread=0.0005)).dropna()
    assert (regimes == "sideways_range").mean() > 0.5
