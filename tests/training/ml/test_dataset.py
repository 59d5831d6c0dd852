import numpy as np
import pytest

from training.ml.dataset import FeatureMatrix, build_dataset


def test_windows_end_at_the_row_and_use_only_the_past():
    values = np.arange(40, dtype=np.float32).reshape(20, 2)
    matrix = FeatureMatrix(values, ["a", "b"])
    windows = matrix.windows(np.array([4, 10, 19]), ["b", "a"], 5)
    assert windows.shape == (3, 5, 2)
    np.testing.assert_array_equal(windows[1], values[6:11][:, [1, 0]])
    with pytest.raises(ValueError):
        matrix.windows(np.array([3]), ["a"], 5)


def test_dataset_rows_have_a_label_a_regime_and_a_full_window(btc_candles):
    data = build_dataset(btc_candles.iloc[-1500:].reset_index(drop=True), lookback=12)
    assert len(data.positions) == len(data.y) == len(data.regimes)
    assert np.all(np.diff(data.positions) > 0) and data.positions.min() >= 11
    assert not np.isnan(data.matrix.windows(data.positions, data.feature_names, 12)).any()
    assert set(np.unique(data.y)) <= {0, 1, 2}
