"""The promotion guard's checks: a declared list, each a key, a threshold read from settings, and a function of
the run's stored result. ``promotion_checks_evaluate`` runs them all; a promotion is free when none failed.

A check answers ``passed``, ``failed`` or ``not available`` (the result carries no evidence for it; never a
made-up value). The trading checks (the system verdict after costs, deflated Sharpe) read the result's typed ``trading`` record;
PBO is the run's sweep's (CSCV over its points). A result without them says "not available" and does not block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.conf import settings

from training.ml.bootstrap import WORSE
from training.ml.results import RunResult
from training.models import TrainingRun
from training.selectors.run_summary import regime_tables, run_result
from training.selectors.trading import runs_pbo

PASSED, FAILED, NOT_AVAILABLE = "passed", "failed", "not available"
TRADING_KEY = "trading"
MSG_NO_RESULT = "the run has no readable result"
MSG_NO_ENSEMBLE = "no regime trained an ensemble"
MSG_TRAINED = "{n} regime ensemble(s) trained"
MSG_WORSE = "worse than the best baseline in {regimes}"
MSG_NOT_WORSE = "no ensemble worse than the best baseline ({verdicts})"
MSG_COLLAPSED = "collapsed or no skill in {regimes}"
MSG_NOT_COLLAPSED = "no ensemble collapsed or predicting a single class"
MSG_NO_TRADING = "not available: the result has no trading evidence ({key})"
MSG_NO_PBO = "not available: PBO is computed over a sweep's points and this run is not a sweep point with enough peers"
MSG_SYSTEM = "system verdict {verdict}: {headline}"
MSG_AT_LEAST = "{value:.3f} (at least {threshold} required)"
MSG_AT_MOST = "{value:.3f} (at most {threshold} allowed)"


@dataclass(frozen=True)
class CheckOutcome:
    key: str
    label: str
    status: str
    detail: str
    threshold: float | None = None
    enforced: bool = True

    @property
    def failed(self) -> bool:
        """Failed and enforced: it blocks a free promotion."""
        return self.status == FAILED and self.enforced

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PromotionCheck:
    """One declared check: ``evaluate(result, raw_result, threshold) -> (status, detail)``."""

    key: str
    label: str
    setting: str | None
    default: float | None
    evaluate: Callable[[RunResult, dict, float | None], tuple[str, str]]

    def threshold(self) -> float | None:
        return None if self.setting is None else getattr(settings, self.setting, self.default)


def _trained_regimes(result: RunResult, raw: dict, threshold) -> tuple[str, str]:
    trained = [table for table in regime_tables(result) if table["status"] == "trained" and table["lines"]]
    if not any(line["kind"] == "ensemble" for table in trained for line in table["lines"]):
        return FAILED, MSG_NO_ENSEMBLE
    return PASSED, MSG_TRAINED.format(n=len(trained))


def _not_worse(result: RunResult, raw: dict, threshold) -> tuple[str, str]:
    tables = [table for table in regime_tables(result) if table["status"] == "trained"]
    worse = [table["regime"] for table in tables if table["verdict"].get("verdict") == "worse"]
    if worse:
        return FAILED, MSG_WORSE.format(regimes=", ".join(worse))
    verdicts = ", ".join(f"{t['regime']}: {t['verdict'].get('verdict', 'no score')}" for t in tables)
    return PASSED, MSG_NOT_WORSE.format(verdicts=verdicts or "none")


def _not_collapsed(result: RunResult, raw: dict, threshold) -> tuple[str, str]:
    bad = [
        table["regime"]
        for table in regime_tables(result)
        if any(flag["kind"] == "collapsed" for flag in table["flags"])
    ]
    return (FAILED, MSG_COLLAPSED.format(regimes=", ".join(bad))) if bad else (PASSED, MSG_NOT_COLLAPSED)


def _system_not_worse(result: RunResult, raw: dict, threshold) -> tuple[str, str]:
    trading = result.trading
    if trading is None:
        return NOT_AVAILABLE, MSG_NO_TRADING.format(key=f"{TRADING_KEY}.verdict")
    detail = MSG_SYSTEM.format(verdict=trading.verdict, headline=trading.headline)
    return (FAILED if trading.verdict == WORSE else PASSED), detail


def _min_deflated_sharpe(result: RunResult, raw: dict, threshold) -> tuple[str, str]:
    value = result.trading.deflation.dsr if result.trading is not None else None
    if value is None:
        return NOT_AVAILABLE, MSG_NO_TRADING.format(key=f"{TRADING_KEY}.deflation.dsr")
    detail = MSG_AT_LEAST.format(value=value, threshold=threshold)
    return (PASSED if value >= threshold else FAILED), f"{detail}, N={result.trading.deflation.n_trials}"


def _max_pbo(result: RunResult, raw: dict, threshold, *, run=None) -> tuple[str, str]:
    """PBO belongs to a set of configurations: a run that is a sweep point is judged by its sweep's PBO."""
    point = getattr(run, "sweep_point", None) if run is not None else None
    if point is None:
        return NOT_AVAILABLE, MSG_NO_PBO
    runs = [p.run for p in point.sweep.points.select_related("run") if p.run.status == TrainingRun.Status.SUCCEEDED]
    value = runs_pbo(runs=runs).get("pbo")
    if value is None:
        return NOT_AVAILABLE, MSG_NO_PBO
    return (PASSED if value <= threshold else FAILED), MSG_AT_MOST.format(value=value, threshold=threshold)


