"""The run result as typed records: what the manager builds, validates and returns as the dict that is stored.

``RunResult`` → per regime a ``RegimeResult`` → per base model a ``ModelResult`` and the stacked
``EnsembleResult``, each with ``MetricsBySplit`` (``SplitMetrics`` for train / validation / test) and a
``TrainValGap``; ``Baselines`` per regime; ``Timings`` for the run. ``to_dict()`` gives the JSON the run page,
``run.json`` and compare read (the keys are the field names); ``from_dict()`` reads it back and ``validate()``
raises ``ResultInvalid`` listing every problem. A field added with a default (``collapsed: bool | None = None``)
is optional: older stored results without it still load.
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from .errors import TrainingError
from .metrics import GAP_DEFINITION

TRAINED, SKIPPED = "trained", "skipped"
SPLIT_NAMES = ("train", "validation", "test")
GAP_TOLERANCE = 1e-9
MSG_RESULT_INVALID = "The run result is invalid: {problems}"
MSG_UNKNOWN_KEYS = "{where}: unknown keys {keys}"
MSG_MISSING_KEYS = "{where}: missing keys {keys}"


class ResultInvalid(TrainingError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(MSG_RESULT_INVALID.format(problems="; ".join(problems)))


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _dump(value):
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_dump(v) for v in value]
    return value


def _load(tp, value, where: str):
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        tp = next(arg for arg in typing.get_args(tp) if arg is not type(None))
        origin = typing.get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, Record):
        return tp.from_dict(value, where=where)
    if origin is dict:
        _, item = typing.get_args(tp)
        return {k: _load(item, v, f"{where}.{k}") for k, v in value.items()}
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_load(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


class Record:
    """A dataclass of the result: to_dict / from_dict over its fields, and validate() collecting problems."""

    def to_dict(self) -> dict:
        return {f.name: _dump(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict, *, where: str | None = None):
        where = where or cls.__name__
        hints = typing.get_type_hints(cls)
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ResultInvalid([MSG_UNKNOWN_KEYS.format(where=where, keys=sorted(unknown))])
        required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
        missing = required - set(data)
        if missing:
            raise ResultInvalid([MSG_MISSING_KEYS.format(where=where, keys=sorted(missing))])
        return cls(**{k: _load(hints[k], v, f"{where}.{k}") for k, v in data.items()})

    def problems(self, where: str) -> list[str]:
        """This record's own problems; ``validate`` adds those of every nested record."""
        return []

    def all_problems(self, where: str | None = None) -> list[str]:
        where = where or type(self).__name__
        found = list(self.problems(where))
        for f in fields(self):
            found += _nested_problems(getattr(self, f.name), f"{where}.{f.name}")
        return found

    def validate(self):
        found = self.all_problems()
        if found:
            raise ResultInvalid(found)
        return self


def _nested_problems(value, where: str) -> list[str]:
    if isinstance(value, Record):
        return value.all_problems(where)
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nested_problems(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nested_problems(v, f"{where}[{i}]")]
    return []


@dataclass
class SplitMetrics(Record):
    n: int
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    log_loss: float
    confusion_matrix: list[list[int]]

    def problems(self, where: str) -> list[str]:
        found = []
        for name in ("accuracy", "balanced_accuracy", "macro_f1"):
            value = getattr(self, name)
            if not _finite(value) or not 0.0 <= value <= 1.0:
                found.append(f"{where}.{name} must be in [0, 1]; got {value!r}")
        if not _finite(self.log_loss) or self.log_loss < 0:
            found.append(f"{where}.log_loss must be a finite number >= 0; got {self.log_loss!r}")
        if sum(map(sum, self.confusion_matrix)) != self.n:
            found.append(f"{where}.confusion_matrix counts {sum(map(sum, self.confusion_matrix))} rows, n = {self.n}")
        return found


@dataclass
class MetricsBySplit(Record):
    train: SplitMetrics | None = None
    validation: SplitMetrics | None = None
    test: SplitMetrics | None = None

    def get(self, split: str) -> SplitMetrics | None:
        return getattr(self, split)


@dataclass
class TrainValGap(Record):
    """``log_loss``: validation − train; ``accuracy``: train − validation (positive = overfitting)."""

    log_loss: float
    accuracy: float
    definition: str = GAP_DEFINITION

    @classmethod
    def between(cls, train: SplitMetrics, validation: SplitMetrics) -> TrainValGap:
        return cls(log_loss=validation.log_loss - train.log_loss, accuracy=train.accuracy - validation.accuracy)

    def problems(self, where: str) -> list[str]:
        return [
            f"{where}.{n} must be a finite number" for n in ("log_loss", "accuracy") if not _finite(getattr(self, n))
        ]


