"""The contract every model backend fulfils, and what it declares beside its code.

A backend class declares ``key``, its profile ``section`` (``training.ml.parameters.Section``), its
``framework`` (seeding and the library versions recorded with a run), ``input_kind``, ``tuned_by_optuna`` and
``preset_params`` (its constructor params per preset), and registers with ``@register``
(``training.ml.backends.registry``). It also owns what its numbers mean: ``evidence_fields`` maps its evidence
keys to the generic fields (``training.ml.backends.evidence``), ``measured_warnings`` are the warnings its
measurements give, ``test_params`` train it in seconds for the tests, ``default_overrides`` (with
``default_reason``) are the default profile's values for its section.

The base class owns what every backend does alike: fit timing (``start_fit`` and ``timing``), the saved
metadata beside the model (``save`` / ``load`` write and read it; a leaf writes its library's own file in
``save_model`` / ``load_model`` and names the attributes to keep in ``saved_state``) and the Optuna hooks of a
tuned backend (``create_study``, ``persist_study``). A leaf backend is its library mapping and ``fit``.

A backend is constructed with its section of the resolved regularization config (e.g.
``config["lightgbm"]``) plus preset parameters, a seed and two callables; ``__init__`` only stores.
``library_kwargs()`` is generated from the section's declarations (each parameter's ``library_arg``) plus the
class's ``library_constants``. ``fit`` trains on time-ordered numpy arrays (the validation part comes strictly
after the training part) and ``predict_proba`` returns an ``(n, 3)`` array for the classes down=0, flat=1, up=2.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..jsonable import jsonable
from ..optuna_storage import study_persist_soon
from ..parameters import Section
from .evidence import GENERIC_FIELDS, MSG_UNDECLARED_KEY, MSG_UNKNOWN_FIELD, Evidence, MeasuredWarning, generic_fields

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
    history_unit: ClassVar[str] = "epoch"  # what one step of ``history`` is (the learning-curve chart's x axis)
    evidence_fields: ClassVar[dict[str, str]] = {}  # generic field (evidence.GENERIC_FIELDS) -> own evidence key
    evidence_type: ClassVar[type[Evidence]] = Evidence  # the record of its evidence (its keys as fields)
    measured_warnings: ClassVar[tuple[MeasuredWarning, ...]] = ()  # the evidence report's warnings for this model
    test_params: ClassVar[dict] = {}  # constructor params that train it on a few hundred rows in seconds (tests)
    default_overrides: ClassVar[dict[str, float]] = {}  # the default profile's values for its section
    default_reason: ClassVar[str] = ""  # why (one sentence, measured), for the default profile's description
    saved_state: ClassVar[dict[str, str]] = {}  # saved-metadata key -> attribute, written by save, set by load
    # settings a sweep can hold for this backend (``lightgbm.early_stopping=off``): setting -> word -> the params
    # the backend then receives (``training.services.sweep_holds``)
    holds: ClassVar[dict[str, dict[str, dict]]] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "section" in cls.__dict__:
            cls.config_section = cls.section.key
        unknown = set(cls.evidence_fields) - set(GENERIC_FIELDS)
        if unknown:
            raise ValueError(
                MSG_UNKNOWN_FIELD.format(backend=cls.__qualname__, field=min(unknown), known=", ".join(GENERIC_FIELDS))
            )
        cls._declare_evidence()

    @classmethod
    def _declare_evidence(cls) -> None:
        """Give the evidence record this backend's generic mapping; every key the mapping names must be a field."""
        if "evidence_type" in cls.__dict__:
            cls.evidence_type.generic = dict(cls.evidence_fields)
        elif "evidence_fields" in cls.__dict__ and cls.evidence_type.generic != cls.evidence_fields:
            name = f"{cls.__name__}Evidence"
            cls.evidence_type = type(name, (cls.evidence_type,), {"generic": dict(cls.evidence_fields)})
        declared = cls.evidence_type.declared()
        for generic, key in cls.evidence_fields.items():
            if declared and key not in declared:
                evidence = cls.evidence_type.__name__
                raise ValueError(
                    MSG_UNDECLARED_KEY.format(backend=cls.__qualname__, field=generic, key=key, evidence=evidence)
                )

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
        # the probabilities of the rows it was fitted on, when its fit computed them (Keras: for its evidence), so
        # the walk-forward does not predict them again; None: not computed
        self.fit_rows_proba: np.ndarray | None = None

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
        """Regularization evidence measured on the fitted model (zero-coefficient share, penalty share…), at the
        keys its ``evidence_type`` declares."""
        return {}

    def feature_importance(self) -> list[float] | None:
        return None

    def save_model(self, directory: Path) -> list[str]:
        """Write the fitted library model in its native format under ``directory``; return the file names."""
        raise NotImplementedError

    def load_model(self, directory: Path):
        """The library model read back from what ``save_model`` wrote (the metadata is already restored)."""
        raise NotImplementedError

    # --- what the evidence means ----------------------------------------------------------------------
    def evidence_record(self) -> Evidence:
        """The evidence measured on the fitted model as its typed record (an undeclared key raises)."""
        return self.evidence_type.measured(self.evidence())

    @classmethod
    def generic_evidence(cls, evidence: Evidence | dict) -> dict[str, float]:
        """The generic fields of this backend's evidence (``penalty_share``, ``zero_share``, ``best_iteration``)."""
        if isinstance(evidence, Evidence):
            return evidence.generic_fields()
        return generic_fields(cls.evidence_fields, evidence or {})

    @classmethod
    def warnings_for(cls, where: str, evidence: Evidence | dict) -> list[str]:
        """The declared measured warnings that this model's evidence gives, in words."""
        own = evidence.to_dict() if isinstance(evidence, Evidence) else (evidence or {})
        facts = {**own, **cls.generic_evidence(evidence)}
        return [message for rule in cls.measured_warnings if (message := rule.check(where, facts))]

    # --- shared: fit timing ---------------------------------------------------------------------------
    def start_fit(self, where: str = "before training") -> None:
        """The first line of every ``fit``: a cancelled run stops here, and the timing starts from zero."""
        self.check_stop(where)
        self.fit_seconds = 0.0

    @contextmanager
    def timing(self):
        """Add the wall time of the block (the library's own fit call) to ``fit_seconds``, also when it raises
        (a pruned Optuna trial leaves ``lightgbm.train`` by exception; its time still counts)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.fit_seconds += time.perf_counter() - started

    # --- shared: saving and loading ---------------------------------------------------------------------
    def save(self, directory) -> list[str]:
        """The library's model files and this backend's metadata (``<key>.json``); returns the file names."""
        Path(directory).mkdir(parents=True, exist_ok=True)
        files = self.save_model(Path(directory))
        state = {name: getattr(self, attr, None) for name, attr in self.saved_state.items()}
        return [*files, self._write_meta(directory, state)]

    @classmethod
    def load(cls, directory, reg: dict, params: dict | None = None) -> Backend:
        backend, meta = cls._from_meta(directory, reg, params)
        for name, attr in cls.saved_state.items():
            if name in meta:
                setattr(backend, attr, meta[name])
        backend.model = backend.load_model(Path(directory))
        return backend

    # --- shared: tuning hooks (backends with ``tuned_by_optuna``) ---------------------------------------
    def startup_trials(self) -> int:
        """TPE's random start-up trials: ``startup_trials`` capped at a third of ``n_trials`` (at least 1)."""
        n_trials = int(self.param("n_trials", 20))
        cap = max(1, n_trials // 3)
        return max(1, min(int(self.param("startup_trials", cap)), cap))

    def create_study(self):
        """An in-memory minimizing study, its TPE sampler seeded with the backend's seed, a median pruner."""
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        return optuna.create_study(
            direction="minimize",
            study_name=self.params.get("study_name"),
            sampler=optuna.samplers.TPESampler(seed=int(self.seed), n_startup_trials=self.startup_trials()),
            pruner=optuna.pruners.MedianPruner(
                n_startup_trials=int(self.param("pruner_startup_trials", 2)),
                n_warmup_steps=int(self.param("pruner_warmup_steps", 10)),
            ),
        )

    def persist_study(self, study) -> None:
        """Write the tuned study once to ``optuna_storage`` (when given): in the background inside a run's regime
        (``optuna_storage.study_writes``), else now; ``stored_study`` names it once written."""
        url = self.params.get("optuna_storage")
        self._study_write = None
        if not url:
            return
        attrs = dict(self.params.get("study_user_attrs") or {})
        self._study_write = (
            study.study_name,
            study_persist_soon(study, url=url, name=study.study_name, user_attrs=attrs),
        )

    @property
    def stored_study(self) -> dict | None:
        """{"name", "id"} of the stored study (waits for its write); None without a storage."""
        write = getattr(self, "_study_write", None)
        if write is None:
            return None
        name, future = write
        return {"name": name, "id": int(future.result())}

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
