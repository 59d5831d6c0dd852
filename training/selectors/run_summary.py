"""The run page's summary and metric tables, read from the typed run result (training/ml/results.py).

Verdicts here are point comparisons on stored metrics. The evidence area adds per-regime `vs_baseline`
(a difference with a 95% interval and a verdict) and `collapsed` flags to the result; `regime_verdict` shows
them when present and says plainly when they are not there yet — nothing is invented.
"""

from __future__ import annotations

from datetime import datetime

from training.ml.backends.evidence import PENALTY_SHARE_WARN
from training.ml.labels import CLASS_NAMES
from training.ml.results import DataSummary, Evidence, ResultInvalid, RunResult, SplitMetrics
from training.models import TrainingRun
from training.selectors.runs import combination_summary

# A train−validation accuracy gap above this flags overfitting; a model whose penalty is more than this share of
# its loss (the generic ``penalty_share`` its backend maps its evidence to) is flagged as penalty-dominated.
OVERFIT_GAP = 0.15
PENALTY_DOMINATED_WARN = PENALTY_SHARE_WARN  # the evidence report warns from the same share
# The one "best" rule of the run page: the lowest validation log loss — the metric the combiner chooses its member
# and combination on and the sweeps minimize (``best_line``); the point verdicts and flags use it too.
BEST_METRIC = "log_loss"
BEST_RULE = "lowest validation log loss (the metric the combiner and the sweeps use)"
MSG_OLD_RESULT = "This run's result was stored in an older format; the summary cannot read it ({problem})."
MSG_NO_INTERVAL = "no interval yet: point estimates only"


def run_result(run: TrainingRun) -> tuple[RunResult | None, str]:
    """The typed result of a finished run, or None and why not."""
    if not run.result:
        return None, ""
    try:
        return RunResult.from_dict(run.result), ""
    except (ResultInvalid, TypeError, KeyError, ValueError) as exc:
        return None, MSG_OLD_RESULT.format(problem=str(exc)[:200])


def _metric(split: SplitMetrics | None, key: str = BEST_METRIC) -> float | None:
    return None if split is None else getattr(split, key)


def best_line(lines: list[dict], split: str = "validation") -> dict | None:
    """The best of ``lines`` (model, baseline or ensemble lines) by the page's one rule: the lowest log loss on
    ``split`` (validation; name breaks a tie); None when no line has a score there."""
    scored = [line for line in lines if _metric(line[split]) is not None]
    return min(scored, key=lambda line: (_metric(line[split]), line["name"])) if scored else None


def predicted_classes(split: SplitMetrics | None) -> list[str]:
    """The classes a model actually predicted on a split (columns of its confusion matrix with any count)."""
    if split is None:
        return []
    columns = zip(*split.confusion_matrix) if split.confusion_matrix else []
    return [CLASS_NAMES[i] for i, column in enumerate(columns) if sum(column) > 0 and i < len(CLASS_NAMES)]


