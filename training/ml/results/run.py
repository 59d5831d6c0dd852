"""The records of a run: per base model ``ModelResult``, the ``EnsembleResult``, ``Baselines``, the split, per
regime ``RegimeResult`` and the ``RunResult``."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from .base import GAP_TOLERANCE, SKIPPED, SPLIT_NAMES, TRAINED, Record, _finite
from .combination import CalibrationResult, CombinerCandidate, VsBestMember
from .evidence import Evidence
from .metrics import MetricsBySplit, SplitMetrics, TrainValGap, _gap_problems
from .trading import TradingResult
from .verdict import Verdict


def evidence_type(key: str) -> type[Evidence]:
    """The evidence record of the backend ``key`` (``Backend.evidence_type``); the plain ``Evidence`` for a key no
    backend registers (a result stored by a backend since removed)."""
    from ..backends.registry import get_backend

    try:
        return get_backend(key).evidence_type
    except KeyError:
        return Evidence


@dataclass
class ModelResult(Record):
    metrics: MetricsBySplit
    train_val_gap: TrainValGap
    fit_seconds: float
    input_kind: str
    evidence: Evidence = field(default_factory=Evidence)
    history: dict[str, list[float]] = field(default_factory=dict)
    best_params: dict[str, Any] = field(default_factory=dict)
    feature_importance: dict[str, float] = field(default_factory=dict)
    collapsed: bool | None = None
    spread: dict[str, Any] = field(default_factory=dict)
    vs_baseline: Verdict | None = None
    test_spread: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict, *, where: str | None = None, evidence: type[Evidence] = Evidence):
        """``evidence``: the record the model's backend declares for its evidence (``evidence_type``)."""
        where = where or cls.__name__
        model = super().from_dict({k: v for k, v in data.items() if k != "evidence"}, where=where)
        model.evidence = evidence.from_dict(data.get("evidence") or {}, where=f"{where}.evidence")
        return model

    def problems(self, where: str) -> list[str]:
        found = [f"{where}.metrics.{s} is missing" for s in SPLIT_NAMES if self.metrics.get(s) is None]
        if not _finite(self.fit_seconds) or self.fit_seconds < 0:
            found.append(f"{where}.fit_seconds must be >= 0; got {self.fit_seconds!r}")
        return (
            found
            + _gap_problems(where, self.metrics, self.train_val_gap)
            + (self.vs_baseline.mismatch(where) if self.vs_baseline else [])
        )


@dataclass
class EnsembleResult(Record):
    metrics: MetricsBySplit
    train_val_gap: TrainValGap | None
    fit_seconds: float
    meta_learner: dict[str, Any] = field(default_factory=dict)  # runs before the combiner choice
    notes: list[str] = field(default_factory=list)
    collapsed: bool | None = None
    spread: dict[str, Any] = field(default_factory=dict)
    vs_baseline: Verdict | None = None
    combiner: str | None = None
    combiner_label: str | None = None
    combiner_params: dict[str, Any] = field(default_factory=dict)
    combiner_weights: dict[str, float] = field(default_factory=dict)
    candidates: dict[str, CombinerCandidate] = field(default_factory=dict)
    combiner_rule: dict[str, Any] = field(default_factory=dict)
    calibration: CalibrationResult | None = None
    vs_best_member: VsBestMember | None = None
    test_spread: dict[str, Any] = field(default_factory=dict)

    def problems(self, where: str) -> list[str]:
        found = [f"{where}.metrics.{s} is missing" for s in ("train", "test") if self.metrics.get(s) is None]
        if self.combiner and "best_single" in self.candidates:
            chosen = self.candidates[self.combiner].validation_log_loss
            if chosen > self.candidates["best_single"].validation_log_loss + GAP_TOLERANCE:
                found.append(f"{where}: combiner {self.combiner} has a worse validation log loss than best_single")
        return (
            found
            + _gap_problems(where, self.metrics, self.train_val_gap)
            + (self.vs_baseline.mismatch(where) if self.vs_baseline else [])
        )


