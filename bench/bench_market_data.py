"""Market data throughput and bounded memory.

    python bench/bench_market_data.py                 # sqlite, then bomb
    python bench/bench_market_data.py sqlite postgres bomb

sqlite / postgres: import a generated BENCH_ROWS-row (default 1,000,000) Binance 1m kline file into a temporary
database (created and dropped here; the dev database is never touched), re-import it (every row skipped as
identical), and load them into a DataFrame. Each step runs in its own child process, which prints its peak RSS
(VmHWM from /proc/self/status: wait4's ru_maxrss would include the parent's high-water mark, which Linux carries
over fork and exec). PostgreSQL: BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) names
the server; a database ares_bench_market_<pid> is created there and dropped afterwards.
bomb: a 600 MB CSV zipped (~2 MB) and gzipped, each imported in a child: seconds to the refusal, peak RSS.
"""

import gzip
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROWS = int(os.environ.get("BENCH_ROWS", 1_000_000))
BOMB_BYTES = 600 * 2**20
BOMB_LINE = (
    b"1704067200000,42283.58,42554.57,42261.02,42475.23,1271.68,1704070799999,53957248.97,47134,682.57,28957416.81,0\n"
)


def make_file(path: Path, rows: int, seed: int = 7) -> None:
    import numpy as np

    from training.marketdata.binance import write_binance_csv
    from training.marketdata.candles import Candles

    rng = np.random.default_rng(seed)
    close = np.round(30000 * np.exp(np.cumsum(rng.normal(0, 0.001, rows))), 2)
    open_ = np.concatenate([[30000.0], close[:-1]])
    spread = np.round(np.abs(rng.normal(0, 10, rows)), 2)
    candles = Candles(
        1_577_836_800_000 + 60_000 * np.arange(rows, dtype="int64"),
        open_,
        np.maximum(open_, close) + spread,
        np.minimum(open_, close) - spread,
        close,
        np.round(rng.gamma(2.0, 5.0, rows), 5),
        np.round(rng.gamma(2.0, 150000.0, rows), 4),
        rng.integers(100, 5000, rows),
    )
    path.write_text(write_binance_csv(candles))


def make_bombs(directory: Path) -> list[Path]:
    block = BOMB_LINE * (8 * 2**20 // len(BOMB_LINE))
    zipped, gzipped = directory / "bomb.zip", directory / "bomb.csv.gz"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("bomb.csv", "w", force_zip64=True) as member:
            for _ in range(BOMB_BYTES // len(block)):
                member.write(block)
    with gzip.open(gzipped, "wb", compresslevel=9) as out:
        for _ in range(BOMB_BYTES // len(block)):
            out.write(block)
    return [zipped, gzipped]


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmHWM:")).split()[1]) / 1024


def child(step: str, *args: str) -> None:
    """One measured step in this process (its peak RSS is read by the parent)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ares_site.test_settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from training.marketdata.errors import CandleFileError
    from training.models import MarketDataset
    from training.selectors.market_data import dataset_candles_frame
    from training.services.market_data import dataset_import_file

    if step == "migrate":
        call_command("migrate", verbosity=0)
        print("  migrate the temporary database", end="")
    elif step == "import":
        path, expect = Path(args[0]), args[1]
        started = time.perf_counter()
        report = dataset_import_file(path_or_file=path, symbol="BENCHUSDT", exchange="BINANCE", interval="1m")
        seconds = time.perf_counter() - started
        rows = report.rows_read
        if expect == "stored":
            assert report.rows_stored == rows, report.as_text()
            what = f"import {rows:,} rows ({connection.vendor})"
        else:
            assert report.rows_stored == 0 and report.already_stored == rows
            what = f"re-import of the same {rows:,} rows (all skipped as identical)"
        print(f"  {what}: {seconds:.2f} s = {rows / seconds:,.0f} rows/s", end="", flush=True)
    elif step == "frame":
        dataset = MarketDataset.objects.get(symbol="BENCHUSDT")
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            frame = dataset_candles_frame(dataset)
            timings.append(time.perf_counter() - started)
        print(f"  load {len(frame):,} candles into a DataFrame: best {min(timings):.3f} s", end="", flush=True)
    elif step == "bomb":
        path = Path(args[0])
        started = time.perf_counter()
        try:
            dataset_import_file(path_or_file=path, symbol="BOMBUSDT", interval="1m")
        except CandleFileError as exc:
            seconds = time.perf_counter() - started
            print(f"  {path.name} ({path.stat().st_size / 2**20:.1f} MB) refused in {seconds:.2f} s: {exc}", end="")
        else:
            raise AssertionError("the bomb was imported")
    print(f"  [peak RSS {peak_rss_mb():,.0f} MB]")


def run_child(env: dict, *args: str) -> int:
    return subprocess.call([sys.executable, __file__, "--child", *args], env=env, cwd=ROOT)


def bench_database(kind: str) -> int:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
            cleanup = None
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
            big = Path(tmp) / "big.csv"
            make_file(big, ROWS)
            print(f"[{kind}] file: {ROWS:,} rows, {big.stat().st_size / 2**20:,.0f} MB")
            status = subprocess.call([sys.executable, __file__, "--child", "migrate"], env=env, cwd=ROOT)
            for step in (("import", str(big), "stored"), ("import", str(big), "skipped"), ("frame",)):
                status |= run_child(env, *step)
            return status
        finally:
            if cleanup:
                cleanup()


def bench_bombs() -> int:
    env = dict(os.environ)
    status = 0
    with tempfile.TemporaryDirectory() as tmp:
        env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        status |= subprocess.call([sys.executable, __file__, "--child", "migrate"], env=env, cwd=ROOT)
        print(f"[bomb] {BOMB_BYTES / 2**20:.0f} MB of CSV lines, compressed:")
        for path in make_bombs(Path(tmp)):
            status |= run_child(env, "bomb", str(path))
    return status


def main(kinds: list[str]) -> int:
    status = 0
    for kind in kinds:
        status |= bench_bombs() if kind == "bomb" else bench_database(kind)
    return status


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2], *sys.argv[3:])
    else:
        sys.exit(main(sys.argv[1:] or ["sqlite", "bomb"]))
