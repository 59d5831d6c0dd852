"""Reads for the run pages, the JSON endpoint, the compare page and the launch form."""

from __future__ import annotations

from django.db.models import QuerySet

from training.ml.bootstrap import BETTER, NO_EVIDENCE, WORSE
from training.ml.presets import PRESETS
from training.models import MarketDataset, ModelResult, RegularizationProfile, RunTag, TrainingRun
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
    "notes",
    "profile__id",
    "profile__name",
    "profile__is_default",
    "launched_by__id",
    "launched_by__username",
)
LEADERBOARD_FIELDS = (
    "system_verdict",
    "sharpe_after_costs",
    "log_loss_delta",
    "regime_verdicts",
    "wall_seconds",
    "started_at",
    "finished_at",
)


# The run list's server-side orders (?sort=KEY): each ends with a unique key so pages never overlap. The
# leaderboard's sorts read the columns the service copies from a run's result when it stores it
# (``training.services.runs.leaderboard``), each from its own index (run_board_*, 0021_i25b).
RUN_LIST_SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "symbol": ("symbol", "-created_at", "-id"),
    "status": ("status", "-created_at", "-id"),
    "sharpe": ("-sharpe_after_costs", "-id"),
    "sharpe_low": ("sharpe_after_costs", "id"),
    "log_loss": ("log_loss_delta", "id"),
    "log_loss_high": ("-log_loss_delta", "-id"),
    "duration": ("-wall_seconds", "-id"),
    "duration_short": ("wall_seconds", "id"),
}
RUN_LIST_SORT_LABELS = {
    "newest": "newest first",
    "oldest": "oldest first",
    "symbol": "symbol",
    "status": "status",
    "sharpe": "after-cost Sharpe, highest first",
    "sharpe_low": "after-cost Sharpe, lowest first",
    "log_loss": "Δ test log loss, best (lowest) first",
    "log_loss_high": "Δ test log loss, worst first",
    "duration": "duration, longest first",
    "duration_short": "duration, shortest first",
}
# A metric sort ranks the runs that have that number: the others (failed, queued, no trading evidence) are not on
# that board (the page says so), and NULLs never decide the order (they sort first on PostgreSQL, last on SQLite).
SORT_NEEDS = {
    "sharpe": "sharpe_after_costs",
    "sharpe_low": "sharpe_after_costs",
    "log_loss": "log_loss_delta",
    "log_loss_high": "log_loss_delta",
    "duration": "wall_seconds",
    "duration_short": "wall_seconds",
}
# The pair of orders a column header toggles between (its first click: the best first).
COLUMN_SORTS = {"sharpe": ("sharpe", "sharpe_low"), "log_loss": ("log_loss", "log_loss_high")}
COLUMN_SORTS["duration"] = ("duration", "duration_short")
RUN_LIST_DEFAULT_SORT = "newest"
NOT_BETTER = "not better"
SYSTEM_VERDICTS = (BETTER, NO_EVIDENCE, WORSE)
VERDICT_CHOICES = (*SYSTEM_VERDICTS, NOT_BETTER)


def run_list_sort(runs: QuerySet, sort: str) -> QuerySet:
    """``runs`` in the order ``sort`` names (unknown: newest), without the runs lacking that sort's number."""
    sort = sort if sort in RUN_LIST_SORTS else RUN_LIST_DEFAULT_SORT
    if sort in SORT_NEEDS:
        runs = runs.filter(**{f"{SORT_NEEDS[sort]}__isnull": False})
    return runs.order_by(*RUN_LIST_SORTS[sort])


def run_list_verdict(runs: QuerySet, verdict: str) -> QuerySet:
    if verdict == NOT_BETTER:
        return runs.filter(system_verdict__in=[NO_EVIDENCE, WORSE])
    return runs.filter(system_verdict=verdict) if verdict in SYSTEM_VERDICTS else runs


def training_run_list(
    *,
    symbol: str = "",
    status: str = "",
    profile_id: int | None = None,
    tag: str = "",
    trigger: str = "",
    preset: str = "",
    verdict: str = "",
    sharpe_min: float | None = None,
    log_loss_max: float | None = None,
    sort: str = RUN_LIST_DEFAULT_SORT,
) -> QuerySet:
    """The run list, filtered and ordered server-side (``sort`` a key of RUN_LIST_SORTS; unknown: newest)."""
    runs = (
        TrainingRun.objects.select_related("profile", "launched_by")
        .only(*LIST_FIELDS, "trigger", *LEADERBOARD_FIELDS)
        .prefetch_related("tags")
    )
    if symbol:
        runs = runs.filter(symbol=symbol.strip().upper())
    if status:
        runs = runs.filter(status=status)
    if profile_id:
        runs = runs.filter(profile_id=profile_id)
    if tag:
        runs = runs.filter(tags__name=tag.strip().lower())  # tag names are unique: one row per run
    if trigger:
        runs = runs.filter(trigger=trigger)
    if preset:
        runs = runs.filter(preset=preset)
    if verdict:
        runs = run_list_verdict(runs, verdict)
    if sharpe_min is not None:
        runs = runs.filter(sharpe_after_costs__gte=sharpe_min)
    if log_loss_max is not None:
        runs = runs.filter(log_loss_delta__lte=log_loss_max)
    return run_list_sort(runs, sort)


def training_run_filter_choices() -> dict:
    return {
        "symbols": list(MarketDataset.objects.order_by("symbol").values_list("symbol", flat=True).distinct()),
        "statuses": [value for value, _ in TrainingRun.Status.choices],
        "profiles": list(RegularizationProfile.objects.order_by("name").values_list("id", "name")),
        "triggers": [value for value, _ in TrainingRun.Trigger.choices],
        "presets": list(PRESETS),
        "sorts": list(RUN_LIST_SORT_LABELS.items()),
        "verdicts": list(VERDICT_CHOICES),
        "tags": list(
            RunTag.objects.filter(runs__isnull=False).distinct().order_by("name").values_list("name", flat=True)
        ),
    }


def training_run_get_queryset() -> QuerySet:
    return TrainingRun.objects.select_related("profile", "launched_by", "dataset", "rerun_of")


def training_run_get(*, run_id: int) -> TrainingRun:
    return training_run_get_queryset().get(pk=run_id)


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


def training_run_live_keys(run: TrainingRun) -> dict:
    """The keys of a run's answer that change after it finished: the log (a schedule appends its promotion
    decision) and the attempts allowed (a setting)."""
    return {"attempts": {"current": run.attempts, "max": run.max_attempts}, "log_tail": run.log[-4000:]}


def training_run_api_payload(*, run: TrainingRun, results: list[ModelResult] | None) -> dict:
    live = training_run_live_keys(run)
    return {
        "id": run.pk,
        "status": run.status,
        "terminal": run.is_terminal,
        "attempts": live["attempts"],
        "worker": run.worker or None,
        "progress": training_run_progress(run),
        "snapshot": run.snapshot,
        "report": run.report,
        "metrics": training_run_metrics(results or []),
        "error": run.error or None,
        "log_tail": live["log_tail"],
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
