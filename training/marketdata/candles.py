"""A candle series as numpy columns sorted by open time, its content fingerprint and its gaps."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from training.marketdata.times import format_time

FRAME_COLUMNS = ["open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades"]
FINGERPRINT_TAG = b"ares-candles-v1"


@dataclass
class Candles:
    """Columns of a candle series sorted by open time; unknown quote volume is NaN, unknown trades -1."""

    open_time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    quote_volume: np.ndarray
    trades: np.ndarray

    FIELDS = ("open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades")

    def __len__(self) -> int:
        return len(self.open_time)

    @classmethod
    def empty(cls) -> Candles:
        return cls(np.empty(0, "int64"), *(np.empty(0, "float64") for _ in range(6)), np.empty(0, "int64"))

    def take(self, index) -> Candles:
        return Candles(*(getattr(self, name)[index] for name in self.FIELDS))

    @classmethod
    def concat(cls, parts: list[Candles]) -> Candles:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in cls.FIELDS))

    @classmethod
    def concat_consuming(cls, parts: list[Candles]) -> Candles:
        """``concat`` that joins one column at a time and drops each part's copy of it once joined, so joining
        1,000,000 candles needs one column more than the parts, not twice them; ``parts`` are unusable after."""
        if not parts:
            return cls.empty()
        columns = []
        for name in cls.FIELDS:
            columns.append(np.concatenate([getattr(part, name) for part in parts]))
            for part in parts:
                setattr(part, name, None)
        return cls(*columns)

    def sorted(self) -> Candles:
        return self.take(np.argsort(self.open_time, kind="stable"))

    def to_frame(self) -> pd.DataFrame:
        """The engine's candles frame: open_time (datetime64 UTC), prices and volumes as float64, trades float64
        with NaN where unknown."""
        return pd.DataFrame(
            {
                "open_time": pd.to_datetime(self.open_time, unit="ms", utc=True),
                "open": self.open,
                "high": self.high,
                "low": self.low,
                "close": self.close,
                "volume": self.volume,
                "quote_volume": self.quote_volume,
                "trades": np.where(self.trades >= 0, self.trades, np.nan).astype("float64"),
            },
            columns=FRAME_COLUMNS,
        )


@dataclass
class ParsedFile:
    name: str
    candles: Candles
    rows_read: int
    line_numbers: np.ndarray
    duplicates_skipped: int = 0
    warnings: list[str] = field(default_factory=list)


def find_gaps(open_time: np.ndarray, step_ms: int, calendar: str | None = None) -> list[dict]:
    """Holes in a sorted series: the last open time before, the first after, and how many candles are missing.
    With a market ``calendar`` (``training.ml.calendars``) only open bars count: a closure is not a hole."""
    from training.ml.calendars import calendar_get, open_bar_ordinals

    diffs = np.diff(open_time)
    cal = calendar_get(calendar)
    if cal.always_open or len(open_time) < 2:
        holes, missing = np.flatnonzero(diffs > step_ms), diffs // step_ms - 1
    else:
        times = pd.to_datetime(open_time, unit="ms", utc=True)
        apart = np.diff(open_bar_ordinals(times, pd.Timedelta(milliseconds=int(step_ms)), cal))
        holes, missing = np.flatnonzero(apart > 1), apart - 1
    return [
        {"after": format_time(open_time[i]), "before": format_time(open_time[i + 1]), "missing": int(missing[i])}
        for i in holes
    ]


FINGERPRINT_ROWS = 65_536


def fingerprint(candles: Candles) -> str:
    """sha256 over the canonical content (sorted columns as little-endian int64/float64), independent of the
    file layout, the time unit or the import path."""
    digest = hashlib.sha256(FINGERPRINT_TAG)
    digest.update(np.int64(len(candles)).astype("<i8").tobytes())
    for column in Candles.FIELDS:
        for start in range(0, len(candles), FINGERPRINT_ROWS):  # the same bytes, a slice at a time
            values = getattr(candles, column)[start : start + FINGERPRINT_ROWS]
            if values.dtype.kind == "f":
                values = np.where(np.isnan(values), np.nan, values).astype("<f8") + 0.0
            else:
                values = values.astype("<i8")
            digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


PRICE_COLUMNS = ["open", "high", "low", "close"]
REQUIRED_COLUMNS = ["open_time", *PRICE_COLUMNS, "volume"]
OPTIONAL_COLUMNS = ["quote_volume", "trades"]
