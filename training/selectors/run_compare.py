"""Runs side by side against a reference run the user picks (the first by default): per regime the ensemble,
models and baselines on validation and test (log loss first) with deltas against the reference; each run's paired
test log-loss difference to the reference on the bars both predicted, with its interval (``run_compare_stats``);
the winner of a row decided by that difference; the run page's verdicts per run; the settings (all, or only
those that differ); train and validation curves side by side per model; PBO over the runs."""

from __future__ import annotations

from training.models import TrainingRun
from training.selectors.run_charts import history_unit
from training.selectors.run_compare_stats import PAIRED_ON, SYSTEM, RunPredictions, paired_difference, row_winner
from training.selectors.run_summary import regime_tables, run_result
from training.selectors.runs import flatten
from training.selectors.trading import runs_pbo

SCORES = (
    ("validation", "log_loss"),
    ("test", "log_loss"),
    ("validation", "balanced_accuracy"),
    ("test", "balanced_accuracy"),
    ("validation", "macro_f1"),
)
DEFAULT_HORIZON = 4
SETTINGS_DIFFER, SETTINGS_ALL = "differ", "all"
WINNER_RULE = (
    "★ marks the run whose test log loss is lower than every other run's on the bars they share, with the 95 % "
    "interval of the paired difference below 0; no ★ when no run is"
)


def _settings(run: TrainingRun) -> dict:
    snapshot = run.snapshot or {}
    return flatten(
        {
            "profile": run.profile.name,
            "preset": run.preset,
            "seed": run.seed,
            "config": snapshot.get("config") or {},
            "preset_settings": snapshot.get("preset") or {},
            "data": snapshot.get("data") or {},
        }
    )


def _lines(result) -> dict:
    """{(regime, line name): {(split, metric): value}} for the ensemble, each model and each baseline."""
    lines: dict = {}
    for regime, section in result.ensembles.items():
        if not section.trained:
            continue
        entries = [("ensemble", section.ensemble.metrics if section.ensemble else None)]
        entries += [(key, m.metrics) for key, m in section.models.items()]
        entries += [(f"baseline: {k}", b) for k, b in (section.baselines.scores() if section.baselines else {}).items()]
        for name, metrics in entries:
            if metrics is None:
                continue
            values = {}
            for split, metric in SCORES:
                scores = metrics.get(split)
                values[(split, metric)] = None if scores is None else getattr(scores, metric)
            lines[(regime, name)] = values
    return lines


def _order(name: str) -> tuple:
    return (0 if name == "ensemble" else 2 if name.startswith("baseline") else 1, name)


def horizon_of(result) -> int:
    if result is None:
        return DEFAULT_HORIZON
    if result.trading is not None and result.trading.settings.get("horizon"):
        return int(result.trading.settings["horizon"])
    return int((result.labels or {}).get("horizon") or DEFAULT_HORIZON)


def compare_rows(results: list, predictions: list | None = None, *, reference: int = 0) -> list[dict]:
    """One row per (regime, line): per run its scores, deltas to the reference run and (models and ensemble,
    where the runs stored predictions) the paired test log-loss difference to the reference; the row's winner."""
    per_run = [_lines(r) if r is not None else {} for r in results]
    horizons = [horizon_of(r) for r in results]
    keys = sorted(set().union(*per_run), key=lambda k: (k[0], _order(k[1])))
    rows = []
    for regime, name in keys:
        cells = []
        for lines in per_run:
            values = lines.get((regime, name))
            cells.append({"values": [None if values is None else values[s] for s in SCORES], "winner": False})
        base = cells[reference]["values"]
        for cell in cells:
            cell["deltas"] = [
                None if v is None or r is None else v - r for v, r in zip(cell["values"], base, strict=True)
            ]
        baseline = name.startswith("baseline")
        if predictions is not None and not baseline:
            losses = [
                p.losses((regime, name)) if (regime, name) in lines else None
                for p, lines in zip(predictions, per_run, strict=True)
            ]
            for i, cell in enumerate(cells):
                if i != reference and cell["values"][1] is not None:
                    cell["paired"] = paired_difference(
                        losses[i], losses[reference], horizon=max(horizons[i], horizons[reference])
                    )
            # a run with this line but no stored predictions cannot be beaten with an interval: then no winner
            unpaired = any(
                loss is None and (regime, name) in lines for loss, lines in zip(losses, per_run, strict=True)
            )
            winner = None if unpaired else row_winner(losses, horizon=max(horizons))
            if winner is not None:
                cells[winner]["winner"] = True
        rows.append({"regime": regime, "line": name, "kind": name.split(":")[0], "cells": cells})
    return rows


