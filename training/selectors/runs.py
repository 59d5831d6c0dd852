"""Reads for the run pages, the JSON endpoint, the compare page and the launch form."""

from __future__ import annotations

from django.db.models import QuerySet

from training.ml.presets import PRESETS
from training.ml.results import RunResult
from training.models import MarketDataset, ModelResult, RegularizationProfile, TrainingRun
from training.selectors.market_data import datasets_available

LIST_FIELDS = (
    "id",
    "symbol",
    "exchange",
    "interval",
    "preset",
    "status",
    "progress",
    "stage",
    "created_at",
    "started_at",
    "finished_at",
    "error",
    "profile__id",
    "profile__name",
    "profile__is_default",
    "launched_by__id",
    "launched_by__username",
)
METRIC_KEYS = ("balanced_accuracy", "macro_f1", "log_loss")
SPLITS = ("train", "validation", "test")


def training_run_list(*, symbol: str = "", status: str = "", profile_id: int | None = None) -> QuerySet:
    runs = TrainingRun.objects.select_related("profile", "launched_by").only(*LIST_FIELDS)
    if symbol:
        runs = runs.filter(symbol=symbol.strip().upper())
    if status:
        runs = runs.filter(status=status)
    if profile_id:
        runs = runs.filter(profile_id=profile_id)
    return runs.order_by("-created_at", "-id")


def training_run_filter_choices() -> dict:
    return {
        "symbols": list(MarketDataset.objects.order_by("symbol").values_list("symbol", flat=True).distinct()),
        "statuses": [value for value, _ in TrainingRun.Status.choices],
        "profiles": list(RegularizationProfile.objects.order_by("name").values_list("id", "name")),
    }


def training_run_get(*, run_id: int) -> TrainingRun:
    return TrainingRun.objects.select_related("profile", "launched_by", "dataset", "rerun_of").get(pk=run_id)


def training_run_model_results(*, runs) -> list[ModelResult]:
    return list(ModelResult.objects.filter(run__in=runs).order_by("run_id", "regime", "model"))


def training_run_progress(run: TrainingRun) -> dict:
    return {
        "fraction": run.progress,
        "stage": run.stage,
        "heartbeat_at": run.heartbeat_at.isoformat() if run.heartbeat_at else None,
    }


def training_run_metrics(results: list[ModelResult]) -> list[dict]:
    return [
        {
            "regime": r.regime,
            "model": r.model,
            "metrics": r.metrics,
            "train_val_gap": r.train_val_gap,
            "fit_seconds": r.fit_seconds,
            "best_params": r.best_params,
        }
        for r in results
    ]


def training_run_api_payload(*, run: TrainingRun, results: list[ModelResult] | None) -> dict:
    return {
        "id": run.pk,
        "status": run.status,
        "terminal": run.is_terminal,
        "attempts": {"current": run.attempts, "max": run.max_attempts},
        "worker": run.worker or None,
        "progress": training_run_progress(run),
        "snapshot": run.snapshot,
        "report": run.report,
        "metrics": training_run_metrics(results or []),
        "error": run.error or None,
        "log_tail": run.log[-4000:],
    }


def training_run_export(*, run: TrainingRun, results: list[ModelResult]) -> dict:
    """Everything about a run, for the JSON download."""
    return {
        **training_run_api_payload(run=run, results=results),
        "symbol": run.symbol,
        "exchange": run.exchange,
        "interval": run.interval,
        "preset": run.preset,
        "seed": run.seed,
        "profile": run.profile.name,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "result": run.result,
        "log": run.log,
        "traceback": run.traceback or None,
        "artifacts_path": run.artifacts_path,
    }


# --- views of a run's settings and results ------------------------------------------------------------
def flatten(value, prefix: str = "") -> dict:
    if isinstance(value, dict):
        out: dict = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def settings_by_backend(*, used: dict, current: dict | None) -> list[dict]:
    """Rows per section (base, then each backend) of the config a run used, beside the profile's current one."""
    current = current or {}
    sections = [
        (
            "base",
            {k: v for k, v in used.items() if not isinstance(v, dict)},
            {k: v for k, v in current.items() if not isinstance(v, dict)},
        )
    ]
    sections += [(k, v, current.get(k) or {}) for k, v in used.items() if isinstance(v, dict)]
    rows = []
    for section, values, now in sections:
        params = [
            {"name": name, "used": value, "current": now.get(name), "changed": now.get(name) != value}
            for name, value in values.items()
        ]
        rows.append({"section": section, "params": params, "changed": any(p["changed"] for p in params)})
    return rows


