"""``trading_record``: the system's trading evidence of a run, from its stored predictions — the one function both
run paths (``manager.TrainingManager`` and ``regime_parts.merge_regime_parts``) call after training.

1. θ: on the validation series only (``window.validation_series``), the grid setting with the highest after-cost
   Sharpe ratio (ties: the larger θ, fewer trades).
2. The common test window (``window.common_test_window``) traded with that θ, after costs and at 0 bps: the return
   statistics, the Sharpe ratio's moving-block bootstrap interval (block: the bootstrap's ``block_length``), PSR
   against 0 and the circular-shift null; buy-and-hold on the same bars.
3. The Deflated Sharpe Ratio given the trials (``Trials``: counted by the caller, this run included).
4. The run's verdicts (each model and ensemble against its best baseline) with Holm's adjustment; the headline.
The bars, probabilities, regimes, labels, positions and returns are written to the run's directory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..bootstrap import BETTER, NO_EVIDENCE, WORSE, block_length
from ..results.trading import (
    AdjustedVerdict,
    Deflation,
    EquityCurve,
    SystemEvaluation,
    ThetaChoice,
    TradingResult,
    TradingStats,
)
from . import window as win
from .holm import adjusted_verdict, holm_adjust
from .rule import TradingSettings, net_returns, positions, rule_returns
from .sharpe_tests import deflated_sharpe_ratio, moments, probabilistic_sharpe_ratio
from .shift_null import shift_null_p
from .stats import per_bar_sharpe, periods_per_year, return_statistics, sharpe_interval

EQUITY_POINTS = 600
PSR_LEVEL = 0.95
SHIFT_LEVEL = 0.05
VERDICT_RULE = (
    f"better: the after-cost Sharpe interval is above 0, the DSR is at least {PSR_LEVEL:g} and the shift-null "
    f"p is below {SHIFT_LEVEL:g}; worse: the interval is below 0; otherwise no evidence"
)
THETA_CHOSEN_ON = "the ensembles' held-out validation predictions (the test window is not looked at)"
TRIALS_ARE = "runs and sweep points trained on the same market (exchange, symbol, interval) and dataset"
MSG_NO_VARIANCE = "fewer than 2 trials have an after-cost Sharpe ratio: the trials' variance is unknown"


@dataclass
class Trials:
    """What the caller knows of the trials: their count N (this run included) and the per-bar after-cost Sharpe
    ratios of the earlier ones that have one."""

    n: int = 1
    sharpes: list[float] = field(default_factory=list)
    trials_are: str = TRIALS_ARE


def choose_theta(series: win.BarSeries, r: np.ndarray, settings: TradingSettings, horizon: int) -> ThetaChoice:
    grid = []
    for theta in settings.theta_grid:
        sharpe = per_bar_sharpe(rule_returns(series.score, r, theta, settings, horizon))
        grid.append({"theta": float(theta), "validation_sharpe": sharpe})
    best = max(grid, key=lambda g: (round(g["validation_sharpe"], 12), g["theta"]))
    return ThetaChoice(best["theta"], THETA_CHOSEN_ON, int(len(series.positions)), grid)


def evaluate(position, r, *, cost_bps: float, periods: float, horizon: int, seed: int) -> SystemEvaluation:
    net = net_returns(position, r, cost_bps)
    block = min(block_length(horizon), len(net))
    low, high = sharpe_interval(net, block=block, periods=periods, seed=seed)
    sr = per_bar_sharpe(net)
    skew, kurt = moments(net)
    p, shifts = shift_null_p(position, r, cost_bps=cost_bps, min_shift=horizon)
    return SystemEvaluation(
        cost_bps=float(cost_bps),
        stats=TradingStats(**return_statistics(net, position, periods)),
        sharpe_ci95_low=low,
        sharpe_ci95_high=high,
        per_bar_sharpe=sr,
        skewness=skew,
        kurtosis=kurt,
        psr=probabilistic_sharpe_ratio(sr, len(net), skew=skew, kurtosis=kurt),
        shift_null_p=p,
        shift_null_shifts=shifts,
        block=int(block),
    )


def deflation(evaluation: SystemEvaluation, bars: int, trials: Trials) -> Deflation:
    sharpes = [*(float(s) for s in trials.sharpes if s is not None and np.isfinite(s)), evaluation.per_bar_sharpe]
    n = max(int(trials.n), 1)
    variance = float(np.var(sharpes, ddof=1)) if len(sharpes) >= 2 else None
    if n == 1 or variance is not None:
        dsr, sr0 = deflated_sharpe_ratio(
            evaluation.per_bar_sharpe,
            bars,
            skew=evaluation.skewness,
            kurtosis=evaluation.kurtosis,
            n_trials=n,
            variance=variance or 0.0,
        )
        note = ""
    else:
        dsr, sr0, note = None, None, MSG_NO_VARIANCE
    return Deflation(n, len(sharpes), variance, sr0, dsr, trials.trials_are, note)


def system_verdict(evaluation: SystemEvaluation, deflated: Deflation) -> str:
    if evaluation.sharpe_ci95_high < 0:
        return WORSE
    dsr = deflated.dsr
    p = evaluation.shift_null_p
    if evaluation.sharpe_ci95_low > 0 and dsr is not None and dsr >= PSR_LEVEL and p is not None and p < SHIFT_LEVEL:
        return BETTER
    return NO_EVIDENCE


def run_verdicts(ensembles: dict) -> list[AdjustedVerdict]:
    """Every ``vs_baseline`` of the run's regimes (models, then the ensemble), raw and Holm-adjusted."""
    raw = []
    for regime, section in ensembles.items():
        if not getattr(section, "trained", False):
            continue
        records = [(key, m.vs_baseline) for key, m in section.models.items()]
        records.append(("ensemble", section.ensemble.vs_baseline if section.ensemble else None))
        raw += [(regime, key, v) for key, v in records if v is not None and v.p_value is not None]
    adjusted = holm_adjust([v.p_value for _, _, v in raw])
    return [
        AdjustedVerdict(
            regime=regime,
            model=key,
            baseline=v.baseline,
            difference=float(v.difference),
            ci95_low=float(v.ci95_low),
            ci95_high=float(v.ci95_high),
            p_value=float(v.p_value),
            verdict=v.verdict,
            holm_p=p,
            holm_verdict=adjusted_verdict(float(v.difference), p, v.verdict),
        )
        for (regime, key, v), p in zip(raw, adjusted, strict=True)
    ]


