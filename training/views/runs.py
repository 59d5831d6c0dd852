"""Run pages and the JSON endpoint; each view is one call into a selector or a service."""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from training.artifact_store import COMPLETE_MARK, run_dir
from training.forms.runs import RunNotesForm, TrainingRunLaunchForm
from training.models import TrainingRun
from training.pagination import BoundedCountPaginator
from training.selectors import runs as selectors
from training.selectors.profiles import profile_launch_panels
from training.selectors.registry import active_run_ids
from training.selectors.run_compare import compare
from training.selectors.run_page import RunPage, training_run_get_for_page
from training.selectors.run_rows import run_rows
from training.selectors.run_summary import preset_durations, run_progress_payload
from training.services.run_notes import run_tags_text, training_run_annotate
from training.services.runs import (
    RERUN_FROM_PROFILE,
    TrainingRunEnqueueFailed,
    training_run_cancel,
    training_run_create,
    training_run_rerun,
)
from training.url_converters import parse_id, parse_ids, parse_text
from training.views.pbo_charts import pbo_context
from training.views.permissions import needs_permission

VIEW_PERMISSION = "training.view_trainingrun"
LAUNCH_PERMISSION = "training.add_trainingrun"
CHANGE_PERMISSION = "training.change_trainingrun"
PAGE_SIZE = 25
COMPARE_MAX_RUNS = 8
MSG_LAUNCHED = "Run #{pk} queued: {symbol} {interval} with profile '{profile}', preset {preset}."
MSG_NOTES_SAVED = "Notes and tags of run #{pk} saved."
MSG_CANCEL_REQUESTED = "Cancellation of run #{pk} requested."
MSG_COMPARE_NEEDS_TWO = "Pick at least two runs to compare."
MSG_NO_ARTIFACTS = "Run #{pk} has no artifacts yet."
MSG_NO_SUCH_FILE = "No such file in this run's artifacts."
MAX_FILE_NAME_LENGTH = 255
MSG_NOT_A_NUMBER = "{label} must be a number; got “{value}”: that filter is off."


def _requires(permission: str):
    """Anonymous users go to the login page; a logged-in user without `permission` gets a 403."""

    def decorate(view):
        return needs_permission(permission)(view)

    return decorate


run_reader = _requires(VIEW_PERMISSION)
run_launcher = _requires(LAUNCH_PERMISSION)
run_changer = _requires(CHANGE_PERMISSION)


def _get_run(run_id: int) -> TrainingRun:
    try:
        return selectors.training_run_get(run_id=run_id)
    except TrainingRun.DoesNotExist:
        raise Http404(f"No run #{run_id}") from None


@login_required
def home(request):
    return redirect("training:run_list")


def _number(request, name: str, label: str, problems: list[str]) -> float | None:
    """A float from the query string (None when blank); a value that does not parse is reported and ignored."""
    raw = request.GET.get(name, "").strip()[:32]
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value):
        problems.append(MSG_NOT_A_NUMBER.format(label=label, value=raw))
        return None
    return value


@run_reader
@require_GET
def run_list(request):
    problems: list[str] = []
    filters = {
        "symbol": parse_text(request.GET.get("symbol"), limit=32),
        "status": parse_text(request.GET.get("status"), limit=16),
        "profile_id": parse_id(request.GET.get("profile")),
        "tag": parse_text(request.GET.get("tag"), limit=40),
        "trigger": parse_text(request.GET.get("trigger"), limit=16),
        "preset": parse_text(request.GET.get("preset"), limit=16),
        "verdict": parse_text(request.GET.get("verdict"), limit=16),
        "sharpe_min": _number(request, "sharpe_min", "Min Sharpe", problems),
        "log_loss_max": _number(request, "log_loss_max", "Max Δ log loss", problems),
        "sort": parse_text(request.GET.get("sort"), limit=16) or selectors.RUN_LIST_DEFAULT_SORT,
    }
    if filters["sort"] not in selectors.RUN_LIST_SORTS:
        filters["sort"] = selectors.RUN_LIST_DEFAULT_SORT
    page = BoundedCountPaginator(selectors.training_run_list(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    unsorted = query.copy()
    unsorted.pop("sort", None)
    can_change = request.user.has_perm(CHANGE_PERMISSION)
    return render(
        request,
        "training/run_list.html",
        {
            "page": page,
            "filters": filters,
            "typed": {name: request.GET.get(name, "")[:32] for name in ("sharpe_min", "log_loss_max")},
            "problems": problems,
            "choices": selectors.training_run_filter_choices(),
            "query": query.urlencode(),
            "sort_links": _sort_links(unsorted.urlencode(), filters["sort"]),
            "board_needs": selectors.SORT_NEEDS.get(filters["sort"]),
            "can_launch": request.user.has_perm(LAUNCH_PERMISSION),
            "can_change": can_change,
            "rows": run_rows(
                page, active_ids=active_run_ids(), can_change=can_change, next_path=request.get_full_path()
            ),
        },
    )


def _sort_links(query: str, current: str) -> dict[str, dict]:
    """Per sortable column its link (the filters kept, the sort toggled) and the direction shown now."""
    links = {}
    for column, (first, second) in selectors.COLUMN_SORTS.items():
        target = second if current == first else first
        aria = "descending" if current in ("sharpe", "log_loss_high", "duration") else "ascending"
        links[column] = {
            "href": f"?{query}{'&' if query else ''}sort={target}",
            "active": current in (first, second),
            "aria": aria if current in (first, second) else "none",
            "arrow": ("↓" if aria == "descending" else "↑") if current in (first, second) else "",
        }
    return links


@run_changer
@require_http_methods(["GET", "POST"])
def run_notes(request, run_id: int):
    """Edit a run's notes and tags (a page of its own, linked from the run list)."""
    run = _get_run(run_id)
    initial = {"notes": run.notes, "tags": run_tags_text(run)}
    form = RunNotesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            training_run_annotate(run=run, notes=form.cleaned_data["notes"], tags=form.cleaned_data["tags"])
        except ValidationError as exc:
            form.add_error(None, exc)  # keyed by field
        else:
            messages.success(request, MSG_NOTES_SAVED.format(pk=run.pk))
            return redirect(request.POST.get("next") if _safe_next(request) else "training:run_list")
    return render(request, "training/run_notes.html", {"run": run, "form": form, "next": request.GET.get("next", "")})


def _safe_next(request) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    return bool(target) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})


