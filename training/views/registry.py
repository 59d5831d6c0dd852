"""Pages of the model registry and schedules: active models, promote (run page button), retrain schedules."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from training.forms.schedules import ScheduleForm
from training.models import RetrainSchedule, TrainingRun
from training.selectors.promotion_checks import promotion_checks_evaluate
from training.selectors.registry import registry_markets
from training.selectors.runs import training_run_get
from training.selectors.schedules import schedule_rows
from training.services.crontabs import crontab_preview
from training.services.registry import PromotionRefused, market_label, model_promote, model_rollback, rollback_message
from training.services.schedules import schedule_create, schedule_update
from training.views.permissions import MissingPermission, needs_permission

MSG_PROMOTED = "Run #{run} is now the active model of {market}."
MSG_OVERRIDDEN = "Run #{run} is now the active model of {market}, overriding: {checks}."
MSG_SCHEDULE_CREATED = "Schedule #{pk} created: {market} every '{crontab}'."
MSG_SCHEDULE_SAVED = "Schedule #{pk} saved."
MSG_SCHEDULE_ENABLED = "Schedule #{pk} is on."
MSG_SCHEDULE_DISABLED = "Schedule #{pk} is off: it is kept but does not fire."


@needs_permission("training.view_activemodel")
@require_GET
def model_list(request):
    return render(
        request,
        "training/model_list.html",
        {"markets": registry_markets(), "can_promote": request.user.has_perm("training.add_promotion")},
    )


@needs_permission("training.add_promotion")
@require_POST
def run_promote(request, run_id: int):
    """Promote; a run that fails a check gets the confirmation page (failed checks, a reason to override)."""
    try:
        run = training_run_get(run_id=run_id)
    except TrainingRun.DoesNotExist:
        raise Http404(f"No run #{run_id}") from None
    force = request.POST.get("force") == "1"
    reason = request.POST.get("reason", "")
    market = market_label(run.exchange, run.symbol, run.interval)
    try:
        promotion = model_promote(
            run=run, user=request.user, trigger=TrainingRun.Trigger.WEB, reason=reason, force=force
        )
    except PromotionRefused as refused:
        context = {"runs": [{"run": run, "failed": refused.failed, "checks": refused.checks}], "market": market}
        return render(request, "training/promote_confirm.html", context, status=409)
    except ValidationError as exc:
        if force:  # the override form came back without a reason: show it again with the error
            refused_checks = [c for c in promotion_checks_evaluate(run=run) if c.failed]
            context = {
                "runs": [{"run": run, "failed": refused_checks}],
                "market": market,
                "error": " ".join(exc.messages),
            }
            return render(request, "training/promote_confirm.html", context, status=400)
        messages.error(request, " ".join(exc.messages))
    else:
        if promotion.overridden:
            checks = ", ".join(check["label"] for check in promotion.failed_checks)
            messages.warning(request, MSG_OVERRIDDEN.format(run=run.pk, market=market, checks=checks))
        else:
            messages.success(request, MSG_PROMOTED.format(run=run.pk, market=market))
    return redirect("training:run_detail", run_id=run_id)


@needs_permission("training.add_promotion")
@require_POST
def model_rollback_view(request, exchange: str, symbol: str, interval: str):
    try:
        promotion = model_rollback(
            exchange=exchange,
            symbol=symbol,
            interval=interval,
            user=request.user,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, rollback_message(promotion))
    return redirect("training:model_list")


@needs_permission("training.view_retrainschedule")
@require_http_methods(["GET", "POST"])
def schedule_list(request):
    can_add = request.user.has_perm("training.add_retrainschedule")
    form = ScheduleForm(request.POST or None)
    if request.method == "POST":
        if not can_add:
            raise MissingPermission("training.add_retrainschedule")
        if form.is_valid():
            try:
                schedule = schedule_create(**form.schedule_data(), user=request.user)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                market = market_label(schedule.exchange, schedule.symbol, schedule.interval)
                messages.success(
                    request, MSG_SCHEDULE_CREATED.format(pk=schedule.pk, market=market, crontab=schedule.crontab)
                )
                return redirect("training:schedule_list")
    return render(
        request,
        "training/schedule_list.html",
        {
            "schedules": schedule_rows(),
            "form": form,
            "can_add": can_add,
            "can_change": request.user.has_perm("training.change_retrainschedule"),
        },
        status=400 if form.errors else 200,
    )


def _form_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        if field in ("exchange", "symbol", "interval"):
            field = "market"
        form.add_error(field if field in form.fields else None, errors)


def _schedule(schedule_id: int) -> RetrainSchedule:
    schedule = RetrainSchedule.objects.select_related("profile").filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404(f"No schedule #{schedule_id}")
    return schedule


@needs_permission("training.change_retrainschedule")
@require_http_methods(["GET", "POST"])
def schedule_edit(request, schedule_id: int):
    schedule = _schedule(schedule_id)
    form = ScheduleForm(request.POST or None, schedule=schedule)
    if request.method == "POST" and form.is_valid():
        try:
            schedule_update(schedule=schedule, data=form.schedule_data())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, MSG_SCHEDULE_SAVED.format(pk=schedule.pk))
            return redirect("training:schedule_list")
    return render(
        request,
        "training/schedule_edit.html",
        {"schedule": schedule, "form": form},
        status=400 if form.errors else 200,
    )


@needs_permission("training.change_retrainschedule")
@require_POST
def schedule_enable(request, schedule_id: int):
    """POST enabled=1 turns the schedule on, anything else off (it is kept either way)."""
    schedule = schedule_update(schedule=_schedule(schedule_id), data={"enabled": request.POST.get("enabled") == "1"})
    messages.success(
        request, (MSG_SCHEDULE_ENABLED if schedule.enabled else MSG_SCHEDULE_DISABLED).format(pk=schedule.pk)
    )
    return redirect("training:schedule_list")


@needs_permission("training.view_retrainschedule")
@require_GET
def schedule_preview(request):
    """The crontab in words and its next five fire times (UTC), or its field-by-field errors; the form asks as
    the user types."""
    return JsonResponse(crontab_preview(request.GET.get("crontab", "")[:100]))