def headline(verdict: str, verdicts: list[AdjustedVerdict]) -> str:
    ensembles = [v for v in verdicts if v.model == "ensemble"]
    better = [v.regime for v in ensembles if v.holm_verdict == BETTER]
    no_skill = [v.regime for v in ensembles if v.holm_verdict == "no skill"]
    text = f"system {verdict}; {len(better)} of {len(ensembles)} regime ensembles better after Holm"
    text += f" ({', '.join(better)})" if better else ""
    return text + (f"; no skill: {', '.join(no_skill)}" if no_skill else "")


def _equity(times, net, gross, hold) -> EquityCurve:
    stride = max(1, int(np.ceil(len(times) / EQUITY_POINTS)))

    def curve(r):
        return [round(float(v), 6) for v in np.exp(np.cumsum(r))[::stride]]

    return EquityCurve(
        time=[str(t)[:16].replace("T", " ") for t in list(times)[::stride]],
        strategy=curve(net),
        strategy_before_costs=curve(gross),
        buy_and_hold=curve(hold),
    )


def trading_record(
    *,
    run_dir: Path,
    candles: pd.DataFrame,
    regimes,
    ensembles: dict,
    horizon: int,
    interval: str,
    settings: TradingSettings | None = None,
    trials: Trials | None = None,
    seed: int = 42,
) -> TradingResult | None:
    """The run's ``TradingResult`` (None when no regime trained); writes the window files into ``run_dir``."""
    started = time.perf_counter()
    settings = settings or TradingSettings()
    trials = trials or Trials()
    run_dir = Path(run_dir)
    predictions = win.load_predictions(run_dir, regimes)
    test, validation = win.common_test_window(predictions), win.validation_series(predictions)
    if test is None or validation is None:
        return None
    r_all = win.next_returns(candles["close"])
    times = pd.to_datetime(candles["open_time"]).reset_index(drop=True)
    periods = periods_per_year(interval)

    r_val = r_all[validation.positions]
    theta = choose_theta(validation, r_val, settings, horizon)
    val_position = positions(
        validation.score, theta.theta, allow_short=settings.allow_short, hold=settings.hold, horizon=horizon
    )
    r = r_all[test.positions]
    position = positions(test.score, theta.theta, allow_short=settings.allow_short, hold=settings.hold, horizon=horizon)
    after = evaluate(position, r, cost_bps=settings.cost_bps, periods=periods, horizon=horizon, seed=seed)
    before = evaluate(position, r, cost_bps=0.0, periods=periods, horizon=horizon, seed=seed)
    hold = np.ones_like(r)
    buy_and_hold = TradingStats(**return_statistics(r, hold, periods))
    deflated = deflation(after, len(r), trials)
    verdict = system_verdict(after, deflated)
    verdicts = run_verdicts(ensembles)

    net, gross = net_returns(position, r, settings.cost_bps), net_returns(position, r, 0.0)
    test_times = times.iloc[test.positions]
    win.write_series(
        run_dir / win.WINDOW_FILE,
        test,
        test_times,
        {"next_return": r, "position": position, "net_return": net, "gross_return": gross},
    )
    win.write_series(
        run_dir / win.VALIDATION_FILE,
        validation,
        times.iloc[validation.positions],
        {
            "next_return": r_val,
            "position": val_position,
            "net_return": net_returns(val_position, r_val, settings.cost_bps),
        },
    )
    covered = test.covered
    window = {
        "definition": win.WINDOW_DEFINITION,
        "first_open_time": test_times.iloc[0].isoformat(),
        "last_open_time": test_times.iloc[-1].isoformat(),
        "bars": int(len(r)),
        "bars_with_prediction": int(covered.sum()),
        "bars_by_regime": {name: int((test.regime == name).sum()) for name in predictions},
        "periods_per_year": periods,
        "return": "log(close[t+1] / close[t]) after the bar the position was decided on",
    }
    return TradingResult(
        settings={**settings.to_dict(), "described": settings.describe(), "horizon": int(horizon)},
        window=window,
        theta=theta,
        after_costs=after,
        before_costs=before,
        buy_and_hold=buy_and_hold,
        deflation=deflated,
        verdict=verdict,
        verdict_rule=VERDICT_RULE,
        headline=headline(verdict, verdicts),
        verdicts=verdicts,
        equity=_equity(list(test_times), net, gross, r),
        files=[win.WINDOW_FILE, win.VALIDATION_FILE],
        seconds=time.perf_counter() - started,
    )
