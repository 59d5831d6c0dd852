"""Per-regime stacking ensembles.

``BaseEnsemble`` owns the fixed sequence: select the regime's rows → purged walk-forward split → for every base
model and fold, fit on the fold's training rows (its last part, purged, is the early-stopping / tuning set) and
predict the fold's validation block (out-of-fold, time-ordered) → stacking meta-learner on those out-of-fold
probabilities → evaluate on train / validation / the untouched test block → save. A subclass only names its
regime and base models:

- ``BullTrendEnsemble``: lightgbm, logreg, lstm — a trend is a sequence; the LSTM reads the window of bars.
- ``BearTrendEnsemble``: lightgbm, logreg, transformer — self-attention can weigh the few bars of a sharp sell-off.
- ``SidewaysRangeEnsemble``: lightgbm, logreg, tabnet — in a range the oscillator levels (RSI, %B, %K) matter,
  a tabular problem; TabNet's sparse feature masks pick among them.
- ``VolatileEnsemble``: lightgbm, logreg — the rarest regime with the noisiest labels; only the two models that
  stay stable on few rows.
Together the four use all five backends. LightGBM and the elastic-net logistic regression are in every ensemble
as strong, cheap, interpretable anchors.

The meta-learner is ``StandardScaler → LogisticRegression(solver='saga', l1_ratio, C)`` with the profile's
sklearn settings. Its validation score comes from fitting it on the out-of-fold probabilities of all folds but
the last and scoring the last fold; the saved meta-learner is fitted on all out-of-fold rows.

``MIN_ROWS`` (150) is the floor below which a regime is skipped with the reason recorded: with 2 folds, a 20 %
test block and purge gaps, fewer rows leave validation blocks of a few dozen rows, too small to compare models.
Presets may raise it (``min_rows``). A regime with a single class, or a fold whose training rows hold a single
class, is skipped with the reason. Feature columns constant over a regime's development rows are dropped for
that regime and named in ``notes``. Every model sees the features standardized with the mean and standard
deviation of the regime's earliest training rows (fold 1's fit part, a subset of every fold's training data, so
nothing from a validation or test block leaks in); the scaling is saved with the ensemble. A base model that
raises fails the run with a ``TrainingError`` naming the regime, the model and the original error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from .backends import get_backend
from .errors import TrainingCancelled, TrainingError
from .validation import (
    classification_metrics,
    inner_split,
    majority_predict,
    persistence_predict,
    train_val_gap,
    walk_forward_splits,
)

MSG_TOO_FEW_ROWS = "Only {rows} labeled rows in regime {regime}; at least {minimum} are needed."
MSG_SINGLE_CLASS = "Regime {regime} has a single class ({classes}) in its {part}; nothing to learn."
MSG_NO_FOLDS = "Regime {regime}: the purged walk-forward split left no usable fold."
MSG_CONSTANT_COLUMNS = "Constant over this regime's development rows, dropped: {columns}."
MSG_BACKEND_FAILED = "Regime {regime}, model {model}: {error_type}: {error}"
MSG_BAD_PROBA = "predict_proba returned shape {shape} with {bad} non-finite values; expected ({n}, 3) finite"
MSG_CANCELLED = "Cancelled before regime {regime}, model {model}."


class FeatureMatrix:
    """The feature values of every bar of the series (NaN in the warm-up), for tabular rows and windows."""

    def __init__(self, values: np.ndarray, names: list[str]) -> None:
        self.values = np.asarray(values, dtype=np.float32)
        self.names = list(names)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, names: list[str]) -> FeatureMatrix:
        return cls(frame[names].to_numpy(dtype=np.float32), names)

    def columns(self, names: list[str]) -> list[int]:
        return [self.names.index(n) for n in names]

    def tabular(self, positions, names: list[str], scaling: dict | None = None) -> np.ndarray:
        return _scale(self.values[np.asarray(positions)][:, self.columns(names)], scaling)

    def windows(self, positions, names: list[str], lookback: int, scaling: dict | None = None) -> np.ndarray:
        """(n, lookback, f): the ``lookback`` bars ending at (and including) each position."""
        from numpy.lib.stride_tricks import sliding_window_view

        positions = np.asarray(positions)
        if len(positions) and positions.min() < lookback - 1:
            raise ValueError(f"position {positions.min()} has fewer than {lookback} bars of history")
        view = sliding_window_view(self.values[:, self.columns(names)], lookback, axis=0)  # (n-l+1, f, l)
        return _scale(np.ascontiguousarray(view[positions - lookback + 1].transpose(0, 2, 1)), scaling)


def _scale(X: np.ndarray, scaling: dict | None) -> np.ndarray:
    if not scaling:
        return X
    return ((X - np.asarray(scaling["mean"], dtype=np.float32)) / np.asarray(scaling["std"], dtype=np.float32)).astype(
        np.float32
    )


def fit_scaling(X: np.ndarray) -> dict:
    """Per-column mean and standard deviation (1 where constant)."""
    std = X.std(axis=0)
    return {"mean": X.mean(axis=0).tolist(), "std": np.where(std > 0, std, 1.0).tolist()}


@dataclass
class Dataset:
    """The labeled rows of a run. ``positions`` index bars of the full series; ``labels_all`` holds every bar's
    label (NaN where unknown) for the persistence baseline."""

    matrix: FeatureMatrix
    feature_names: list[str]
    positions: np.ndarray
    y: np.ndarray
    regimes: np.ndarray
    labels_all: np.ndarray
    horizon: int
    lookback: int
    times: np.ndarray = field(default_factory=lambda: np.array([]))


def proba3(model, X: np.ndarray) -> np.ndarray:
    """An sklearn classifier's probabilities as (n, 3) columns 0/1/2 even if it saw fewer classes."""
    raw = model.predict_proba(X)
    out = np.zeros((len(X), 3))
    for j, c in enumerate(model.classes_):
        out[:, int(c)] = raw[:, j]
    return out


