"""Synthetic candles for the engine's property tests (the real sample is the ``btc_candles`` fixture)."""

import numpy as np
import pandas as pd


def synthetic_candles(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """A geometric random walk with regime-like drift changes, hourly, for fast property tests."""
    rng = np.random.default_rng(seed)
    drift = np.repeat(rng.normal(0, 0.002, n // 100 + 1), 100)[:n]
    vol = np.repeat(rng.uniform(0.003, 0.02, n // 150 + 1), 150)[:n]
    close = 100 * np.exp(np.cumsum(drift + vol * rng.standard_normal(n)))
    open_ = np.r_[close[0], close[:-1]]
    spread = np.abs(rng.normal(0, vol, n)) * close
    return pd.DataFrame(
        {
            "open_time": pd.date_range("2020-01-01", periods=n, freq="h", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.lognormal(3, 0.5, n),
        }
    )


def candles_from_close(close, spread: float = 0.0) -> pd.DataFrame:
    """Hourly candles built from a close path: open is the previous close, high/low are close ± ``spread``
    (relative), volume is constant."""
    close = np.asarray(close, dtype=float)
    n = len(close)
    return pd.DataFrame(
        {
            "open_time": pd.date_range("2021-01-01", periods=n, freq="h", tz="UTC"),
            "open": np.r_[close[0], close[:-1]],
            "high": close * (1 + spread),
            "low": close * (1 - spread),
            "close": close,
            "volume": np.ones(n),
        }
    )
