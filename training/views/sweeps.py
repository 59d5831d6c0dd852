"""Sweep pages; each view is one call into a selector or a service. Sweeps are read like runs
(`view_trainingrun`); a read writes nothing (the run-finish signal and the reconciler advance sweeps), a POST
reconciles before it acts."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from training.forms.sweeps import SweepLaunchForm
from training.models import Sweep
from training.selectors import runs as run_selectors
from training.selectors import sweeps as selectors
from training.selectors.sweep_evidence import (
    MSG_TEST_LABEL,
    sweep_curve_charts,
    sweep_evidence,
    sweep_history,
    sweep_mechanism,
)
from training.selectors.trading import sweep_trading
from training.services.sweep_reach import sweep_reach_preview
from training.services.sweeps import (
    sweep_cancel,
    sweep_create,
    sweep_point_rerun,
    sweep_reconcile,
    sweep_save_best_profile,
)
from training.views.pbo_charts import pbo_context
from training.views.permissions import needs_permission

VIEW_PERMISSION = "training.view_trainingrun"
LAUNCH_PERMISSION = "training.add_trainingrun"
SAVE_PROFILE_PERMISSION = "training.add_regularizationprofile"
PAGE_SIZE = 25
PREFILLED = ("profile", "preset", "symbol", "axes")  # "sweep around this" links pre-fill the form
MSG_LAUNCHED = "Sweep #{pk} launched: {points} point(s) queued."
MSG_CANCEL_REQUESTED = "Sweep #{pk}: cancellation requested."
MSG_PROFILE_SAVED = "Saved the best point of sweep #{pk} as profile “{name}”."
MSG_NAME_REQUIRED = "Give the new profile a name."
MSG_POINT_RERUN = "Point {index} of sweep #{pk} re-run as run #{run}."
MSG_CONFIRM_NO_EVIDENCE = (
    "There is no evidence that the best point differs from the others; tick the confirmation to save it anyway."
)


def get_sweep(sweep_id: int, *, reconcile: bool = False) -> Sweep:
    try:
        sweep = selectors.sweep_get(sweep_id=sweep_id)
    except Sweep.DoesNotExist:
        raise Http404(f"No sweep #{sweep_id}") from None
    if reconcile:
        sweep = sweep_reconcile(sweep=sweep)
    return sweep


@needs_permission(VIEW_PERMISSION)
@require_GET
def sweep_list(request):
    page = Paginator(selectors.sweep_list_with_points(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"sweep": s, **selectors.sweep_status(sweep=s, points=list(s.points.all()))} for s in page]
    return render(
        request,
        "training/sweep_list.html",
        {"page": page, "rows": rows, "can_launch": request.user.has_perm(LAUNCH_PERMISSION)},
    )


@needs_permission(LAUNCH_PERMISSION)
@require_http_methods(["GET", "POST"])
def sweep_new(request):
    initial = {name: request.GET[name] for name in PREFILLED if request.GET.get(name)}
    form = SweepLaunchForm(request.POST or None, presets=run_selectors.preset_names(), initial=initial)
    reach = None
    if request.method == "POST" and form.is_valid() and request.POST.get("check"):
        data = form.cleaned_data
        try:
            reach = sweep_reach_preview(profile=data["profile"], preset=data["preset"], axes=data["axes"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
    elif request.method == "POST" and form.is_valid():
        try:
            sweep = sweep_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, MSG_LAUNCHED.format(pk=sweep.pk, points=sweep.points.count()))
            return redirect("training:sweep_detail", sweep_id=sweep.pk)
    context = {"form": form, "reach": reach}
    return render(request, "training/sweep_form.html", context, status=400 if form.errors else 200)


@needs_permission(VIEW_PERMISSION)
@require_GET
def sweep_detail(request, sweep_id: int):
    sweep = get_sweep(sweep_id)
    points = selectors.sweep_points(sweep=sweep)
    trading = sweep_trading(sweep=sweep, points=points)
    evidence = sweep_evidence(sweep=sweep, points=points)
    return render(
        request,
        "training/sweep_detail.html",
        {
            "trading": trading,
            "pbo": pbo_context(trading["pbo"]),
            "sweep": sweep,
            "points": points,
            "status": selectors.sweep_status(sweep=sweep, points=points),
            "evidence": evidence,
            "mechanism": sweep_mechanism(sweep=sweep, points=points),
            "evidence_rows": [
                ("best − runner-up (validation)", evidence["best_vs_runner_up"]),
                ("best − least regularized (validation)", evidence["best_vs_least_regularized"]),
                (f"best − least regularized ({MSG_TEST_LABEL})", evidence["test_best_vs_least_regularized"]),
            ],
            "charts": sweep_curve_charts(sweep=sweep, evidence=evidence),
            "history": sweep_history(sweep=sweep, evidence=evidence),
            "objective_description": sweep.objective_text,
            "can_launch": request.user.has_perm(LAUNCH_PERMISSION),
            "can_save_profile": request.user.has_perm(SAVE_PROFILE_PERMISSION),
        },
    )


@needs_permission(LAUNCH_PERMISSION)
@require_POST
def sweep_cancel_view(request, sweep_id: int):
    try:
        sweep_cancel(sweep=get_sweep(sweep_id, reconcile=True), user=request.user)
        messages.success(request, MSG_CANCEL_REQUESTED.format(pk=sweep_id))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("training:sweep_detail", sweep_id=sweep_id)


@needs_permission(SAVE_PROFILE_PERMISSION)
@require_POST
def sweep_save_profile(request, sweep_id: int):
    sweep = get_sweep(sweep_id, reconcile=True)
    name = request.POST.get("name", "").strip()
    try:
        if not name:
            raise ValidationError(MSG_NAME_REQUIRED)
        evidence = sweep_evidence(sweep=sweep, points=selectors.sweep_points(sweep=sweep))
        if evidence["best"] and evidence["no_evidence"] is not False and not request.POST.get("confirm_no_evidence"):
            raise ValidationError(MSG_CONFIRM_NO_EVIDENCE)
        profile = sweep_save_best_profile(sweep=sweep, name=name, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, MSG_PROFILE_SAVED.format(pk=sweep.pk, name=profile.name))
    return redirect("training:sweep_detail", sweep_id=sweep_id)


@needs_permission(LAUNCH_PERMISSION)
@require_POST
def sweep_point_rerun_view(request, sweep_id: int, index: int):
    sweep = get_sweep(sweep_id)
    point = sweep.points.select_related("run", "sweep").filter(index=index).first()
    if point is None:
        raise Http404(f"No point {index} in sweep #{sweep_id}")
    try:
        point = sweep_point_rerun(point=point, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, MSG_POINT_RERUN.format(index=index, pk=sweep_id, run=point.run_id))
    return redirect("training:sweep_detail", sweep_id=sweep_id)
