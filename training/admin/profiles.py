from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from training.admin.lookups import OutOfRangeLookupsAreIncorrect
from training.admin.runs import train_symbol_with_profile
from training.admin.sweeps import sweep_with_profile
from training.forms.profiles import BACKEND_FIELDSETS, RegularizationProfileForm
from training.ml.regularization import BASE_NAMES, iter_override_params
from training.models import RegularizationProfile
from training.selectors.profile_preview import derived_placeholders, profile_preview
from training.selectors.profiles import profile_report
from training.services.profile_versions import StaleProfile
from training.services.profiles import (
    profile_delete,
    profile_delete_check,
    profile_duplicate,
    profile_export_json,
    profile_import,
    profile_make_default,
    profile_save,
)
from training.url_converters import parse_id

MSG_DUPLICATED = "Created {names}."
MSG_MADE_DEFAULT = "“{name}” is now the default profile."
MSG_MAKE_DEFAULT_ONE = "Select exactly one profile to make default."
MSG_IMPORTED = "Imported {count} profile(s): {names}."
MSG_IMPORT_NOT_UTF8 = "The file is not UTF-8 text."
MSG_NO_SUCH_PROFILE = "No such regularization profile."
EXPORT_FILENAME = "regularization-profiles.json"


class ImportProfilesForm(forms.Form):
    file = forms.FileField(help_text="A JSON file written by “Export as JSON” or the export_profiles command.")
    replace = forms.BooleanField(
        required=False,
        label="Replace existing profiles",
        help_text="Overwrite a profile whose name exists already (ignoring case); otherwise the import is refused.",
    )


OVERRIDE_FIELDS = frozenset(field for _, _, field in iter_override_params())
HISTORY_DERIVED = "derived"


class ProfileHistoryContextHelper(HistoricalRecordContextHelper):
    """History's "Changes" column: a blank per-backend value reads "derived" (from the base values), not None."""

    def prepare_delta_change_value(self, change, value):
        if change.field in OVERRIDE_FIELDS and value is None:
            return HISTORY_DERIVED
        return super().prepare_delta_change_value(change, value)


def report_with_form_errors(report: dict, preview: dict) -> dict:
    """The saved profile's report, its status and errors replaced by the refused form's (each error once)."""
    if not preview["errors"]:
        return report
    return {**report, "status": preview["status"], "errors": preview["errors"], "warnings": preview["warnings"]}


