"""The leaderboard's numbers of a run (``TrainingRun.system_verdict`` and the columns beside it), read from its
typed result once, where the service stores it (``execution._store_success``) and where migration
0022_i25b_leaderboard_fill fills runs stored before; the run list sorts and filters on these columns.

- ``system_verdict``: the trading system's verdict (better / no evidence / worse, ``TradingResult.verdict``);
- ``sharpe_after_costs``: the annualized after-cost Sharpe on the common test window (the run page's system line);
- ``log_loss_delta``: the mean over trained regimes of the ensemble's test log-loss difference to the best baseline
  (``vs_baseline.difference``, model − baseline: below 0 is better), over the regimes that have one;
- ``regime_verdicts``: per regime the ensemble's verdict against the best baseline (the run page's), ``skipped``
  for a regime not trained, ``none`` for a trained one without an interval.
"""

from __future__ import annotations

import math
from datetime import datetime

from training.ml.results import ResultInvalid, RunResult

SKIPPED = "skipped"
NO_INTERVAL = "none"
EMPTY = {"system_verdict": "", "sharpe_after_costs": None, "log_loss_delta": None, "regime_verdicts": {}}


def _finite(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def leaderboard_columns(result: RunResult) -> dict:
    verdicts: dict[str, str] = {}
    deltas: list[float] = []
    for regime, section in result.ensembles.items():
        if not section.trained:
            verdicts[regime] = SKIPPED
            continue
        record = section.ensemble.vs_baseline if section.ensemble else None  # a typed Verdict
        if record is None:
            verdicts[regime] = NO_INTERVAL
            continue
        verdicts[regime] = str(record.verdict or NO_INTERVAL)
        if (delta := _finite(record.difference)) is not None:
            deltas.append(delta)
    trading = result.trading
    return {
        "system_verdict": trading.verdict if trading is not None else "",
        "sharpe_after_costs": _finite(trading.after_costs.stats.sharpe) if trading is not None else None,
        "log_loss_delta": sum(deltas) / len(deltas) if deltas else None,
        "regime_verdicts": verdicts,
    }


def run_leaderboard_columns(result: dict | None) -> dict:
    """The columns of a stored result (a dict, as ``TrainingRun.result`` holds it); empty ones for no result or
    one in a format the type no longer reads."""
    if not result:
        return dict(EMPTY)
    try:
        parsed = RunResult.from_dict(result)
    except (ResultInvalid, TypeError, KeyError, ValueError, AttributeError):
        return dict(EMPTY)
    return leaderboard_columns(parsed)


def wall_seconds(started_at: datetime | None, finished_at: datetime | None) -> float | None:
    return (finished_at - started_at).total_seconds() if started_at and finished_at else None