def _parse_time(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def data_trained(run: TrainingRun, data: DataSummary) -> dict:
    """The rows and range the run actually trained on (its result's ``data``), beside the whole dataset, and the
    gaps inside that range."""
    first, last = _parse_time(data.first_open_time), _parse_time(data.last_open_time)
    dataset = run.dataset
    gaps = []
    if dataset is not None and first and last:
        for gap in dataset.gaps or []:
            after = _parse_time(gap.get("after"))
            if after and after.tzinfo is None and first.tzinfo is not None:
                after = after.replace(tzinfo=first.tzinfo)
            if after and first <= after <= last:
                gaps.append(gap)
    return {
        "rows": data.rows,
        "labeled_rows": data.labeled_rows,
        "first": first,
        "last": last,
        "dataset_rows": dataset.row_count if dataset else None,
        "is_sample": bool(dataset and dataset.is_sample),
        "source": dataset.source if dataset else "",
        "gaps": len(gaps),
        "missing": sum(int(g.get("missing") or 0) for g in gaps),
        "label_distribution": data.label_distribution,
    }


def _model_flags(metrics, gap, evidence: Evidence | None, best_baseline: float | None, record=None) -> list[dict]:
    """Flags of a model or ensemble line; ``record`` (the model/ensemble result) carries the evidence's
    ``collapsed`` and ``vs_baseline`` verdict, which win over the point comparison when present; ``evidence``
    (a model's, typed by its backend) gives the generic ``penalty_share``."""
    flags = []
    validation = metrics.validation
    value = _metric(validation)
    vs_baseline = getattr(record, "vs_baseline", None)
    if vs_baseline:
        if vs_baseline.verdict == "worse":
            flags.append({"kind": "loses", "text": f"worse than the {vs_baseline.baseline} baseline (95% CI)"})
        elif vs_baseline.verdict == "no skill":
            flags.append({"kind": "collapsed", "text": "no skill: collapsed on the test block"})
    elif value is not None and best_baseline is not None and value >= best_baseline:
        flags.append({"kind": "loses", "text": "loses to a baseline (validation log loss)"})
    classes = predicted_classes(validation)
    if getattr(record, "collapsed", None):
        shares = (getattr(record, "spread", None) or {}).get("class_shares") or {}
        top = max(shares, key=shares.get) if shares else None
        flags.append({"kind": "collapsed", "text": f"collapsed (predicts “{top}”)" if top else "collapsed"})
    elif validation is not None and len(classes) == 1:
        flags.append({"kind": "collapsed", "text": f"predicts only “{classes[0]}”"})
    if gap is not None and gap.accuracy > OVERFIT_GAP:
        flags.append({"kind": "overfit", "text": f"overfits (gap {gap.accuracy:.2f})"})
    share = (evidence.penalty_share if evidence is not None else None) or 0.0
    if share > PENALTY_DOMINATED_WARN:
        flags.append({"kind": "penalty", "text": f"penalty-dominated ({share:.0%} of the loss)"})
    return flags


def _line(name: str, kind: str, metrics, gap=None, fit_seconds=None, best_params=None, flags=()) -> dict:
    return {
        "name": name,
        "kind": kind,
        "validation": metrics.get("validation"),
        "test": metrics.get("test"),
        "train": metrics.get("train"),
        "gap": gap,
        "fit_seconds": fit_seconds,
        "best_params": best_params or {},
        "flags": list(flags),
        "best": False,
    }


def regime_verdict(section, ensemble_line: dict | None, baseline_lines: list[dict]) -> dict:
    """The ensemble against the best baseline: the evidence area's verdict when the result has one, else the
    point difference of validation (or test, when the ensemble has no validation score) log loss (below 0 is
    better)."""
    evidence = section.ensemble.vs_baseline if section.ensemble else None
    if evidence:
        return {"source": "evidence", **evidence.to_dict()}
    if ensemble_line is None or not baseline_lines:
        return {"source": "none"}
    split = "validation" if ensemble_line["validation"] is not None else "test"
    best = best_line(baseline_lines, split)
    ours, theirs = _metric(ensemble_line[split]), _metric(best[split]) if best else None
    if ours is None or theirs is None:
        return {"source": "none"}
    difference = ours - theirs
    return {
        "source": "point",
        "split": split,
        "baseline": best["name"],
        "ensemble": ours,
        "baseline_value": theirs,
        "difference": difference,
        "verdict": "better" if difference < 0 else "worse" if difference > 0 else "equal",
        "note": MSG_NO_INTERVAL,
    }


def ensemble_choice(ensemble, best_model: dict | None) -> dict | None:
    """What the ensemble row is — which member or combination — and why: the combiner chosen on validation log
    loss (the page's one rule) and, where they differ, the member the page marks best beside the one the combiner
    took as its best single member (it scores members on its own out-of-fold rows)."""
    if ensemble is None or not ensemble.combiner:
        return None
    weights = {m: w for m, w in ensemble.combiner_weights.items() if w}
    members = ", ".join(f"{m} {w:.2f}" for m, w in sorted(weights.items(), key=lambda item: -item[1]))
    is_text = f"{next(iter(weights))} alone" if len(weights) == 1 else f"{ensemble.combiner_label} of {members}"
    chosen = ensemble.candidates.get(ensemble.combiner)
    lowest = (ensemble.combiner_rule or {}).get("lowest_validation_log_loss")
    why = f"chosen on validation log loss ({chosen.validation_log_loss:.3f})" if chosen else "chosen on validation"
    if lowest and lowest != ensemble.combiner and lowest in ensemble.candidates:
        why += (
            f": the simplest candidate with no interval evidence of being worse than the lowest, "
            f"{lowest} ({ensemble.candidates[lowest].validation_log_loss:.3f})"
        )
    elif lowest == ensemble.combiner:
        why += ": the lowest of the candidates"
    member = ensemble.vs_best_member.member if ensemble.vs_best_member else None
    note = ""
    if member and best_model and member != best_model["name"]:
        note = (
            f"The combiner's best single member is {member} (on its out-of-fold rows); the best model here is "
            f"{best_model['name']} on the comparison rows."
        )
    return {"combiner": ensemble.combiner, "is": is_text, "why": why, "note": note}


def regime_tables(result: RunResult) -> list[dict]:
    """Per regime: lines for each model, the ensemble and the baselines, the best model marked, flags, verdict."""
    regimes = []
    for regime, section in result.ensembles.items():
        entry = {"regime": regime, "status": section.status, "reason": section.reason, "rows": section.rows}
        entry.update({"notes": section.notes, "lines": [], "verdict": {"source": "none"}, "flags": []})
        if not section.trained:
            regimes.append(entry)
            continue
        baselines = section.baselines.scores() if section.baselines else {}
        baseline_lines = [_line(f"baseline: {name}", "baseline", scores) for name, scores in baselines.items()]
        best = best_line(baseline_lines)
        best_baseline = _metric(best["validation"]) if best else None
        models = [
            _line(
                key,
                "model",
                m.metrics,
                gap=m.train_val_gap,
                fit_seconds=m.fit_seconds,
                best_params=m.best_params,
                flags=_model_flags(m.metrics, m.train_val_gap, m.evidence, best_baseline, record=m),
            )
            for key, m in section.models.items()
        ]
        best_model = best_line(models)
        if best_model is not None:
            best_model["best"] = True
        ensemble = None
        if section.ensemble:
            e = section.ensemble
            ensemble_flags = _model_flags(e.metrics, e.train_val_gap, None, best_baseline, record=e)
            classes = predicted_classes(e.metrics.test)
            if not e.collapsed and e.metrics.validation is None and len(classes) == 1:
                ensemble_flags.append({"kind": "collapsed", "text": f"predicts only “{classes[0]}” on test"})
            ensemble = _line("ensemble", "ensemble", e.metrics, e.train_val_gap, e.fit_seconds, flags=ensemble_flags)
            ensemble["choice"] = ensemble_choice(e, best_model)
            entry["notes"] = [*section.notes, *e.notes]
        entry["lines"] = models + ([ensemble] if ensemble else []) + baseline_lines
        entry["verdict"] = regime_verdict(section, ensemble, baseline_lines)
        entry["flags"] += ensemble["flags"] if ensemble else []
        entry["confusion"] = confusion_tables(section)
        entry["combination"] = combination_summary(section.ensemble.to_dict()) if section.ensemble else None
        regimes.append(entry)
    return regimes


def confusion_tables(section) -> list[dict]:
    """Test-split confusion matrices normalized per actual class, each cell with its count and share."""
    matrices = {key: m.metrics.test for key, m in section.models.items()}
    if section.ensemble:
        matrices["ensemble"] = section.ensemble.metrics.test
    tables = []
    for name, split in matrices.items():
        if split is None:
            continue
        rows = []
        for i, counts in enumerate(split.confusion_matrix):
            total = sum(counts) or 1
            cells = [{"count": c, "share": c / total, "level": round(5 * c / total)} for c in counts]
            rows.append({"actual": CLASS_NAMES[i] if i < len(CLASS_NAMES) else str(i), "cells": cells})
        tables.append({"model": name, "rows": rows, "n": split.n, "classes": CLASS_NAMES[: len(rows)]})
    return tables


def baseline_definitions(result: RunResult) -> dict[str, str]:
    """The baselines' definitions, once for the page (the same in every regime)."""
    for section in result.ensembles.values():
        if section.baselines and section.baselines.definitions:
            return dict(section.baselines.definitions)
    return {}


def run_progress_payload(run: TrainingRun) -> dict:
    """What the run page polls while a run is active: status, progress, the step, elapsed seconds, log tail."""
    from django.utils import timezone

    end = run.finished_at or timezone.now()
    return {
        "id": run.pk,
        "status": run.status,
        "terminal": run.is_terminal,
        "fraction": run.progress,
        "stage": run.stage,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "elapsed_seconds": (end - run.started_at).total_seconds() if run.started_at else None,
        "error": run.error or None,
        "log_tail": run.log[-4000:],
    }


def run_page(run: TrainingRun, *, parsed: tuple[RunResult | None, str] | None = None) -> dict:
    """Everything the run page shows from the result: summary, verdicts, tables, confusion matrices, chart data.
    ``parsed`` is ``run_result(run)`` when the caller has it already."""
    from training.selectors.run_charts import chart_data

    result, problem = parsed or run_result(run)
    if result is None:
        return {"result": None, "result_problem": problem, "regimes": [], "charts": None}
    return {
        "result": result,
        "result_problem": "",
        "data_trained": data_trained(run, result.data),
        "regimes": regime_tables(result),
        "definitions": baseline_definitions(result),
        "charts": chart_data(result),
        "trading": trading_summary(result),
    }


def preset_durations(*, per_preset: int = 20) -> dict[str, dict]:
    """The median wall time of each preset's latest succeeded runs on this installation."""
    import statistics

    durations: dict[str, dict] = {}
    succeeded = TrainingRun.objects.filter(status=TrainingRun.Status.SUCCEEDED, started_at__isnull=False)
    for preset in succeeded.values_list("preset", flat=True).distinct():
        spans = succeeded.filter(preset=preset).order_by("-finished_at").values_list("started_at", "finished_at")
        seconds = [(end - start).total_seconds() for start, end in spans[:per_preset] if end]
        if seconds:
            durations[preset] = {"median_seconds": statistics.median(seconds), "runs": len(seconds)}
    return durations


MSG_NO_TRADING = "system: no trading evidence (no regime trained, or the result predates it)"


def system_line(run: TrainingRun) -> str:
    """The system's trading line (``TradingResult.summary_line``), or why there is none."""
    result, _ = run_result(run)
    if result is None or result.trading is None:
        return MSG_NO_TRADING
    return result.trading.summary_line()


def trading_summary(result: RunResult) -> dict | None:
    """The run page's system verdict: the typed trading record, the Holm table per regime and the chart data."""
    trading = result.trading
    if trading is None:
        return None
    return {
        "record": trading,
        "line": trading.summary_line(),
        "verdicts": trading.verdicts,
        "chart": trading.equity.to_dict() if trading.equity else None,
    }


def verdict_lines(run: TrainingRun) -> list[str]:
    """One line per regime: the ensemble against the best baseline (the run page's verdict) and its flags."""
    result, _ = run_result(run)
    if result is None:
        return []
    lines = []
    for table in regime_tables(result):
        verdict, name = table["verdict"], table["regime"]
        if table["status"] != "trained":
            text = f"skipped — {table['reason']}"
        elif verdict["source"] == "evidence":
            text = (
                f"ensemble vs the best baseline ({verdict['baseline']}): {verdict['verdict']}, test log loss "
                f"{verdict['difference']:+.3f} (95% interval {verdict['ci95_low']:+.3f} … {verdict['ci95_high']:+.3f})"
            )
        elif verdict["source"] == "point":
            text = (
                f"ensemble {verdict['verdict']}: Δ {verdict['split']} log loss vs {verdict['baseline']} "
                f"{verdict['difference']:+.3f} ({verdict['ensemble']:.3f} vs {verdict['baseline_value']:.3f}; "
                f"{MSG_NO_INTERVAL})"
            )
        else:
            text = "no ensemble score"
        flags = "; ".join(f["text"] for f in table["flags"])
        lines.append(f"  {name}: {text}" + (f" [{flags}]" if flags else ""))
    return lines
