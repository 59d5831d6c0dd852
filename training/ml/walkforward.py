"""Walk-forward training of a regime's base models: the plan (rows, purged folds, inner early-stopping parts),
the regime's inputs (constant columns dropped, scaling from the earliest training rows) and, per model and
fold, a fit on the fold's training rows whose predictions are kept as arrays:

- ``oof``: out-of-fold probabilities on every fold's validation block (time-ordered, never trained on),
- ``fold_fit``: every fold's model on its own fit rows (with ``oof`` on its own validation block: the same-model
  train−validation gap),
- ``fold_train``: the last fold's model on its own fit rows (the "train" score),
- ``test``: the last fold's model on the untouched test block.

Every fit weighs its rows by their average label uniqueness (``uniqueness``: overlapping H-bar labels share their
outcome) unless the preset turns ``sample_weights`` off.

Metrics are computed later from these arrays (``evaluation``); the combiner reads ``oof`` (``stacking``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .dataset import Dataset, fit_scaling
from .errors import TrainingCancelled, TrainingError
from .splits import Fold, Splits, inner_split, walk_forward_splits
from .uniqueness import uniqueness_weights

MSG_TOO_FEW_ROWS = "Only {rows} labeled rows in regime {regime}; at least {minimum} are needed."
MSG_SINGLE_CLASS = "Regime {regime} has a single class ({classes}) in its {part}; nothing to learn."
MSG_NO_FOLDS = "Regime {regime}: the purged walk-forward split left no usable fold."
MSG_CONSTANT_COLUMNS = "Constant over this regime's development rows, dropped: {columns}."
MSG_BACKEND_FAILED = "Regime {regime}, model {model}: {error_type}: {error}"
MSG_BAD_PROBA = "predict_proba returned shape {shape} with {bad} non-finite values; expected ({n}, 3) finite"
MSG_CANCELLED = "Cancelled before regime {regime}, model {model}."


class RegimeSkipped(Exception):
    """The regime cannot be trained; ``reason`` says why (recorded in the result, not a failure)."""

    def __init__(self, reason: str, rows: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rows = rows


@dataclass
class RegimePlan:
    """A regime's rows (``y``, ``positions``) and their purged folds; indices are into these rows."""

    regime: str
    y: np.ndarray
    positions: np.ndarray
    splits: Splits
    folds: list[Fold]
    inner: list[tuple[np.ndarray, np.ndarray]]  # per fold: (fit rows, early-stopping rows)
    horizon: int
    embargo: int

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def val_rows(self) -> np.ndarray:
        return np.concatenate([f.val for f in self.folds])

    @property
    def test(self) -> np.ndarray:
        return self.splits.test

    @property
    def last_fit(self) -> np.ndarray:
        return self.inner[-1][0]


def plan_regime(data: Dataset, regime: str, preset: dict, min_rows: int) -> RegimePlan:
    """The purged walk-forward plan of one regime's rows; raises ``RegimeSkipped`` when it cannot be trained."""
    rows = np.flatnonzero(data.regimes == regime)
    n = len(rows)
    if n < min_rows:
        raise RegimeSkipped(MSG_TOO_FEW_ROWS.format(rows=n, regime=regime, minimum=min_rows), n)
    y = data.y[rows].astype(int)
    pos = data.positions[rows]
    if len(np.unique(y)) < 2:
        raise RegimeSkipped(MSG_SINGLE_CLASS.format(regime=regime, classes=np.unique(y).tolist(), part="rows"), n)
    horizon, embargo = data.horizon, int(preset.get("embargo", 0))
    splits = walk_forward_splits(
        pos,
        n_folds=int(preset["n_folds"]),
        horizon=horizon,
        embargo=embargo,
        test_fraction=float(preset["test_fraction"]),
        first_train_fraction=float(preset.get("first_train_fraction", 0.4)),
    )
    folds = [f for f in splits.folds if len(f.train) and len(f.val)]
    if not folds:
        raise RegimeSkipped(MSG_NO_FOLDS.format(regime=regime), n)
    inner = []
    for j, fold in enumerate(folds):
        fit_idx, es_idx = inner_split(
            pos, fold.train, horizon=horizon, embargo=embargo, val_fraction=float(preset.get("inner_val_fraction", 0.2))
        )
        if len(np.unique(y[fit_idx])) < 2 or len(es_idx) == 0:
            classes = np.unique(y[fit_idx]).tolist()
            part = f"fold {j + 1} training rows"
            raise RegimeSkipped(MSG_SINGLE_CLASS.format(regime=regime, classes=classes, part=part), n)
        inner.append((fit_idx, es_idx))
    plan = RegimePlan(regime, y, pos, splits, folds, inner, horizon, embargo)
    pooled = np.unique(y[plan.val_rows])
    if len(pooled) < 2:
        part = "validation blocks (the combiners' training rows)"
        raise RegimeSkipped(MSG_SINGLE_CLASS.format(regime=regime, classes=pooled.tolist(), part=part), n)
    return plan


