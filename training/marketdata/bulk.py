"""Bulk writes of candles, one function per database: PostgreSQL COPY, SQLite executemany, and Django's
bulk_create for any other. Each writes the rows it is given in the caller's transaction; the import service
chunks a long import into short transactions (see `training.services.market_data`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db import connection

from training.marketdata.candles import Candles
from training.marketdata.times import ms_to_datetime
from training.models import Candle

COLUMNS = ["dataset_id", "open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades"]
DELETE_BATCH = 500


def _table_and_columns() -> tuple[str, str]:
    table = connection.ops.quote_name(Candle._meta.db_table)
    return table, ", ".join(connection.ops.quote_name(n) for n in COLUMNS)


def insert_postgresql(dataset_id: int, candles: Candles) -> None:
    table, columns = _table_and_columns()
    frame = pd.DataFrame(
        {
            "dataset_id": dataset_id,
            "open_time": np.datetime_as_string(candles.open_time.astype("datetime64[ms]"), unit="ms", timezone="UTC"),
            **{f: getattr(candles, f) for f in ("open", "high", "low", "close", "volume", "quote_volume")},
            "trades": pd.Series(candles.trades, dtype="Int64").mask(candles.trades < 0),
        }
    )
    payload = frame.to_csv(sep="\t", header=False, index=False, na_rep="\\N", lineterminator="\n")
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            copy.write(payload)


def _sqlite_times(open_time: np.ndarray) -> list[str]:
    """Each time as Django's SQLite adapter writes it (str(datetime)): "YYYY-MM-DD HH:MM:SS", with ".ffffff" only
    when it has a fraction of a second, so the ORM's lookups and the unique index compare equal texts."""
    moments = open_time.astype("datetime64[ms]")
    text = np.datetime_as_string(moments.astype("datetime64[s]"), unit="s")
    fraction = open_time % 1000 != 0
    if fraction.any():
        text = text.astype("<U26")
        text[fraction] = np.datetime_as_string(moments[fraction].astype("datetime64[us]"), unit="us")
    return np.char.replace(text, "T", " ").tolist()


def insert_sqlite(dataset_id: int, candles: Candles) -> None:
    table, columns = _table_and_columns()
    quote = [None if q != q else q for q in candles.quote_volume.tolist()]
    trades = [None if n < 0 else n for n in candles.trades.tolist()]
    rows = zip(
        [dataset_id] * len(candles),
        _sqlite_times(candles.open_time),
        candles.open.tolist(),
        candles.high.tolist(),
        candles.low.tolist(),
        candles.close.tolist(),
        candles.volume.tolist(),
        quote,
        trades,
    )
    sql = f"INSERT INTO {table} ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    connection.ensure_connection()
    with connection.wrap_database_errors:
        connection.connection.executemany(sql, rows)


def insert_other(dataset_id: int, candles: Candles) -> None:
    Candle.objects.bulk_create(
        [
            Candle(
                dataset_id=dataset_id,
                open_time=ms_to_datetime(t),
                open=o,
                high=h,
                low=lo,
                close=c,
                volume=v,
                quote_volume=None if np.isnan(q) else q,
                trades=None if n < 0 else n,
            )
            for t, o, h, lo, c, v, q, n in zip(*(getattr(candles, f).tolist() for f in Candles.FIELDS))
        ],
        batch_size=5000,
    )


INSERTERS = {"postgresql": insert_postgresql, "sqlite": insert_sqlite}


def insert_candles(dataset_id: int, candles: Candles) -> None:
    """Insert the candles into the dataset with the fastest path the database offers."""
    if len(candles):
        INSERTERS.get(connection.vendor, insert_other)(dataset_id, candles)


def delete_candles(dataset_id: int, open_time: np.ndarray) -> int:
    """Delete the dataset's candles at exactly these open times (undoing an import's committed chunks)."""
    deleted = 0
    for start in range(0, len(open_time), DELETE_BATCH):
        times = [ms_to_datetime(t) for t in open_time[start : start + DELETE_BATCH].tolist()]
        deleted += Candle.objects.filter(dataset_id=dataset_id, open_time__in=times).delete()[0]
    return deleted
