"""The stacking meta-learner on the base models' out-of-fold probabilities.

``StandardScaler → LogisticRegression(solver='saga', l1_ratio, C)`` with the profile's sklearn settings, fitted on
the out-of-fold probabilities of every fold's validation block. Its honest validation predictions come from a
probe fitted on all folds but the last and applied to the last fold. The predictions are kept as arrays; metrics
are computed from them afterwards (``evaluation``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .backends.base import expand_proba
from .walkforward import ModelPredictions, RegimePlan

CLASS_COLUMNS = ("down", "flat", "up")
MSG_NO_VALIDATION_SINGLE_CLASS = "Earlier folds hold a single class; no honest meta-learner validation score."
MSG_NO_VALIDATION_ONE_FOLD = "One fold only; no honest meta-learner validation score."


def make_meta(sklearn_config: dict, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(),
        LogisticRegression(
            solver="saga", l1_ratio=sklearn_config["l1_ratio"], C=sklearn_config["C"], max_iter=2000, random_state=seed
        ),
    )


def meta_features(probas: dict[str, np.ndarray], keys) -> np.ndarray:
    return np.hstack([probas[k] for k in keys])


def meta_proba(meta, X: np.ndarray) -> np.ndarray:
    return expand_proba(meta.predict_proba(X), meta.classes_)


@dataclass
class StackedPredictions:
    """The fitted meta-learner and its predictions: ``train`` on the out-of-fold rows it was fitted on,
    ``validation`` (the probe's, on the last fold's block; None when there is no honest one), ``test``."""

    meta: object
    train: np.ndarray
    validation: np.ndarray | None
    test: np.ndarray
    fit_seconds: float
    description: dict
    notes: list[str] = field(default_factory=list)


def fit_stacking(
    plan: RegimePlan, predictions: dict[str, ModelPredictions], *, sklearn_config: dict, seed: int
) -> StackedPredictions:
    keys = list(predictions)
    y, folds = plan.y, plan.folds
    oof = {k: p.oof for k, p in predictions.items()}
    val_rows = plan.val_rows
    X_meta = meta_features({k: v[val_rows] for k, v in oof.items()}, keys)
    notes = []
    started = time.perf_counter()
    meta = make_meta(sklearn_config, seed).fit(X_meta, y[val_rows])
    fit_seconds = time.perf_counter() - started
    validation = None
    if len(folds) >= 2:
        earlier = np.concatenate([f.val for f in folds[:-1]])
        last = folds[-1].val
        if len(np.unique(y[earlier])) >= 2:
            started = time.perf_counter()
            probe = make_meta(sklearn_config, seed).fit(
                meta_features({k: v[earlier] for k, v in oof.items()}, keys), y[earlier]
            )
            fit_seconds += time.perf_counter() - started
            validation = meta_proba(probe, meta_features({k: v[last] for k, v in oof.items()}, keys))
        else:
            notes.append(MSG_NO_VALIDATION_SINGLE_CLASS)
    else:
        notes.append(MSG_NO_VALIDATION_ONE_FOLD)
    lr = meta[-1]
    return StackedPredictions(
        meta=meta,
        train=meta_proba(meta, X_meta),
        validation=validation,
        test=meta_proba(meta, meta_features({k: p.test for k, p in predictions.items()}, keys)),
        fit_seconds=fit_seconds,
        description={
            "solver": "saga",
            "l1_ratio": lr.l1_ratio,
            "C": lr.C,
            "inputs": [f"{k}:p_{c}" for k in keys for c in CLASS_COLUMNS],
            "zero_coefficient_share": float(np.mean(np.asarray(lr.coef_) == 0.0)),
        },
        notes=notes,
    )
