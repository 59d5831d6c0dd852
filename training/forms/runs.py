from django import forms

from training.models import RegularizationProfile
from training.selectors.profiles import profile_get_default
from training.selectors.runs import launch_choices


class TrainingRunLaunchForm(forms.Form):
    symbol = forms.ChoiceField()
    interval = forms.ChoiceField()
    exchange = forms.ChoiceField()
    profile = forms.ModelChoiceField(
        queryset=RegularizationProfile.objects.order_by("-is_default", "name"), empty_label=None
    )
    preset = forms.ChoiceField()

    def __init__(self, *args, presets=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = launch_choices()
        self.datasets = choices["datasets"]
        self.fields["symbol"].choices = [(s, s) for s in choices["symbols"]]
        self.fields["interval"].choices = [(i, i) for i in choices["intervals"]]
        self.fields["exchange"].choices = [(e, e) for e in choices["exchanges"]]
        self.fields["preset"].choices = [(p, p) for p in presets]
        if "quick" in presets:
            self.fields["preset"].initial = "quick"
        if "1h" in choices["intervals"]:
            self.fields["interval"].initial = "1h"
        if "BINANCE" in choices["exchanges"]:
            self.fields["exchange"].initial = "BINANCE"
        if not self.initial.get("profile"):
            default = profile_get_default()
            if default:
                self.fields["profile"].initial = default.pk
