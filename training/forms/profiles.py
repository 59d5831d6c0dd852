from django import forms
from django.core.exceptions import ValidationError

from training.ml.parameters import Default, FromBase, Inverse
from training.ml.regularization import (
    BACKENDS,
    BASE_PARAMS,
    derive_value,
    iter_override_params,
    override_field_name,
    resolve_config,
)
from training.models import RegularizationProfile
from training.services.profile_versions import profile_stale_message

HELP_FROM_BASE = "Blank → {value:g} from {source}."
HELP_INVERSE = "Blank → {value:g} = 1/{source}."
HELP_NOT_DERIVABLE = "Blank → cannot be derived: {source} is 0."
HELP_DEFAULT = "Blank → {value:g} (default)."
HELP_RANGE = "Range {interval}; applied as {applied}."
HELP_CEILING = "At most {ceiling:g}."


def derived_help(profile: RegularizationProfile) -> dict[str, str]:
    """Help text per override field showing what a blank value becomes for this profile."""
    config = resolve_config(profile.base_values(), profile.overrides()) if _base_ok(profile) else None
    texts = {}
    for spec, p, field in iter_override_params():
        parts = [p.help]
        if config is not None:
            value = derive_value(spec.key, p.name, config, config[spec.key])
            rule = p.derivation
            if isinstance(rule, Default):
                parts.append(HELP_DEFAULT.format(value=value))
            elif isinstance(rule, Inverse):
                parts.append(
                    HELP_NOT_DERIVABLE.format(source=rule.name)
                    if value is None
                    else HELP_INVERSE.format(value=value, source=rule.name)
                )
            elif isinstance(rule, FromBase):
                parts.append(HELP_FROM_BASE.format(value=value, source=rule.name))
        parts.append(HELP_RANGE.format(interval=p.interval, applied=p.shown_as))
        if p.ceiling is not None:
            parts.append(HELP_CEILING.format(ceiling=p.ceiling))
        texts[field] = " ".join(parts)
    return texts


def _base_ok(profile: RegularizationProfile) -> bool:
    return all(
        isinstance(getattr(profile, p.name), (int, float)) and p.interval.contains(getattr(profile, p.name))
        for p in BASE_PARAMS
    )


NUMBER_FIELDS = [*(p.name for p in BASE_PARAMS), *(field for _, _, field in iter_override_params())]


def number_text_input() -> forms.TextInput:
    """A text box for a number: a browser's <input type="number"> turns what it cannot parse ("1e", "abc") into
    an empty value before submitting, so a typo was saved as blank ("derived"); as text the server sees what was
    typed and answers "Enter a number." on the field, saving nothing."""
    return forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"})


class RegularizationProfileForm(forms.ModelForm):
    """Range and cross-field checks come from the declarations through ``RegularizationProfile.clean()``,
    which ModelForm runs after its own parsing, so every error lands on its field and services share the
    same rules. Non-numbers get Django's per-field "Enter a number.".

    ``seen_version`` carries the version the editor opened; a save over a newer one is refused, naming who
    changed it and when, with its current values (the service checks again as it saves)."""

    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = RegularizationProfile
        fields = [
            "name",
            "description",
            *(p.name for p in BASE_PARAMS),
            *(field for _, _, field in iter_override_params()),
        ]
        widgets = {name: number_text_input() for name in NUMBER_FIELDS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self._current()
        if current is not None:  # the row's own version, also when the form shows a history record to revert to
            self.fields["seen_version"].initial = current.version
            self.fields["seen_version"].required = True
        for field, text in derived_help(self.instance).items():
            if field in self.fields:
                self.fields[field].help_text = text
        for p in BASE_PARAMS:
            if p.name in self.fields:
                ceiling = f" {HELP_CEILING.format(ceiling=p.ceiling)}" if p.ceiling is not None else ""
                self.fields[p.name].help_text = f"{p.help} Range {p.interval}.{ceiling}"

    def _current(self) -> RegularizationProfile | None:
        if self.instance.pk is None:
            return None
        return RegularizationProfile.objects.filter(pk=self.instance.pk).first()

    def clean(self):
        cleaned = super().clean()
        seen, current = cleaned.get("seen_version"), self._current()
        if current is not None and seen is not None and seen != current.version:
            raise ValidationError(profile_stale_message(current=current, seen=seen, submitted=cleaned), code="stale")
        return cleaned


BACKEND_FIELDSETS = [
    (spec.label, {"fields": [override_field_name(spec.key, p.name) for p in spec.params], "description": spec.applied})
    for spec in BACKENDS.values()
]
