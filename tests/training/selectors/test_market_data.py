from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from tests.training.market_data_files import SAMPLE_ROWS, csv_text, lines, small_datasets_allowed  # noqa: F401 (fixture)
from training.marketdata.candles import FRAME_COLUMNS
from training.selectors.market_data import (
    DATASET_NOT_FOUND,
    NO_DATASETS,
    DatasetNotFound,
    dataset_candles_frame,
    dataset_get,
    datasets_available,
)
from training.services.market_data import dataset_import_file, dataset_load_sample

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_datasets_allowed")]
UTC = UTC


def test_frame_columns_dtypes_and_order():
    shuffled = "\n".join(lines()[i] for i in (5, 0, 3, 1, 2, 4)) + "\n"
    report = dataset_import_file(path_or_file=shuffled.encode(), name="s.csv", symbol="BTCUSDT", interval="1h")
    frame = dataset_candles_frame(report.dataset)
    assert list(frame.columns) == FRAME_COLUMNS and frame.shape == (6, 8)
    assert str(frame["open_time"].dtype) == "datetime64[ns, UTC]"
    assert all(frame[c].dtype == np.float64 for c in FRAME_COLUMNS[1:])
    assert frame["open_time"].is_monotonic_increasing and frame["open_time"].is_unique
    assert frame["open_time"].iloc[0] == pd.Timestamp("2024-01-01 00:00", tz="UTC")
    assert frame["close"].tolist()[:2] == [42475.23, 42613.56] and frame["trades"].iloc[0] == 47134
    part = dataset_candles_frame(
        report.dataset, start=datetime(2024, 1, 1, 2, tzinfo=UTC), end=datetime(2024, 1, 1, 3, tzinfo=UTC)
    )
    assert part["open_time"].dt.hour.tolist() == [2, 3]


def test_sample_frame_has_every_row_and_unknowns_are_nan():
    dataset_load_sample()
    dataset = dataset_get("BTCUSDT", "BINANCE", "1h")
    frame = dataset_candles_frame(dataset)
    assert len(frame) == SAMPLE_ROWS and frame["trades"].isna().all() and frame["quote_volume"].notna().all()


def test_unknown_dataset_names_the_existing_ones():
    with pytest.raises(DatasetNotFound) as caught:
        dataset_get("BTCUSDT")
    assert str(caught.value) == DATASET_NOT_FOUND.format(
        exchange="BINANCE", symbol="BTCUSDT", interval="1h", available=NO_DATASETS
    )
    dataset_import_file(path_or_file=csv_text().encode(), name="a.csv", symbol="ETHUSDT", interval="1h")
    dataset_load_sample()
    with pytest.raises(DatasetNotFound) as caught:
        dataset_get("SOLUSDT", "BINANCE", "1h")
    message = str(caught.value)
    assert message.startswith("No market data for BINANCE:SOLUSDT 1h. Datasets that exist: ")
    assert (
        f"BINANCE:BTCUSDT 1h ({SAMPLE_ROWS} candles, 2017-07-01 11:00 to 2019-07-04 01:00, offline sample)" in message
    )
    assert "BINANCE:ETHUSDT 1h (6 candles, 2024-01-01 00:00 to 2024-01-01 05:00)" in message
    with pytest.raises(DatasetNotFound, match="No market data for BINANCE:BTCUSDT 4h"):
        dataset_get("BTCUSDT", "BINANCE", "4h")
    assert [str(d) for d in datasets_available()] == ["BINANCE:BTCUSDT 1h", "BINANCE:ETHUSDT 1h"]


@pytest.mark.parametrize("counted_off_by", [-7, 0, 5])
def test_stored_arrays_are_whole_when_rows_change_between_the_count_and_the_read(monkeypatch, counted_off_by):
    """The columns are allocated from a COUNT before the rows are read: rows appended meanwhile (a count too low)
    are joined after, rows gone meanwhile (too high) leave the columns shortened; either way the same candles."""
    from django.db import connection

    from training.selectors import market_data as selectors

    dataset_load_sample()
    dataset = dataset_get("BTCUSDT", "BINANCE", "1h")
    whole = selectors.dataset_candle_arrays(dataset.pk)
    assert len(whole) == SAMPLE_ROWS and np.all(np.diff(whole.open_time) > 0)
    monkeypatch.setattr(selectors, "FETCH_ROWS", 100)  # batches that straddle the counted end
    table = connection.ops.quote_name("training_candle")
    time_sql = selectors.TIME_MS_SQL.get(connection.vendor, "open_time")
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT {time_sql}, open, high, low, close, volume, quote_volume, trades FROM {table} "
            "WHERE dataset_id = %s ORDER BY open_time",
            [dataset.pk],
        )
        read = selectors._filled(cursor, SAMPLE_ROWS + counted_off_by)
    assert len(read) == SAMPLE_ROWS
    for name in read.FIELDS:
        assert getattr(read, name).dtype == getattr(whole, name).dtype
        np.testing.assert_array_equal(getattr(read, name), getattr(whole, name))
