"""Reads of candle series: find a dataset, load it into numpy/pandas without building model instances."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import QuerySet

from training.marketdata.candles import Candles
from training.models import Candle, MarketDataset

DATASET_NOT_FOUND = (
    "No market data for {exchange}:{symbol} {interval}. Datasets that exist: {available}. "
    "Import a file with `manage.py import_klines`, fetch with `manage.py fetch_klines`, "
    "or load the offline sample with `manage.py load_sample_data`."
)
NO_DATASETS = "none"
FETCH_ROWS = 20_000  # rows per round trip: memory stays bounded by the numpy columns (a batch of Python rows is ~6 MB)
# open_time as integer milliseconds, computed by the database
TIME_MS_SQL = {
    "postgresql": "(EXTRACT(EPOCH FROM open_time) * 1000)::bigint",
    "sqlite": "CAST(strftime('%%s', open_time) AS INTEGER) * 1000 + CAST(substr(strftime('%%f', open_time), 4, 3) AS INTEGER)",
}


class DatasetNotFound(LookupError):
    pass


def datasets_available() -> QuerySet[MarketDataset]:
    """Datasets that hold candles, for the launch form and error messages."""
    return MarketDataset.objects.filter(row_count__gt=0).order_by("exchange", "symbol", "interval")


def dataset_label(dataset: MarketDataset) -> str:
    coverage = ""
    if dataset.first_open_time and dataset.last_open_time:
        coverage = f", {dataset.first_open_time:%Y-%m-%d %H:%M} to {dataset.last_open_time:%Y-%m-%d %H:%M}"
    sample = ", offline sample" if dataset.is_sample else ""
    return f"{dataset.exchange}:{dataset.symbol} {dataset.interval} ({dataset.row_count} candles{coverage}{sample})"


def dataset_get(symbol: str, exchange: str = "BINANCE", interval: str = "1h") -> MarketDataset:
    symbol, exchange = symbol.strip().upper(), exchange.strip().upper()
    dataset = MarketDataset.objects.filter(symbol=symbol, exchange=exchange, interval=interval, row_count__gt=0).first()
    if dataset is None:
        available = "; ".join(dataset_label(d) for d in datasets_available()) or NO_DATASETS
        raise DatasetNotFound(
            DATASET_NOT_FOUND.format(exchange=exchange, symbol=symbol, interval=interval, available=available)
        )
    return dataset


def _times_to_ms(values: list) -> np.ndarray:
    if not values:
        return np.empty(0, dtype="int64")
    if isinstance(values[0], int):
        return np.array(values, dtype="int64")
    if isinstance(values[0], str):
        index = pd.to_datetime(pd.Index(values), utc=True, format="ISO8601")
    else:
        index = pd.DatetimeIndex(pd.to_datetime(values, utc=True))
    return index.as_unit("ms").asi8.astype("int64")


def dataset_candle_arrays(dataset_id: int, *, start: datetime | None = None, end: datetime | None = None) -> Candles:
    """The stored candles of a dataset as sorted numpy columns (unknown quote volume NaN, unknown trades -1)."""
    table = connection.ops.quote_name(Candle._meta.db_table)
    time_sql = TIME_MS_SQL.get(connection.vendor, "open_time")
    where = "dataset_id = %s"
    params: list = [dataset_id]
    adapt = connection.ops.adapt_datetimefield_value
    if start is not None:
        where += " AND open_time >= %s"
        params.append(adapt(start))
    if end is not None:
        where += " AND open_time <= %s"
        params.append(adapt(end))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params)
        expected = int(cursor.fetchone()[0])
    sql = f"SELECT {time_sql}, open, high, low, close, volume, quote_volume, trades FROM {table} WHERE {where}"
    # A server-side cursor on PostgreSQL (SQLite's cursor streams already): a client-side one holds the whole
    # result in libpq before the first fetchmany (a 1,000,000-candle re-import peaked at 553 MB, issue 26).
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql + " ORDER BY open_time", params)
        return _filled(cursor, expected)


def _filled(cursor, expected: int) -> Candles:
    """The cursor's rows copied batch by batch into columns allocated once for the ``expected`` rows. Joining
    the batches at the end held them and the joined columns at once: the freed batches stay in the process's heap,
    so a 1,000,000-candle re-import on PostgreSQL peaked at 405 MB (issue 26). Rows beyond ``expected`` (a chunked
    import appending meanwhile) are joined after; fewer rows leave the columns shortened."""
    columns = Candles(
        np.empty(expected, "int64"), *(np.empty(expected, "float64") for _ in range(6)), np.empty(expected, "int64")
    )
    filled, beyond = 0, []
    while rows := cursor.fetchmany(FETCH_ROWS):
        part = _rows_to_candles(rows)
        fits = min(len(part), expected - filled)
        for name in Candles.FIELDS:
            getattr(columns, name)[filled : filled + fits] = getattr(part, name)[:fits]
        filled += fits
        if fits < len(part):
            beyond.append(part.take(slice(fits, None)))
    if filled < expected:
        columns = Candles(*(getattr(columns, name)[:filled].copy() for name in Candles.FIELDS))
    return Candles.concat_consuming([columns, *beyond]) if beyond else columns


def dataset_open_times(dataset_id: int, *, last: int | None = None) -> pd.DatetimeIndex:
    """The open times (UTC) of a dataset's candles, oldest first; with ``last``, only the most recent ones."""
    table = connection.ops.quote_name(Candle._meta.db_table)
    time_sql = TIME_MS_SQL.get(connection.vendor, "open_time")
    sql = f"SELECT {time_sql} FROM {table} WHERE dataset_id = %s ORDER BY open_time DESC"
    params: list = [dataset_id]
    if last:
        sql += " LIMIT %s"
        params.append(int(last))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if rows and not isinstance(rows[0][0], (int, float)):
        return pd.DatetimeIndex([r[0] for r in reversed(rows)]).tz_convert("UTC")
    return pd.to_datetime(np.array([r[0] for r in reversed(rows)], dtype="int64"), unit="ms", utc=True)


