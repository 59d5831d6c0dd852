from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse

from training.models import ModelResult, RegularizationProfile, TrainingRun

MSG_PICK_ONE_PROFILE = "Select exactly one profile to train with."


class ModelResultInline(admin.TabularInline):
    model = ModelResult
    extra = 0
    can_delete = False
    fields = ("regime", "model", "validation_balanced_accuracy", "validation_macro_f1", "train_val_gap", "fit_seconds")
    readonly_fields = fields


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("id", "symbol", "interval", "profile", "preset", "status", "progress", "created_at", "launched_by")
    list_filter = ("status", "preset", "symbol")
    list_select_related = ("profile", "launched_by")
    search_fields = ("symbol", "profile__name")
    inlines = [ModelResultInline]
    readonly_fields = [f.name for f in TrainingRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.action(description="Train a symbol with this profile", permissions=["train"])
def train_symbol_with_profile(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, MSG_PICK_ONE_PROFILE, messages.ERROR)
        return None
    return redirect(f"{reverse('training:run_new')}?profile={queryset.get().pk}")


def _has_train_permission(request) -> bool:
    return request.user.has_perm("training.add_trainingrun")


def attach_profile_action(site: admin.AdminSite = admin.site) -> None:
    """Add the action to whichever admin the profiles area registered (registering a plain one if none)."""
    if RegularizationProfile not in site._registry:
        site.register(RegularizationProfile)
    profile_admin = site._registry[RegularizationProfile]
    if train_symbol_with_profile not in (profile_admin.actions or []):
        profile_admin.actions = [*(profile_admin.actions or []), train_symbol_with_profile]
    profile_admin.has_train_permission = _has_train_permission
