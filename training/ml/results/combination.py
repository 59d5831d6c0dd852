"""Records of a regime's combination: the candidate combiners, the calibration and the verdict against the best
member."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .base import Record, _finite


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
    p_value: float | None = None

    def problems(self, where: str) -> list[str]:
        if not all(_finite(getattr(self, n)) for n in ("difference", "ci95_low", "ci95_high")):
            return [f"{where}: difference and interval must be finite numbers"]
        return [] if self.ci95_low <= self.ci95_high else [f"{where}: ci95_low is above ci95_high"]
