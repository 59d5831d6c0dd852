"""The contract every model backend fulfils, and what it declares beside its code.

A backend class declares ``key``, its profile ``section`` (``training.ml.parameters.Section``), its
``framework`` (seeding and the library versions recorded with a run), ``input_kind``, ``tuned_by_optuna`` and
``preset_params`` (its constructor params per preset), and registers with ``@register``
(``training.ml.backends.registry``).

A backend is constructed with its section of the resolved regularization config (e.g.
``config["lightgbm"]``) plus preset parameters, a seed and two callables; ``__init__`` only stores.
``library_kwargs()`` is generated from the section's declarations (each parameter's ``library_arg``) plus the
class's ``library_constants``. ``fit`` trains on time-ordered numpy arrays (the validation part comes strictly
after the training part) and ``predict_proba`` returns an ``(n, 3)`` array for the classes down=0, flat=1, up=2.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..jsonable import jsonable
from ..parameters import Section

N_CLASSES = 3


@dataclass(frozen=True)
class Framework:
    """A library family: the distributions whose versions a run records, how to seed it (or None), the modules a
    warm worker imports ahead of a run and how (``load``; None imports ``modules`` in order)."""

    name: str
    libraries: tuple[str, ...]
    seed: Callable[[int], None] | None = None
    modules: tuple[str, ...] = ()
    load: Callable[[], None] | None = None


class BackendNotFitted(RuntimeError):
    pass


class Backend:
    key: ClassVar[str]  # registry key, e.g. "lightgbm", "lstm"
    section: ClassVar[Section]  # its profile section; LSTM and Transformer share "tensorflow"
    config_section: ClassVar[str]  # = section.key, set for every subclass that declares a section
    framework: ClassVar[Framework]
    input_kind: ClassVar[str] = "tabular"  # "tabular": X is (n, f); "sequence": X is (n, lookback, f)
    tuned_by_optuna: ClassVar[bool] = False  # gets an Optuna storage and a study name per regime and fold
    library_constants: ClassVar[dict] = {}  # fixed library kwargs beside the regularization (e.g. solver)
    preset_params: ClassVar[dict[str, dict]] = {}  # preset name -> constructor params
    # evidence keys that measure what the penalties did (zero-leaf / zero-coefficient / penalty share), and those
    # that disclose another regularizing mechanism at work (early stopping's best iteration or epoch)
    effect_evidence: ClassVar[tuple[str, ...]] = ()
    mechanism_evidence: ClassVar[tuple[str, ...]] = ()
    advice: ClassVar[tuple] = ()  # ``training.ml.advisor.AdviceRule``s read from the facts of a trained model
    # settings a sweep can hold for this backend (``lightgbm.early_stopping=off``): setting -> word -> the params
    # the backend then receives (``training.services.sweep_holds``)
    holds: ClassVar[dict[str, dict[str, dict]]] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "section" in cls.__dict__:
            cls.config_section = cls.section.key

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
        """The regularization section at the library's own argument names (generated from the declarations),
        with the class's ``library_constants``; no fitting, no imports."""
        return {**self.library_constants, **self.section.library_kwargs(self.reg)}

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
        (Path(directory) / name).write_text(json.dumps(jsonable(meta), indent=2, sort_keys=True))
        return name

    @classmethod
    def _from_meta(cls, directory, reg: dict, params: dict | None) -> tuple[Backend, dict]:
        meta = json.loads((Path(directory) / f"{cls.key}.json").read_text())
        backend = cls(reg, params=meta["params"] if params is None else params, seed=meta["seed"])
        backend.library_params = meta["library_params"]
        backend.history = meta["history"]
        backend.fit_seconds = meta["fit_seconds"]
        return backend, meta


def expand_proba(proba: np.ndarray, classes) -> np.ndarray:
    """Place a library's per-class columns (for the classes it saw in training) into the fixed 3 columns."""
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 1:  # binary boosters return P(second class) only
        proba = np.column_stack([1.0 - proba, proba])
    out = np.zeros((proba.shape[0], N_CLASSES), dtype=np.float64)
    for column, label in enumerate(classes):
        out[:, int(label)] = proba[:, column]
    return out
