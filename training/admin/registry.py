"""Model registry and schedules in the admin: the promote action (declared on the runs admin), active models,
promotions, schedules."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from training.admin.lookups import OutOfRangeLookupsAreIncorrect
from training.forms.symbols import ShowNormalisedSymbolsMixin
from training.ml.presets import PRESETS
from training.models import ActiveModel, Promotion, RetrainSchedule, TrainingRun
from training.selectors.promotion_checks import promotion_checks_evaluate
from training.services.registry import MSG_REASON_REQUIRED, model_promote, model_rollback, rollback_message
from training.services.schedules import EDITABLE_FIELDS, schedule_create, schedule_delete, schedule_update

MSG_PROMOTED = "Run #{run} is now the active model of {market}."
MSG_OVERRIDDEN = "Overrode failed checks: {checks}."
SCHEDULE_FIELDS = EDITABLE_FIELDS


@admin.action(description="Promote to the active model of its market", permissions=["promote"])
def promote_runs(modeladmin, request, queryset):
    """Runs that pass every check are promoted; when any fails, a confirmation page lists the failed checks and
    asks for a reason, and the confirmed form promotes them all with the override recorded."""
    runs = list(queryset.order_by("created_at"))
    confirmed = request.POST.get("confirm") == "yes"
    reason = request.POST.get("reason", "")
    if not confirmed:
        entries = [{"run": run, "failed": [c for c in promotion_checks_evaluate(run=run) if c.failed]} for run in runs]
        if any(entry["failed"] for entry in entries):
            return TemplateResponse(
                request,
                "admin/training/trainingrun/promote_confirm.html",
                {
                    **modeladmin.admin_site.each_context(request),
                    "runs": entries,
                    "title": "Promote despite failed checks?",
                },
            )
    elif not reason.strip():
        entries = [{"run": run, "failed": [c for c in promotion_checks_evaluate(run=run) if c.failed]} for run in runs]
        context = {**modeladmin.admin_site.each_context(request), "runs": entries, "error": MSG_REASON_REQUIRED}
        return TemplateResponse(request, "admin/training/trainingrun/promote_confirm.html", context, status=400)
    for run in runs:
        try:
            promotion = model_promote(
                run=run, user=request.user, trigger=TrainingRun.Trigger.ADMIN, reason=reason, force=confirmed
            )
        except ValidationError as exc:
            modeladmin.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            market = f"{run.exchange}:{run.symbol} {run.interval}"
            text = MSG_PROMOTED.format(run=run.pk, market=market)
            if promotion.overridden:
                text += " " + MSG_OVERRIDDEN.format(checks=", ".join(c["key"] for c in promotion.failed_checks))
            modeladmin.message_user(request, text, messages.WARNING if promotion.overridden else messages.SUCCESS)
    return None


@admin.action(description="Roll back its market's active model", permissions=["promote"])
def rollback_models(modeladmin, request, queryset):
    for active in queryset:
        try:
            promotion = model_rollback(
                exchange=active.exchange, symbol=active.symbol, interval=active.interval, user=request.user
            )
        except ValidationError as exc:
            modeladmin.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            modeladmin.message_user(request, rollback_message(promotion), messages.SUCCESS)


class ReadOnlyAdmin(OutOfRangeLookupsAreIncorrect, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ActiveModel)
class ActiveModelAdmin(ReadOnlyAdmin):
    list_display = ("exchange", "symbol", "interval", "run", "promoted_by", "promoted_at")
    list_select_related = ("run", "promoted_by")
    actions = [rollback_models]

    def has_promote_permission(self, request) -> bool:
        return request.user.has_perm("training.add_promotion")


@admin.register(Promotion)
class PromotionAdmin(ReadOnlyAdmin):
    list_display = (
        "promoted_at",
        "exchange",
        "symbol",
        "interval",
        "run",
        "replaced",
        "promoted_by",
        "trigger",
        "overridden",
    )
    list_filter = ("exchange", "symbol", "interval", "trigger", "overridden")
    list_select_related = ("run", "replaced", "promoted_by")


class RetrainScheduleForm(ShowNormalisedSymbolsMixin, forms.ModelForm):
    preset = forms.ChoiceField(choices=[(name, name) for name in PRESETS])

    class Meta:
        model = RetrainSchedule
        fields = SCHEDULE_FIELDS


@admin.register(RetrainSchedule)
class RetrainScheduleAdmin(OutOfRangeLookupsAreIncorrect, admin.ModelAdmin):
    form = RetrainScheduleForm
    list_display = (
        "id",
        "exchange",
        "symbol",
        "interval",
        "preset",
        "crontab",
        "fetch",
        "promote",
        "enabled",
        "last_run",
    )
    list_filter = ("enabled", "promote", "preset")
    fields = (*SCHEDULE_FIELDS, "created_by", "last_run", "last_fired_at", "last_error", "periodic_task")
    readonly_fields = ("created_by", "last_run", "last_fired_at", "last_error", "periodic_task")

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in SCHEDULE_FIELDS if field in form.cleaned_data}
        if change:
            schedule_update(schedule=RetrainSchedule.objects.get(pk=obj.pk), data=data)
        else:
            saved = schedule_create(**data, user=request.user)
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        schedule_delete(schedule=obj)

    def delete_queryset(self, request, queryset):
        for schedule in queryset:
            schedule_delete(schedule=schedule)
