import numpy as np
import pandas as pd
import pytest

from training.ml.dataset import build_dataset
from training.ml.features import compute_features
from training.ml.gaps import segment_bounds, segment_ids
from training.ml.labels import make_labels
from training.ml.manager import TrainingManager
from training.ml.regularization import resolve_config

from .conftest import synthetic_candles

HOLE = (1500, 1572)  # 72 hourly bars missing: 3 days


def holed(candles: pd.DataFrame, start: int, stop: int) -> pd.DataFrame:
    return pd.concat([candles.iloc[:start], candles.iloc[stop:]]).reset_index(drop=True)


def test_no_feature_window_label_or_sequence_window_spans_the_hole():
    candles = holed(synthetic_candles(3200, seed=4), *HOLE)
    data = build_dataset(candles, horizon=4, lookback=12)
    ids = segment_ids(len(candles), segment_bounds(candles["open_time"]))
    positions = data.positions
    assert set(ids[positions]) == {0, 1}
    assert np.all(ids[positions - 11] == ids[positions])  # the sequence window
    assert np.all(ids[positions + 4] == ids[positions])  # the label's horizon
    after = candles.iloc[HOLE[0] :].reset_index(drop=True)
    alone = compute_features(after).to_numpy(dtype=np.float32)
    np.testing.assert_array_equal(data.matrix.values[HOLE[0] :], alone)
    labels = make_labels(after).to_numpy()
    rows = positions >= HOLE[0]
    np.testing.assert_array_equal(data.y[rows], labels[positions[rows] - HOLE[0]])
    before = make_labels(candles.iloc[: HOLE[0]]).to_numpy()
    assert np.isnan(data.labels_all[HOLE[0] - 4 : HOLE[0]]).all() and np.isnan(before[-4:]).all()


@pytest.mark.slow
def test_a_series_with_a_hole_trains_and_reports_the_gap(btc_candles, tmp_path):
    candles = holed(btc_candles.iloc[-6000:].reset_index(drop=True), 3000, 3072)
    config = resolve_config({"l1_alpha": 0.01, "l2_alpha": 0.001, "dropout_rate": 0.2})
    manager = TrainingManager(config, preset="tiny", artifacts_dir=tmp_path, preset_overrides={"max_rows": None})
    result = manager.run_full_training("BTCUSD", candles=candles)
    gaps = result["data"]["gaps"]
    assert (gaps["count"], gaps["missing_bars"], gaps["segments"]) == (1, 72, 2)
    assert gaps["largest"]["after"] == candles["open_time"].iloc[2999].isoformat()
    assert any(
        w.startswith("The candles have 1 gap(s), 72 bars missing")
        for w in result["regularization"]["report"]["warnings"]
    )
    trained = [s for s in result["ensembles"].values() if s["status"] == "trained"]
    assert trained
    test_positions = np.concatenate(
        [
            np.load(tmp_path / regime / "test_predictions.npz")["positions"]
            for regime in result["ensembles"]
            if result["ensembles"][regime]["status"] == "trained"
        ]
    )
    assert not np.any((test_positions < 3000) & (test_positions + 4 >= 3000))
