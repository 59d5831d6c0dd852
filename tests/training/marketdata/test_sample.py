import numpy as np

from training.marketdata.sample import read_sample, resample_candles


def test_the_4h_market_is_the_samples_complete_4_hour_buckets_as_pandas_resamples_them():
    hourly = read_sample()
    four, _ = resample_candles(hourly, "4h")
    frame = hourly.to_frame().set_index("open_time")
    expected = frame.resample("4h").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum", "quote_volume": "sum"}
    )
    expected = expected[frame["close"].resample("4h").count() == 4]  # a bucket missing an hour becomes a hole
    assert len(four) == len(expected) == 4_395
    np.testing.assert_array_equal(four.open_time, expected.index.astype("int64") // 10**6)
    for column in ("open", "high", "low", "close", "volume", "quote_volume"):
        np.testing.assert_allclose(getattr(four, column), expected[column].to_numpy(), rtol=1e-12)
