"""Model registry and schedules in the admin: promote action on runs, active models, promotions, schedules."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from training.admin.lookups import OutOfRangeLookupsAreIncorrect
from training.ml.presets import PRESETS
from training.models import ActiveModel, Promotion, RetrainSchedule, TrainingRun
from training.services.registry import model_promote
from training.services.schedules import schedule_create, schedule_delete, schedule_update

MSG_PROMOTED = "Run #{run} is now the active model of {market}."
SCHEDULE_FIELDS = (
    "exchange",
    "symbol",
    "interval",
    "more_markets",
    "profile",
    "preset",
    "crontab",
    "fetch",
    "promote",
    "enabled",
)


@admin.action(description="Promote to the active model of its market", permissions=["promote"])
def promote_runs(modeladmin, request, queryset):
    for run in queryset.order_by("created_at"):
        try:
            model_promote(run=run, user=request.user, trigger=TrainingRun.Trigger.ADMIN)
        except ValidationError as exc:
            modeladmin.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            market = f"{run.exchange}:{run.symbol} {run.interval}"
            modeladmin.message_user(request, MSG_PROMOTED.format(run=run.pk, market=market), messages.SUCCESS)


def _has_promote_permission(request) -> bool:
    return request.user.has_perm("training.add_promotion")


def attach_promote_action(site: admin.AdminSite = admin.site) -> None:
    if TrainingRun not in site._registry:
        site.register(TrainingRun)
    run_admin = site._registry[TrainingRun]
    if promote_runs not in (run_admin.actions or []):
        run_admin.actions = [*(run_admin.actions or []), promote_runs]
    run_admin.has_promote_permission = _has_promote_permission
    if "trigger" not in run_admin.list_filter:
        run_admin.list_filter = (*run_admin.list_filter, "trigger")


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


@admin.register(Promotion)
class PromotionAdmin(ReadOnlyAdmin):
    list_display = ("promoted_at", "exchange", "symbol", "interval", "run", "replaced", "promoted_by", "trigger")
    list_filter = ("exchange", "symbol", "interval", "trigger")
    list_select_related = ("run", "replaced", "promoted_by")


class RetrainScheduleForm(forms.ModelForm):
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


attach_promote_action()