@admin.register(RegularizationProfile)
class RegularizationProfileAdmin(OutOfRangeLookupsAreIncorrect, SimpleHistoryAdmin):
    form = RegularizationProfileForm
    list_display = ["name", "is_default", *BASE_NAMES, "sklearn_c_value", "report_status", "updated_at"]
    list_display_links = ["name"]
    list_filter = ["is_default"]
    search_fields = ["name", "description"]
    readonly_fields = ["is_default", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "description", "is_default", "seen_version"]}),
        (
            "Base values",
            {"fields": list(BASE_NAMES), "description": "Every blank per-backend value below derives from these."},
        ),
        *BACKEND_FIELDSETS,
        ("Timestamps", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    history_list_display = ["is_default"]

    class Media:
        js = ["training/js/profile_editor.js"]

    actions = ["duplicate_profiles", "make_default", "export_json", sweep_with_profile, train_symbol_with_profile]

    def has_train_permission(self, request) -> bool:
        return request.user.has_perm("training.add_trainingrun")

    @admin.display(description="scikit-learn C")
    def sklearn_c_value(self, obj):
        c = obj.resolved_config()["sklearn"]["C"]
        return "—" if c is None else f"{c:g}"

    @admin.display(description="Report")
    def report_status(self, obj):
        return profile_report(profile=obj)["status"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletes go through profile_delete, one at a time
        return actions

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="%s_%s_import" % info),
            path(
                "preview.json",
                self.admin_site.admin_view(self.preview_json_view),
                name="%s_%s_preview" % info,
            ),
            path(
                "<path:object_id>/report.json",
                self.admin_site.admin_view(self.report_json_view),
                name="%s_%s_report" % info,
            ),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        profile_save(profile=obj, user=request.user, expected_version=form.cleaned_data.get("seen_version"))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except StaleProfile as exc:  # saved by someone else between the form's check and this save
            self.message_user(request, exc.messages[0], messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request, obj):
        profile_delete(profile=obj, user=request.user)

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "preview_url": reverse("admin:training_regularizationprofile_preview"),
        }
        return super().add_view(request, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            try:
                profile_delete_check(profile=obj)
            except ValidationError as exc:
                for message in exc.messages:
                    self.message_user(request, message, messages.ERROR)
                return HttpResponseRedirect(reverse("admin:training_regularizationprofile_change", args=[obj.pk]))
        return super().delete_view(request, object_id, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        extra_context = extra_context or {}
        if obj is not None:
            extra_context["report"] = profile_report(profile=obj)
            if request.method == "POST":  # a save the form refuses: the badge says so, not the saved "ok"
                extra_context["report"] = report_with_form_errors(
                    extra_context["report"], profile_preview(data=request.POST, instance=obj)
                )
            extra_context["report_json_url"] = reverse("admin:training_regularizationprofile_report", args=[obj.pk])
            extra_context["runs_url"] = f"{reverse('training:run_list')}?profile={obj.pk}"
            extra_context["latest_run"] = obj.runs.order_by("-created_at", "-id").first()
            extra_context["run_count"] = obj.runs.count()
        extra_context["preview_url"] = reverse("admin:training_regularizationprofile_preview")
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        if parse_id(unquote(object_id)) is None:
            raise Http404(MSG_NO_SUCH_PROFILE)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if parse_id(unquote(object_id)) is None or parse_id(version_id) is None:
            raise Http404(MSG_NO_SUCH_PROFILE)
        return super().history_form_view(request, object_id, version_id, extra_context)

    @method_decorator(require_POST)
    def preview_json_view(self, request):
        """The report recomputed from the unsaved form (the editor posts it as the user types)."""
        instance = None
        object_id = parse_id(request.POST.get("_profile_id"))
        if object_id is not None:
            instance = self.get_object(request, str(object_id))
            if instance is None:
                raise Http404(MSG_NO_SUCH_PROFILE)
        allowed = self.has_change_permission(request, instance) if instance else self.has_add_permission(request)
        if not allowed:
            raise PermissionDenied
        return JsonResponse(profile_preview(data=request.POST, instance=instance))

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        placeholders = derived_placeholders((obj or RegularizationProfile()).resolved_config())
        for _spec, p, field in iter_override_params():
            if field in form.base_fields:
                form.base_fields[field].label = p.name
                form.base_fields[field].widget.attrs["placeholder"] = placeholders.get(field, "")
        return form

    def get_historical_record_context_helper(self, request, historical_record):
        return ProfileHistoryContextHelper(self.model, historical_record)

    def report_json_view(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(MSG_NO_SUCH_PROFILE)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return JsonResponse(profile_report(profile=obj), json_dumps_params={"indent": 2})

    def import_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        errors: list[str] = []
        form = ImportProfilesForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                data = form.cleaned_data["file"].read().decode("utf-8")
                profiles = profile_import(data=data, replace=form.cleaned_data["replace"], user=request.user)
            except UnicodeDecodeError:
                errors = [MSG_IMPORT_NOT_UTF8]
            except ValidationError as exc:
                errors = exc.messages
            else:
                self.message_user(
                    request, MSG_IMPORTED.format(count=len(profiles), names=", ".join(p.name for p in profiles))
                )
                return HttpResponseRedirect(reverse("admin:training_regularizationprofile_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import regularization profiles",
            "form": form,
            "import_errors": errors,
        }
        return TemplateResponse(request, "admin/training/regularizationprofile/import.html", context)

    @admin.action(description="Duplicate selected profiles")
    def duplicate_profiles(self, request, queryset):
        copies = [profile_duplicate(profile=p, user=request.user) for p in queryset]
        self.message_user(request, MSG_DUPLICATED.format(names=", ".join(f"“{c.name}”" for c in copies)))

    @admin.action(description="Make default")
    def make_default(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, MSG_MAKE_DEFAULT_ONE, messages.ERROR)
            return
        profile = profile_make_default(profile=queryset.get(), user=request.user)
        self.message_user(request, MSG_MADE_DEFAULT.format(name=profile.name))

    @admin.action(description="Export as JSON")
    def export_json(self, request, queryset):
        response = HttpResponse(
            profile_export_json(profiles=queryset.order_by("name")), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="{EXPORT_FILENAME}"'
        return response
