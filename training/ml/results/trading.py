"""Records of the system's trading evidence (``training.ml.trading``): the return statistics, one evaluation per
cost level, the deflation by the number of trials, the θ choice, the Holm-adjusted verdicts, the equity curve and
the ``TradingResult`` of a run (``RunResult.trading``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .base import Record, _finite


@dataclass
class TradingStats(Record):
    bars: int
    total_return: float
    annualized_return: float
    sharpe: float  # annualized
    sortino: float
    max_drawdown: float
    turnover_per_year: float
    exposure: float
    hit_rate: float | None
    trades: int


@dataclass
class SystemEvaluation(Record):
    """The rule on the common test window at one cost level."""

    cost_bps: float
    stats: TradingStats
    sharpe_ci95_low: float
    sharpe_ci95_high: float
    per_bar_sharpe: float
    skewness: float
    kurtosis: float
    psr: float | None  # P(true Sharpe > 0), Bailey & López de Prado 2012
    shift_null_p: float | None
    shift_null_shifts: int
    block: int

    def problems(self, where: str) -> list[str]:
        if not (_finite(self.sharpe_ci95_low) and _finite(self.sharpe_ci95_high)):
            return [f"{where}: the Sharpe interval must be finite"]
        return [] if self.sharpe_ci95_low <= self.sharpe_ci95_high else [f"{where}: ci95_low is above ci95_high"]


@dataclass
class Deflation(Record):
    """The Deflated Sharpe Ratio of the after-cost Sharpe, given ``n_trials`` and the trials' Sharpe variance
    (per-bar Sharpe ratios; ``None`` when fewer than 2 trials have one)."""

    n_trials: int
    trials_with_sharpe: int
    sharpe_variance: float | None
    expected_max_sharpe: float | None  # SR0, per bar
    dsr: float | None
    trials_are: str
    note: str = ""


@dataclass
class ThetaChoice(Record):
    theta: float
    chosen_on: str
    validation_bars: int
    grid: list[dict[str, float]] = field(default_factory=list)  # {"theta", "validation_sharpe"}


@dataclass
class AdjustedVerdict(Record):
    """One verdict of the run (a model or an ensemble against its regime's best baseline), raw and Holm-adjusted."""

    regime: str
    model: str
    baseline: str
    difference: float
    ci95_low: float
    ci95_high: float
    p_value: float
    verdict: str
    holm_p: float
    holm_verdict: str


@dataclass
class EquityCurve(Record):
    time: list[str]
    strategy: list[float]  # after costs
    strategy_before_costs: list[float]
    buy_and_hold: list[float]


@dataclass
class TradingResult(Record):
    settings: dict[str, Any]
    window: dict[str, Any]
    theta: ThetaChoice
    after_costs: SystemEvaluation
    before_costs: SystemEvaluation
    buy_and_hold: TradingStats
    deflation: Deflation
    verdict: str
    verdict_rule: str
    headline: str
    verdicts: list[AdjustedVerdict] = field(default_factory=list)
    equity: EquityCurve | None = None
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary_line(self) -> str:
        """``system: Sharpe after 10 bps −0.92 [−2.1, +0.3], PSR 0.18, DSR 0.05 (N=37), no evidence``."""
        a, d = self.after_costs, self.deflation

        def num(value, fmt="{:.2f}"):
            return "n/a" if value is None else fmt.format(value)

        return (
            f"system: Sharpe after {a.cost_bps:g} bps {a.stats.sharpe:+.2f} "
            f"[{a.sharpe_ci95_low:+.1f}, {a.sharpe_ci95_high:+.1f}], PSR {num(a.psr)}, "
            f"DSR {num(d.dsr)} (N={d.n_trials}), shift-null p {num(a.shift_null_p, '{:.3f}')}, {self.verdict}"
        )
