import numpy as np
import pandas as pd

from training.ml.labels import (
    DEFAULT_K,
    DEFAULT_VOL_WINDOW,
    DOWN,
    FLAT,
    UP,
    distribution,
    label_definition,
    make_labels,
)

from .conftest import candles_from_close, synthetic_candles


def test_hand_computed_labels():
    # alternating ±1% steps give a known volatility; then a +10% jump, a flat step and a -10% drop
    closes = [100.0]
    for i in range(6):
        closes.append(closes[-1] * (1.01 if i % 2 == 0 else 1 / 1.01))
    closes += [closes[-1] * 1.10, closes[-1] * 1.10, closes[-1]]
    candles = candles_from_close(np.array(closes))
    labels = make_labels(candles, horizon=1, k=0.5, vol_window=4)
    r = np.log(np.array(closes[1:]) / np.array(closes[:-1]))
    sigma = pd.Series(np.r_[np.nan, r]).rolling(4).std().to_numpy()
    for t in range(4, len(closes) - 1):
        thr = 0.5 * sigma[t]
        expected = UP if r[t] > thr else DOWN if r[t] < -thr else FLAT
        assert labels[t] == expected, t
    assert labels[6] == UP and labels[7] == FLAT and labels[8] == DOWN
    assert labels.iloc[:4].isna().all()  # volatility warm-up
    assert np.isnan(labels.iloc[-1])  # no full horizon


def test_last_horizon_bars_unlabeled_and_three_classes():
    candles = synthetic_candles(1000)
    labels = make_labels(candles, horizon=6)
    assert labels.iloc[-6:].isna().all()
    assert labels.iloc[30:-6].notna().all()
    assert set(labels.dropna().unique()) == {0.0, 1.0, 2.0}
    dist = distribution(labels)
    assert sum(dist.values()) == labels.notna().sum()
    definition = label_definition(horizon=6)
    # the definition describes exactly these labels: class codes, the defaults make_labels used, the horizon
    assert definition["classes"] == {str(DOWN): "down", str(FLAT): "flat", str(UP): "up"}
    assert set(definition["classes"].values()) == set(dist)
    assert (definition["k"], definition["vol_window"]) == (DEFAULT_K, DEFAULT_VOL_WINDOW)
    assert "close[t+6]" in definition["rule"] and "The last 6 bars are unlabeled." in definition["rule"]


def test_larger_threshold_gives_more_flat_labels():
    candles = synthetic_candles(1000)
    assert distribution(make_labels(candles, k=1.0))["flat"] > distribution(make_labels(candles, k=0.2))["flat"]