def system_pairs(results: list, predictions: list, *, reference: int) -> list[dict]:
    """Per run: the paired test log-loss difference to the reference over the system's common test window."""
    ref_losses = predictions[reference].losses(SYSTEM)
    out = []
    for i, (result, p) in enumerate(zip(results, predictions, strict=True)):
        losses = p.losses(SYSTEM)
        entry = {"reference": i == reference, "log_loss": None if losses is None else float(losses.loss.mean())}
        entry["bars"] = 0 if losses is None else len(losses.loss)
        if i != reference:
            h = max(horizon_of(result), horizon_of(results[reference]))
            entry["paired"] = paired_difference(losses, ref_losses, horizon=h)
        out.append(entry)
    return out


def run_verdicts(result) -> dict | None:
    """The run page's verdicts (``run_summary``): the system's trading line and each regime's ensemble verdict."""
    if result is None:
        return None
    return {
        "system": result.trading.summary_line() if result.trading is not None else None,
        "system_verdict": result.trading.verdict if result.trading is not None else None,
        "regimes": [
            {"regime": t["regime"], "status": t["status"], "reason": t["reason"], "verdict": t["verdict"]}
            for t in regime_tables(result)
        ],
    }


def compare_curves(results: list, runs: list[TrainingRun]) -> dict:
    """Per "regime · model": the x-axis unit (its backend's epoch or boosting round) and each run's train and
    validation loss curves (runs without a curve left out)."""
    curves: dict = {}
    for run, result in zip(runs, results, strict=True):
        if result is None:
            continue
        for regime, section in result.ensembles.items():
            for key, model in section.models.items():
                train, validation = model.history.get("train_loss"), model.history.get("val_loss")
                if not (train or validation):
                    continue
                entry = curves.setdefault(
                    f"{regime} · {key}", {"step": history_unit(key), "train": {}, "validation": {}}
                )
                if train:
                    entry["train"][f"#{run.pk}"] = train
                if validation:
                    entry["validation"][f"#{run.pk}"] = validation
    return curves


def settings_rows(runs: list[TrainingRun]) -> list[dict]:
    """Every setting of the runs (flattened), each with its value per run and whether the values differ."""
    flats = [_settings(run) for run in runs]
    keys = sorted(set().union(*flats)) if flats else []
    rows = [{"key": k, "values": [f.get(k) for f in flats]} for k in keys]
    for row in rows:
        row["differs"] = len({repr(v) for v in row["values"]}) > 1
        row["cells"] = [{"run": run, "value": v} for run, v in zip(runs, row["values"], strict=True)]
    return rows


def compare(*, run_ids: list[int], reference_id: int | None = None, settings: str = SETTINGS_DIFFER) -> dict:
    found = TrainingRun.objects.select_related("profile", "dataset").in_bulk(run_ids)
    runs = [found[i] for i in run_ids if i in found]
    ids = [run.pk for run in runs]
    reference = ids.index(reference_id) if reference_id in ids else 0
    results = [run_result(run)[0] for run in runs]
    predictions = [RunPredictions(run, list(r.ensembles) if r else []) for run, r in zip(runs, results, strict=True)]
    only_differing = settings != SETTINGS_ALL
    all_settings = settings_rows(runs)
    rows = compare_rows(results, predictions, reference=reference)
    for row in rows:
        for run, cell in zip(runs, row["cells"], strict=True):
            cell["run"] = run
    system = system_pairs(results, predictions, reference=reference) if runs else []
    verdicts = [run_verdicts(r) for r in results]
    return {
        "runs": runs,
        "columns": [
            {"run": run, "reference": i == reference, "system": system[i], "verdicts": verdicts[i]}
            for i, run in enumerate(runs)
        ],
        "reference": runs[reference] if runs else None,
        "reference_index": reference,
        "readable": [r is not None for r in results],
        "rows": rows,
        "system": system,
        "paired_on": PAIRED_ON,
        "winner_rule": WINNER_RULE,
        "verdicts": verdicts,
        "settings_mode": SETTINGS_DIFFER if only_differing else SETTINGS_ALL,
        "settings_rows": [r for r in all_settings if r["differs"]] if only_differing else all_settings,
        "differing": [r for r in all_settings if r["differs"]],
        "settings_total": len(all_settings),
        "curves": compare_curves(results, runs),
        "score_labels": [f"{split} {metric.replace('_', ' ')}" for split, metric in SCORES],
        "pbo": runs_pbo(runs=[run for run in runs if run.status == TrainingRun.Status.SUCCEEDED]),
    }
