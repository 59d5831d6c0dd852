"""The regularization advisor: per trained model, suggestions from what was measured.

Rules are data declared beside each backend (``Backend.advice``): a rule names the facts it needs and their
thresholds (all must hold), the direction of the suggestion and the section parameter to sweep around. Facts of a
model are its same-model train−validation gap (``gap``), whether it collapsed (``collapsed``: 1 or 0), the numeric
keys of its evidence (``zero_leaf_share``, ``penalty_share_at_best_epoch``, ``best_iteration``, …) and its resolved
regularization values as ``reg.<name>``. A rule whose facts are missing stays silent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

STRONGER, WEAKER, NO_EFFECT, MECHANISM = "stronger", "weaker", "no effect", "mechanism"
GAP_LARGE = 0.05  # validation − fit log loss per row: well beyond the few-thousandths of seed noise
SWEEP_COUNT = 5
SWEEP_DECADES = 1.0  # from value / 10 to value × 10
SWEEP_FROM_ZERO = (1e-4, 1.0)
OPS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}
OPS["=="] = lambda a, b: a == b


@dataclass(frozen=True)
class When:
    """A fact compared with a threshold, e.g. ``When("gap", ">", 0.05)``."""

    fact: str
    op: str
    value: float
    default: float | None = None  # the fact's value when a result does not record it (one from before it existed)

    def holds(self, facts: dict) -> bool | None:
        have = facts.get(self.fact, self.default)
        if have is None or not isinstance(have, (int, float)) or not math.isfinite(have):
            return None
        return OPS[self.op](float(have), self.value)

    def text(self, facts: dict) -> str:
        have = facts.get(self.fact, self.default)
        shown = f"{have:.4g}" if isinstance(have, float) else str(have)
        return f"{self.fact} = {shown} ({self.op} {self.value:g})"


@dataclass(frozen=True)
class AdviceRule:
    key: str
    direction: str
    when: tuple[When, ...]
    message: str  # formatted with the facts and ``param``
    param: str = ""  # the section parameter to sweep around ("" = none)
    any_of: tuple[When, ...] = field(default_factory=tuple)  # at least one must hold (besides every ``when``)
    hold: str = ""  # a setting the pre-filled sweep holds at every point, e.g. "early_stopping=off"

    def fires(self, facts: dict) -> bool:
        checks = [c.holds(facts) for c in self.when]
        if any(c is not True for c in checks):
            return False
        return not self.any_of or any(c.holds(facts) is True for c in self.any_of)

    def evidence(self, facts: dict) -> list[str]:
        held = [*self.when, *(c for c in self.any_of if c.holds(facts))]
        return [c.text(facts) for c in held]


def model_facts(*, gap: float | None, collapsed: bool | None, evidence: dict, reg: dict) -> dict:
    facts: dict = {"gap": gap, "collapsed": None if collapsed is None else int(bool(collapsed))}
    facts.update({k: v for k, v in evidence.items() if isinstance(v, (int, float)) and not isinstance(v, bool)})
    facts.update({f"reg.{k}": v for k, v in reg.items() if isinstance(v, (int, float))})
    return facts


def sweep_range(value: float | None) -> str:
    """``LOW:HIGH:COUNT`` log-spaced around ``value`` (a decade either side; 1e-4:1 from 0)."""
    if not value or value <= 0:
        low, high = SWEEP_FROM_ZERO
    else:
        low, high = value / 10**SWEEP_DECADES, value * 10**SWEEP_DECADES
    return f"{float(f'{low:.3g}'):g}:{float(f'{high:.3g}'):g}:{SWEEP_COUNT}"


def advise(rules, facts: dict, *, section: str) -> list[dict]:
    """The suggestions of the rules that fire: key, direction, text, evidence and the axis to sweep around."""
    out = []
    for rule in rules:
        if not rule.fires(facts):
            continue
        axis = ""
        if rule.param:
            axis = f"{section}.{rule.param}={sweep_range(facts.get(f'reg.{rule.param}'))}"
        out.append(
            {
                "rule": rule.key,
                "direction": rule.direction,
                "text": rule.message.format(**{k.replace(".", "_"): v for k, v in facts.items()}, param=rule.param),
                "evidence": rule.evidence(facts),
                "sweep_axis": axis,
                "sweep_holds": [f"{section}.{rule.hold}"] if axis and rule.hold else [],
            }
        )
    return out
