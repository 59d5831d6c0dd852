"""Features from candles, each computed from the bar itself and earlier bars only.

Indicators come from the ``ta`` library (0.11.0) where it has them; returns, realized volatility, the volume
z-score and moving-average distances are one-line pandas rolling windows. Every column is a ratio or an
oscillator, so the scale does not depend on the price level. Warm-up rows (any NaN) are dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import DataError

REQUIRED_COLUMNS = ("open_time", "open", "high", "low", "close", "volume")
RETURN_HORIZONS = (1, 4, 12, 24, 72)
VOL_WINDOWS = (24, 168)
MA_WINDOWS = (24, 96, 240)
VOLUME_WINDOW = 96
MSG_MISSING_COLUMNS = "Candles are missing columns: {missing}."
MSG_NOT_SORTED = "Candles must be sorted by open_time with unique times."
MSG_NON_POSITIVE = "Candles contain non-positive prices."
MSG_CONSTANT = (
    "Feature column(s) {columns} are constant over the whole data set; check the candles (e.g. volume all zero)."
)
MSG_TOO_FEW = "Only {rows} candle rows; at least {minimum} are needed for the indicator warm-up."
MIN_CANDLES = 300


def check_candles(candles: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in candles.columns]
    if missing:
        raise DataError(MSG_MISSING_COLUMNS.format(missing=", ".join(missing)))
    times = candles["open_time"]
    if not (times.is_monotonic_increasing and times.is_unique):
        raise DataError(MSG_NOT_SORTED)
    if len(candles) < MIN_CANDLES:
        raise DataError(MSG_TOO_FEW.format(rows=len(candles), minimum=MIN_CANDLES))
    if (candles[["open", "high", "low", "close"]] <= 0).any().any():
        raise DataError(MSG_NON_POSITIVE)


def log_returns(close: pd.Series) -> pd.Series:
    return np.log(close).diff()


def realized_volatility(close: pd.Series, window: int) -> pd.Series:
    """Standard deviation of 1-bar log returns over the ``window`` bars ending at each bar."""
    return log_returns(close).rolling(window, min_periods=window).std()


def compute_features(candles: pd.DataFrame) -> pd.DataFrame:
    """All feature columns, indexed like ``candles``, warm-up rows still present (NaN)."""
    from ta.momentum import RSIIndicator, StochasticOscillator
    from ta.trend import MACD
    from ta.volatility import BollingerBands

    from .indicators import FastADXIndicator, FastAverageTrueRange

    check_candles(candles)
    high, low, close = (candles[c].astype(float) for c in ("high", "low", "close"))
    volume = candles["volume"].astype(float)
    out = pd.DataFrame(index=candles.index)
    lr = log_returns(close)
    for h in RETURN_HORIZONS:
        out[f"ret_{h}"] = np.log(close / close.shift(h))
    for w in VOL_WINDOWS:
        out[f"rvol_{w}"] = lr.rolling(w, min_periods=w).std()
    out["rsi_14"] = (RSIIndicator(close, window=14).rsi() - 50.0) / 50.0
    out["macd_hist_rel"] = MACD(close).macd_diff() / close
    out["atr_rel_14"] = FastAverageTrueRange(high, low, close, window=14).average_true_range() / close
    adx = FastADXIndicator(high, low, close, window=14)
    out["adx_14"] = adx.adx() / 100.0
    out["di_diff_14"] = (adx.adx_pos() - adx.adx_neg()) / 100.0
    out["bb_pctb_20"] = BollingerBands(close, window=20, window_dev=2).bollinger_pband()
    out["stoch_k_14"] = StochasticOscillator(high, low, close, window=14, smooth_window=3).stoch() / 100.0
    log_volume = np.log1p(volume)
    mean = log_volume.rolling(VOLUME_WINDOW, min_periods=VOLUME_WINDOW).mean()
    std = log_volume.rolling(VOLUME_WINDOW, min_periods=VOLUME_WINDOW).std()
    out["volume_z_96"] = (log_volume - mean) / std.replace(0.0, np.nan)
    for w in MA_WINDOWS:
        out[f"dist_sma_{w}"] = close / close.rolling(w, min_periods=w).mean() - 1.0
    # ATR in ta 0.11 writes 0 instead of NaN during its warm-up; ADX likewise. Mask those bars.
    warm = max(28, max(MA_WINDOWS))
    out.iloc[:warm] = np.nan
    return out.replace([np.inf, -np.inf], np.nan)


def finish_features(full: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Drop the warm-up (NaN) rows of ``compute_features`` output and reject constant columns."""
    constant = [c for c in full.columns if full[c].nunique(dropna=True) <= 1]
    if constant:
        raise DataError(MSG_CONSTANT.format(columns=", ".join(constant)))
    frame = full.dropna()
    if frame.empty:
        raise DataError(MSG_TOO_FEW.format(rows=len(full), minimum=MIN_CANDLES))
    return frame, list(frame.columns)


def feature_descriptions() -> dict[str, str]:
    d = {f"ret_{h}": f"log return over the last {h} bars" for h in RETURN_HORIZONS}
    d.update({f"rvol_{w}": f"std of 1-bar log returns over {w} bars" for w in VOL_WINDOWS})
    d.update(
        {
            "rsi_14": "(RSI(14) - 50) / 50 (ta)",
            "macd_hist_rel": "MACD(12,26,9) histogram / close (ta)",
            "atr_rel_14": "ATR(14) / close (ta)",
            "adx_14": "ADX(14) / 100 (ta)",
            "di_diff_14": "(+DI - -DI) / 100 (ta)",
            "bb_pctb_20": "Bollinger %B (20, 2) (ta)",
            "stoch_k_14": "stochastic %K(14, 3) / 100 (ta)",
            "volume_z_96": f"z-score of log(1+volume) over {VOLUME_WINDOW} bars",
        }
    )
    d.update({f"dist_sma_{w}": f"close / SMA({w}) - 1" for w in MA_WINDOWS})
    return d
