"""Fit time of each backend on synthetic data (default 3,000 rows × 30 features), small settings.

Usage: THREADS=1 python bench/backend_fit_times.py [rows] [features] [backend keys…]
Prints, per backend: wall seconds of fit() (incl. first-import cost where noted), the library's own
fit_seconds, epochs/trials run.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from training.ml.backends import get_backend
from training.ml.parameters import BASE_DEFAULTS
from training.ml.regularization import resolve_config

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
FEATURES = int(sys.argv[2]) if len(sys.argv) > 2 else 30
LOOKBACK = 16
THREADS = int(os.environ.get("THREADS", 1))  # n_jobs / intra_op_threads / torch_threads
SMALL = {
    "lightgbm": {"n_trials": 5, "n_jobs": THREADS},
    "logreg": {"max_iter": 300},
    "lstm": {"epochs": 5, "lstm_units": 16, "dense_units": 16, "intra_op_threads": THREADS},
    "transformer": {"epochs": 5, "d_model": 16, "num_heads": 2, "ff_dim": 32, "intra_op_threads": THREADS},
    "tabnet": {"max_epochs": 5, "n_d": 8, "n_a": 8, "n_steps": 3, "torch_threads": THREADS},
}


def main():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(ROWS, FEATURES)).astype(np.float32)
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.8, size=ROWS), [-0.5, 0.5])
    windows = np.stack(
        [
            X[max(0, i - LOOKBACK + 1) : i + 1]
            if i >= LOOKBACK - 1
            else np.concatenate([np.repeat(X[:1], LOOKBACK - 1 - i, 0), X[: i + 1]])
            for i in range(ROWS)
        ]
    )
    config = resolve_config(dict(BASE_DEFAULTS))
    a, b = int(ROWS * 0.7), int(ROWS * 0.85)
    print(
        f"{ROWS} rows x {FEATURES} features (train {a}, val {b - a}); sequence lookback {LOOKBACK}; "
        f"threads {THREADS}; load average {os.getloadavg()[0]:.1f}"
    )
    for key in sys.argv[3:] or list(SMALL):
        cls = get_backend(key)
        data = windows if cls.input_kind == "sequence" else X
        backend = cls(config[cls.config_section], params=SMALL[key], seed=42)
        started = time.perf_counter()
        backend.fit(data[:a], y[:a], data[a:b], y[a:b])
        wall = time.perf_counter() - started
        started = time.perf_counter()
        backend.predict_proba(data[b:])
        predict = time.perf_counter() - started
        runs = len(backend.history.get("train_loss", [])) or "-"
        print(
            f"{key:12s} fit wall {wall:6.2f} s  library fit {backend.fit_seconds:6.2f} s  "
            f"predict {predict:5.2f} s  epochs/rounds {runs}  {SMALL[key]}"
        )


if __name__ == "__main__":
    main()
