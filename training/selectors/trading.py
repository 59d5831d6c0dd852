"""The trading evidence's inputs and cross-run statistics read from the database: the trials a run's Deflated
Sharpe Ratio counts, and the probability of backtest overfitting (CSCV) over a set of runs on the same bars
(a sweep's points, or the runs picked on the compare page)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training.ml.trading.pbo import DEFAULT_BLOCKS, cscv
from training.ml.trading.system import TRIALS_ARE, Trials
from training.ml.trading.window import VALIDATION_FILE, read_validation_returns
from training.models import TrainingRun

SHARPE_KEY = "result__trading__after_costs__per_bar_sharpe"
MSG_PBO_TOO_FEW = "PBO needs at least 2 finished runs with stored validation returns; {n} have them."
MSG_PBO_FEW_BARS = "The runs share {bars} validation bars; CSCV with S = {s} needs at least {need}."
PBO_ON = "per-bar after-cost strategy returns on the validation bars the runs share (the test window untouched)"


def run_trials(*, run: TrainingRun) -> Trials:
    """N = the succeeded runs (sweep points included) on the run's market and dataset, plus the run itself; the
    per-bar after-cost Sharpe ratios of those that stored one."""
    others = TrainingRun.objects.filter(
        exchange=run.exchange,
        symbol=run.symbol,
        interval=run.interval,
        dataset_id=run.dataset_id,
        status=TrainingRun.Status.SUCCEEDED,
    ).exclude(pk=run.pk)
    sharpes = [float(s) for s in others.values_list(SHARPE_KEY, flat=True) if isinstance(s, (int, float))]
    return Trials(n=others.count() + 1, sharpes=sharpes, trials_are=TRIALS_ARE)


def validation_returns(run: TrainingRun) -> pd.Series | None:
    path = Path(run.artifacts_path or "") / VALIDATION_FILE
    if not run.artifacts_path or not path.is_file():
        return None
    return read_validation_returns(path)


def runs_pbo(*, runs, blocks: int = DEFAULT_BLOCKS) -> dict:
    """CSCV over the runs' validation returns on the bars all of them share; ``{"error": …}`` when it cannot run.
    Per configuration: the run id and its validation Sharpe (per bar)."""
    series = {run.pk: s for run in runs if (s := validation_returns(run)) is not None}
    if len(series) < 2:
        return {"error": MSG_PBO_TOO_FEW.format(n=len(series)), "configurations": len(series)}
    frame = pd.DataFrame(series).dropna()
    if len(frame) < 2 * blocks:
        return {"error": MSG_PBO_FEW_BARS.format(bars=len(frame), s=blocks, need=2 * blocks)}
    out = cscv(frame.to_numpy(), blocks=blocks)
    counts, edges = np.histogram(out["logits"], bins=20)
    return {
        "pbo": out["pbo"],
        "configurations": out["configurations"],
        "bars": out["bars"],
        "blocks": out["blocks"],
        "splits": out["splits"],
        "computed_on": PBO_ON,
        "runs": [int(pk) for pk in frame.columns],
        "logit_histogram": {"counts": counts.tolist(), "edges": [float(e) for e in edges]},
        "degradation": {
            "slope": out["degradation_slope"],
            "mean_in_sample_sharpe": out["mean_in_sample_sharpe"],
            "mean_out_of_sample_sharpe": out["mean_out_of_sample_sharpe"],
            "prob_out_of_sample_loss": out["prob_out_of_sample_loss"],
            "points": _thin(out["in_sample_sharpe"], out["out_of_sample_sharpe"]),
        },
    }


def _thin(x, y, limit: int = 400) -> list[list[float]]:
    step = max(1, int(np.ceil(len(x) / limit)))
    return [[round(float(a), 6), round(float(b), 6)] for a, b in zip(x[::step], y[::step], strict=True)]
