"""Metric records: ``SplitMetrics``, ``MetricsBySplit``, ``TrainValGap`` and the checks of gaps and of the verdict
against the best baseline."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..metrics import GAP_DEFINITION, train_val_gap
from .base import GAP_TOLERANCE, MSG_GAP_MISMATCH, Record, _finite


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
    """The same model's fit rows against its own validation block: per fold ``log_loss`` = validation − fit
    and ``accuracy`` = fit − validation (positive = overfitting), averaged over the folds (``folds`` holds each
    fold's pair). Without ``folds`` (older results) the gap is between the train and validation metrics."""

    log_loss: float
    accuracy: float
    definition: str = GAP_DEFINITION
    folds: list[dict[str, float]] = field(default_factory=list)

    @classmethod
    def between(cls, train: SplitMetrics, validation: SplitMetrics) -> TrainValGap:
        return cls(**train_val_gap(train.to_dict(), validation.to_dict()))

    @classmethod
    def averaged(cls, folds: list[dict[str, float]]) -> TrainValGap:
        """``folds``: per fold ``{"log_loss": validation − fit, "accuracy": fit − validation}``."""
        return cls(
            log_loss=float(sum(f["log_loss"] for f in folds) / len(folds)),
            accuracy=float(sum(f["accuracy"] for f in folds) / len(folds)),
            folds=[dict(f) for f in folds],
        )

    def problems(self, where: str) -> list[str]:
        return [
            f"{where}.{n} must be a finite number" for n in ("log_loss", "accuracy") if not _finite(getattr(self, n))
        ]


def _gap_problems(where: str, metrics: MetricsBySplit, gap: TrainValGap | None) -> list[str]:
    if gap is None:
        return []
    if gap.folds:
        expected = TrainValGap.averaged(gap.folds)
    elif metrics.train is None or metrics.validation is None:
        return []
    else:
        expected = TrainValGap.between(metrics.train, metrics.validation)
    if not (
        math.isclose(gap.log_loss, expected.log_loss, abs_tol=GAP_TOLERANCE)
        and math.isclose(gap.accuracy, expected.accuracy, abs_tol=GAP_TOLERANCE)
    ):
        return [MSG_GAP_MISMATCH.format(where=where)]
    return []
