"""A small regularization sweep on the offline sample (quick preset settings): one backend, fitted on its regime's
last walk-forward fold (fit / early-stopping parts as in a run), for each setting of a JSON grid; prints the
validation log loss (and the majority baseline's), accuracy, collapse and spread, and the backend's measured
regularization evidence. The default profile's overrides (``training/ml/default_profile.py``) come from it.

    flock /work/heavy.lock .venv/bin/python bench/bench_regularization_sweep.py lstm \\
        '[{"l1_reg": 0.01, "l2_reg": 0.001, "dropout_rate": 0.2}, {"l1_reg": 0.0001, "l2_reg": 0.0001, "dropout_rate": 0.2}]'
    ... lightgbm '[{"reg_alpha": 2.0, "reg_lambda": 5.0}]' bull_trend [SEED]

Without arguments it runs the first example (LSTM, the old L1 0.01 against the default profile's 1e-4).
``SWEEP_PARAMS`` (JSON, optional) updates the preset's params of the backend. SEED defaults to the seed a run with seed 42 gives the regime's last fold (``BaseEnsemble.fold_seed``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REGIME_OF = {"lstm": "bull_trend", "transformer": "bear_trend", "tabnet": "sideways_range"}
EVIDENCE_KEYS = (
    "best_epoch",
    "penalty_share_at_best_epoch",
    "zero_leaf_share",
    "mean_abs_leaf",
    "splits",
    "zero_coefficient_share",
    "coefficient_l1_norm",
    "penalty_per_row",
    "sparsity_loss_term",
    "sparsity_share_of_loss",
    "kernel_l1_norm",
)


DEFAULT_GRID = [
    {"l1_reg": 0.01, "l2_reg": 0.001, "dropout_rate": 0.2},
    {"l1_reg": 0.0001, "l2_reg": 0.0001, "dropout_rate": 0.2},
]


def main() -> None:
    from training.marketdata.csvparse import parse_candle_file
    from training.marketdata.sample import SAMPLE_FILE
    from training.ml.backends import get_backend
    from training.ml.collapse import prediction_spread
    from training.ml.dataset import build_dataset, fit_scaling
    from training.ml.metrics import classification_metrics, majority_predict
    from training.ml.presets import get_preset
    from training.ml.splits import inner_split, walk_forward_splits
    from training.ml.uniqueness import uniqueness_weights

    if len(sys.argv) < 3:  # `make bench` runs it without arguments: the Keras L1 comparison behind the default profile
        sys.argv[1:] = ["lstm", json.dumps(DEFAULT_GRID)]
    key, grid = sys.argv[1], json.loads(sys.argv[2])
    regime = REGIME_OF.get(key, sys.argv[3] if len(sys.argv) > 3 else "bull_trend")
    p = get_preset("quick")
    candles = parse_candle_file(SAMPLE_FILE, interval="1h").candles.to_frame()
    data = build_dataset(candles, horizon=int(p["horizon"]), label_k=float(p["label_k"]), lookback=int(p["lookback"]))
    rows = data.regimes == regime
    y, pos = data.y[rows], data.positions[rows]
    splits = walk_forward_splits(
        pos,
        n_folds=int(p["n_folds"]),
        horizon=data.horizon,
        embargo=int(p["embargo"]),
        test_fraction=float(p["test_fraction"]),
        first_train_fraction=float(p["first_train_fraction"]),
    )
    fold = splits.folds[-1]
    fit, es = inner_split(pos, fold.train, horizon=data.horizon, embargo=int(p["embargo"]), val_fraction=0.2)
    scaling = fit_scaling(data.matrix.tabular(pos[fit], data.feature_names))
    from training.ml.ensembles import ENSEMBLES

    seed = (
        int(sys.argv[4]) if len(sys.argv) > 4 else ENSEMBLES[regime](preset=p, seed=42).fold_seed(len(splits.folds) - 1)
    )
    cls = get_backend(key)
    if cls.input_kind == "sequence":
        X = data.matrix.windows(pos, data.feature_names, data.lookback, scaling)
    else:
        X = data.matrix.tabular(pos, data.feature_names, scaling)
    majority = classification_metrics(y[fold.val], majority_predict(y[fit], len(fold.val))[1])["log_loss"]
    print(
        f"{regime} {key}: fit {len(fit)}, early stopping {len(es)}, validation {len(fold.val)} rows; "
        f"majority validation log loss {majority:.4f}"
    )
    for reg in grid:
        started = time.perf_counter()
        weights = uniqueness_weights(pos[fit], data.horizon)
        params = {**p["models"][key], **json.loads(os.environ.get("SWEEP_PARAMS", "{}"))}
        backend = cls(reg, params=params, seed=seed).fit(X[fit], y[fit], X[es], y[es], sample_weight=weights)
        proba = backend.predict_proba(X[fold.val])
        metrics, spread, evidence = (
            classification_metrics(y[fold.val], proba),
            prediction_spread(proba),
            backend.evidence(),
        )
        print(
            json.dumps(
                {
                    "reg": reg,
                    "val_log_loss": round(metrics["log_loss"], 4),
                    "accuracy": round(metrics["accuracy"], 3),
                    "collapsed": spread["collapsed"],
                    "proba_std": round(spread["proba_std"], 4),
                    "class_shares": {k: round(v, 2) for k, v in spread["class_shares"].items()},
                    **{k: evidence[k] for k in EVIDENCE_KEYS if k in evidence},
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
