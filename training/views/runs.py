"""Run pages and the JSON endpoint; each view is one call into a selector or a service."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from training.forms.runs import TrainingRunLaunchForm
from training.models import TrainingRun
from training.selectors import runs as selectors
from training.services.runs import (
    TrainingRunEnqueueFailed,
    training_run_cancel,
    training_run_create,
    training_run_rerun,
)

LAUNCH_PERMISSION = "training.add_trainingrun"
PAGE_SIZE = 25
MSG_LAUNCHED = "Run #{pk} queued: {symbol} {interval} with profile '{profile}', preset {preset}."
MSG_CANCEL_REQUESTED = "Cancellation of run #{pk} requested."
MSG_COMPARE_NEEDS_TWO = "Pick at least two runs to compare."
MSG_NO_ARTIFACTS = "Run #{pk} has no artifacts yet."


def _get_run(run_id: int) -> TrainingRun:
    try:
        return selectors.training_run_get(run_id=run_id)
    except TrainingRun.DoesNotExist:
        raise Http404(f"No run #{run_id}") from None


@login_required
def home(request):
    return redirect("training:run_list")


@login_required
@require_GET
def run_list(request):
    profile_id = request.GET.get("profile") or None
    filters = {
        "symbol": request.GET.get("symbol", ""),
        "status": request.GET.get("status", ""),
        "profile_id": int(profile_id) if profile_id and profile_id.isdigit() else None,
    }
    page = Paginator(selectors.training_run_list(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "training/run_list.html",
        {
            "page": page,
            "filters": filters,
            "choices": selectors.training_run_filter_choices(),
            "query": query.urlencode(),
            "can_launch": request.user.has_perm(LAUNCH_PERMISSION),
        },
    )


@login_required
@permission_required(LAUNCH_PERMISSION, raise_exception=True)
@require_http_methods(["GET", "POST"])
def run_new(request):
    presets = selectors.preset_names()
    initial = {"profile": request.GET.get("profile")} if request.GET.get("profile") else {}
    form = TrainingRunLaunchForm(request.POST or None, presets=presets, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            run = training_run_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        except TrainingRunEnqueueFailed as exc:
            messages.error(request, str(exc))
            return redirect("training:run_detail", run_id=exc.run.pk)
        else:
            messages.success(
                request,
                MSG_LAUNCHED.format(
                    pk=run.pk, symbol=run.symbol, interval=run.interval, profile=run.profile.name, preset=run.preset
                ),
            )
            return redirect("training:run_detail", run_id=run.pk)
    return render(request, "training/run_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_GET
def run_detail(request, run_id: int):
    run = _get_run(run_id)
    result = run.result or {}
    current = run.profile.resolved_config()
    plots = [name for name in result.get("plots") or [] if (Path(run.artifacts_path) / name).is_file()]
    return render(
        request,
        "training/run_detail.html",
        {
            "run": run,
            "settings_rows": selectors.settings_by_backend(used=run.snapshot.get("config") or {}, current=current),
            "regimes": selectors.metrics_by_regime(result),
            "metric_keys": selectors.METRIC_KEYS,
            "splits": selectors.SPLITS,
            "plots": plots,
            "can_launch": request.user.has_perm(LAUNCH_PERMISSION),
            "snapshot_json": json.dumps({k: v for k, v in run.snapshot.items() if k != "config"}, indent=2),
        },
    )


@login_required
@require_GET
def run_api(request, run_id: int):
    run = _get_run(run_id)
    results = selectors.training_run_model_results(runs=[run]) if run.status == TrainingRun.Status.SUCCEEDED else []
    return JsonResponse(selectors.training_run_api_payload(run=run, results=results))


@login_required
@require_GET
def run_export(request, run_id: int):
    run = _get_run(run_id)
    payload = selectors.training_run_export(run=run, results=selectors.training_run_model_results(runs=[run]))
    response = JsonResponse(payload, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}.json"'
    return response


def _artifact_root(run: TrainingRun) -> Path:
    if not run.artifacts_path or not Path(run.artifacts_path).is_dir():
        raise Http404(MSG_NO_ARTIFACTS.format(pk=run.pk))
    return Path(run.artifacts_path).resolve()


@login_required
@require_GET
def run_file(request, run_id: int, name: str):
    root = _artifact_root(_get_run(run_id))
    path = (root / name).resolve()
    if root not in path.parents or not path.is_file():
        raise Http404(name)
    return FileResponse(path.open("rb"))


@login_required
@require_GET
def run_artifacts_zip(request, run_id: int):
    run = _get_run(run_id)
    root = _artifact_root(run)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix())
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-artifacts.zip"'
    return response


@login_required
@permission_required(LAUNCH_PERMISSION, raise_exception=True)
@require_POST
def run_cancel(request, run_id: int):
    try:
        training_run_cancel(run=_get_run(run_id), user=request.user)
        messages.success(request, MSG_CANCEL_REQUESTED.format(pk=run_id))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("training:run_detail", run_id=run_id)


@login_required
@permission_required(LAUNCH_PERMISSION, raise_exception=True)
@require_POST
def run_rerun(request, run_id: int):
    try:
        run = training_run_rerun(run=_get_run(run_id), user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("training:run_detail", run_id=run_id)
    except TrainingRunEnqueueFailed as exc:
        messages.error(request, str(exc))
        return redirect("training:run_detail", run_id=exc.run.pk)
    messages.success(
        request,
        MSG_LAUNCHED.format(
            pk=run.pk, symbol=run.symbol, interval=run.interval, profile=run.profile.name, preset=run.preset
        ),
    )
    return redirect("training:run_detail", run_id=run.pk)


@login_required
@require_GET
def run_compare(request):
    ids = sorted({int(i) for i in request.GET.getlist("ids") if i.isdigit()})
    if len(ids) < 2:
        messages.error(request, MSG_COMPARE_NEEDS_TWO)
        return redirect(reverse("training:run_list"))
    data = selectors.compare_runs(run_ids=ids)
    if len(data["runs"]) < 2:
        raise Http404(MSG_COMPARE_NEEDS_TWO)
    return render(request, "training/run_compare.html", {**data, "splits": selectors.SPLITS})
