"""Cross-market robustness of a regularization setting: does it help on every market, or on one lucky pick?

Per market, the **regularization effect** compares the setting's run with a reference run (same market and
preset; the reference profile is the user's choice, e.g. a weaker setting) on the bars in both test windows:
the moving-block bootstrap of the per-bar log-loss difference (``predict.compare_on_overlap``, setting − reference).
Its 95 % interval below 0 is ``helps``, above 0 ``hurts``, else ``no evidence`` (counted as unchanged).

Across markets, a **sign test** (``scipy.stats.binomtest``, two-sided, p = ½) asks whether "helps" outnumbers
"hurts" by more than chance; markets without evidence carry no sign and are left out, as the sign test does with
ties. Plain Python (no Django).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from .bootstrap import BETTER, WORSE
from .predict import compare_on_overlap

HELPS, HURTS, NO_EVIDENCE = "helps", "hurts", "no evidence"
EFFECTS = (HELPS, HURTS, NO_EVIDENCE)
MSG_NO_OVERLAP = "no bar in both runs' test windows"


@dataclass
class MarketEffect:
    """One market's row. ``after_cost_sharpe`` stays None here: the trading-evidence work fills it."""

    market: str
    effect: str
    bars: int = 0
    difference: float | None = None
    ci95_low: float | None = None
    ci95_high: float | None = None
    system_verdict: str = ""
    run_id: int | None = None
    reference_run_id: int | None = None
    after_cost_sharpe: dict | None = None
    note: str = ""


@dataclass
class CrossMarketTable:
    rows: list[MarketEffect]
    helps: int
    hurts: int
    unchanged: int
    sign_test_p: float | None
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def regularization_effect(
    setting: pd.DataFrame, reference: pd.DataFrame, *, market: str, horizon: int, seed: int = 0
) -> MarketEffect:
    """The effect on one market from both runs' stored test predictions (``predict.stored_test_predictions``)."""
    comparison = compare_on_overlap(setting, reference, horizon=horizon, seed=seed)
    verdict = comparison.get("bootstrap")
    if not verdict:
        return MarketEffect(market=market, effect=NO_EVIDENCE, note=MSG_NO_OVERLAP)
    effect = {BETTER: HELPS, WORSE: HURTS}.get(verdict["verdict"], NO_EVIDENCE)
    return MarketEffect(
        market=market,
        effect=effect,
        bars=comparison["bars"],
        difference=verdict["difference"],
        ci95_low=verdict["ci95_low"],
        ci95_high=verdict["ci95_high"],
    )


def sign_test(helps: int, hurts: int) -> float | None:
    """Two-sided binomial sign test of helps against hurts (None when no market has a sign)."""
    from scipy.stats import binomtest

    if helps + hurts == 0:
        return None
    return float(binomtest(helps, helps + hurts, 0.5, alternative="two-sided").pvalue)


def cross_market_table(rows: list[MarketEffect], *, missing: list[str] | None = None) -> CrossMarketTable:
    helps = sum(r.effect == HELPS for r in rows)
    hurts = sum(r.effect == HURTS for r in rows)
    return CrossMarketTable(
        rows=rows,
        helps=helps,
        hurts=hurts,
        unchanged=len(rows) - helps - hurts,
        sign_test_p=sign_test(helps, hurts),
        missing=list(missing or []),
    )
