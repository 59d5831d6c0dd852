"""Profile one training run (cProfile) the way a worker trains it: Optuna's studies go to a SQLite file, as
they go to the project database in a worker. Prints wall / sum of fits, the top functions by own time and the
cumulative time of the steps issue 26 named (Optuna storage writes, Keras predictions, plots, imports), each
beside the load average.

    .venv/bin/python bench/profile_training.py [--preset smoke] [--top 10] [--root OTHER_CHECKOUT]

``--root`` profiles another checkout of the code (e.g. an export of an earlier commit) with this venv, for a
before/after comparison on the same machine; run them back to back and read them as a ratio.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

STEPS = {  # label -> substrings of "file:function" whose cumulative time is reported
    "optuna RDB storage": ("optuna/storages/_rdb/", "optuna/storages/_cached_storage.py"),
    "optuna study persist": ("optuna_storage.py:study_persist",),
    "keras predict": ("keras_backend.py:_predict_proba",),
    "plots": ("ml/plots.py:write_plots",),
    "framework imports (warm.py)": ("ml/warm.py:frameworks_import",),
    "lightgbm train": ("lightgbm/engine.py:train",),
}


def step_seconds(stats: pstats.Stats, needles: tuple[str, ...]) -> float:
    """Cumulative time of the functions matching ``needles``, counted at the calls that enter them from a function
    that does not match (so a step's nested calls are not counted twice)."""

    def inside(func) -> bool:
        file, _, name = func
        return any(n in f"{file}:{name}" for n in needles)

    total = 0.0
    for func, (_, _, _, _, callers) in stats.stats.items():
        if inside(func):
            total += sum(entry[3] for caller, entry in callers.items() if not inside(caller))
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="smoke")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--no-storage", action="store_true", help="keep Optuna's studies in memory only")
    parser.add_argument("--no-profile", action="store_true", help="time the run without cProfile's overhead")
    parser.add_argument("--warm", action="store_true", help="import the frameworks first, as a warm worker does")
    parser.add_argument("--dump", type=Path, default=None, help="also write the profile here (pstats format)")
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from training.marketdata.sample import read_sample_frame
    from training.ml.manager import TrainingManager
    from training.ml.parameters import BASE_DEFAULTS
    from training.ml.regularization import resolve_config

    candles = read_sample_frame()
    if args.warm:
        from training.ml.warm import frameworks_import

        print(f"warm: imported {frameworks_import()} before the run")
    config = resolve_config(dict(BASE_DEFAULTS))
    profile = cProfile.Profile()
    with tempfile.TemporaryDirectory(prefix="ares-profile-") as directory:
        storage = None if args.no_storage else f"sqlite:///{directory}/optuna.sqlite3?timeout=30"
        manager = TrainingManager(
            config, preset=args.preset, seed=args.seed, artifacts_dir=f"{directory}/run", optuna_storage=storage
        )
        started = time.perf_counter()
        if not args.no_profile:
            profile.enable()
        result = manager.run_full_training("BTCUSD", exchange_name="BITFINEX", candles=candles)
        profile.disable()
        elapsed = time.perf_counter() - started
    t = result["timings"]
    load = os.getloadavg()
    print(f"code {args.root}  preset {args.preset}  storage {'memory' if args.no_storage else 'sqlite file'}")
    print(
        f"wall {t['wall_seconds']:.1f} s (profiled call {elapsed:.1f} s), fits {t['fit_seconds_total']:.1f} s, "
        f"wall/fit {t['wall_seconds'] / t['fit_seconds_total']:.3f}   load average {load[0]:.2f} {load[1]:.2f}"
    )
    if "imports" in t:
        print(f"imported inside the run: {t['imports']}  preloaded: {t.get('preloaded')}")
    print("stages (s): " + ", ".join(f"{k} {v:.1f}" for k, v in t["stages"].items()))
    if args.no_profile:
        return
    stats = pstats.Stats(profile)
    if args.dump:
        stats.dump_stats(args.dump)
    print("time spent inside the named steps (s; calls entering them from outside, nested calls counted once):")
    for label, needles in STEPS.items():
        print(f"  {label:<30} {step_seconds(stats, needles):8.2f}")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
    print(f"top {args.top} by own time:")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()[:1].isdigit() or "ncalls" in line))


if __name__ == "__main__":
    main()
