"""The fast ADX/ATR give ``ta``'s own numbers, bit for bit (``ta``'s classes are the oracle)."""

import numpy as np
import pandas as pd
import pytest
from ta.trend import ADXIndicator
from ta.volatility import AverageTrueRange

from training.ml.indicators import FastADXIndicator, FastAverageTrueRange

from .conftest import synthetic_candles


def _flat_stretch(candles: pd.DataFrame) -> pd.DataFrame:
    """Bars 300-339 identical (true range 0, no directional movement): ta's division guards take their other
    branch."""
    flat = candles.copy()
    flat.loc[300:339, ["open", "high", "low", "close"]] = float(flat.loc[300, "close"])
    return flat


CASES = {
    "offline sample": lambda btc: btc,
    "offline sample, a later slice (index not from 0)": lambda btc: btc.iloc[5000:7000],
    "synthetic": lambda btc: synthetic_candles(900, seed=5),
    "synthetic with a flat stretch": lambda btc: _flat_stretch(synthetic_candles(900, seed=6)),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("window", [14, 5])
def test_same_numbers_as_ta(btc_candles, case, window):
    candles = CASES[case](btc_candles)
    high, low, close = (candles[c].astype(float) for c in ("high", "low", "close"))
    ours, theirs = FastADXIndicator(high, low, close, window=window), ADXIndicator(high, low, close, window=window)
    for name in ("adx", "adx_pos", "adx_neg"):
        got, expected = getattr(ours, name)(), getattr(theirs, name)()
        assert got.index.equals(expected.index)
        np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy(), err_msg=name)  # NaN equals NaN
    got = FastAverageTrueRange(high, low, close, window=window).average_true_range()
    expected = AverageTrueRange(high, low, close, window=window).average_true_range()
    assert got.index.equals(expected.index)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    assert np.count_nonzero(got.to_numpy()) > len(candles) // 2  # a real series, not two arrays of zeros


def test_window_zero_is_refused_like_ta():
    candles = synthetic_candles(400, seed=1)
    high, low, close = (candles[c].astype(float) for c in ("high", "low", "close"))
    with pytest.raises(ValueError, match="window may not be 0"):
        FastADXIndicator(high, low, close, window=0)
