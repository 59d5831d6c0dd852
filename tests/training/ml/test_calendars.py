import numpy as np
import pandas as pd
import pytest

from training.ml.calendars import calendar_default, calendar_get, calendar_key, open_bar_ordinals
from training.ml.dataset import SeriesSegments, build_dataset
from training.ml.errors import DataError
from training.ml.gaps import find_gaps, segment_bounds, segment_ids
from training.ml.manager import TrainingManager
from training.ml.presets import get_preset
from training.ml.regularization import resolve_config
from training.ml.stretches import stretch_check, stretch_need

from .conftest import synthetic_candles

WEEKS = 17  # 120 open hourly bars a week: 2,040 bars
HOLE_WEEK, HOLE_BARS = 10, 3  # three bars missing on the Wednesday of week 10


def forex_like(weeks: int = WEEKS, *, hole_week: int | None = HOLE_WEEK, seed: int = 5) -> pd.DataFrame:
    """Hourly bars from Sunday 22:00 to Friday 21:00 UTC every week (weekends closed), a hole inside a session."""
    grid = pd.date_range("2021-01-03 22:00", periods=weeks * 168, freq="h", tz="UTC")
    minutes = grid.dayofweek * 1440 + grid.hour * 60
    times = grid[~((minutes >= 4 * 1440 + 22 * 60) & (minutes < 6 * 1440 + 22 * 60))]
    candles = synthetic_candles(len(times), seed=seed).assign(open_time=times)
    if hole_week is not None:
        wednesday = pd.Timestamp("2021-01-06 12:00", tz="UTC") + pd.Timedelta(weeks=hole_week)
        candles = candles[~candles["open_time"].between(wednesday, wednesday + pd.Timedelta(hours=HOLE_BARS - 1))]
    return candles.reset_index(drop=True)


def hole_row(candles: pd.DataFrame) -> int:
    return int(np.flatnonzero(candles["open_time"].diff() == pd.Timedelta(hours=HOLE_BARS + 1))[0])


def test_weekends_are_closures_and_a_hole_inside_a_session_still_cuts():
    candles = forex_like()
    bounds = segment_bounds(candles["open_time"], calendar="forex")
    assert bounds == [(0, hole_row(candles)), (hole_row(candles), len(candles))]
    gaps = find_gaps(candles["open_time"], calendar="forex")
    assert (gaps["count"], gaps["missing_bars"], gaps["closures"], gaps["calendar"]) == (
        1,
        HOLE_BARS,
        WEEKS - 1,
        "forex",
    )
    assert len(segment_bounds(candles["open_time"])) == WEEKS + 1  # 24/7: every weekend is a hole


def test_features_and_windows_run_across_each_closure_but_not_across_the_hole():
    candles = forex_like()
    segments = SeriesSegments(candles, "forex")
    full, _ = segments.features()
    mondays = np.flatnonzero(candles["open_time"].diff() > pd.Timedelta(hours=HOLE_BARS + 1))
    cut = hole_row(candles)
    warm = mondays[(mondays >= 240) & ((mondays < cut) | (mondays >= cut + 240))]
    assert len(warm) >= WEEKS - 6
    close = candles["close"].to_numpy()
    np.testing.assert_allclose(full["ret_1"].to_numpy()[warm], np.log(close[warm] / close[warm - 1]), rtol=1e-6)
    assert full.iloc[cut : cut + 240].isna().all().all()  # the hole restarts the warm-up
    data = build_dataset(candles, horizon=4, lookback=12, calendar="forex")
    ids = segment_ids(len(candles), segments.bounds)
    assert np.all(ids[data.positions - 11] == ids[data.positions])
    assert np.all(ids[data.positions + 4] == ids[data.positions])
    spans = data.positions[np.isin(data.positions - 11, warm - 1) | np.isin(data.positions, warm)]
    assert len(spans)  # sequence windows that reach back over a weekend are used
    with pytest.raises(DataError):
        build_dataset(candles, horizon=4, lookback=12)  # 24/7: 120-bar segments, nothing trains


@pytest.mark.slow
def test_a_forex_like_series_trains_over_its_calendar(tmp_path):
    candles = forex_like()
    config = resolve_config({"l1_alpha": 0.01, "l2_alpha": 0.001, "dropout_rate": 0.2})
    manager = TrainingManager(config, preset="tiny", artifacts_dir=tmp_path, preset_overrides={"max_rows": None})
    result = manager.run_full_training("EURUSD", exchange_name="OANDA", candles=candles, calendar="forex")
    gaps = result["data"]["gaps"]
    assert (gaps["count"], gaps["segments"], gaps["closures"]) == (1, 2, WEEKS - 1)
    assert [s for s in result["ensembles"].values() if s["status"] == "trained"]


def test_a_stretch_exactly_as_long_as_the_preset_needs_yields_its_rows():
    need = stretch_need("tiny", get_preset("tiny"))
    data = build_dataset(synthetic_candles(need.minimum), horizon=need.horizon, lookback=need.lookback)
    assert len(data.positions) == need.min_rows and data.positions[0] == need.warmup
    check = stretch_check(forex_like()["open_time"], need)
    assert (check.ok, check.longest, check.usable_rows) == (False, 120, 0)
    assert stretch_check(forex_like()["open_time"], need, calendar="forex").ok


def test_calendar_keys_defaults_and_exchange_sessions():
    assert calendar_default("BINANCE") == "24/7" and calendar_default("OANDA") == "forex"
    assert calendar_default("NYSE") == calendar_key("nyse") == "XNYS"
    with pytest.raises(ValueError, match="Unknown market calendar 'MOON'"):
        calendar_key("MOON")
    # NYSE hourly bars 14:30-20:30 UTC in January; 2021-01-18 is Martin Luther King Jr. Day (closed).
    days = pd.bdate_range("2021-01-14", "2021-01-20", tz="UTC").drop(pd.Timestamp("2021-01-18", tz="UTC"))
    times = pd.DatetimeIndex(
        [d + pd.Timedelta(hours=14, minutes=30) + pd.Timedelta(hours=h) for d in days for h in range(7)]
    )
    ordinals = open_bar_ordinals(times, pd.Timedelta(hours=1), calendar_get("XNYS"))
    np.testing.assert_array_equal(ordinals, np.arange(len(times)))
    assert find_gaps(pd.Series(times.delete(3)), calendar="XNYS")["missing_bars"] == 1
