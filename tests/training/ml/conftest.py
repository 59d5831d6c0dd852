import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_CANDIDATES = (
    ROOT / "data" / "sample" / "BTCUSDT-1h-2017-07-01-2019-07-04-bitfinex-btcusd.zip",
    Path("/work/shared/data/bitfinex-btcusd-1h-2017-2019.csv"),
)
KLINE_COLUMNS = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "trades",
                 "taker_buy_volume", "taker_buy_quote_volume", "ignore"]


def sample_path() -> Path:
    for path in SAMPLE_CANDIDATES:
        if path.is_file():
            return path
    pytest.skip("the Bitfinex BTC/USD hourly sample is not present")


def read_sample(path: Path) -> pd.DataFrame:
    """The shipped sample (Binance kline layout, zipped) or the original CryptoDataDownload CSV."""
    if path.suffix == ".zip":
        raw = pd.read_csv(path, header=None, names=KLINE_COLUMNS)
        frame = raw[["open", "high", "low", "close", "volume", "quote_volume"]].astype(float)
        frame.insert(0, "open_time", pd.to_datetime(raw["open_time"], unit="ms", utc=True))
        return frame.sort_values("open_time").reset_index(drop=True)
    return read_bitfinex_csv(path)


def read_bitfinex_csv(path: Path) -> pd.DataFrame:
    """CryptoDataDownload layout, newest row first → the engine's candles frame, oldest first."""
    raw = pd.read_csv(path)
    frame = pd.DataFrame({
        "open_time": pd.to_datetime(raw["Date"], format="%Y-%m-%d %H:%M", utc=True),
        "open": raw["Open"].astype(float),
        "high": raw["High"].astype(float),
        "low": raw["Low"].astype(float),
        "close": raw["Close"].astype(float),
        "volume": raw["VolumeFrom"].astype(float),
        "quote_volume": raw["VolumeTo"].astype(float),
    })
    return frame.drop_duplicates("open_time").sort_values("open_time").reset_index(drop=True)


@pytest.fixture(scope="session")
def btc_candles() -> pd.DataFrame:
    return read_sample(sample_path())


def synthetic_candles(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """A geometric random walk with regime-like drift changes, hourly, for fast property tests."""
    rng = np.random.default_rng(seed)
    drift = np.repeat(rng.normal(0, 0.002, n // 100 + 1), 100)[:n]
    vol = np.repeat(rng.uniform(0.003, 0.02, n // 150 + 1), 150)[:n]
    close = 100 * np.exp(np.cumsum(drift + vol * rng.standard_normal(n)))
    open_ = np.r_[close[0], close[:-1]]
    spread = np.abs(rng.normal(0, vol, n)) * close
    return pd.DataFrame({
        "open_time": pd.date_range("2020-01-01", periods=n, freq="h", tz="UTC"),
        "open": open_, "high": np.maximum(open_, close) + spread, "low": np.minimum(open_, close) - spread,
        "close": close, "volume": rng.lognormal(3, 0.5, n),
    })
