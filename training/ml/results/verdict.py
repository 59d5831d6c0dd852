"""The verdict of a model or an ensemble against its regime's best naive baseline (``vs_baseline``): the test
log-loss difference model − baseline on the rows measured, its circular moving-block bootstrap interval and
the decision it gives — ``better`` / ``worse`` / ``no evidence`` from the interval, or ``no skill`` for a model
collapsed on the test block (``comparison.vs_baseline_record``)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import MSG_VERDICT_MISMATCH, Record

NO_SKILL = "no skill"


@dataclass
class Verdict(Record):
    """``difference`` = mean per-row ``metric`` of the model − that of ``baseline`` on ``rows`` test rows (blocks
    of ``block`` rows), ``ci95_low``/``ci95_high`` its 95 % interval; ``verdict`` what it decides,
    ``interval_verdict`` what the interval alone says. Results stored before the p-value, the row count or the
    no-skill rule lack those keys (None)."""

    baseline: str
    metric: str
    difference: float
    ci95_low: float
    ci95_high: float
    verdict: str
    p_value: float | None = None
    rows: int | None = None
    block: int | None = None
    interval_verdict: str | None = None
    no_skill: bool | None = None

    def mismatch(self, where: str) -> list[str]:
        """The problem of a verdict that does not follow from its interval (or its no-skill rule); ``where`` names
        the model or ensemble that carries it (its own ``problems`` reports it, before its nested records')."""
        from ..bootstrap import verdict_of

        expected = NO_SKILL if self.no_skill else verdict_of(self.ci95_low, self.ci95_high)
        return [] if self.verdict == expected else [MSG_VERDICT_MISMATCH.format(where=where, verdict=self.verdict)]
