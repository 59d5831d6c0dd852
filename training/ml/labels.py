"""Three-class labels from the forward return.

For bar t: ``r = log(close[t+H] / close[t])`` and the threshold ``k * sigma_t * sqrt(H)`` where ``sigma_t`` is
the standard deviation of 1-bar log returns over the ``vol_window`` bars ending at t (past only).
``r > threshold`` → up (2), ``r < -threshold`` → down (0), otherwise flat (1). The last H bars have no full
horizon and get no label (NaN); so do bars still in the volatility warm-up.
The label of bar t becomes known at the close of bar t+H.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .features import realized_volatility

DOWN, FLAT, UP = 0, 1, 2
CLASS_NAMES = ("down", "flat", "up")
DEFAULT_HORIZON = 4
DEFAULT_K = 0.3
DEFAULT_VOL_WINDOW = 24


def make_labels(
    candles: pd.DataFrame, *, horizon: int = DEFAULT_HORIZON, k: float = DEFAULT_K, vol_window: int = DEFAULT_VOL_WINDOW
) -> pd.Series:
    """Float series (0/1/2 or NaN) indexed like ``candles``."""
    close = candles["close"].astype(float)
    forward = np.log(close.shift(-horizon) / close)
    threshold = k * realized_volatility(close, vol_window) * np.sqrt(horizon)
    labels = pd.Series(
        np.where(forward > threshold, UP, np.where(forward < -threshold, DOWN, FLAT)), index=candles.index, dtype=float
    )
    labels[forward.isna() | threshold.isna()] = np.nan
    return labels


def label_definition(
    *, horizon: int = DEFAULT_HORIZON, k: float = DEFAULT_K, vol_window: int = DEFAULT_VOL_WINDOW
) -> dict:
    return {
        "classes": {"0": "down", "1": "flat", "2": "up"},
        "horizon": horizon,
        "k": k,
        "vol_window": vol_window,
        "rule": (
            f"r = log(close[t+{horizon}]/close[t]); thr = {k} * std(1-bar log returns over the {vol_window} "
            f"bars ending at t) * sqrt({horizon}); up if r > thr, down if r < -thr, else flat. "
            f"The last {horizon} bars are unlabeled."
        ),
    }


def distribution(labels: pd.Series) -> dict[str, int]:
    counts = labels.dropna().astype(int).value_counts()
    return {name: int(counts.get(i, 0)) for i, name in enumerate(CLASS_NAMES)}
