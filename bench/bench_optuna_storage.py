"""LightGBM tuning: Optuna writing every trial to an RDB storage (the old way) vs an in-memory study written once
when the tuning ends (issue 26), interleaved A/B in one process on the same rows of the offline sample (both
sides run the same trials: same seed, same pruning), each side on a SQLite file (BENCH_OPTUNA_URL for a PostgreSQL database of your own, e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/bench26). Prints p50 per tuning and of its overhead (wall minus
LightGBM's own boosting time, which is what the storage changes; on a loaded machine the boosting time swings
more than the whole difference), the ratios and the load average.

    .venv/bin/python bench/bench_optuna_storage.py [--trials 10] [--repetitions 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import statistics  # noqa: E402

from bench_support import interleaved, load, report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--rows", type=int, default=6000)
    args = parser.parse_args()

    import numpy as np
    import optuna

    from training.marketdata.sample import read_sample_frame
    from training.ml.backends import base as module  # the tuning hooks (create_study, persist_study)
    from training.ml.backends import get_backend
    from training.ml.features import compute_features
    from training.ml.optuna_storage import rdb_storage
    from training.ml.parameters import BASE_DEFAULTS
    from training.ml.regularization import resolve_config

    directory = tempfile.mkdtemp(prefix="ares-bench-optuna-")
    url = os.environ.get("BENCH_OPTUNA_URL") or f"sqlite:///{directory}/optuna.sqlite3?timeout=30"
    features = compute_features(read_sample_frame().iloc[-args.rows :].reset_index(drop=True)).dropna()
    X = features.select_dtypes("number").to_numpy(dtype=np.float32)
    y = np.random.default_rng(0).integers(0, 3, len(X))  # the cost measured is the tuning's, not the model's
    cut, end = int(len(X) * 0.6), int(len(X) * 0.8)
    cls = get_backend("lightgbm")
    section = resolve_config(dict(BASE_DEFAULTS))[cls.config_section]
    create_study, persist = optuna.create_study, module.study_persist

    overheads: dict[bool, list[float]] = {False: [], True: []}

    def tuning(*, per_trial_writes: bool):
        def call():
            import time

            params = {"n_trials": args.trials, "optuna_storage": url, "study_name": f"bench-{uuid.uuid4().hex}"}
            if per_trial_writes:  # the code before issue 26: the study lives in the RDB storage
                optuna.create_study = lambda **kw: create_study(**kw, storage=rdb_storage(url), load_if_exists=True)
                module.study_persist = lambda study, **kw: 0
            try:
                started = time.perf_counter()
                backend = cls(section, params=params, seed=7).fit(X[:cut], y[:cut], X[cut:end], y[cut:end])
                overheads[per_trial_writes].append((time.perf_counter() - started - backend.fit_seconds) * 1000)
            finally:
                optuna.create_study, module.study_persist = create_study, persist

        return call

    print(f"LightGBM tuning, {args.trials} trials on {cut} rows, storage {url.split(':')[0]}; {load()}")
    samples = interleaved(
        {
            "in memory, written once": tuning(per_trial_writes=False),
            "every trial written": tuning(per_trial_writes=True),
        },
        args.repetitions,
    )
    report(samples)
    memory, written = (statistics.median(overheads[k][1:]) for k in (False, True))  # [0]: the warm-up call
    print(
        f"  overhead (wall - boosting) p50: in memory {memory:.0f} ms, every trial written {written:.0f} ms "
        f"(x{memory / written:.2f})  {load()}"
    )


if __name__ == "__main__":
    main()
