"""Exceptions raised by the training engine."""

from __future__ import annotations


class TrainingError(Exception):
    """A run failed. Raised by the engine with a message that names the regime and the model."""


class TrainingCancelled(TrainingError):
    """``should_stop()`` returned true; the run stopped between models, epochs or trials."""


class RegularizationInvalid(TrainingError):
    """The resolved regularization config has errors; nothing was trained. ``report`` is the full report."""

    def __init__(self, report: dict) -> None:
        self.report = report
        errors = report.get("errors") or []
        super().__init__("Invalid regularization: " + "; ".join(errors))


class DataError(TrainingError):
    """The candles cannot be used (too few rows, missing columns, constant prices…)."""