@dataclass
class RegimeInputs:
    """The model inputs of a regime: features constant over its development rows dropped, standardized with
    the mean/std of fold 1's fit rows (a subset of every fold's training data, so nothing later leaks in)."""

    feature_names: list[str]
    scaling: dict
    lookback: int
    tabular: np.ndarray
    notes: list[str] = field(default_factory=list)
    _data: Dataset | None = None
    _positions: np.ndarray | None = None
    _sequence: np.ndarray | None = None

    @classmethod
    def prepare(cls, data: Dataset, plan: RegimePlan) -> RegimeInputs:
        dev_values = data.matrix.tabular(plan.positions[plan.splits.dev], data.feature_names)
        constant = [name for name, col in zip(data.feature_names, dev_values.T) if np.nanstd(col) == 0.0]
        notes = [MSG_CONSTANT_COLUMNS.format(columns=", ".join(constant))] if constant else []
        names = [f for f in data.feature_names if f not in constant]
        scaling = fit_scaling(data.matrix.tabular(plan.positions[plan.inner[0][0]], names))
        tabular = data.matrix.tabular(plan.positions, names, scaling)
        return cls(names, scaling, data.lookback, tabular, notes, data, plan.positions)

    def for_kind(self, input_kind: str) -> np.ndarray:
        if input_kind != "sequence":
            return self.tabular
        if self._sequence is None:
            self._sequence = self._data.matrix.windows(self._positions, self.feature_names, self.lookback, self.scaling)
        return self._sequence


@dataclass
class ModelPredictions:
    """One base model's walk-forward predictions, kept as arrays (rows of the regime, (n, 3) probabilities)."""

    key: str
    oof: np.ndarray
    fold_train: np.ndarray
    test: np.ndarray
    fit_seconds: float
    backend: object  # the last fold's fitted backend (the one saved and used for the test block)
    fold_fit: list[np.ndarray] = field(default_factory=list)  # per fold: its model on its own fit rows


def check_proba(proba, n: int) -> np.ndarray:
    proba = np.asarray(proba, dtype=float)
    bad = int((~np.isfinite(proba)).sum()) if proba.size else 0
    if proba.shape != (n, 3) or bad:
        raise ValueError(MSG_BAD_PROBA.format(shape=proba.shape, bad=bad, n=n))
    return proba


class WalkForward:
    """Fits one base model per fold of a plan; a backend failure becomes a ``TrainingError`` naming the
    regime and the model, a stop request a ``TrainingCancelled``."""

    def __init__(
        self,
        plan: RegimePlan,
        inputs: RegimeInputs,
        *,
        build_backend: Callable[[str, int], object],
        should_stop: Callable[[], bool],
        step: Callable[[str], None],
        begin: Callable[[str], None] | None = None,
        sample_weights: bool = True,
    ) -> None:
        self.sample_weights = sample_weights
        self.begin = begin or (lambda message: None)
        self.plan = plan
        self.inputs = inputs
        self.build_backend = build_backend
        self.should_stop = should_stop
        self.step = step

    @property
    def regime(self) -> str:
        return self.plan.regime

    def fit(self, key: str, input_kind: str) -> ModelPredictions:
        plan, X, y = self.plan, self.inputs.for_kind(input_kind), self.plan.y
        oof = np.full((plan.n, 3), np.nan)
        fit_seconds = 0.0
        backend = None
        fold_fit = []
        test = None
        last = len(plan.folds) - 1
        for j, (fold, (fit_idx, es_idx)) in enumerate(zip(plan.folds, plan.inner)):
            if self.should_stop():
                raise TrainingCancelled(MSG_CANCELLED.format(regime=self.regime, model=key))
            self.begin(f"{self.regime}: fitting {key}, fold {j + 1}/{len(plan.folds)}")
            backend = self._fit_one(key, j, X, y, fit_idx, es_idx)
            blocks = [fold.val, fit_idx] + ([plan.test] if j == last else [])
            known = backend.fit_rows_proba  # the fit rows, when the fit predicted them already (same model)
            if known is not None and len(known) == len(fit_idx):
                predicted = self._predict_blocks(backend, key, X, [fold.val] + blocks[2:])
                predicted.insert(1, check_proba(known, len(fit_idx)))
            else:
                predicted = self._predict_blocks(backend, key, X, blocks)
            oof[fold.val] = predicted[0]
            fold_fit.append(predicted[1])
            test = predicted[2] if j == last else test
            fit_seconds += float(backend.fit_seconds)
            self.step(f"{self.regime}: {key} fold {j + 1}/{len(plan.folds)} fitted in {backend.fit_seconds:.1f}s")
        return ModelPredictions(
            key=key,
            oof=oof,
            fold_train=fold_fit[-1],
            test=test,
            fit_seconds=fit_seconds,
            backend=backend,
            fold_fit=fold_fit,
        )

    def _fit_one(self, key, fold, X, y, fit_idx, es_idx):
        backend = self.build_backend(key, fold)
        weights = uniqueness_weights(self.plan.positions[fit_idx], self.plan.horizon) if self.sample_weights else None
        try:
            backend.fit(X[fit_idx], y[fit_idx], X[es_idx], y[es_idx], sample_weight=weights)
        except TrainingCancelled:
            raise
        except Exception as exc:
            if self.should_stop():
                raise TrainingCancelled(MSG_CANCELLED.format(regime=self.regime, model=key)) from exc
            raise self._failure(key, exc) from exc
        return backend

    def _predict_blocks(self, backend, key, X, blocks) -> list[np.ndarray]:
        """One prediction call for several row blocks of a fold (its validation rows, its fit rows and, in the last
        fold, the test block): a Keras predict call costs far more than its rows (issue 26)."""
        rows = np.concatenate([np.asarray(block) for block in blocks])
        proba = self._predict(backend, key, X[rows])
        return np.split(proba, np.cumsum([len(block) for block in blocks])[:-1])

    def _predict(self, backend, key, X):
        try:
            return check_proba(backend.predict_proba(X), len(X))
        except Exception as exc:
            raise self._failure(key, exc) from exc

    def _failure(self, key: str, exc: Exception) -> TrainingError:
        return TrainingError(
            MSG_BACKEND_FAILED.format(regime=self.regime, model=key, error_type=type(exc).__name__, error=exc)
        )