def _rows_to_candles(rows: list) -> Candles:
    if isinstance(rows[0][0], (int, float)):
        table = np.array(rows, dtype="float64").T  # None (unknown quote volume, trades) becomes NaN
        times = table[0].astype("int64")
    else:
        times, *_ = zip(*rows)
        times = _times_to_ms(list(times))
        table = np.array([[np.nan, *row[1:]] for row in rows], dtype="float64").T
    trades = np.where(np.isnan(table[7]), -1, table[7]).astype("int64")
    return Candles(times, *table[1:7], trades)


def dataset_candles_frame(
    dataset: MarketDataset, *, start: datetime | None = None, end: datetime | None = None
) -> pd.DataFrame:
    """Columns open_time (datetime64 UTC), open, high, low, close, volume, quote_volume, trades (all float64;
    NaN where the source did not give quote volume or trade count), sorted by time, unique times. Only the
    dataset's published range is read: candles a chunked import is still appending are not seen."""
    start = max(filter(None, [start, dataset.first_open_time]), default=None)
    end = min(filter(None, [end, dataset.last_open_time]), default=None)
    return dataset_candle_arrays(dataset.pk, start=start, end=end).to_frame()


def dataset_closes_for_chart(dataset: MarketDataset, *, points: int = 400) -> list[tuple[int, float]]:
    """At most `points` (open time ms, close) pairs spread over the whole series."""
    candles = dataset_candle_arrays(dataset.pk)
    if not len(candles):
        return []
    index = np.unique(np.linspace(0, len(candles) - 1, num=min(points, len(candles))).round().astype(int))
    return list(zip(candles.open_time[index].tolist(), candles.close[index].tolist()))