@dataclass
class BaselineResult(Record):
    validation: SplitMetrics
    test: SplitMetrics

    def get(self, split: str) -> SplitMetrics | None:
        return getattr(self, split, None)


@dataclass
class Baselines(Record):
    majority: BaselineResult
    persistence: BaselineResult
    definitions: dict[str, str] = field(default_factory=dict)
    uniform: BaselineResult | None = None  # results stored before the uniform baseline have none

    def scores(self) -> dict[str, BaselineResult]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), BaselineResult)
        }


@dataclass
class FoldSizes(Record):
    train: int
    fit: int
    early_stopping: int
    validation: int


@dataclass
class SplitInfo(Record):
    folds: list[FoldSizes]
    test: int
    purge_gap: int


@dataclass
class RegimeResult(Record):
    status: str
    reason: str
    rows: int
    notes: list[str] = field(default_factory=list)
    models: dict[str, ModelResult] = field(default_factory=dict)
    ensemble: EnsembleResult | None = None
    baselines: Baselines | None = None
    split: SplitInfo | None = None
    feature_names: list[str] = field(default_factory=list)
    worker: str = ""  # node name of the worker that trained this regime, when a run was spread over workers
    comparison: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def skipped(cls, reason: str, rows: int, notes: list[str] | None = None) -> RegimeResult:
        return cls(status=SKIPPED, reason=reason, rows=int(rows), notes=list(notes or []))

    @classmethod
    def from_dict(cls, data: dict, *, where: str | None = None):
        """Each model's evidence is read as the record its backend declares (the models are keyed by backend)."""
        where = where or cls.__name__
        section = super().from_dict({k: v for k, v in data.items() if k != "models"}, where=where)
        section.models = {
            key: ModelResult.from_dict(model, where=f"{where}.models.{key}", evidence=evidence_type(key))
            for key, model in (data.get("models") or {}).items()
        }
        return section

    @property
    def trained(self) -> bool:
        return self.status == TRAINED

    def problems(self, where: str) -> list[str]:
        if self.status == SKIPPED:
            return [f"{where}: a skipped regime needs a reason"] if not self.reason else []
        if self.status != TRAINED:
            return [f"{where}.status must be {TRAINED!r} or {SKIPPED!r}; got {self.status!r}"]
        return [
            f"{where}: a trained regime needs {name}"
            for name in ("models", "ensemble", "baselines", "split", "feature_names")
            if not getattr(self, name)
        ]


@dataclass
class DataSummary(Record):
    rows: int
    labeled_rows: int
    first_open_time: str
    last_open_time: str
    label_distribution: dict[str, Any] = field(default_factory=dict)
    gaps: dict[str, Any] = field(default_factory=dict)


@dataclass
class Timings(Record):
    """``imports``: seconds this run spent importing each framework it uses (none when its worker had imported
    them already); ``preloaded``: the frameworks already imported when the run started (a warm worker)."""

    stages: dict[str, float]
    fit_seconds_total: float
    wall_seconds: float
    imports: dict[str, float] = field(default_factory=dict)
    preloaded: list[str] = field(default_factory=list)

    def problems(self, where: str) -> list[str]:
        values = [self.fit_seconds_total, self.wall_seconds, *self.stages.values(), *self.imports.values()]
        return (
            [f"{where}: every duration must be a finite number >= 0"]
            if not all(_finite(v) and v >= 0 for v in values)
            else []
        )


@dataclass
class RunResult(Record):
    symbol: str
    exchange: str
    interval: str
    preset: str
    seed: int
    data: DataSummary
    regularization: dict[str, Any]
    features: list[str]
    feature_descriptions: dict[str, str]
    labels: dict[str, Any]
    regimes: dict[str, Any]
    regime_series: dict[str, list]
    ensembles: dict[str, RegimeResult]
    plots: list[str] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)
    library_versions: dict[str, str | None] = field(default_factory=dict)
    timings: Timings | None = None
    trading: TradingResult | None = None  # the system's trading evidence (``training.ml.trading``)

    def trained_regimes(self) -> list[str]:
        return [regime for regime, section in self.ensembles.items() if section.trained]
