"""Regularization parameters declared as data: ranges, hard ceilings, how a blank value is derived, and the
library argument each becomes. A backend module declares its ``Section`` next to its code; the backend
registry collects the sections, and everything else (profile fields and check constraints, the form, the
validation report, the resolved config, the library kwargs) reads them.

Derivation rules, typed: ``FromBase("l1_alpha")`` takes a base value, ``Inverse("alpha")`` is 1/x of a sibling
in the same section (``None`` when that is 0), ``Default(0.5)`` a fixed default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real


@dataclass(frozen=True)
class Interval:
    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right", "neither"

    def contains(self, value: float) -> bool:
        if not isinstance(value, Real) or isinstance(value, bool) or not math.isfinite(value):
            return False
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self) -> str:
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{left}{low}, {high}{right}"

    def out_of_range_examples(self) -> list[float]:
        """Values just outside the interval, for tests and documentation."""
        examples = []
        if self.low is not None:
            examples.append(self.low if self.closed in ("right", "neither") else self.low - 0.5)
        if self.high is not None:
            examples.append(self.high if self.closed in ("left", "neither") else self.high + 0.5)
        return examples


NON_NEGATIVE = Interval(0.0, None, "left")
UNIT_RIGHT_OPEN = Interval(0.0, 1.0, "left")
UNIT = Interval(0.0, 1.0, "both")
POSITIVE = Interval(0.0, None, "neither")


# --- derivation rules ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FromBase:
    """A blank value takes the base value ``name``."""

    name: str

    def derive(self, base: dict, section: dict) -> float | None:
        return base[self.name]


@dataclass(frozen=True)
class Inverse:
    """A blank value is 1/x of the sibling ``name`` in the same section; not derivable when that is 0."""

    name: str

    def derive(self, base: dict, section: dict) -> float | None:
        other = section.get(self.name)
        if other is None or other == 0:
            return None
        return 1.0 / other


@dataclass(frozen=True)
class Default:
    """A blank value takes ``value``."""

    value: float

    def derive(self, base: dict, section: dict) -> float | None:
        return self.value


Derivation = FromBase | Inverse | Default


@dataclass(frozen=True)
class RegParam:
    """One regularization parameter.

    ``library_arg`` is where the value goes in the backend's library kwargs (a dotted path for nested
    dicts, e.g. ``optimizer_params.weight_decay``; ``None`` when the value is only used to derive another).
    ``applied_as`` is how the report shows it (defaults to the path). ``ceiling`` is a hard upper limit beyond
    which the backend overflows or breaks (an error), ``warn_above`` a soft one (a warning).
    """

    name: str
    interval: Interval
    derivation: Derivation | None
    help: str
    library_arg: str | None = None
    applied_as: str = ""
    warn_above: float | None = None
    ceiling: float | None = None

    @property
    def default(self) -> float | None:
        return self.derivation.value if isinstance(self.derivation, Default) else None

    @property
    def source(self) -> str | None:
        """The base value it derives from (``"l1_alpha"``), ``"inverse:<sibling>"``, or None for a default."""
        if isinstance(self.derivation, FromBase):
            return self.derivation.name
        if isinstance(self.derivation, Inverse):
            return f"inverse:{self.derivation.name}"
        return None

    @property
    def shown_as(self) -> str:
        if self.applied_as:
            return self.applied_as
        if self.library_arg is None:
            return "-"
        head, *rest = self.library_arg.split(".")
        return head + "".join(f"[{part!r}]" for part in rest)

    def derive(self, base: dict, section: dict) -> float | None:
        return None if self.derivation is None else self.derivation.derive(base, section)


@dataclass(frozen=True)
class Section:
    """A profile section: the regularization parameters one library reads (shared by its backends)."""

    key: str
    label: str
    params: tuple[RegParam, ...]
    applied: str  # how the section is applied in the library, shown in the report and the form

    def param(self, name: str) -> RegParam:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"Unknown parameter {name!r}; section {self.key!r} knows {[p.name for p in self.params]}")

    def library_kwargs(self, values: dict) -> dict:
        """The section's values placed at their library arguments (nested for dotted paths)."""
        kwargs: dict = {}
        for p in self.params:
            if p.library_arg is None:
                continue
            *parents, leaf = p.library_arg.split(".")
            target = kwargs
            for part in parents:
                target = target.setdefault(part, {})
            target[leaf] = float(values[p.name])
        return kwargs


# --- the base values: the one place for their defaults -------------------------------------------------
PENALTY_CEILING = 1e4  # above this an L1/L2 strength makes losses overflow (LightGBM, Keras, TabNet)
BASE_PARAMS: tuple[RegParam, ...] = (
    RegParam(
        "l1_alpha",
        NON_NEGATIVE,
        Default(0.01),
        "Base L1 strength; every backend's L1 derives from it.",
        warn_above=10.0,
        ceiling=PENALTY_CEILING,
    ),
    RegParam(
        "l2_alpha",
        NON_NEGATIVE,
        Default(0.001),
        "Base L2 strength; every backend's L2 derives from it.",
        warn_above=10.0,
        ceiling=PENALTY_CEILING,
    ),
    RegParam("dropout_rate", UNIT_RIGHT_OPEN, Default(0.2), "Base dropout rate for neural networks.", warn_above=0.7),
)
BASE_NAMES = tuple(p.name for p in BASE_PARAMS)
BASE_DEFAULTS = {p.name: p.default for p in BASE_PARAMS}
