"""TabNet on the GPU versus the CPU: the backend picks cuda when present ("auto"), trains, and reloads.

Run on a machine with a GPU: python bench/gpu_tabnet_check.py [rows] [features]
Prints the device the network sits on, fit seconds per device, the optimizer's weight_decay read back
(TabNet's L2), and whether save → load gives the same probabilities.
"""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.ml.backends.tabnet_backend import TabNetBackend
from training.ml.parameters import BASE_DEFAULTS
from training.ml.regularization import resolve_config


def synthetic(rows: int, features: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features)).astype(np.float32)
    score = X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=rows)
    y = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3])).astype(np.int64)
    return X, y


def main() -> None:
    import torch

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 17000
    features = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    X, y = synthetic(rows, features)
    cut = int(rows * 0.8)
    reg = resolve_config(dict(BASE_DEFAULTS))["tabnet"]
    params = {"max_epochs": 10, "patience": 10, "batch_size": 1024, "virtual_batch_size": 256}
    print(f"torch {torch.__version__}, cuda available: {torch.cuda.is_available()}, rows={rows} features={features}")
    devices = ["cpu"] + (["auto"] if torch.cuda.is_available() else [])
    for device in devices:
        backend = TabNetBackend(reg, params={**params, "device": device, "torch_threads": 2}, seed=7)
        started = time.perf_counter()
        backend.fit(X[:cut], y[:cut], X[cut:], y[cut:])
        wall = time.perf_counter() - started
        on = next(backend.model.network.parameters()).device
        proba = backend.predict_proba(X[cut:])
        with tempfile.TemporaryDirectory() as tmp:
            backend.save(tmp)
            again = TabNetBackend.load(tmp, reg, {**params, "device": device}).predict_proba(X[cut:])
        print(
            f"device={device:4s} network_on={on} epochs={len(backend.history['train_loss'])} "
            f"fit_seconds={backend.fit_seconds:.2f} wall={wall:.2f} "
            f"weight_decay={backend.evidence()['optimizer_weight_decay']} "
            f"val_loss_last={backend.history['val_loss'][-1]:.4f} "
            f"reload_max_abs_diff={float(np.max(np.abs(proba - again))):.2e}"
        )


if __name__ == "__main__":
    main()