CHECKS: tuple[PromotionCheck, ...] = (
    PromotionCheck("ensembles_trained", "at least one regime ensemble trained", None, None, _trained_regimes),
    PromotionCheck("not_worse_than_baseline", "no ensemble worse than the best baseline", None, None, _not_worse),
    PromotionCheck("not_collapsed", "no collapsed or 'no skill' ensemble", None, None, _not_collapsed),
    PromotionCheck("system_not_worse", "the trading system is not worse after costs", None, None, _system_not_worse),
    PromotionCheck(
        "deflated_sharpe", "deflated Sharpe ratio", "PROMOTION_MIN_DEFLATED_SHARPE", 0.95, _min_deflated_sharpe
    ),
    PromotionCheck("pbo", "probability of backtest overfitting", "PROMOTION_MAX_PBO", 0.5, _max_pbo),
)


CHECK_KEYS = tuple(check.key for check in CHECKS)
MSG_UNKNOWN_CHECK = "PROMOTION_ENFORCED_CHECKS names unknown checks {unknown}; known: {known}."


def enforced_keys() -> frozenset[str]:
    """``settings.PROMOTION_ENFORCED_CHECKS`` (default: every check); an unknown key is an error listing the known."""
    keys = frozenset(getattr(settings, "PROMOTION_ENFORCED_CHECKS", None) or CHECK_KEYS)
    unknown = sorted(keys - set(CHECK_KEYS))
    if unknown:
        raise ValueError(MSG_UNKNOWN_CHECK.format(unknown=", ".join(unknown), known=", ".join(CHECK_KEYS)))
    return keys


def result_check_outcomes(*, run, parsed=None) -> dict[str, tuple[str, str]]:
    """``{key: (status, detail)}`` of every check that reads only the run's stored result (all but PBO, which is
    its sweep's; all of them when the result cannot be read), with the thresholds set now. ``parsed`` is
    ``run_result(run)`` when the caller has it."""
    result, problem = parsed or run_result(run)
    outcomes = {}
    for check in CHECKS:
        if result is None:
            outcomes[check.key] = (FAILED, problem or MSG_NO_RESULT)
        elif check.evaluate is not _max_pbo:
            outcomes[check.key] = check.evaluate(result, run.result or {}, check.threshold())
    return outcomes


def promotion_checks_evaluate(*, run, outcomes: dict[str, tuple[str, str]] | None = None) -> list[CheckOutcome]:
    """Every declared check on ``run``'s stored result, in declaration order; a check left out of
    ``PROMOTION_ENFORCED_CHECKS`` is still evaluated and recorded but does not block. ``outcomes`` is
    ``result_check_outcomes(run=run)`` when the caller has it (the run page caches it with the page)."""
    enforced = enforced_keys()
    if outcomes is None:
        outcomes = result_check_outcomes(run=run)
    checks = []
    for check in CHECKS:
        threshold = check.threshold()
        if check.key in outcomes:
            status, detail = outcomes[check.key]
        else:
            status, detail = _max_pbo(None, {}, threshold, run=run)
        checks.append(CheckOutcome(check.key, check.label, status, detail, threshold, check.key in enforced))
    return checks
