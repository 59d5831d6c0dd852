import json

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from training.admin.lookups import OutOfRangeLookupsAreIncorrect
from training.admin.registry import promote_runs
from training.models import ModelResult, TrainingRun

MSG_PICK_ONE_PROFILE = "Select exactly one profile to train with."


JSON_FIELDS = ("snapshot", "report", "result")
SUMMARY_FIELDS = (
    "id", "symbol", "exchange", "interval", "profile", "dataset", "preset", "seed", "launched_by", "rerun_of",
    "status", "progress", "stage", "heartbeat_at", "cancel_requested", "celery_task_id", "created_at",
    "started_at", "finished_at", "artifacts_path", "error", "notes_and_tags",
)  # fmt: skip


def _rounded(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


class ModelResultInline(admin.TabularInline):
    model = ModelResult
    extra = 0
    can_delete = False
    fields = ("regime", "model", "validation_balanced_accuracy_", "validation_macro_f1_", "train_val_gap_", "fit_s")
    readonly_fields = fields

    @admin.display(description="validation balanced accuracy")
    def validation_balanced_accuracy_(self, obj):
        return _rounded(obj.validation_balanced_accuracy)

    @admin.display(description="validation macro F1")
    def validation_macro_f1_(self, obj):
        return _rounded(obj.validation_macro_f1)

    @admin.display(description="train − validation gap")
    def train_val_gap_(self, obj):
        return _rounded(obj.train_val_gap)

    @admin.display(description="fit seconds")
    def fit_s(self, obj):
        return _rounded(obj.fit_seconds, 2)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TrainingRun)
class TrainingRunAdmin(OutOfRangeLookupsAreIncorrect, admin.ModelAdmin):
    """Runs are records: read-only here (no Save, Delete or Add), JSON collapsed and pretty, numbers rounded."""

    list_display = (
        "id",
        "symbol",
        "interval",
        "profile",
        "preset",
        "status",
        "progress_percent",
        "created_at",
        "launched_by",
        "tag_names",
    )
    list_filter = ("status", "preset", "symbol", "trigger", "tags")
    list_select_related = ("profile", "launched_by")
    actions = [promote_runs]
    search_fields = ("symbol", "profile__name")
    inlines = [ModelResultInline]
    fields = (*SUMMARY_FIELDS, "log_tail", *(f"{name}_json" for name in JSON_FIELDS), "traceback")
    readonly_fields = fields

    def view_on_site(self, obj):
        return reverse("training:run_detail", args=[obj.pk])

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    @admin.display(description="tags")
    def tag_names(self, obj):
        return ", ".join(tag.name for tag in obj.tags.all()) or "—"

    @admin.display(description="notes and tags")
    def notes_and_tags(self, obj):
        """Runs stay read-only records here; their notes and tags are edited on the run's notes page."""
        edit = reverse("training:run_notes", args=[obj.pk])
        return format_html(
            '<p>Tags: {}</p><pre class="admin-pre">{}</pre><a href="{}?next={}" id="run-notes-edit">Edit notes and '
            "tags</a>",
            self.tag_names(obj), obj.notes or "—", edit, reverse("admin:training_trainingrun_change", args=[obj.pk]),
        )  # fmt: skip

    @admin.display(description="progress", ordering="progress")
    def progress_percent(self, obj):
        return f"{obj.progress:.0%}"

    @admin.display(description="log (last 4,000 characters)")
    def log_tail(self, obj):
        return format_html('<pre class="admin-pre">{}</pre>', obj.log[-4000:]) if obj.log else "—"

    def _json(self, obj, name: str):
        value = getattr(obj, name)
        if not value:
            return "—"
        text = json.dumps(value, indent=2, sort_keys=True, default=str)
        return format_html(
            "<details><summary>{} ({} lines)</summary><pre class=\"admin-pre\">{}</pre></details>",
            name, text.count("\n") + 1, text,
        )  # fmt: skip

    @admin.display(description="snapshot")
    def snapshot_json(self, obj):
        return self._json(obj, "snapshot")

    @admin.display(description="report")
    def report_json(self, obj):
        return self._json(obj, "report")

    @admin.display(description="result")
    def result_json(self, obj):
        return self._json(obj, "result")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_promote_permission(self, request) -> bool:
        return request.user.has_perm("training.add_promotion")


@admin.action(description="Train a symbol with this profile", permissions=["train"])
def train_symbol_with_profile(modeladmin, request, queryset):
    if queryset.count() != 1:
        modeladmin.message_user(request, MSG_PICK_ONE_PROFILE, messages.ERROR)
        return None
    return redirect(f"{reverse('training:run_new')}?profile={queryset.get().pk}&trigger=admin")
