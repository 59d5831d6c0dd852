"""The trading evidence's inputs and cross-run statistics read from the database: the trials a run's Deflated
Sharpe Ratio counts, and the probability of backtest overfitting (CSCV) over a set of runs on the same bars
(a sweep's points, or the runs picked on the compare page)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from training.artifact_store import run_dir
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
    directory = run_dir(run)
    path = (directory or Path()) / VALIDATION_FILE
    if directory is None or not path.is_file():
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


# --- a sweep in trading terms ------------------------------------------------------------------------------
MSG_DEGRADATION_REDUCED = (
    "stronger regularization reduced the degradation: validation − test after-cost Sharpe falls as the "
    "regularization grows (Spearman ρ {rho:+.2f} over {n} points; {most:+.2f} at the strongest point vs {least:+.2f} "
    "at the weakest)"
)
MSG_DEGRADATION_NOT_REDUCED = (
    "stronger regularization did not reduce the degradation (Spearman ρ {rho:+.2f} over {n} points; {most:+.2f} at "
    "the strongest point vs {least:+.2f} at the weakest)"
)
MSG_DEGRADATION_TOO_FEW = "fewer than 3 finished points with trading evidence: no verdict on the degradation"
DEGRADATION_DEFINITION = (
    "validation after-cost Sharpe at the chosen θ (where θ was picked) minus the after-cost Sharpe on the common "
    "test window, both annualized"
)


def _test_returns(run: TrainingRun) -> pd.Series | None:
    from training.ml.trading.window import WINDOW_FILE

    directory = run_dir(run)
    path = (directory or Path()) / WINDOW_FILE
    if directory is None or not path.is_file():
        return None
    frame = pd.read_csv(path, usecols=["open_time", "net_return"])
    return pd.Series(frame["net_return"].to_numpy(dtype=float), index=frame["open_time"].to_numpy())


def _strength(points, axes: list[str]) -> dict[int, float]:
    """Each point's regularization strength: the sum over the swept parameters of its value's rank."""
    ranks: dict[int, float] = {p.index: 0.0 for p in points}
    for axis in axes:
        values = sorted({p.values.get(axis) for p in points if p.values.get(axis) is not None})
        for p in points:
            if p.values.get(axis) in values:
                ranks[p.index] += values.index(p.values[axis])
    return ranks


def sweep_trading(*, sweep, points) -> dict:
    """Per finished point its after-cost Sharpe with interval, validation Sharpe, degradation and the paired
    difference to the least-regularized point; the sweep's verdict on the degradation; the PBO over the points."""
    from scipy.stats import spearmanr

    from training.ml.bootstrap import block_length
    from training.ml.results import RunResult
    from training.ml.trading.stats import paired_sharpe_difference

    rows = []
    for p in points:
        if p.run.status != TrainingRun.Status.SUCCEEDED or not p.run.result:
            continue
        trading = RunResult.from_dict(p.run.result).trading
        if trading is None:
            continue
        periods = float(trading.window["periods_per_year"])
        chosen = next(g for g in trading.theta.grid if g["theta"] == trading.theta.theta)
        validation = float(chosen["validation_sharpe"]) * float(np.sqrt(periods))
        test = trading.after_costs
        rows.append(
            {
                "index": p.index,
                "run": p.run_id,
                "values": p.values,
                "sharpe": test.stats.sharpe,
                "ci95_low": test.sharpe_ci95_low,
                "ci95_high": test.sharpe_ci95_high,
                "validation_sharpe": validation,
                "degradation": validation - test.stats.sharpe,
                "periods": periods,
                "horizon": int(trading.settings.get("horizon", 4)),
                "_run": p.run,
            }
        )
    strength = _strength([p for p in points if p.index in {r["index"] for r in rows}], list(sweep.params))
    reference = min(rows, key=lambda r: (strength[r["index"]], r["index"])) if rows else None
    base = _test_returns(reference["_run"]) if reference else None
    for row in rows:
        row["strength"] = strength[row["index"]]
        row["least_regularized"] = row is reference
        own = _test_returns(row.pop("_run"))
        row["vs_least_regularized"] = None
        if row is not reference and own is not None and base is not None:
            joined = pd.concat([own, base], axis=1, join="inner").dropna()
            if len(joined) > 2:
                row["vs_least_regularized"] = paired_sharpe_difference(
                    joined.iloc[:, 0],
                    joined.iloc[:, 1],
                    block=min(block_length(row["horizon"]), len(joined)),
                    periods=row["periods"],
                    seed=sweep.seed,
                )
    verdict = {"text": MSG_DEGRADATION_TOO_FEW, "reduced": None, "definition": DEGRADATION_DEFINITION}
    if len(rows) >= 3 and len({r["strength"] for r in rows}) > 1:
        rho = float(spearmanr([r["strength"] for r in rows], [r["degradation"] for r in rows]).statistic)
        most = max(rows, key=lambda r: (r["strength"], -r["index"]))
        reduced = bool(rho < 0 and most["degradation"] < reference["degradation"])
        message = MSG_DEGRADATION_REDUCED if reduced else MSG_DEGRADATION_NOT_REDUCED
        text = message.format(rho=rho, n=len(rows), most=most["degradation"], least=reference["degradation"])
        verdict = {"text": text, "reduced": reduced, "rho": rho, "definition": DEGRADATION_DEFINITION}
    runs = [p.run for p in points if p.run.status == TrainingRun.Status.SUCCEEDED]
    return {"points": rows, "degradation_verdict": verdict, "pbo": runs_pbo(runs=runs)}
