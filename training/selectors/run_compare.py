"""Runs side by side: ensemble, models and baselines on validation and test, deltas against the first run,
the winner of each row, the settings that differ, and learning curves overlaid."""

from __future__ import annotations

from training.models import TrainingRun
from training.selectors.run_summary import run_result
from training.selectors.runs import flatten
from training.selectors.trading import runs_pbo

SCORES = (("validation", "balanced_accuracy"), ("validation", "macro_f1"), ("test", "balanced_accuracy"))


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


def compare_rows(results: list) -> list[dict]:
    per_run = [_lines(r) if r is not None else {} for r in results]
    keys = sorted(set().union(*per_run), key=lambda k: (k[0], _order(k[1])))
    rows = []
    for regime, name in keys:
        cells = []
        for lines in per_run:
            values = lines.get((regime, name))
            cells.append({"values": [None if values is None else values[s] for s in SCORES], "winner": False})
        reference = cells[0]["values"]
        for cell in cells:
            cell["deltas"] = [
                None if v is None or r is None else v - r for v, r in zip(cell["values"], reference, strict=True)
            ]
        # The winner: the best validation balanced accuracy, or test where no run has a validation score.
        column = 0 if any(c["values"][0] is not None for c in cells) else 2
        scored = [c for c in cells if c["values"][column] is not None]
        if len(scored) > 1 and not name.startswith("baseline"):
            top = max(c["values"][column] for c in scored)
            if sum(1 for c in scored if c["values"][column] == top) == 1:
                next(c for c in scored if c["values"][column] == top)["winner"] = True
        rows.append({"regime": regime, "line": name, "kind": name.split(":")[0], "cells": cells})
    return rows


def compare_curves(results: list, runs: list[TrainingRun]) -> dict:
    """Per "regime · model": each run's validation loss per epoch / round (runs without a curve left out)."""
    curves: dict = {}
    for run, result in zip(runs, results, strict=True):
        if result is None:
            continue
        for regime, section in result.ensembles.items():
            for key, model in section.models.items():
                loss = model.history.get("val_loss") or model.history.get("train_loss")
                if loss:
                    curves.setdefault(f"{regime} · {key}", {})[f"#{run.pk}"] = loss
    return curves


def compare(*, run_ids: list[int]) -> dict:
    found = TrainingRun.objects.select_related("profile", "dataset").in_bulk(run_ids)
    runs = [found[i] for i in run_ids if i in found]
    results = [run_result(run)[0] for run in runs]
    flats = [_settings(run) for run in runs]
    keys = sorted(set().union(*flats)) if flats else []
    differing = [
        {"key": k, "values": [f.get(k) for f in flats]} for k in keys if len({repr(f.get(k)) for f in flats}) > 1
    ]
    return {
        "runs": runs,
        "readable": [r is not None for r in results],
        "rows": compare_rows(results),
        "differing": differing,
        "curves": compare_curves(results, runs),
        "score_labels": [f"{split} {metric.replace('_', ' ')}" for split, metric in SCORES],
        "pbo": runs_pbo(runs=[run for run in runs if run.status == TrainingRun.Status.SUCCEEDED]),
    }
