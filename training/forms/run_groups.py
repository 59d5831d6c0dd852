from django import forms

from training.forms.runs import ProfileChoiceField, TrainingRunLaunchForm, dataset_option_label, dataset_value
from training.marketdata.markets import Market
from training.models import RegularizationProfile, TrainingRun
from training.selectors.profiles import profile_get_default
from training.selectors.runs import launch_choices

MSG_PICK_MARKETS = "Pick at least one market."


class RunGroupLaunchForm(forms.Form):
    """Several markets (stored datasets), one profile and preset: one run per market, queued as a group."""

    markets = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Markets")
    profile = ProfileChoiceField(
        queryset=RegularizationProfile.objects.order_by("-is_default", "name"), empty_label=None
    )
    preset = forms.ChoiceField()
    trigger = forms.ChoiceField(
        required=False,
        widget=forms.HiddenInput,
        choices=[(t, t) for t in (TrainingRun.Trigger.WEB, TrainingRun.Trigger.ADMIN)],
    )

    def __init__(self, *args, presets=(), durations=None, **kwargs):
        super().__init__(*args, **kwargs)
        objects = launch_choices()["objects"]
        self.fields["markets"].choices = [
            (dataset_value(d.exchange, d.symbol, d.interval), f"{dataset_option_label(d)} · {d.calendar}")
            for d in objects
        ]
        durations = durations or {}
        self.fields["preset"].choices = [(p, TrainingRunLaunchForm.preset_label(p, durations.get(p))) for p in presets]
        if "quick" in presets:
            self.fields["preset"].initial = "quick"
        default = profile_get_default()
        if default and not self.initial.get("profile"):
            self.fields["profile"].initial = default.pk

    def clean_markets(self) -> list[Market]:
        picked = self.cleaned_data["markets"]
        if not picked:
            raise forms.ValidationError(MSG_PICK_MARKETS)
        return [Market(*value.split(":")) for value in picked]

    def clean_trigger(self) -> str:
        return self.cleaned_data.get("trigger") or TrainingRun.Trigger.WEB
