"""A run group of 4 markets over 2 real Celery workers (concurrency 1 each), on the offline sample, in a temporary
SQLite database with an embedded Redis (the set-up of ``bench_sweeps``). Markets: the sample hourly, resampled to
2 h and 4 h, and a synthetic forex-like hourly series (weekday sessions, weekends closed, ``forex`` calendar; no
real FX candles ship with the repository). Prints the group's wall time, each run's wall, the sum of the four,
group wall / sum (aim ≤ 0.6 with 2 workers; 0.5 is perfect sharing), which worker ran what, the forex run's
regime verdicts, and the load average before and after.

``.venv/bin/python bench/bench_run_groups.py [PRESET]`` (default ``smoke``; ``quick`` for the issue's figure).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# bench_sweeps sets up a temporary database, an embedded Redis and django on import, and starts the workers.
import bench_sweeps as base
import numpy as np
import pandas as pd


def forex_like(weeks: int = 150, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    grid = pd.date_range("2021-01-03 22:00", periods=weeks * 168, freq="h", tz="UTC")
    minutes = grid.dayofweek * 1440 + grid.hour * 60
    times = grid[~((minutes >= 4 * 1440 + 22 * 60) & (minutes < 6 * 1440 + 22 * 60))]
    n = len(times)
    close = 1.1 * np.exp(np.cumsum(rng.normal(0, 0.0015, n)))
    open_ = np.r_[close[0], close[:-1]]
    spread = np.abs(rng.normal(0, 0.0008, n)) * close
    return pd.DataFrame(
        {
            "open_time": times,
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.lognormal(3, 0.5, n),
        }
    )


def store_markets() -> list:
    from training.marketdata.candles import Candles, ParsedFile
    from training.marketdata.markets import Market
    from training.marketdata.sample import read_sample, resample_candles
    from training.services.market_data import dataset_import_candles

    def parsed(candles: Candles) -> ParsedFile:
        n = len(candles)
        return ParsedFile(name="bench", candles=candles, rows_read=n, line_numbers=np.arange(1, n + 1))

    two_hourly, _ = resample_candles(read_sample(), "2h")
    dataset_import_candles(
        parsed=parsed(two_hourly), symbol="BTCUSDT", exchange="BINANCE", interval="2h", source="bench"
    )
    fx = forex_like()
    candles = Candles(
        open_time=(fx["open_time"].astype("int64") // 10**6).to_numpy(),
        open=fx["open"].to_numpy(),
        high=fx["high"].to_numpy(),
        low=fx["low"].to_numpy(),
        close=fx["close"].to_numpy(),
        volume=fx["volume"].to_numpy(),
        quote_volume=np.full(len(fx), np.nan),
        trades=np.full(len(fx), -1),
    )
    dataset_import_candles(parsed=parsed(candles), symbol="EURUSD", exchange="OANDA", interval="1h", source="bench")
    return [Market("BINANCE", "BTCUSDT", i) for i in ("1h", "2h", "4h")] + [Market("OANDA", "EURUSD", "1h")]


def group_job(markets, preset: str):
    def job():
        from training.selectors.run_groups import run_group_status
        from training.selectors.run_summary import verdict_lines
        from training.services.run_groups import run_group_create

        started = time.perf_counter()
        group = run_group_create(profile=None, markets=markets, preset=preset, trigger="cli")
        while True:
            runs = list(group.runs.order_by("id"))
            if all(r.is_terminal for r in runs):
                break
            time.sleep(base.POLL)
        wall = time.perf_counter() - started
        status, _ = run_group_status(runs=runs)
        return wall, status, runs, verdict_lines(runs[-1])

    return job


def main(preset: str) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_default_profile", verbosity=0)
    call_command("load_sample_data", verbosity=0)
    markets = store_markets()
    print(f"cpu cores: {os.cpu_count()}; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    (wall, status, runs, fx_verdicts), peaks = base.with_workers(2, False, group_job(markets, preset))
    walls = [r.duration_seconds or 0.0 for r in runs]
    for run, seconds in zip(runs, walls, strict=True):
        print(
            f"  run {run.pk} {run.exchange}:{run.symbol} {run.interval} ({run.snapshot['data']['calendar']}): "
            f"{run.status} in {seconds:.1f} s on {run.worker.split('@')[0]}"
        )
    print(
        f"group of {len(runs)} markets, preset {preset}, 2 workers: {status}; wall {wall:.1f} s, sum of the runs' "
        f"walls {sum(walls):.1f} s, group wall / sum {wall / sum(walls):.2f}; peak memory "
        f"{', '.join(base.mib(p) for p in peaks)}"
    )
    print("forex-like run (OANDA:EURUSD 1h, forex calendar) verdicts:")
    for line in fx_verdicts:
        print(line)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    try:
        main(sys.argv[1] if len(sys.argv) > 1 else "smoke")
    finally:
        base.REDIS.stop()
