"""The profile editor's live report: the validation report of the unsaved form, with the values a blank
per-backend field would take (shown as placeholders, e.g. "0.01 ← l1_alpha")."""

from __future__ import annotations

from training.forms.profiles import RegularizationProfileForm
from training.ml.regularization import BASE_PARAMS, ERROR, iter_override_params, validate_and_report_regularization
from training.models import RegularizationProfile

SOURCE_LABELS = {"l1_alpha": "L1 alpha", "l2_alpha": "L2 alpha", "dropout_rate": "dropout"}


def _source_label(source: str | None) -> str:
    if source is None:
        return "default"
    if source.startswith("inverse:"):
        return f"1/{source.split(':', 1)[1]}"
    return SOURCE_LABELS.get(source, source)


def derived_placeholders(config: dict) -> dict[str, str]:
    """Per override field: what a blank value becomes for this config ("0.01 ← L1 alpha")."""
    placeholders = {}
    for spec, p, field in iter_override_params():
        value = (config.get(spec.key) or {}).get(p.name)
        placeholders[field] = "not derivable" if value is None else f"{value:g} ← {_source_label(p.source)}"
    return placeholders


def profile_preview(*, data, instance: RegularizationProfile | None) -> dict:
    """The report for the form's values as typed: form errors make it "error" even when the values that did
    parse are fine, so the report never says "ok" beside a form that will not save."""
    form = RegularizationProfileForm(data=data, instance=instance or RegularizationProfile())
    form.fields["seen_version"].required = False  # a preview saves nothing; a stale version is still reported
    form.is_valid()
    profile = form.instance
    labels = {name: str(field.label) for name, field in form.fields.items()}
    short = {field: p.name for _, p, field in iter_override_params()} | {p.name: p.name for p in BASE_PARAMS}
    errors, said = [], set()
    for name, messages in form.errors.items():
        for message in messages:
            said.add(message)
            names_its_field = name == "__all__" or f"'{short.get(name, name)}'" in message
            errors.append(message if names_its_field else f"{labels.get(name, 'Profile')}: {message}")
    base_ok = all(isinstance(getattr(profile, p.name), (int, float)) for p in BASE_PARAMS)
    report = (
        validate_and_report_regularization(profile.resolved_config()) if base_ok else {"errors": [], "warnings": []}
    )
    status = ERROR if errors or report.get("errors") else report.get("status", ERROR)
    return {
        "status": status,
        "errors": errors + [e for e in report.get("errors", []) if e not in said and e not in errors],
        "warnings": report.get("warnings", []),
        "placeholders": derived_placeholders(profile.resolved_config()) if base_ok else {},
        "field_errors": {name: list(messages) for name, messages in form.errors.items()},
    }
