"""Reads of run groups: the group's status from its runs, and its page (each market's progress and verdicts)."""

from __future__ import annotations

from collections import Counter

from training.ml.regimes import REGIMES
from training.models import RunGroup, TrainingRun
from training.selectors.run_summary import regime_tables, run_result

Status = TrainingRun.Status


def run_group_get(*, group_id: int) -> RunGroup:
    return RunGroup.objects.select_related("profile", "launched_by").get(pk=group_id)


def run_group_status(*, runs) -> tuple[str, dict[str, int]]:
    """The group's status from its runs' (and the count of each): queued while every run waits, running while any
    is queued or running, then succeeded / failed (none succeeded) / partly failed."""
    counts = Counter(run.status for run in runs)
    total = sum(counts.values())
    if total and counts[Status.QUEUED] == total:
        status = RunGroup.Status.QUEUED
    elif counts[Status.QUEUED] or counts[Status.RUNNING]:
        status = RunGroup.Status.RUNNING
    elif counts[Status.SUCCEEDED] == total:
        status = RunGroup.Status.SUCCEEDED
    elif counts[Status.SUCCEEDED]:
        status = RunGroup.Status.PARTLY_FAILED
    else:
        status = RunGroup.Status.FAILED
    return str(status), {str(k): v for k, v in counts.items()}


def _verdicts(run: TrainingRun) -> dict[str, str]:
    result, _ = run_result(run)
    if result is None:
        return {}
    out = {}
    for table in regime_tables(result):
        verdict = table["verdict"]
        if table["status"] != "trained":
            out[table["regime"]] = "skipped"
        elif verdict["source"] == "evidence":
            out[table["regime"]] = f"{verdict['verdict']} ({verdict['difference']:+.3f})"
        elif verdict["source"] == "point":
            out[table["regime"]] = f"{verdict['verdict']} (point)"
        else:
            out[table["regime"]] = "no score"
    return out


def run_system_verdict(run: TrainingRun) -> str:
    """The run's ensembles against their best baselines, over its regimes: how many better, worse, neither."""
    verdicts = [v.split(" ")[0] for v in _verdicts(run).values()]
    trained = [v for v in verdicts if v != "skipped"]
    if not trained:
        return "no regime trained"
    counts = Counter(trained)
    return f"better in {counts['better']} of {len(trained)} trained regimes, worse in {counts['worse']}" + (
        " (point comparisons, no interval)" if any("(point)" in v for v in _verdicts(run).values()) else ""
    )


def run_group_page(*, group: RunGroup) -> dict:
    """Per market (in launch order): its run, status, progress, worker, duration and verdict per regime."""
    runs = list(group.runs.order_by("id"))
    status, counts = run_group_status(runs=runs)
    rows = []
    for run in runs:
        verdicts = _verdicts(run) if run.status == Status.SUCCEEDED else {}
        cells = [verdicts.get(regime, "—") for regime in REGIMES] if verdicts else []
        rows.append({"run": run, "market": f"{run.exchange}:{run.symbol} {run.interval}", "verdicts": cells})
    return {
        "group": group,
        "status": status,
        "counts": counts,
        "rows": rows,
        "regimes": list(REGIMES),
        "progress": sum(r.progress for r in runs) / len(runs) if runs else 0.0,
    }
