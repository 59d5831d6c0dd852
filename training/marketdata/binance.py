"""Binance's kline layout: the 12 columns of its CSV files and REST answers, and a writer for that layout."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.marketdata.candles import OPTIONAL_COLUMNS, REQUIRED_COLUMNS, Candles

BINANCE_COLUMNS = [
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trades",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
    "ignore",
]
BINANCE_HEADER = BINANCE_COLUMNS[:8] + ["count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"]
# canonical column -> its position in a headerless Binance row
BINANCE_POSITIONS = {column: BINANCE_COLUMNS.index(column) for column in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}


def api_rows_to_text(rows: list[list]) -> str:
    """Binance REST kline rows (lists of 12 values) as headerless kline CSV, so they pass the same checks."""
    return "".join(",".join("" if value is None else str(value) for value in row) + "\n" for row in rows)


def write_binance_csv(candles: Candles, *, header: bool = False, unit: str = "ms") -> str:
    """Binance's 12-column kline CSV for a series (used by the sample converter, the tests and the bench)."""
    factor = 1000 if unit == "us" else 1
    step = np.diff(candles.open_time)
    close_offset = int(np.median(step)) if len(step) else 0
    frame = pd.DataFrame(
        {
            "open_time": candles.open_time * factor,
            "open": candles.open,
            "high": candles.high,
            "low": candles.low,
            "close": candles.close,
            "volume": candles.volume,
            "close_time": (candles.open_time + close_offset) * factor - 1,
            "quote_volume": candles.quote_volume,
            "trades": pd.Series(candles.trades, dtype="Int64").mask(candles.trades < 0),
            "taker_buy_base_volume": np.nan,
            "taker_buy_quote_volume": np.nan,
            "ignore": 0,
        }
    )
    body = frame.to_csv(header=False, index=False, lineterminator="\n", na_rep="")
    return (",".join(BINANCE_HEADER) + "\n" + body) if header else body
