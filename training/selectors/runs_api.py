"""Reads for the REST API's run endpoints (the pages' run selectors, plus the API's extra keys)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from django.db.models import QuerySet
from django.urls import reverse

from training.ml.results import RegularizationReport, ResultInvalid, RunResult
from training.models import TrainingRun
from training.selectors.runs import LIST_FIELDS, training_run_api_payload, training_run_model_results

MSG_NO_ARTIFACTS = "Run #{pk} has no artifacts."


class NoArtifacts(LookupError):
    pass


def training_run_api_list() -> QuerySet[TrainingRun]:
    return (
        TrainingRun.objects.select_related("profile", "launched_by")
        .only(*LIST_FIELDS, "trigger")
        .order_by("-created_at", "-id")
    )


def training_run_api_detail(*, run: TrainingRun) -> dict:
    """Today's keys of the run endpoint (status, progress, snapshot, report, metrics, error, …) and the API's."""
    results = training_run_model_results(runs=[run]) if run.status == TrainingRun.Status.SUCCEEDED else []
    return {
        **training_run_api_payload(run=run, results=results),
        "symbol": run.symbol,
        "exchange": run.exchange,
        "interval": run.interval,
        "preset": run.preset,
        "trigger": run.trigger,
        "rerun_of": run.rerun_of_id,
        "artifacts_url": reverse("api:run-artifacts", args=[run.pk]) if run.artifacts_path else None,
        "report": _report(run),
        "result": _result(run),
        "trading": _trading(run),
        "advice": _advice(run),
    }


def _report(run: TrainingRun) -> RegularizationReport | None:
    """The run's stored regularization report, read through its type (None when absent or unreadable)."""
    try:
        return RegularizationReport.from_dict(run.report) if run.report else None
    except (ResultInvalid, TypeError, KeyError, ValueError):
        return None


def _result(run: TrainingRun) -> RunResult | None:
    from training.selectors.run_summary import run_result

    if run.status != TrainingRun.Status.SUCCEEDED:
        return None
    return run_result(run)[0]


def _advice(run: TrainingRun) -> list[dict]:
    from training.selectors.run_advice import run_advice

    return run_advice(run=run)


def _trading(run: TrainingRun) -> dict | None:
    """The run's stored trading record, read through its type (None when absent or unreadable)."""
    from training.selectors.run_summary import run_result

    if run.status != TrainingRun.Status.SUCCEEDED:
        return None
    result, _ = run_result(run)
    return result.trading.to_dict() if result is not None and result.trading is not None else None


def training_run_artifacts_zip(*, run: TrainingRun) -> bytes:
    """Every file under the run's artifacts directory, zipped (paths relative to it)."""
    root = Path(run.artifacts_path) if run.artifacts_path else None
    if root is None or not root.is_dir():
        raise NoArtifacts(MSG_NO_ARTIFACTS.format(pk=run.pk))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()
