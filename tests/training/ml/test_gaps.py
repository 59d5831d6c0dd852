import numpy as np
import pandas as pd

from training.ml.features import compute_features
from training.ml.gaps import MSG_SKIPPED, bars_since_segment_start, find_gaps, per_segment, segment_bounds, segment_ids

from .conftest import synthetic_candles


def with_holes(candles: pd.DataFrame, holes: list[tuple[int, int]]) -> pd.DataFrame:
    keep = np.ones(len(candles), dtype=bool)
    for start, stop in holes:
        keep[start:stop] = False
    return candles[keep].reset_index(drop=True)


def test_a_series_without_holes_is_one_segment():
    candles = synthetic_candles(500)
    assert segment_bounds(candles["open_time"]) == [(0, 500)]
    assert find_gaps(candles["open_time"]) == {
        "calendar": "24/7",
        "closures": 0,
        "count": 0,
        "missing_bars": 0,
        "largest": None,
        "where": [],
        "step": "0 days 01:00:00",
    }


def test_holes_are_counted_located_and_cut_into_segments():
    candles = with_holes(synthetic_candles(1000), [(300, 372), (700, 705)])
    gaps = find_gaps(candles["open_time"])
    assert (gaps["count"], gaps["missing_bars"]) == (2, 77)
    assert gaps["largest"]["missing"] == 72
    assert gaps["largest"]["after"] == "2020-01-13T11:00:00+00:00"
    assert gaps["largest"]["before"] == "2020-01-16T12:00:00+00:00"
    bounds = segment_bounds(candles["open_time"])
    assert bounds == [(0, 300), (300, 628), (628, 923)]
    assert segment_ids(923, bounds)[[0, 299, 300, 627, 628, 922]].tolist() == [0, 0, 1, 1, 2, 2]
    assert bars_since_segment_start(923, bounds)[[0, 299, 300, 628, 700]].tolist() == [0, 299, 0, 0, 72]


def test_features_per_segment_never_reach_across_a_hole():
    candles = with_holes(synthetic_candles(2000), [(900, 972)])
    bounds = segment_bounds(candles["open_time"])
    features, notes = per_segment(candles, bounds, compute_features, min_rows=300)
    assert notes == []
    second = candles.iloc[900:].reset_index(drop=True)
    alone = compute_features(second)
    np.testing.assert_allclose(features.iloc[900:].to_numpy(), alone.to_numpy(), equal_nan=True)
    assert features["ret_4"].iloc[900:904].isna().all()


def test_a_segment_too_short_is_skipped_and_named():
    candles = with_holes(synthetic_candles(1500), [(1300, 1372)])
    features, notes = per_segment(candles, segment_bounds(candles["open_time"]), compute_features, min_rows=300)
    assert features.iloc[1300:].isna().all().all()
    times = candles["open_time"]
    assert notes == [
        MSG_SKIPPED.format(start=times.iloc[1300].isoformat(), end=times.iloc[-1].isoformat(), rows=128, minimum=300)
    ]
