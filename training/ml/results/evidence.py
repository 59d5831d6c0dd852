"""A model's regularization evidence as a typed record: the generic fields every reader shares
(``penalty_share``, ``zero_share``, ``best_iteration``; ``training.ml.backends.evidence``) and the backend's own
measurements, declared as fields of its ``Evidence`` subclass beside its code (``Backend.evidence_type``).

The stored shape is the backend's flat dict (``{"zero_leaf_share": 0.4, "best_iteration": 12, …}``): ``to_dict``
writes it, ``from_dict`` reads it back (a key the class does not declare, from a result stored by an older
version, is kept in ``extra`` and written back; a declared key it lacked is left out again); ``measured``
builds it from what a backend just measured and refuses an undeclared key, so a renamed measurement cannot slip past the generic fields. The generic fields are
read through the backend's ``evidence_fields`` (``generic``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from .base import Record

PENALTY_SHARE, ZERO_SHARE, BEST_ITERATION = "penalty_share", "zero_share", "best_iteration"
GENERIC_FIELDS = (PENALTY_SHARE, ZERO_SHARE, BEST_ITERATION)
MSG_UNDECLARED = "{cls}: measured keys {keys} are not declared as its fields"


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass
class Evidence(Record):
    """The evidence of one model. A backend that declares no subclass keeps every measurement in ``extra``."""

    generic: ClassVar[dict[str, str]] = {}  # generic field -> own key (the backend's ``evidence_fields``)
    extra: dict[str, Any] = field(default_factory=dict)  # keys no field declares (results stored by older versions)

    @classmethod
    def declared(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name != "extra")

    def value(self, key: str):
        """One measurement by its own key (a declared field or an ``extra`` key), None when absent."""
        return getattr(self, key) if key in self.declared() else self.extra.get(key)

    def generic_fields(self) -> dict[str, float]:
        """The generic fields this evidence has a number for: ``{"penalty_share": 0.62, …}``."""
        return {name: value for name, key in self.generic.items() if _number(value := self.value(key))}

    @property
    def penalty_share(self) -> float | None:
        return self.generic_fields().get(PENALTY_SHARE)

    @property
    def zero_share(self) -> float | None:
        return self.generic_fields().get(ZERO_SHARE)

    @property
    def best_iteration(self) -> float | None:
        return self.generic_fields().get(BEST_ITERATION)

    def to_dict(self) -> dict:
        own = {name: value for name, value in super().to_dict().items() if name != "extra"}
        return {**own, **self.extra}

    @classmethod
    def from_dict(cls, data: dict, *, where: str | None = None):
        data = data or {}
        names = set(cls.declared())
        extra = {k: v for k, v in data.items() if k not in names}
        return super().from_dict({**{k: v for k, v in data.items() if k in names}, "extra": extra}, where=where)

    @classmethod
    def measured(cls, data: dict) -> Evidence:
        """The evidence a backend just measured; an undeclared key raises (a subclass declares every key)."""
        if cls.declared():
            undeclared = sorted(set(data) - set(cls.declared()))
            if undeclared:
                raise ValueError(MSG_UNDECLARED.format(cls=cls.__name__, keys=undeclared))
        return cls.from_dict(data)
