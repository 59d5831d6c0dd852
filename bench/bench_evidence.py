"""The evidence of a preset on the offline BTC/USD hourly sample: per regime × model (and the ensemble) the test
log-loss difference against the best baseline with its 95 % moving-block bootstrap interval and verdict,
collapse and spread, the Keras best epoch and penalty share, the same-model gap, and the wall time.

    flock /work/heavy.lock .venv/bin/python bench/bench_evidence.py [--preset quick] [--profile default|base|zero]
        [--no-sample-weights] [--json PATH]

``--profile default``: the base values with the default profile's per-backend overrides (what ``make run``
loads); ``base``: the base values alone, every backend derived from them; ``zero``: L1 = L2 = 0 everywhere.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def config_for(profile: str) -> dict:
    from training.ml.default_profile import DEFAULT_BASE, DEFAULT_OVERRIDES
    from training.ml.regularization import resolve_config

    if profile == "default":
        return resolve_config(DEFAULT_BASE, DEFAULT_OVERRIDES)
    if profile == "base":
        return resolve_config(DEFAULT_BASE)
    zero = {"l1_alpha": 0.0, "l2_alpha": 0.0, "dropout_rate": DEFAULT_BASE["dropout_rate"]}
    return resolve_config(zero, {"sklearn": {"C": 1e4}})


def line(regime: str, name: str, record: dict) -> str:
    verdict = record.get("vs_baseline") or {}
    spread = record.get("spread") or {}
    evidence = record.get("evidence") or {}
    gap = record.get("train_val_gap") or {}
    keras = ""
    if "penalty_share_at_best_epoch" in evidence:
        keras = f" best_epoch={evidence['best_epoch']} penalty_share={evidence['penalty_share_at_best_epoch']:.3f}"
    return (
        f"{regime:15s} {name:11s} test_ll={record['metrics']['test']['log_loss']:.4f} "
        f"vs {verdict.get('baseline')}: {verdict.get('difference', float('nan')):+.4f} "
        f"[{verdict.get('ci95_low', float('nan')):+.4f}, {verdict.get('ci95_high', float('nan')):+.4f}] "
        f"{verdict.get('verdict')!s:11s} collapsed={record.get('collapsed')} std={spread.get('proba_std', 0):.4f} "
        f"gap_ll={gap.get('log_loss', float('nan')):+.4f}{keras}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--profile", default="default", choices=("default", "base", "zero"))
    parser.add_argument("--no-sample-weights", action="store_true")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, default=None, help="write the whole result here")
    args = parser.parse_args()

    from training.marketdata.csvparse import parse_candle_file
    from training.marketdata.sample import SAMPLE_FILE
    from training.ml.manager import TrainingManager

    candles = parse_candle_file(SAMPLE_FILE, interval="1h").candles.to_frame()
    overrides = {"sample_weights": False} if args.no_sample_weights else None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ares-evidence-") as directory:
        manager = TrainingManager(
            config_for(args.profile),
            preset=args.preset,
            seed=args.seed,
            artifacts_dir=directory,
            preset_overrides=overrides,
        )
        result = manager.run_full_training("BTCUSD", exchange_name="BITFINEX", candles=candles)
    wall = time.perf_counter() - started
    print(f"preset={args.preset} profile={args.profile} sample_weights={not args.no_sample_weights} wall={wall:.1f}s")
    for regime, section in result["ensembles"].items():
        if section["status"] != "trained":
            print(f"{regime:15s} skipped: {section['reason']}")
            continue
        comparison = section["comparison"]
        print(
            f"{regime:15s} rows: validation {comparison['validation_rows']}, test {comparison['test_rows']}; "
            f"best baseline {comparison['best_baseline']}"
        )
        for key, model in section["models"].items():
            print(line(regime, key, model))
        print(line(regime, "ensemble", section["ensemble"]))
    print("\n".join(f"warning: {w}" for w in result["regularization"]["report"].get("measured_warnings", [])))
    if args.json:
        args.json.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
