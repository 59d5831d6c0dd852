from django import forms

from training.ml.trading.rule import DEFAULT_COST_BPS, HOLD_BAR, HOLD_HORIZON
from training.models import RegularizationProfile, TrainingRun
from training.selectors.profiles import profile_get_default
from training.selectors.runs import launch_choices

MSG_PICK_DATASET = "Pick a dataset."
# What each preset does, in words; the launch form adds the median duration measured on this installation.
PRESET_DESCRIPTIONS = {
    "tiny": "plumbing check: 2,000 bars, one fold, logistic regression only (a few seconds; says nothing about models)",
    "smoke": "the last 3,000 bars, 2 folds, few trials and epochs (about 15 s on 2 cores)",
    "quick": "the whole dataset, 3 folds, 10 Optuna trials (about 90 s on 2 cores for the offline sample)",
    "full": "the whole dataset, more folds, trials and epochs (real use; minutes to hours)",
}


class ProfileChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        marker = " (default)" if obj.is_default and obj.name != "default" else ""
        return f"{obj.name}{marker} — L1 {obj.l1_alpha:g} · L2 {obj.l2_alpha:g} · dropout {obj.dropout_rate:g}"


def dataset_value(exchange: str, symbol: str, interval: str) -> str:
    return f"{exchange}:{symbol}:{interval}"


def dataset_option_label(dataset) -> str:
    span = ""
    if dataset.first_open_time and dataset.last_open_time:
        span = f", {dataset.first_open_time:%Y-%m-%d} → {dataset.last_open_time:%Y-%m-%d}"
    sample = " — offline sample, " + dataset.source.split(".")[0][:60] if dataset.is_sample else ""
    return f"{dataset.exchange}:{dataset.symbol} {dataset.interval} — {dataset.row_count:,} rows{span}{sample}"


class TrainingRunLaunchForm(forms.Form):
    """One dataset picker (exchange, symbol and interval together); the three separate fields stay for
    clients that post them (tests, scripts) and are filled from the picker."""

    dataset = forms.ChoiceField(required=False, label="Dataset")
    symbol = forms.ChoiceField(required=False, widget=forms.HiddenInput)
    interval = forms.ChoiceField(required=False, widget=forms.HiddenInput)
    exchange = forms.ChoiceField(required=False, widget=forms.HiddenInput)
    profile = ProfileChoiceField(
        queryset=RegularizationProfile.objects.order_by("-is_default", "name"), empty_label=None
    )
    preset = forms.ChoiceField()
    cost_bps = forms.FloatField(
        required=False,
        label="Trading costs (bps per side)",
        min_value=0,
        max_value=1000,
        initial=DEFAULT_COST_BPS,
        help_text="Charged on every position change of the trading rule the run is judged by.",
    )
    long_only = forms.BooleanField(required=False, label="Long/flat only (no shorting)")
    hold = forms.ChoiceField(
        choices=[(HOLD_HORIZON, "hold for the label horizon"), (HOLD_BAR, "re-decide every bar")],
        initial=HOLD_HORIZON,
        required=False,
        label="Trading rule holding",
    )
    # Where the launch came from: the admin's "Train a symbol with this profile" opens this form with it.
    trigger = forms.ChoiceField(
        required=False,
        widget=forms.HiddenInput,
        choices=[(t, t) for t in (TrainingRun.Trigger.WEB, TrainingRun.Trigger.ADMIN)],
    )

    def __init__(self, *args, presets=(), durations=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = launch_choices()
        self.datasets = choices["datasets"]
        objects = choices["objects"]
        self.fields["dataset"].choices = [
            (dataset_value(d.exchange, d.symbol, d.interval), dataset_option_label(d)) for d in objects
        ]
        self.fields["symbol"].choices = [(s, s) for s in choices["symbols"]]
        self.fields["interval"].choices = [(i, i) for i in choices["intervals"]]
        self.fields["exchange"].choices = [(e, e) for e in choices["exchanges"]]
        durations = durations or {}
        self.fields["preset"].choices = [(p, self.preset_label(p, durations.get(p))) for p in presets]
        if "quick" in presets:
            self.fields["preset"].initial = "quick"
        preferred = next(
            (d for d in objects if d.symbol == "BTCUSDT" and d.interval == "1h"), objects[0] if objects else None
        )
        if preferred is not None:
            self.fields["dataset"].initial = dataset_value(preferred.exchange, preferred.symbol, preferred.interval)
        if not self.initial.get("profile"):
            default = profile_get_default()
            if default:
                self.fields["profile"].initial = default.pk

    @staticmethod
    def preset_label(name: str, measured: dict | None) -> str:
        label = f"{name}: {PRESET_DESCRIPTIONS.get(name, '')}".rstrip(": ")
        if measured:
            label += f"; measured here: median {measured['median_seconds']:.0f} s over {measured['runs']} run(s)"
        return label

    def clean(self):
        data = super().clean()
        picked = data.pop("dataset", "")
        if picked:
            if picked.count(":") != 2:
                raise forms.ValidationError(MSG_PICK_DATASET)
            data["exchange"], data["symbol"], data["interval"] = picked.split(":")
        elif not data.get("symbol"):
            raise forms.ValidationError(MSG_PICK_DATASET)
        data["exchange"] = data.get("exchange") or "BINANCE"
        data["interval"] = data.get("interval") or "1h"
        data["trigger"] = data.get("trigger") or TrainingRun.Trigger.WEB
        cost, long_only, hold = data.pop("cost_bps", None), data.pop("long_only", False), data.pop("hold", None)
        data["trading"] = {
            "cost_bps": DEFAULT_COST_BPS if cost is None else cost,
            "allow_short": not long_only,
            "hold": hold or HOLD_HORIZON,
        }
        return data


class RunNotesForm(forms.Form):
    """A run's notes and tags (the run page, the admin and the API edit the same two things)."""

    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False)
    tags = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Comma- or space-separated, e.g. “baseline, paper-2”. Lowercase letters, digits and _ . : -",
    )
