"""Synthetic hourly candles with a known answer: a planted tradable effect, or none (a martingale).

Volume is i.i.d. log-normal; its standardized log ``z_t`` is visible to the engine (the ``volume_z_96`` feature).
Each bar's log return is ``σ (edge · mean(z_{t−1}, …, z_{t−4}) + ε_t)``: with ``edge > 0`` a high volume
announces a rise over the next 4 bars (the label horizon), with ``edge = 0`` the close is a martingale. ``σ_t``
switches between a calm and a wild level every few hundred bars, so the regime rule sees volatile stretches and
trends as well as ranges.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HORIZON = 4


def synthetic_candles(n: int = 2000, *, edge: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    sigma = np.full(n, 0.006)
    lagged = np.zeros(n)
    for k in range(1, HORIZON + 1):
        lagged[k:] += z[:-k] / HORIZON
    r = sigma * (edge * lagged + rng.standard_normal(n))
    close = 20000.0 * np.exp(np.cumsum(r))
    open_ = np.concatenate([[close[0]], close[:-1]])
    spread = sigma * np.abs(rng.standard_normal(n)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    return pd.DataFrame(
        {
            "open_time": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": np.exp(3.0 + z),
        }
    )
