"""Reads for the REST API's run endpoints (the pages' run selectors, plus the API's extra keys)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db.models import QuerySet
from django.urls import reverse

from training.artifact_store import COMPLETE_MARK, run_dir
from training.ml.results import RegularizationReport, ResultInvalid
from training.models import TrainingRun
from training.selectors.runs import (
    LEADERBOARD_FIELDS,
    LIST_FIELDS,
    training_run_api_payload,
    training_run_get_queryset,
    training_run_live_keys,
    training_run_model_results,
)

MSG_NO_ARTIFACTS = "Run #{pk} has no artifacts."


class NoArtifacts(LookupError):
    pass


def training_run_api_list() -> QuerySet[TrainingRun]:
    return (
        TrainingRun.objects.select_related("profile", "launched_by")
        .only(*LIST_FIELDS, "trigger", *LEADERBOARD_FIELDS)
        .prefetch_related("tags")
        .order_by("-created_at", "-id")
    )


def training_run_api_detail(*, run: TrainingRun) -> dict:
    """Today's keys of the run endpoint (status, progress, snapshot, report, metrics, error, …) and the API's."""
    from training.selectors.run_summary import run_result

    succeeded = run.status == TrainingRun.Status.SUCCEEDED
    results = training_run_model_results(runs=[run]) if succeeded else []
    parsed = run_result(run) if succeeded else (None, "")
    return {
        **training_run_api_payload(run=run, results=results),
        "symbol": run.symbol,
        "exchange": run.exchange,
        "interval": run.interval,
        "preset": run.preset,
        "trigger": run.trigger,
        "rerun_of": run.rerun_of_id,
        "notes": run.notes,
        "tags": [tag.name for tag in run.tags.all()],
        "artifacts_url": reverse("api:run-artifacts", args=[run.pk]) if run.artifacts_path else None,
        "report": _report(run),
        "result": parsed[0],
        "trading": _trading(parsed),
        "advice": _advice(run, parsed),
    }


def training_run_get_for_api(*, run_id: int) -> TrainingRun:
    """The run for its detail answer, with the columns only a first answer reads (result, report, snapshot) left
    unloaded until read: a finished run's answer is cached (``training_run_api_detail_cached``)."""
    from training.selectors.run_page import DEFERRED_FIELDS

    return training_run_get_queryset().defer(*DEFERRED_FIELDS, "snapshot").get(pk=run_id)


def training_run_api_detail_cached(*, run: TrainingRun, serialize: Callable[[dict], dict]) -> dict:
    """``serialize(training_run_api_detail(run=run))``; for a finished run kept in the ``run_pages`` cache under
    the run page's key (its result, report, metrics and trading never change), with the keys that can still
    change (``training_run_live_keys``) read on every call."""
    from training.selectors.run_page import PAGE_CACHE, run_page_cache_key

    key = run_page_cache_key(run)
    if key is None:
        return serialize(training_run_api_detail(run=run))
    cache = caches[PAGE_CACHE]
    data = cache.get(f"run-api:{key}")
    if data is None:
        data = dict(serialize(training_run_api_detail(run=run)))
        cache.set(f"run-api:{key}", data, settings.RUN_PAGE_CACHE_SECONDS)
        return data
    return {**data, **training_run_live_keys(run)}


def _report(run: TrainingRun) -> RegularizationReport | None:
    """The run's stored regularization report, read through its type (None when absent or unreadable)."""
    try:
        return RegularizationReport.from_dict(run.report) if run.report else None
    except (ResultInvalid, TypeError, KeyError, ValueError):
        return None


def _advice(run: TrainingRun, parsed) -> list[dict]:
    from training.selectors.run_advice import run_advice

    return run_advice(run=run, parsed=parsed)


def _trading(parsed) -> dict | None:
    """The run's stored trading record, read through its type (None when absent, unreadable or not succeeded)."""
    result, _ = parsed
    return result.trading.to_dict() if result is not None and result.trading is not None else None


def training_run_artifacts_zip(*, run: TrainingRun) -> bytes:
    """Every file under the run's artifacts directory, zipped (paths relative to it)."""
    root = run_dir(run)
    if root is None or not root.is_dir():
        raise NoArtifacts(MSG_NO_ARTIFACTS.format(pk=run.pk))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.name != COMPLETE_MARK:
                archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()
