"""What a backend's evidence means, in terms every generic reader shares.

A backend measures regularization in its own words (TabNet's ``sparsity_share_of_loss``, LightGBM's
``zero_leaf_share``, the Keras models' ``penalty_share_at_best_epoch``), the fields of its ``Evidence`` record
(``Backend.evidence_type``, ``training.ml.results.evidence``), and declares, beside its code, which of
its keys is which **generic field** (``Backend.evidence_fields``) and the warnings its measurements give
(``Backend.measured_warnings``). The run summary's flags, the evidence report and the sweep read the generic
fields and run the declared warnings through the registry; none of them names a backend.

Generic fields:
- ``penalty_share``: the penalty's share of the loss (a run page flags "penalty-dominated" above one half);
- ``zero_share``: the share of weights / leaves / coefficients the penalty set to (near) zero;
- ``best_iteration``: where early stopping kept the model (boosting round or epoch), a regularizer of its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..advisor import When
from ..results.evidence import BEST_ITERATION, GENERIC_FIELDS, PENALTY_SHARE, ZERO_SHARE, Evidence

__all__ = ["BEST_ITERATION", "GENERIC_FIELDS", "PENALTY_SHARE", "ZERO_SHARE", "Evidence", "MeasuredWarning"]
PENALTY_SHARE_WARN = 0.5  # a penalty above half the loss drives training (the report warns, the run page flags)
MSG_UNKNOWN_FIELD = "{backend}: evidence_fields names {field!r}, which is not a generic field ({known})."
MSG_UNDECLARED_KEY = "{backend}: evidence_fields maps {field!r} to {key!r}, which {evidence} does not declare."


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def generic_fields(mapping: dict[str, str], evidence: dict) -> dict[str, float]:
    """The generic fields of one model's evidence: ``{"penalty_share": 0.62, …}`` (numbers only)."""
    return {name: evidence[key] for name, key in mapping.items() if _number(evidence.get(key))}


@dataclass(frozen=True)
class MeasuredWarning:
    """A warning a backend's measurements give: when every ``when`` holds on the evidence (and its generic
    fields), ``message`` is formatted with ``where`` (``regime/model``), the evidence, the generic fields and
    ``defaults`` (for keys a measurement may leave empty)."""

    message: str
    when: tuple[When, ...]
    defaults: dict = field(default_factory=dict)

    def check(self, where: str, evidence: dict) -> str | None:
        numbers = {k: v for k, v in evidence.items() if _number(v)}
        if not self.when or any(c.holds(numbers) is not True for c in self.when):
            return None
        given = {k: v for k, v in evidence.items() if v is not None}
        return self.message.format(where=where, **{**self.defaults, **given})
