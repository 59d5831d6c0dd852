"""Measure the ensembles against their best member and the majority baseline on the offline sample.

Runs one training (default: ``quick``, seed 42, the default profile) and prints, per regime, a markdown table:
the chosen combiner, test log loss of the best member (by validation), of the ensemble and of the majority
baseline, the ensemble − best member and ensemble − majority differences with their 95 % moving-block bootstrap
intervals and verdicts, the test ECE before → after calibration with the temperature, and, for reference, the
test log loss the previous meta-learner (``StandardScaler → LogisticRegression(saga, profile C)`` on the same
out-of-fold probabilities) would have had.

    flock /work/heavy.lock .venv/bin/python bench/bench_stacking.py [--preset quick] [--seed 42]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def capturing(cls):
    """The ensemble class, keeping its walk-forward plan for the measurement."""
    from training.ml.walkforward import RegimeSkipped, plan_regime

    class Capturing(cls):
        def train(self, data):
            try:
                self.plan = plan_regime(data, self.regime, self.preset, self.min_rows)
            except RegimeSkipped:
                self.plan = None
            return super().train(data)

    Capturing.__name__ = cls.__name__
    return Capturing


def previous_meta_test_proba(ensemble, plan) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from training.ml.backends.base import expand_proba

    s = ensemble.config["sklearn"]
    keys = list(ensemble.predictions)
    rows = plan.val_rows
    meta = make_pipeline(
        StandardScaler(),
        LogisticRegression(solver="saga", l1_ratio=s["l1_ratio"], C=s["C"], max_iter=2000, random_state=ensemble.seed),
    ).fit(np.hstack([ensemble.predictions[k].oof[rows] for k in keys]), plan.y[rows])
    X = np.hstack([ensemble.predictions[k].test for k in keys])
    return expand_proba(meta.predict_proba(X), meta.classes_)


def interval(record: dict) -> str:
    return f"{record['difference']:+.4f} [{record['ci95_low']:+.4f}, {record['ci95_high']:+.4f}] {record['verdict']}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    from training.marketdata.csvparse import parse_candle_file
    from training.marketdata.sample import SAMPLE_FILE
    from training.ml.bootstrap import baseline_comparison
    from training.ml.default_profile import DEFAULT_BASE, DEFAULT_OVERRIDES
    from training.ml.ensembles import ENSEMBLES
    from training.ml.manager import TrainingManager
    from training.ml.metrics import majority_predict, row_log_loss
    from training.ml.regularization import resolve_config

    candles = parse_candle_file(SAMPLE_FILE, interval="1h").candles.to_frame()
    config = resolve_config(DEFAULT_BASE, DEFAULT_OVERRIDES)  # the default profile `make run` loads
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ares-bench-stacking-") as directory:
        manager = TrainingManager(
            config,
            preset=args.preset,
            seed=args.seed,
            artifacts_dir=directory,
            ensembles={r: capturing(c) for r, c in ENSEMBLES.items()},
        )
        result = manager.run_full_training("BTCUSD", exchange_name="BITFINEX", candles=candles)
    print(f"preset {args.preset}, seed {args.seed}, {time.perf_counter() - started:.0f} s\n")
    print(
        "| regime | combiner | best member (val) | ensemble | majority | ensemble − best member [95% CI] | "
        "ensemble − majority [95% CI] | test ECE before → after (T) | previous meta-learner |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for regime, section in result["ensembles"].items():
        if section["status"] != "trained":
            print(f"| {regime} | skipped: {section['reason']} |||||||")
            continue
        ensemble_obj, ens = manager.components[regime], section["ensemble"]
        plan = ensemble_obj.plan
        y_test = plan.y[plan.test]
        assert np.array_equal(y_test, ensemble_obj.test_output["y"])
        vs = ens["vs_best_member"]
        member_ll = section["models"][vs["member"]]["metrics"]["test"]["log_loss"]
        ens_proba = ensemble_obj.test_output["ensemble"]
        majority = majority_predict(plan.y[plan.folds[-1].train], len(y_test))[1]
        vs_majority = baseline_comparison(
            row_log_loss(y_test, ens_proba),
            row_log_loss(y_test, majority),
            baseline="majority",
            horizon=plan.horizon,
            seed=args.seed,
        )
        majority_ll = section["baselines"]["majority"]["test"]["log_loss"]
        assert abs(float(np.mean(row_log_loss(y_test, majority))) - majority_ll) < 1e-9
        previous = float(np.mean(row_log_loss(y_test, previous_meta_test_proba(ensemble_obj, plan))))
        cal = ens["calibration"]
        params = ", ".join(f"{k}={v}" for k, v in ens["combiner_params"].items())
        weights = " ".join(f"{k} {w:.2f}" for k, w in ens["combiner_weights"].items())
        print(
            f"| {regime} | {ens['combiner']}{f' ({params})' if params else ''}: {weights} | "
            f"{vs['member']} {member_ll:.4f} | {ens['metrics']['test']['log_loss']:.4f} | "
            f"{majority_ll:.4f} | {interval(vs)} | {interval(vs_majority)} | "
            f"{cal['test']['ece_before']:.4f} → {cal['test']['ece_after']:.4f} "
            f"(T={cal['parameter']['temperature']:.2f}, {'kept' if cal['check']['kept'] else 'dropped'}) | "
            f"{previous:.4f} |"
        )
    print("\nvalidation log loss of every candidate (held-out, folds 2..k, fold-size weighted):")
    for regime, section in result["ensembles"].items():
        if section["status"] == "trained":
            c = section["ensemble"]["candidates"]
            print(f"  {regime:<15} " + "  ".join(f"{k} {v['validation_log_loss']:.4f}" for k, v in c.items()))


if __name__ == "__main__":
    main()
