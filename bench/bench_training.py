"""Benchmark a training preset on the offline BTC/USD hourly sample.

Prints wall time, the sum of the raw library fit times, their ratio (pipeline overhead), time per stage and the
peak resident memory (this process and its children). Aims on 2 cores: overhead ≤ 1.15, quick ≤ 240 s,
smoke ≤ 60 s, peak ≤ 3 GB.

    /work/main/.venv/bin/python bench/bench_training.py [--preset quick] [--csv PATH]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AIMS = {"smoke": 60.0, "quick": 240.0}


def peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="quick")
    parser.add_argument(
        "--csv", type=Path, default=None, help="a kline or OHLCV CSV/zip (default: the shipped offline sample)"
    )
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    started = time.perf_counter()
    from training.marketdata.csvparse import parse_candle_file
    from training.marketdata.sample import read_sample_frame
    from training.ml.manager import TrainingManager
    from training.ml.parameters import BASE_DEFAULTS
    from training.ml.regularization import resolve_config

    candles = parse_candle_file(args.csv, interval="1h").candles.to_frame() if args.csv else read_sample_frame()
    config = resolve_config(dict(BASE_DEFAULTS))
    with tempfile.TemporaryDirectory(prefix="ares-bench-") as directory:
        manager = TrainingManager(config, preset=args.preset, seed=args.seed, artifacts_dir=directory)
        result = manager.run_full_training("BTCUSD", exchange_name="BITFINEX", candles=candles)
    total = time.perf_counter() - started
    t = result["timings"]
    wall, fit = t["wall_seconds"], t["fit_seconds_total"]
    own, children = peak_rss_mb()
    print(
        f"preset                 {args.preset} ({result['data']['rows']} candles, "
        f"{result['data']['labeled_rows']} labeled rows)"
    )
    print(f"wall (run_full_training) {wall:8.1f} s   aim ≤ {AIMS.get(args.preset, float('inf')):g} s")
    print(f"wall incl. imports/load  {total:8.1f} s")
    print(f"library fit total        {fit:8.1f} s")
    print(f"overhead wall/fit        {wall / fit:8.3f}     aim ≤ 1.15")
    print("stages:")
    for name, seconds in t["stages"].items():
        print(f"  {name:<22} {seconds:8.2f} s")
    print("fit seconds per regime/model:")
    for regime, section in result["ensembles"].items():
        if section["status"] != "trained":
            print(f"  {regime:<15} skipped: {section['reason']}")
            continue
        for key, model in section["models"].items():
            print(
                f"  {regime:<15} {key:<12} {model['fit_seconds']:7.1f} s  test log loss "
                f"{model['metrics']['test']['log_loss']:.3f}"
            )
        ens = section["ensemble"]["metrics"]["test"]
        base = section["baselines"]["majority"]["test"]
        print(
            f"  {regime:<15} {'ensemble':<12} {'':>9}  test log loss {ens['log_loss']:.3f} "
            f"(majority {base['log_loss']:.3f})"
        )
    print(f"peak RSS                 {own:8.0f} MB (children {children:.0f} MB)   aim ≤ 3072 MB")


if __name__ == "__main__":
    main()