def check_proba(proba, n: int) -> np.ndarray:
    proba = np.asarray(proba, dtype=float)
    bad = int((~np.isfinite(proba)).sum()) if proba.size else 0
    if proba.shape != (n, 3) or bad:
        raise ValueError(MSG_BAD_PROBA.format(shape=proba.shape, bad=bad, n=n))
    return proba


class BaseEnsemble:
    regime: ClassVar[str]
    model_keys: ClassVar[tuple[str, ...]]
    MIN_ROWS: ClassVar[int] = 150

    def __init__(
        self,
        *,
        preset: dict,
        seed: int = 42,
        should_stop: Callable[[], bool] | None = None,
        log: Callable[[str], None] | None = None,
        step: Callable[[str], None] | None = None,
        optuna_storage: str | None = None,
        run_tag: str = "run",
    ) -> None:
        self.preset = preset
        self.seed = seed
        self.should_stop = should_stop or (lambda: False)
        self.log = log or (lambda message: None)
        self.step = step or (lambda message: None)
        self.optuna_storage = optuna_storage
        self.run_tag = run_tag
        self.config: dict | None = None
        self.min_rows = max(self.MIN_ROWS, int(preset.get("min_rows") or 0))
        self.models: dict = {}
        self.meta = None
        self.feature_names: list[str] = []
        self.test_output: dict = {}
        self.fit_seconds = 0.0

    # --- configuration ------------------------------------------------------------------------------
    def apply_regularization(self, config: dict) -> dict:
        """Store the resolved config; return, per base model, the section it will be built with."""
        self.config = config
        applied = {
            key: {"section": get_backend(key).config_section, "values": dict(config[get_backend(key).config_section])}
            for key in self.model_keys
        }
        applied["meta"] = {"section": "sklearn", "values": dict(config["sklearn"])}
        return applied

    def model_params(self, key: str, fold: int) -> dict:
        params = dict((self.preset.get("models") or {}).get(key) or {})
        if key == "lightgbm":
            params.setdefault("optuna_storage", self.optuna_storage)
            params.setdefault("study_name", f"{self.run_tag}-{self.regime}-fold{fold}")
        if get_backend(key).input_kind == "sequence":
            params.setdefault("lookback", self.preset.get("lookback"))
        return params

    def planned_steps(self) -> int:
        return len(self.model_keys) * int(self.preset["n_folds"]) + 1

    # --- training -----------------------------------------------------------------------------------
    def skipped(self, reason: str, rows: int, notes: list[str] | None = None) -> dict:
        self.log(f"[{self.regime}] skipped: {reason}")
        return {
            "status": "skipped",
            "reason": reason,
            "rows": rows,
            "notes": notes or [],
            "models": {},
            "ensemble": None,
            "baselines": {},
        }

    def train(self, data: Dataset) -> dict:
        if self.config is None:
            raise TrainingError(f"Regime {self.regime}: apply_regularization() was not called before train().")
        p = self.preset
        rows = np.flatnonzero(data.regimes == self.regime)
        n = len(rows)
        if n < self.min_rows:
            return self.skipped(MSG_TOO_FEW_ROWS.format(rows=n, regime=self.regime, minimum=self.min_rows), n)
        y = data.y[rows].astype(int)
        pos = data.positions[rows]
        if len(np.unique(y)) < 2:
            return self.skipped(
                MSG_SINGLE_CLASS.format(regime=self.regime, classes=np.unique(y).tolist(), part="rows"), n
            )
        horizon, embargo = data.horizon, int(p.get("embargo", 0))
        splits = walk_forward_splits(
            pos,
            n_folds=int(p["n_folds"]),
            horizon=horizon,
            embargo=embargo,
            test_fraction=float(p["test_fraction"]),
            first_train_fraction=float(p.get("first_train_fraction", 0.4)),
        )
        folds = [f for f in splits.folds if len(f.train) and len(f.val)]
        if not folds:
            return self.skipped(MSG_NO_FOLDS.format(regime=self.regime), n)
        inner = []
        for j, fold in enumerate(folds):
            fit_idx, es_idx = inner_split(
                pos, fold.train, horizon=horizon, embargo=embargo, val_fraction=float(p.get("inner_val_fraction", 0.2))
            )
            if len(np.unique(y[fit_idx])) < 2 or len(es_idx) == 0:
                return self.skipped(
                    MSG_SINGLE_CLASS.format(
                        regime=self.regime, classes=np.unique(y[fit_idx]).tolist(), part=f"fold {j + 1} training rows"
                    ),
                    n,
                )
            inner.append((fit_idx, es_idx))
        pooled = np.unique(y[np.concatenate([f.val for f in folds])])
        if len(pooled) < 2:
            return self.skipped(
                MSG_SINGLE_CLASS.format(
                    regime=self.regime,
                    classes=pooled.tolist(),
                    part="validation blocks (the meta-learner's training rows)",
                ),
                n,
            )

        notes: list[str] = []
        dev_values = data.matrix.tabular(pos[splits.dev], data.feature_names)
        constant = [name for name, col in zip(data.feature_names, dev_values.T) if np.nanstd(col) == 0.0]
        if constant:
            notes.append(MSG_CONSTANT_COLUMNS.format(columns=", ".join(constant)))
        self.feature_names = [f for f in data.feature_names if f not in constant]
        self.lookback = data.lookback
        self.scaling = fit_scaling(data.matrix.tabular(pos[inner[0][0]], self.feature_names))
        X_tab = data.matrix.tabular(pos, self.feature_names, self.scaling)
        X_seq = None

        val_rows = np.concatenate([f.val for f in folds])
        test = splits.test
        results, oof_all, test_probas = {}, {}, {}
        for key in self.model_keys:
            cls = get_backend(key)
            if cls.input_kind == "sequence":
                if X_seq is None:
                    X_seq = data.matrix.windows(pos, self.feature_names, data.lookback, self.scaling)
                X = X_seq
            else:
                X = X_tab
            oof = np.full((n, 3), np.nan)
            fit_seconds = 0.0
            backend = None
            for j, (fold, (fit_idx, es_idx)) in enumerate(zip(folds, inner)):
                if self.should_stop():
                    raise TrainingCancelled(MSG_CANCELLED.format(regime=self.regime, model=key))
                backend = self._fit_one(cls, key, j, X, y, fit_idx, es_idx)
                oof[fold.val] = self._predict(backend, key, X[fold.val])
                fit_seconds += float(backend.fit_seconds)
                self.step(f"{self.regime}: {key} fold {j + 1}/{len(folds)} fitted in {backend.fit_seconds:.1f}s")
            fit_idx = inner[-1][0]
            train_proba = self._predict(backend, key, X[fit_idx])
            test_proba = self._predict(backend, key, X[test])
            metrics = {
                "train": classification_metrics(y[fit_idx], train_proba),
                "validation": classification_metrics(y[val_rows], oof[val_rows]),
                "test": classification_metrics(y[test], test_proba),
            }
            importance = backend.feature_importance()
            results[key] = {
                "metrics": metrics,
                "train_val_gap": train_val_gap(metrics["train"], metrics["validation"]),
                "fit_seconds": fit_seconds,
                "evidence": backend.evidence(),
                "history": {k: [float(v) for v in backend.history.get(k, [])] for k in ("train_loss", "val_loss")},
                "best_params": dict(getattr(backend, "best_params", None) or {}),
                "feature_importance": self._importance(importance),
                "library_params": backend.library_params,
                "input_kind": cls.input_kind,
            }
            self.fit_seconds += fit_seconds
            self.models[key] = backend
            oof_all[key] = oof
            test_probas[key] = test_proba

        if self.should_stop():
            raise TrainingCancelled(MSG_CANCELLED.format(regime=self.regime, model="meta-learner"))
        ensemble = self._stack(folds, y, oof_all, test_probas, test)
        self.step(f"{self.regime}: meta-learner fitted")
        baselines = self._baselines(data, folds, pos, y, val_rows, test)
        self.test_output = {
            "positions": pos[test],
            "y": y[test],
            "ensemble": ensemble.pop("_test_proba"),
            **{f"base_{k}": v for k, v in test_probas.items()},
        }
        split_info = {
            "folds": [
                {
                    "train": int(len(f.train)),
                    "fit": int(len(i[0])),
                    "early_stopping": int(len(i[1])),
                    "validation": int(len(f.val)),
                }
                for f, i in zip(folds, inner)
            ],
            "test": int(len(test)),
            "purge_gap": horizon + embargo,
        }
        return {
            "status": "trained",
            "reason": "",
            "rows": int(n),
            "notes": notes,
            "models": results,
            "ensemble": ensemble,
            "baselines": baselines,
            "split": split_info,
            "feature_names": self.feature_names,
        }

    def _fit_one(self, cls, key, fold, X, y, fit_idx, es_idx):
        backend = cls(
            self.config[cls.config_section],
            params=self.model_params(key, fold),
            seed=self.seed,
            should_stop=self.should_stop,
            log=lambda m: self.log(f"[{self.regime}/{key}] {m}"),
        )
        try:
            backend.fit(X[fit_idx], y[fit_idx], X[es_idx], y[es_idx])
        except TrainingCancelled:
            raise
        except Exception as exc:
            if self.should_stop():
                raise TrainingCancelled(MSG_CANCELLED.format(regime=self.regime, model=key)) from exc
            raise TrainingError(
                MSG_BACKEND_FAILED.format(regime=self.regime, model=key, error_type=type(exc).__name__, error=exc)
            ) from exc
        return backend

    def _predict(self, backend, key, X):
        try:
            return check_proba(backend.predict_proba(X), len(X))
        except Exception as exc:
            raise TrainingError(
                MSG_BACKEND_FAILED.format(regime=self.regime, model=key, error_type=type(exc).__name__, error=exc)
            ) from exc

    def _importance(self, importance) -> dict:
        if importance is None:
            return {}
        values = list(importance)
        if len(values) != len(self.feature_names):
            return {}
        return {name: float(v) for name, v in zip(self.feature_names, values)}

    # --- stacking -----------------------------------------------------------------------------------
    def make_meta(self):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        s = self.config["sklearn"]
        return make_pipeline(
            StandardScaler(),
            LogisticRegression(solver="saga", l1_ratio=s["l1_ratio"], C=s["C"], max_iter=2000, random_state=self.seed),
        )

    def meta_features(self, probas: dict) -> np.ndarray:
        return np.hstack([probas[k] for k in self.model_keys])

    def _stack(self, folds, y, oof_all, test_probas, test) -> dict:
        val_rows = np.concatenate([f.val for f in folds])
        X_meta = self.meta_features({k: v[val_rows] for k, v in oof_all.items()})
        y_meta = y[val_rows]
        notes = []
        started = time.perf_counter()
        self.meta = self.make_meta().fit(X_meta, y_meta)
        meta_seconds = time.perf_counter() - started
        validation = None
        if len(folds) >= 2:
            earlier = np.concatenate([f.val for f in folds[:-1]])
            last = folds[-1].val
            if len(np.unique(y[earlier])) >= 2:
                started = time.perf_counter()
                probe = self.make_meta().fit(
                    self.meta_features({k: v[earlier] for k, v in oof_all.items()}), y[earlier]
                )
                meta_seconds += time.perf_counter() - started
                validation = classification_metrics(
                    y[last], proba3(probe, self.meta_features({k: v[last] for k, v in oof_all.items()}))
                )
            else:
                notes.append("Earlier folds hold a single class; no honest meta-learner validation score.")
        else:
            notes.append("One fold only; no honest meta-learner validation score.")
        self.fit_seconds += meta_seconds
        train = classification_metrics(y_meta, proba3(self.meta, X_meta))
        test_proba = proba3(self.meta, self.meta_features(test_probas))
        metrics = {"train": train, "validation": validation, "test": classification_metrics(y[test], test_proba)}
        lr = self.meta[-1]
        coef = np.asarray(lr.coef_)
        return {
            "metrics": metrics,
            "train_val_gap": train_val_gap(train, validation) if validation else None,
            "fit_seconds": meta_seconds,
            "meta_learner": {
                "solver": "saga",
                "l1_ratio": lr.l1_ratio,
                "C": lr.C,
                "inputs": [f"{k}:p_{c}" for k in self.model_keys for c in ("down", "flat", "up")],
                "zero_coefficient_share": float(np.mean(coef == 0.0)),
            },
            "notes": notes,
            "_test_proba": test_proba,
        }

    def _baselines(self, data: Dataset, folds, pos, y, val_rows, test) -> dict:
        out = {}
        for name in ("majority", "persistence"):
            preds, probas = [], []
            for fold in folds:
                pr, pb = self._baseline(name, data, pos, y, fold.train, fold.val)
                preds.append(pr)
                probas.append(pb)
            validation = classification_metrics(y[val_rows], np.vstack(probas), np.concatenate(preds))
            pr, pb = self._baseline(name, data, pos, y, folds[-1].train, test)
            out[name] = {"validation": validation, "test": classification_metrics(y[test], pb, pr)}
        out["definitions"] = {
            "majority": "the most frequent class of the training rows (probabilities: training class frequencies)",
            "persistence": f"the label of bar t-{data.horizon}, the latest one fully known at t "
            "(log loss from P(y | that label) on the training rows)",
        }
        return out

    @staticmethod
    def _baseline(name, data, pos, y, train, evaluate):
        if name == "majority":
            return majority_predict(y[train], len(evaluate))
        return persistence_predict(data.labels_all, pos[train], y[train], pos[evaluate], data.horizon)

    # --- persistence --------------------------------------------------------------------------------
    def save(self, directory: Path) -> list[str]:
        """Each base model via its backend's native ``save``, the meta-learner via joblib, ``ensemble.json``
        and the test-block probabilities (``test_predictions.npz``). Returns paths relative to ``directory``."""
        import joblib

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        files = []
        for key, backend in self.models.items():
            sub = directory / key
            sub.mkdir(exist_ok=True)
            backend.save(sub)
            files += [str(f.relative_to(directory)) for f in sorted(sub.rglob("*")) if f.is_file()]
        joblib.dump(self.meta, directory / "meta.joblib")
        np.savez(directory / "test_predictions.npz", **self.test_output)
        spec = {
            "regime": self.regime,
            "class": type(self).__name__,
            "models": list(self.model_keys),
            "feature_names": self.feature_names,
            "lookback": self.lookback,
            "scaling": self.scaling,
            "horizon": int(self.preset.get("horizon", 4)),
            "regularization": {k: self.config[get_backend(k).config_section] for k in self.model_keys},
            "meta_regularization": self.config["sklearn"],
            "params": {
                k: {kk: vv for kk, vv in self.model_params(k, 0).items() if kk != "optuna_storage"}
                for k in self.model_keys
            },
            "input_kinds": {k: get_backend(k).input_kind for k in self.model_keys},
        }
        (directory / "ensemble.json").write_text(json.dumps(spec, indent=2, default=str))
        return files + ["meta.joblib", "test_predictions.npz", "ensemble.json"]


class BullTrendEnsemble(BaseEnsemble):
    regime = "bull_trend"
    model_keys = ("lightgbm", "logreg", "lstm")


class BearTrendEnsemble(BaseEnsemble):
    regime = "bear_trend"
    model_keys = ("lightgbm", "logreg", "transformer")


class SidewaysRangeEnsemble(BaseEnsemble):
    regime = "sideways_range"
    model_keys = ("lightgbm", "logreg", "tabnet")


class VolatileEnsemble(BaseEnsemble):
    regime = "volatile"
    model_keys = ("lightgbm", "logreg")


ENSEMBLES: dict[str, type[BaseEnsemble]] = {
    cls.regime: cls for cls in (BullTrendEnsemble, BearTrendEnsemble, SidewaysRangeEnsemble, VolatileEnsemble)
}