def metrics_by_regime(result: dict) -> list[dict]:
    """Per regime: the models' metrics per split, the ensemble, the baselines, gaps, best params and the evidence
    (collapse, spread, verdict against the best baseline), read from the typed run result
    (``training.ml.results``) for the table."""
    if not result.get("ensembles"):
        return []
    regimes = []
    for regime, section in RunResult.from_dict(result).ensembles.items():
        lines = [
            {
                "name": model,
                "kind": "model",
                "metrics": info.metrics,
                "gap": info.train_val_gap,
                "fit_seconds": info.fit_seconds,
                "best_params": info.best_params,
                "collapsed": info.collapsed,
                "spread": info.spread or {},
                "vs_baseline": info.vs_baseline,
            }
            for model, info in section.models.items()
        ]
        if section.ensemble:
            lines.append(
                {
                    "name": "ensemble",
                    "kind": "ensemble",
                    "metrics": section.ensemble.metrics,
                    "gap": section.ensemble.train_val_gap,
                    "fit_seconds": section.ensemble.fit_seconds,
                    "collapsed": section.ensemble.collapsed,
                    "spread": section.ensemble.spread or {},
                    "vs_baseline": section.ensemble.vs_baseline,
                }
            )
        if section.baselines:
            lines += [
                {"name": f"baseline: {name}", "kind": "baseline", "metrics": scores}
                for name, scores in section.baselines.scores().items()
            ]
        for line in lines:
            line["cells"] = [getattr(line["metrics"].get(split), key, None) for split in SPLITS for key in METRIC_KEYS]
        regimes.append(
            {
                "regime": regime,
                "status": section.status,
                "reason": section.reason,
                "rows": section.rows,
                "lines": lines,
                "baseline_definitions": section.baselines.definitions if section.baselines else {},
                "comparison": section.comparison or {},
                "combination": combination_summary(section.ensemble.to_dict() if section.ensemble else None),
            }
        )
    return regimes


def combination_summary(ensemble: dict | None) -> dict | None:
    """The ensemble's combiner choice, its test comparison with the best member and its calibration on the test
    block, for the run page (None for results trained before the combiner choice)."""
    if not ensemble or not ensemble.get("combiner"):
        return None
    chosen = ensemble["combiner"]
    candidates = [
        {
            "name": name,
            "validation_log_loss": info["validation_log_loss"],
            "verdict": (info.get("vs_lowest") or {}).get("verdict"),
            "chosen": name == chosen,
        }
        for name, info in (ensemble.get("candidates") or {}).items()
    ]
    calibration = ensemble.get("calibration") or {}
    return {
        "combiner": chosen,
        "label": ensemble.get("combiner_label") or chosen,
        "params": ensemble.get("combiner_params") or {},
        "weights": ensemble.get("combiner_weights") or {},
        "candidates": candidates,
        "vs_best_member": ensemble.get("vs_best_member"),
        "calibration": {
            "method": calibration.get("method"),
            "parameter": calibration.get("parameter") or {},
            "test": calibration.get("test") or {},
            "check": calibration.get("check") or {},
        },
    }


def compare_runs(*, run_ids: list[int]) -> dict:
    runs = list(TrainingRun.objects.select_related("profile").filter(pk__in=run_ids).order_by("id"))
    flats = [
        flatten(
            {
                "config": r.snapshot.get("config") or {},
                "preset": r.snapshot.get("preset") or {},
                "data": r.snapshot.get("data") or {},
                "seed": r.snapshot.get("seed"),
                "profile": (r.snapshot.get("profile") or {}).get("name"),
            }
        )
        for r in runs
    ]
    keys = sorted(set().union(*flats)) if flats else []
    differing = [
        {"key": k, "values": [f.get(k) for f in flats]} for k in keys if len({repr(f.get(k)) for f in flats}) > 1
    ]
    by_key: dict = {}
    index = {r.pk: i for i, r in enumerate(runs)}
    for result in training_run_model_results(runs=runs):
        row = by_key.setdefault((result.regime, result.model), [None] * len(runs))
        row[index[result.run_id]] = result
    metrics = [{"regime": regime, "model": model, "cells": cells} for (regime, model), cells in sorted(by_key.items())]
    return {"runs": runs, "differing": differing, "metrics": metrics}


def launch_choices() -> dict:
    objects = list(datasets_available())
    datasets = [(d.exchange, d.symbol, d.interval) for d in objects]
    return {
        "objects": objects,
        "exchanges": sorted({d[0] for d in datasets}) or ["BINANCE"],
        "symbols": sorted({d[1] for d in datasets}),
        "intervals": sorted({d[2] for d in datasets}),
        "datasets": datasets,
    }


def preset_names() -> list[str]:
    return list(PRESETS)