def _gap_problems(where: str, metrics: MetricsBySplit, gap: TrainValGap | None) -> list[str]:
    if gap is None or metrics.train is None or metrics.validation is None:
        return []
    expected = TrainValGap.between(metrics.train, metrics.validation)
    if not (
        math.isclose(gap.log_loss, expected.log_loss, abs_tol=GAP_TOLERANCE)
        and math.isclose(gap.accuracy, expected.accuracy, abs_tol=GAP_TOLERANCE)
    ):
        return [f"{where}.train_val_gap does not match its train and validation metrics"]
    return []


@dataclass
class ModelResult(Record):
    metrics: MetricsBySplit
    train_val_gap: TrainValGap
    fit_seconds: float
    input_kind: str
    evidence: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)
    best_params: dict[str, Any] = field(default_factory=dict)
    feature_importance: dict[str, float] = field(default_factory=dict)

    def problems(self, where: str) -> list[str]:
        found = [f"{where}.metrics.{s} is missing" for s in SPLIT_NAMES if self.metrics.get(s) is None]
        if not _finite(self.fit_seconds) or self.fit_seconds < 0:
            found.append(f"{where}.fit_seconds must be >= 0; got {self.fit_seconds!r}")
        return found + _gap_problems(where, self.metrics, self.train_val_gap)


@dataclass
class CombinerCandidate(Record):
    """A candidate combiner: its held-out validation log loss, the parameters/weights it was fitted to, the
    loss of every grid setting tried, and its bootstrap difference to the lowest-loss candidate."""

    validation_log_loss: float
    params: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    grid: list[dict[str, Any]] = field(default_factory=list)
    vs_lowest: dict[str, Any] | None = None


@dataclass
class ReliabilityBin(Record):
    lower: float
    upper: float
    count: int
    confidence: float | None = None
    accuracy: float | None = None


@dataclass
class CalibrationPart(Record):
    rows: int
    ece_before: float
    ece_after: float
    reliability_before: list[ReliabilityBin] = field(default_factory=list)
    reliability_after: list[ReliabilityBin] = field(default_factory=list)


@dataclass
class CalibrationResult(Record):
    method: str
    parameter: dict[str, float]
    fitted_on: str
    n_bins: int
    validation: CalibrationPart
    test: CalibrationPart
    check: dict[str, Any] = field(default_factory=dict)


@dataclass
class VsBestMember(Record):
    """Test log-loss difference ensemble − best member (by validation), moving-block bootstrap interval."""

    member: str
    difference: float
    ci95_low: float
    ci95_high: float
    verdict: str

    def problems(self, where: str) -> list[str]:
        if not all(_finite(getattr(self, n)) for n in ("difference", "ci95_low", "ci95_high")):
            return [f"{where}: difference and interval must be finite numbers"]
        return [] if self.ci95_low <= self.ci95_high else [f"{where}: ci95_low is above ci95_high"]


@dataclass
class EnsembleResult(Record):
    metrics: MetricsBySplit
    train_val_gap: TrainValGap | None
    fit_seconds: float
    meta_learner: dict[str, Any] = field(default_factory=dict)  # runs before the combiner choice
    notes: list[str] = field(default_factory=list)
    combiner: str | None = None
    combiner_label: str | None = None
    combiner_params: dict[str, Any] = field(default_factory=dict)
    combiner_weights: dict[str, float] = field(default_factory=dict)
    candidates: dict[str, CombinerCandidate] = field(default_factory=dict)
    combiner_rule: dict[str, Any] = field(default_factory=dict)
    calibration: CalibrationResult | None = None
    vs_best_member: VsBestMember | None = None

    def problems(self, where: str) -> list[str]:
        found = [f"{where}.metrics.{s} is missing" for s in ("train", "test") if self.metrics.get(s) is None]
        if self.combiner and "best_single" in self.candidates:
            chosen = self.candidates[self.combiner].validation_log_loss
            if chosen > self.candidates["best_single"].validation_log_loss + GAP_TOLERANCE:
                found.append(f"{where}: combiner {self.combiner} has a worse validation log loss than best_single")
        return found + _gap_problems(where, self.metrics, self.train_val_gap)


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

    @classmethod
    def skipped(cls, reason: str, rows: int, notes: list[str] | None = None) -> RegimeResult:
        return cls(status=SKIPPED, reason=reason, rows=int(rows), notes=list(notes or []))

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


@dataclass
class Timings(Record):
    stages: dict[str, float]
    fit_seconds_total: float
    wall_seconds: float

    def problems(self, where: str) -> list[str]:
        values = [self.fit_seconds_total, self.wall_seconds, *self.stages.values()]
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

    def trained_regimes(self) -> list[str]:
        return [regime for regime, section in self.ensembles.items() if section.trained]
