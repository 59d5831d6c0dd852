"""The contract every model backend fulfils.

A backend is constructed with its section of the resolved regularization config (e.g.
``config["lightgbm"]``) plus preset parameters, a seed and two callables; ``__init__`` only stores.
``fit`` trains on time-ordered numpy arrays (the validation part comes strictly after the training part)
and ``predict_proba`` returns an ``(n, 3)`` array for the classes down=0, flat=1, up=2.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np

N_CLASSES = 3


class BackendNotFitted(RuntimeError):
    pass


class Backend:
    key: ClassVar[str]  # registry key, e.g. "lightgbm", "lstm"
    config_section: ClassVar[str]  # section of the resolved config: lightgbm / tensorflow / sklearn / tabnet
    input_kind: ClassVar[str] = "tabular"  # "tabular": X is (n, f); "sequence": X is (n, lookback, f)

    def __init__(
        self,
        reg: dict,
        *,
        params: dict | None = None,
        seed: int = 42,
        should_stop: Callable[[], bool] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.reg = dict(reg)
        self.params = dict(params or {})
        self.seed = seed
        self.should_stop = should_stop or (lambda: False)
        self.log = log or (lambda message: None)
        self.model = None
        self.history: dict[str, list[float]] = {}  # per-epoch "train_loss" / "val_loss" where the library has epochs
        self.fit_seconds: float = 0.0  # wall time inside the library's own fit call(s)
        self.library_params: dict = {}  # exactly what was passed to the library, regularization included

    # --- to implement -------------------------------------------------------------------------------
    def library_kwargs(self) -> dict:
        """The regularization section mapped to the library's own argument names (no fitting, no imports)."""
        raise NotImplementedError

    def fit(
        self, X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, sample_weight=None
    ) -> Backend:
        """``sample_weight`` (optional, one per training row) weighs the training rows where the library can."""
        raise NotImplementedError

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def evidence(self) -> dict:
        """Regularization evidence measured on the fitted model (zero-coefficient share, penalty share…)."""
        return {}

    def feature_importance(self) -> list[float] | None:
        return None

    def save(self, directory) -> list[str]:
        """Write the fitted model in the library's native format under ``directory``; return file names."""
        raise NotImplementedError

    @classmethod
    def load(cls, directory, reg: dict, params: dict | None = None) -> Backend:
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------------------------
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if self.model is None:
            raise BackendNotFitted(f"{self.key}: predict_proba called before fit (or load).")
        return self._predict_proba(X)

    def check_stop(self, where: str) -> None:
        if self.should_stop():
            from training.ml.errors import TrainingCancelled

            raise TrainingCancelled(f"{self.key}: cancelled {where}.")

    def param(self, name: str, default):
        value = self.params.get(name)
        return default if value is None else value

    def _write_meta(self, directory, extra: dict | None = None) -> str:
        name = f"{self.key}.json"
        meta = {
            "key": self.key,
            "seed": self.seed,
            "reg": self.reg,
            "params": self.params,
            "library_params": self.library_params,
            "history": self.history,
            "fit_seconds": self.fit_seconds,
            **(extra or {}),
        }
        Path(directory).mkdir(parents=True, exist_ok=True)
        (Path(directory) / name).write_text(json.dumps(meta, indent=2, sort_keys=True, default=_json_default))
        return name

    @classmethod
    def _from_meta(cls, directory, reg: dict, params: dict | None) -> tuple[Backend, dict]:
        meta = json.loads((Path(directory) / f"{cls.key}.json").read_text())
        backend = cls(reg, params=meta["params"] if params is None else params, seed=meta["seed"])
        backend.library_params = meta["library_params"]
        backend.history = meta["history"]
        backend.fit_seconds = meta["fit_seconds"]
        return backend, meta

    def describe(self) -> dict:
        return {
            "key": self.key,
            "config_section": self.config_section,
            "regularization": self.reg,
            "library_params": self.library_params,
        }


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    raise TypeError(f"Not JSON serializable: {type(value).__name__}")


def expand_proba(proba: np.ndarray, classes) -> np.ndarray:
    """Place a library's per-class columns (for the classes it saw in training) into the fixed 3 columns."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 1:  # binary boosters return P(second class) only
        proba = np.column_stack([1.0 - proba, proba])
    out = np.zeros((proba.shape[0], N_CLASSES), dtype=np.float64)
    for column, label in enumerate(classes):
        out[:, int(label)] = proba[:, column]
    return out


_REGISTRY: dict[str, str] = {}


def register(key: str, dotted_path: str) -> None:
    _REGISTRY[key] = dotted_path


def registered_backends() -> list[str]:
    return list(_REGISTRY)


def get_backend(key: str) -> type[Backend]:
    try:
        module_name, class_name = _REGISTRY[key].rsplit(".", 1)
    except KeyError:
        raise KeyError(f"Unknown backend {key!r}; known backends: {', '.join(sorted(_REGISTRY))}") from None
    return getattr(importlib.import_module(module_name), class_name)


register("lightgbm", "training.ml.backends.lightgbm_backend.LightGBMBackend")
register("lstm", "training.ml.backends.keras_backend.LSTMBackend")
register("transformer", "training.ml.backends.keras_backend.TransformerBackend")
register("logreg", "training.ml.backends.sklearn_backend.ElasticNetLogRegBackend")
register("tabnet", "training.ml.backends.tabnet_backend.TabNetBackend")