@run_launcher
@require_http_methods(["GET", "POST"])
def run_new(request):
    presets = selectors.preset_names()
    initial = {key: request.GET[key] for key in ("profile", "trigger") if request.GET.get(key)}
    form = TrainingRunLaunchForm(request.POST or None, presets=presets, initial=initial, durations=preset_durations())
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
    context = {"form": form, "profile_panels": profile_launch_panels()}
    return render(request, "training/run_form.html", context, status=400 if form.errors else 200)


@run_reader
@require_GET
def run_detail(request, run_id: int):
    try:
        run = training_run_get_for_page(run_id=run_id)
    except TrainingRun.DoesNotExist:
        raise Http404(f"No run #{run_id}") from None
    return render(
        request,
        "training/run_detail.html",
        {
            "run": run,
            **RunPage(run).context(),
            "can_launch": request.user.has_perm(LAUNCH_PERMISSION),
            "can_cancel": request.user.has_perm(CHANGE_PERMISSION),
            "active_run_ids": active_run_ids(),
        },
    )


@run_reader
@require_GET
def run_progress(request, run_id: int):
    return JsonResponse(run_progress_payload(_get_run(run_id)))


@run_reader
@require_GET
def run_export(request, run_id: int):
    run = _get_run(run_id)
    payload = selectors.training_run_export(run=run, results=selectors.training_run_model_results(runs=[run]))
    response = JsonResponse(payload, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}.json"'
    return response


def _artifact_root(run: TrainingRun) -> Path:
    directory = run_dir(run)
    if directory is None or not directory.is_dir():
        raise Http404(MSG_NO_ARTIFACTS.format(pk=run.pk))
    return directory.resolve()


@run_reader
@require_GET
def run_file(request, run_id: int, name: str):
    root = _artifact_root(_get_run(run_id))
    if "\x00" in name or len(name) > MAX_FILE_NAME_LENGTH:
        raise Http404(MSG_NO_SUCH_FILE)
    path = (root / name).resolve()
    if root not in path.parents or not path.is_file():
        raise Http404(MSG_NO_SUCH_FILE)
    return FileResponse(path.open("rb"))


@run_reader
@require_GET
def run_artifacts_zip(request, run_id: int):
    run = _get_run(run_id)
    root = _artifact_root(run)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.name != COMPLETE_MARK:
                archive.write(path, path.relative_to(root).as_posix())
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-artifacts.zip"'
    return response


@run_changer
@require_POST
def run_cancel(request, run_id: int):
    try:
        training_run_cancel(run=_get_run(run_id), user=request.user)
        messages.success(request, MSG_CANCEL_REQUESTED.format(pk=run_id))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("training:run_detail", run_id=run_id)


@run_launcher
@require_POST
def run_rerun(request, run_id: int):
    """POST from=snapshot (this run's settings) or from=profile (the profile now; the default)."""
    try:
        run = training_run_rerun(
            run=_get_run(run_id), user=request.user, source=request.POST.get("from") or RERUN_FROM_PROFILE
        )
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


MSG_COMPARE_REF_UNKNOWN = "The reference run “{ref}” is not one of the compared runs; the first run (#{pk}) is used."
COMPARE_SETTINGS_MODES = ("differ", "all")


def _compare_query(ids: list[int], *, ref: int, settings: str) -> str:
    return "?" + urlencode({"ids": ids, "ref": ref, "settings": settings}, doseq=True)


@run_reader
@require_GET
def run_compare(request):
    ids = parse_ids(request.GET.getlist("ids"), limit=COMPARE_MAX_RUNS)
    if len(ids) < 2:
        messages.error(request, MSG_COMPARE_NEEDS_TWO)
        return redirect(reverse("training:run_list"))
    raw_ref = request.GET.get("ref")
    settings_mode = request.GET.get("settings")
    settings_mode = settings_mode if settings_mode in COMPARE_SETTINGS_MODES else COMPARE_SETTINGS_MODES[0]
    data = compare(run_ids=ids, reference_id=parse_id(raw_ref), settings=settings_mode)
    if len(data["runs"]) < 2:
        raise Http404(MSG_COMPARE_NEEDS_TWO)
    shown = [run.pk for run in data["runs"]]
    ref = data["reference"].pk
    if raw_ref not in (None, "") and parse_id(raw_ref) != ref:
        messages.warning(request, MSG_COMPARE_REF_UNKNOWN.format(ref=raw_ref[:40], pk=ref))
    data["pbo"] = pbo_context(data["pbo"])
    for column in data["columns"]:
        column["reference_link"] = _compare_query(shown, ref=column["run"].pk, settings=data["settings_mode"])
    data["settings_links"] = {mode: _compare_query(shown, ref=ref, settings=mode) for mode in COMPARE_SETTINGS_MODES}
    return render(request, "training/run_compare.html", {**data, "active_run_ids": active_run_ids()})
