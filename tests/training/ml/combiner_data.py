"""Synthetic out-of-fold predictions where the right combination is known."""

import numpy as np

from training.ml.combiners import softmax


def latent(n: int, seed: int, scale: float = 1.5):
    """True class probabilities softmax(z) and labels drawn from them."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, scale, (n, 3))
    p = softmax(z)
    y = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return z, y, rng


def folds(n: int, k: int = 3) -> tuple[np.ndarray, list[int]]:
    """Fold ids 0..k-1 in time order and expanding training sizes (as walk_forward_splits makes them)."""
    ids = np.repeat(np.arange(k), int(np.ceil(n / k)))[:n]
    return ids, [400 + 200 * j for j in range(k)]


def one_informative(n: int = 1800, seed: int = 0) -> tuple[dict, np.ndarray]:
    z, y, rng = latent(n, seed)
    return {
        "signal": softmax(z + rng.normal(0, 0.5, (n, 3))),
        "noise_a": softmax(rng.normal(0, 1.0, (n, 3))),
        "noise_b": softmax(rng.normal(0, 1.0, (n, 3))),
    }, y


def two_equal(n: int = 1800, seed: int = 0) -> tuple[dict, np.ndarray]:
    """Two members seeing the same signal through independent noise of the same size."""
    z, y, rng = latent(n, seed)
    return {"a": softmax(z + rng.normal(0, 1.2, (n, 3))), "b": softmax(z + rng.normal(0, 1.2, (n, 3)))}, y


def synthetic_plan(probas: dict, y: np.ndarray, *, n_folds: int = 3, horizon: int = 4):
    """A real walk-forward plan over ``len(y)`` rows and each member's predictions on every row, as the
    walk-forward step hands them to stacking (the members are the synthetic probabilities, not fitted models)."""
    from training.ml.splits import inner_split, walk_forward_splits
    from training.ml.walkforward import ModelPredictions, RegimePlan

    positions = np.arange(len(y)) * 2
    splits = walk_forward_splits(positions, n_folds=n_folds, horizon=horizon, test_fraction=0.2)
    inner = [inner_split(positions, f.train, horizon=horizon) for f in splits.folds]
    plan = RegimePlan("bull_trend", np.asarray(y), positions, splits, splits.folds, inner, horizon, 0)
    predictions = {
        m: ModelPredictions(key=m, oof=p, fold_train=p[plan.last_fit], test=p[plan.test], fit_seconds=0.0, backend=None)
        for m, p in probas.items()
    }
    return plan, predictions


def synthetic_dataset(plan):
    """The ``Dataset`` of a synthetic plan (no features; every bar's label for the persistence baseline)."""
    from training.ml.dataset import Dataset, FeatureMatrix

    labels_all = np.full(int(plan.positions.max()) + 1, np.nan)
    labels_all[plan.positions] = plan.y
    return Dataset(
        matrix=FeatureMatrix(np.zeros((len(labels_all), 0)), []),
        feature_names=[],
        positions=plan.positions,
        y=plan.y,
        regimes=np.zeros(len(plan.y), dtype=int),
        labels_all=labels_all,
        horizon=plan.horizon,
        lookback=1,
    )


def synthetic_ensemble_record(n: int = 2400, seed: int = 0):
    """The ensemble record that evaluation builds for two equally informative members (scored on the comparison
    rows, against the baselines, as the ensembles build it)."""
    from training.ml.evaluation import ensemble_record, make_comparison
    from training.ml.stacking import fit_stacking

    plan, predictions = synthetic_plan(*two_equal(n, seed=seed))
    stacked = fit_stacking(plan, predictions, seed=seed)
    comparison = make_comparison(synthetic_dataset(plan), plan, stacked, seed=seed)
    return ensemble_record(plan, stacked, comparison).validate()
