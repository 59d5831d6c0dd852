from django import forms

from training.ml.backends.registry import registered_backends
from training.models import RegularizationProfile, Sweep
from training.selectors.profiles import profile_get_default
from training.selectors.runs import launch_choices
from training.services.sweep_axes import known_params
from training.services.sweep_holds import holdable_names
from training.services.sweeps import MAX_SEEDS, MAX_TRIALS, OBJECTIVE_ENSEMBLE

OBJECTIVE_AUTO = "the swept model's own (when every axis reaches one model), else the ensemble's"

AXES_HELP = (
    "One axis per line: PARAM=VALUES. PARAM is a base value (l1_alpha, l2_alpha, dropout_rate) or a backend's "
    "(lightgbm.reg_alpha, tensorflow.l1_reg, sklearn.alpha, …); VALUES a list 0.0001,0.01,1 or a log range "
    "LOW:HIGH:COUNT such as 1e-4:1:5. A line lightgbm.early_stopping=off (or tensorflow.early_stopping=off) holds "
    "early stopping off at every point instead of sweeping: the swept penalties are then the only regularizer."
)


class SweepLaunchForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    symbol = forms.ChoiceField()
    interval = forms.ChoiceField()
    exchange = forms.ChoiceField()
    profile = forms.ModelChoiceField(
        queryset=RegularizationProfile.objects.order_by("-is_default", "name"), empty_label=None
    )
    preset = forms.ChoiceField()
    axes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), help_text=AXES_HELP)
    mode = forms.ChoiceField(choices=Sweep.Mode.choices, initial=Sweep.Mode.GRID)
    n_trials = forms.IntegerField(
        min_value=1, max_value=MAX_TRIALS, required=False, label="Trials", help_text="optuna mode only"
    )
    parallel = forms.IntegerField(min_value=1, max_value=64, initial=2, help_text="optuna: trials running at once")
    seeds = forms.IntegerField(
        min_value=1,
        max_value=MAX_SEEDS,
        initial=1,
        required=False,
        help_text="grid: train each point with this many seeds",
    )
    objective_model = forms.ChoiceField(
        required=False,
        label="Objective",
        help_text="whose validation log loss picks the best point",
    )

    def __init__(self, *args, presets=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = launch_choices()
        self.fields["symbol"].choices = [(s, s) for s in choices["symbols"]]
        self.fields["interval"].choices = [(i, i) for i in choices["intervals"]]
        self.fields["exchange"].choices = [(e, e) for e in choices["exchanges"]]
        self.fields["preset"].choices = [(p, p) for p in presets]
        self.known_params = known_params()
        self.holdable = holdable_names()
        self.fields["objective_model"].choices = [
            ("", OBJECTIVE_AUTO),
            (OBJECTIVE_ENSEMBLE, "the ensemble's"),
            *((key, f"{key}'s own") for key in registered_backends()),
        ]
        for field, value in (("preset", "smoke"), ("interval", "1h"), ("exchange", "BINANCE")):
            if value in dict(self.fields[field].choices):
                self.fields[field].initial = value
        if not self.initial.get("profile"):
            default = profile_get_default()
            if default:
                self.fields["profile"].initial = default.pk

    def clean_seeds(self) -> int:
        return self.cleaned_data.get("seeds") or 1

    def clean_axes(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["axes"].splitlines() if line.strip()]
