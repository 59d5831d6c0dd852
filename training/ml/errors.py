"""Exceptions raised by the training engine (plain Python, no Django)."""
from __future__ import annotations


class TrainingError(Exception):
    """Base class; a failing model's message names the regime and the model."""


class TrainingCancelled(TrainingError):
    """``should_stop()`` returned True between trials, epochs or models."""


class RegularizationInvalid(TrainingError):
    def __init__(self, report: dict) -> None:
        self.report = report
        errors = report.get("errors") or []
        super().__init__("Regularization settings are invalid: " + ("; ".join(map(str, errors)) or "see report"))


class DataError(TrainingError):
    """Too little data, a constant column, a single class: the message says which."""
