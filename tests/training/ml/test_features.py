import numpy as np
import pandas as pd
import pytest

from training.ml.errors import DataError
from training.ml.features import MSG_CONSTANT, compute_features, finish_features
from training.ml.labels import make_labels
from training.ml.regimes import classify_regimes

from .conftest import synthetic_candles

H = 4
EXPECTED = {
    "ret_1",
    "ret_4",
    "ret_24",
    "rvol_24",
    "rsi_14",
    "macd_hist_rel",
    "atr_rel_14",
    "adx_14",
    "bb_pctb_20",
    "stoch_k_14",
    "volume_z_96",
    "dist_sma_24",
    "dist_sma_240",
}


def test_feature_list_and_warm_up_dropped():
    candles = synthetic_candles(1200)
    frame, names = finish_features(compute_features(candles))
    assert EXPECTED <= set(names)
    assert list(frame.columns) == names
    assert not frame.isna().any().any()
    assert frame.index[0] >= 239  # the 240-bar moving average needs 240 bars
    assert len(frame) == len(candles) - frame.index[0]


def test_indicator_values_are_the_ta_library_values():
    from ta.momentum import RSIIndicator

    candles = synthetic_candles(800)
    frame, _ = finish_features(compute_features(candles))
    rsi = RSIIndicator(candles["close"], window=14).rsi()
    np.testing.assert_allclose(frame["rsi_14"], (rsi.loc[frame.index] - 50) / 50)
    np.testing.assert_allclose(frame["ret_4"], np.log(candles["close"] / candles["close"].shift(4)).loc[frame.index])


def test_constant_volume_is_a_clear_data_error():
    candles = synthetic_candles(800)
    candles["volume"] = 5.0
    with pytest.raises(DataError) as exc:
        finish_features(compute_features(candles))
    assert str(exc.value) == MSG_CONSTANT.format(columns="volume_z_96")


def test_unsorted_candles_are_rejected():
    candles = synthetic_candles(800).iloc[::-1]
    with pytest.raises(DataError):
        finish_features(compute_features(candles))


def _perturb_after(candles: pd.DataFrame, t: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    changed = candles.copy()
    k = len(changed) - t - 1
    factor = np.exp(np.cumsum(rng.normal(0, 0.05, k)))
    for col in ("open", "high", "low", "close"):
        changed.loc[t + 1 :, col] = changed.loc[t + 1 :, col].to_numpy() * factor
    changed.loc[t + 1 :, "high"] = changed.loc[t + 1 :, ["open", "high", "low", "close"]].max(axis=1) * 1.01
    changed.loc[t + 1 :, "volume"] = rng.lognormal(6, 1, k)
    return changed


@pytest.mark.parametrize("t", [900, 1100, 1400])
def test_look_ahead_canary_synthetic(t):
    candles = synthetic_candles(1500, seed=3)
    changed = _perturb_after(candles, t, seed=t)
    _assert_no_look_ahead(candles, changed, t)


def test_look_ahead_canary_real_candles(btc_candles):
    candles = btc_candles.iloc[-2500:].reset_index(drop=True)
    t = 2000
    _assert_no_look_ahead(candles, _perturb_after(candles, t, seed=1), t)


def _assert_no_look_ahead(candles, changed, t):
    upto = slice(0, t - H + 1)  # bars at or before t - H
    after = slice(t + 1, None)
    f0, f1 = compute_features(candles), compute_features(changed)
    pd.testing.assert_frame_equal(f0.iloc[upto], f1.iloc[upto])
    assert not f0.iloc[after].equals(f1.iloc[after])  # the perturbation is real
    l0, l1 = make_labels(candles, horizon=H), make_labels(changed, horizon=H)
    pd.testing.assert_series_equal(l0.iloc[upto], l1.iloc[upto])
    assert not l0.iloc[t - H + 1 : t + 1].equals(l1.iloc[t - H + 1 : t + 1])  # later labels do see bar t+1..
    r0, r1 = classify_regimes(candles), classify_regimes(changed)
    pd.testing.assert_series_equal(r0.iloc[upto], r1.iloc[upto])
