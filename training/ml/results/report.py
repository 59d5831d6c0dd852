"""The regularization report as typed records: what ``regularization.regularization_report`` builds from a
resolved config (per base value and per backend parameter: the value, where it came from, its range, a status and
its message) and what a run stores (with the warnings measured after training, ``measured_warnings``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .base import Record

OK, WARNING = "ok", "warning"


@dataclass
class BaseRow(Record):
    """One base value (``l1_alpha`` …): its value, range, status and message."""

    name: str
    value: float | None
    range: str
    status: str
    message: str


@dataclass
class ParamRow(Record):
    """One backend parameter: its value, where it came from (base, default or override), how the library applies it."""

    name: str
    value: float | None
    source: str
    derived_from: str | None
    range: str
    status: str
    message: str
    applied: str


@dataclass
class BackendReport(Record):
    """One profile section (a backend's regularization parameters), its worst status and its rows."""

    label: str
    applied: str
    status: str
    message: str
    params: list[ParamRow] = field(default_factory=list)


@dataclass
class RegularizationReport(Record):
    """The validation report of a run's regularization config (``ok``: no error, ``status``: ok, warning or error);
    a finished run's adds the warnings measured after training (``measured_warnings``, also in ``warnings``)."""

    ok: bool
    status: str
    errors: list[str]
    warnings: list[str]
    base: list[BaseRow]
    backends: dict[str, BackendReport]
    measured_warnings: list[str] | None = None

    def with_measured(self, warnings: list[str]) -> RegularizationReport:
        """This report with the warnings measured after training added (``measured_warnings`` names them)."""
        status = WARNING if warnings and self.status == OK else self.status
        return replace(self, status=status, warnings=[*self.warnings, *warnings], measured_warnings=list(warnings))

    def to_dict(self) -> dict:
        out = super().to_dict()
        if out.get("measured_warnings") is None:  # a report before training has none (the key is left out)
            out.pop("measured_warnings", None)
        return out
