"""Market regime of every bar, from the bar itself and earlier bars only.

Rule (in this order):
1. ``volatile`` when the 24-bar realized volatility is at or above the 80th percentile of its own values over the
   trailing 720 bars (30 days of hourly bars) and at least 1.25 times their median (so a calm, stationary market
   does not put a fixed fifth of its bars into ``volatile``);
2. otherwise ``bull_trend`` when ADX(14) >= 20 and the 48-bar SMA rose over the last 24 bars,
   ``bear_trend`` when ADX(14) >= 20 and it fell;
3. otherwise ``sideways_range``.
Bars in the warm-up (any input NaN) get no regime.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .features import realized_volatility

REGIMES = ("bull_trend", "bear_trend", "sideways_range", "volatile")
VOL_WINDOW = 24
PERCENTILE_WINDOW = 720
VOLATILE_PERCENTILE = 0.80
VOLATILE_MEDIAN_RATIO = 1.25
ADX_WINDOW = 14
ADX_TREND = 20.0
SMA_WINDOW = 48
SLOPE_BARS = 24

RULE = (
    f"volatile if the {VOL_WINDOW}-bar realized volatility is at or above the {VOLATILE_PERCENTILE:.0%} percentile "
    f"of its values over the trailing {PERCENTILE_WINDOW} bars and at least {VOLATILE_MEDIAN_RATIO:g} times their "
    f"median; otherwise bull_trend if ADX({ADX_WINDOW}) >= "
    f"{ADX_TREND:g} and SMA({SMA_WINDOW}) is higher than {SLOPE_BARS} bars ago, bear_trend if ADX >= {ADX_TREND:g} "
    f"and it is lower; otherwise sideways_range. Past data only (each value uses bars up to and including t)."
)


def classify_regimes(candles: pd.DataFrame) -> pd.Series:
    """Object series of regime names (None in the warm-up), indexed like ``candles``."""
    from .indicators import FastADXIndicator

    high, low, close = (candles[c].astype(float) for c in ("high", "low", "close"))
    vol = realized_volatility(close, VOL_WINDOW)
    pct = vol.rolling(PERCENTILE_WINDOW, min_periods=PERCENTILE_WINDOW).rank(pct=True)
    median = vol.rolling(PERCENTILE_WINDOW, min_periods=PERCENTILE_WINDOW).median()
    volatile = (pct >= VOLATILE_PERCENTILE) & (vol >= VOLATILE_MEDIAN_RATIO * median)
    adx = FastADXIndicator(high, low, close, window=ADX_WINDOW).adx()  # ta's ADX, bit-identical
    sma = close.rolling(SMA_WINDOW, min_periods=SMA_WINDOW).mean()
    slope = sma - sma.shift(SLOPE_BARS)
    trending = adx >= ADX_TREND
    regime = np.where(
        volatile,
        "volatile",
        np.where(
            trending & (slope > 0), "bull_trend", np.where(trending & (slope < 0), "bear_trend", "sideways_range")
        ),
    )
    out = pd.Series(regime, index=candles.index, dtype=object)
    warm = pct.isna() | slope.isna() | adx.isna()
    warm.iloc[: 2 * ADX_WINDOW] = True  # ta's ADX is 0, not NaN, during its warm-up
    out[warm] = None
    return out


def regime_distribution(regimes: pd.Series) -> dict[str, int]:
    counts = regimes.dropna().value_counts()
    return {name: int(counts.get(name, 0)) for name in REGIMES}
