from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse

from training.admin.lookups import OutOfRangeLookupsAreIncorrect
from training.models import Sweep, SweepPoint
from training.services.sweeps import sweep_reconcile, sweep_save_best_profile

MSG_PICK_ONE_PROFILE = "Select exactly one profile to sweep."
MSG_SAVED = "Sweep #{pk}: saved the best point as profile “{name}”."
BEST_PROFILE_NAME = "{profile} sweep {pk} best"


class SweepPointInline(admin.TabularInline):
    model = SweepPoint
    extra = 0
    can_delete = False
    fields = ("index", "values", "run", "trial_number", "objective", "recorded")
    readonly_fields = fields


@admin.register(Sweep)
class SweepAdmin(OutOfRangeLookupsAreIncorrect, admin.ModelAdmin):
    list_display = ("id", "name", "symbol", "profile", "preset", "mode", "asked", "best_objective", "created_at")
    list_filter = ("mode", "preset", "symbol")
    list_select_related = ("profile", "best_point")
    search_fields = ("name", "symbol", "profile__name")
    inlines = [SweepPointInline]
    readonly_fields = [f.name for f in Sweep._meta.fields]
    actions = ["save_best_as_profile"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Best objective")
    def best_objective(self, obj):
        return "—" if obj.best_point is None else f"{obj.best_point.objective:.5f}"

    @admin.action(description="Save best as profile", permissions=["save_profile"])
    def save_best_as_profile(self, request, queryset):
        for sweep in queryset.select_related("profile"):
            sweep = sweep_reconcile(sweep=sweep)
            name = BEST_PROFILE_NAME.format(profile=sweep.profile.name, pk=sweep.pk)
            try:
                profile = sweep_save_best_profile(sweep=sweep, name=name, user=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(request, MSG_SAVED.format(pk=sweep.pk, name=profile.name))

    def has_save_profile_permission(self, request) -> bool:
        return request.user.has_perm("training.add_regularizationprofile")


@admin.action(description="Sweep regularization with this profile")
def sweep_with_profile(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, MSG_PICK_ONE_PROFILE, messages.ERROR)
        return None
    return redirect(f"{reverse('training:sweep_new')}?profile={queryset.get().pk}")
