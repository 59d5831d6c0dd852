"""Market data throughput: import a generated 500,000-row Binance kline file on SQLite and on PostgreSQL (both
temporary databases, created and dropped here; the dev database is never touched), and load 100,000 candles
into a DataFrame.

    python bench/bench_market_data.py            # both databases
    python bench/bench_market_data.py sqlite     # one
PostgreSQL: BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the server; a
database ares_bench_market_<pid> is created there and dropped afterwards.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROWS = 500_000
FRAME_ROWS = 100_000


def make_file(path: Path, rows: int, seed: int = 7) -> None:
    import numpy as np

    from training.ml.klines import Candles, write_binance_csv

    rng = np.random.default_rng(seed)
    close = np.round(30000 * np.exp(np.cumsum(rng.normal(0, 0.001, rows))), 2)
    open_ = np.concatenate([[30000.0], close[:-1]])
    spread = np.round(np.abs(rng.normal(0, 10, rows)), 2)
    candles = Candles(
        1_704_067_200_000 + 60_000 * np.arange(rows, dtype="int64"),
        open_,
        np.maximum(open_, close) + spread,
        np.minimum(open_, close) - spread,
        close,
        np.round(rng.gamma(2.0, 5.0, rows), 5),
        np.round(rng.gamma(2.0, 150000.0, rows), 4),
        rng.integers(100, 5000, rows),
    )
    path.write_text(write_binance_csv(candles))


def run_one(kind: str) -> None:
    """Runs in a child process whose DATABASE_URL points at a temporary database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ares_site.test_settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from training.selectors.market_data import dataset_candles_frame
    from training.services.market_data import dataset_import_file

    call_command("migrate", verbosity=0)
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.csv", Path(tmp) / "small.csv"
        make_file(big, ROWS)
        make_file(small, FRAME_ROWS, seed=11)
        started = time.perf_counter()
        report = dataset_import_file(path_or_file=big, symbol="BENCHUSDT", exchange="BINANCE", interval="1m")
        seconds = time.perf_counter() - started
        assert report.rows_stored == ROWS, report.as_text()
        print(f"[{kind} {connection.vendor}] import {ROWS:,} rows: {seconds:.2f} s = {ROWS / seconds:,.0f} rows/s")
        started = time.perf_counter()
        again = dataset_import_file(path_or_file=big, symbol="BENCHUSDT", exchange="BINANCE", interval="1m")
        seconds = time.perf_counter() - started
        assert again.rows_stored == 0 and again.already_stored == ROWS
        print(f"[{kind}] re-import of the same {ROWS:,} rows (all skipped as identical): {seconds:.2f} s")
        small_report = dataset_import_file(path_or_file=small, symbol="FRAMEUSDT", exchange="BINANCE", interval="1m")
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            frame = dataset_candles_frame(small_report.dataset)
            timings.append(time.perf_counter() - started)
        assert len(frame) == FRAME_ROWS
        print(
            f"[{kind}] load {FRAME_ROWS:,} candles into a DataFrame: best {min(timings):.3f} s, "
            f"first {timings[0]:.3f} s"
        )


def main(kinds: list[str]) -> int:
    status = 0
    for kind in kinds:
        env = dict(os.environ)
        if kind == "sqlite":
            tmp = tempfile.TemporaryDirectory()
            env["DATABASE_URL"] = f"sqlite:///{tmp.name}/bench.sqlite3"
            cleanup = tmp.cleanup
        else:
            import psycopg

            server = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
            name = f"ares_bench_market_{os.getpid()}"
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            env["DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + name

            def cleanup(server=server, name=name):
                with psycopg.connect(server, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        try:
            status |= subprocess.call([sys.executable, __file__, "--child", kind], env=env, cwd=ROOT)
        finally:
            cleanup()
    return status


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        run_one(sys.argv[2])
    else:
        sys.exit(main(sys.argv[1:] or ["sqlite", "postgres"]))
