"""Pages of the model registry and schedules: active models, promote (run page button), retrain schedules."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from training.forms.schedules import ScheduleForm
from training.models import RetrainSchedule, TrainingRun
from training.selectors.promotion_checks import promotion_checks_evaluate
from training.selectors.registry import registry_markets
from training.selectors.runs import training_run_get
from training.services.registry import PromotionRefused, market_label, model_promote, model_rollback, rollback_message
from training.services.schedules import schedule_create

MSG_PROMOTED = "Run #{run} is now the active model of {market}."
MSG_OVERRIDDEN = "Run #{run} is now the active model of {market}, overriding: {checks}."
MSG_SCHEDULE_CREATED = "Schedule #{pk} created: {market} every '{crontab}'."


@login_required
@permission_required("training.view_activemodel", raise_exception=True)
@require_GET
def model_list(request):
    return render(
        request,
        "training/model_list.html",
        {"markets": registry_markets(), "can_promote": request.user.has_perm("training.add_promotion")},
    )


@login_required
@permission_required("training.add_promotion", raise_exception=True)
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


@login_required
@permission_required("training.add_promotion", raise_exception=True)
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


@login_required
@permission_required("training.view_retrainschedule", raise_exception=True)
@require_http_methods(["GET", "POST"])
def schedule_list(request):
    can_add = request.user.has_perm("training.add_retrainschedule")
    form = ScheduleForm(request.POST or None)
    if request.method == "POST":
        if not can_add:
            raise PermissionDenied
        if form.is_valid():
            try:
                schedule = schedule_create(**form.cleaned_data, user=request.user)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                market = market_label(schedule.exchange, schedule.symbol, schedule.interval)
                messages.success(
                    request, MSG_SCHEDULE_CREATED.format(pk=schedule.pk, market=market, crontab=schedule.crontab)
                )
                return redirect("training:schedule_list")
    schedules = RetrainSchedule.objects.select_related("profile", "last_run").order_by("id")
    return render(
        request,
        "training/schedule_list.html",
        {"schedules": schedules, "form": form, "can_add": can_add},
        status=400 if form.errors else 200,
    )
