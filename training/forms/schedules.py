from django import forms
from django.core.exceptions import ValidationError

from training.ml.presets import PRESETS
from training.models import RegularizationProfile, RetrainSchedule
from training.selectors.market_data import dataset_label, datasets_available
from training.services.crontabs import crontab_check

MSG_PICK_MARKET = "Pick a market; only markets with candles are listed (import or fetch one on the Markets page)."


def market_value(exchange: str, symbol: str, interval: str) -> str:
    return f"{exchange}:{symbol}:{interval}"


class ScheduleForm(forms.Form):
    """A schedule: a market picked from those with candles, the crontab checked field by field (with the next
    fire times shown live by the page), the promotion policy; ``enabled`` pauses it without losing it."""

    market = forms.ChoiceField(help_text="Markets with candles on this installation.")
    more_markets = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="More markets each firing trains as one group, one per line: SYMBOL or EXCHANGE:SYMBOL INTERVAL.",
    )
    profile = forms.ModelChoiceField(
        queryset=RegularizationProfile.objects.order_by("name"), required=False, empty_label="the default profile"
    )
    preset = forms.ChoiceField(choices=[(name, name) for name in PRESETS], initial="quick")
    crontab = forms.CharField(
        max_length=100,
        initial="0 3 * * *",
        help_text="minute hour day-of-month month day-of-week, in UTC (e.g. '0 3 * * *': 03:00 every day).",
    )
    fetch = forms.BooleanField(required=False, help_text="Fetch new candles from Binance first.")
    fetch_only = forms.BooleanField(
        required=False, help_text="Only fetch new candles (no training): live metrics keep maturing."
    )
    promote = forms.ChoiceField(choices=RetrainSchedule.Promote.choices, initial=RetrainSchedule.Promote.NEVER)
    enabled = forms.BooleanField(required=False, initial=True, help_text="Off: the schedule is kept but never fires.")

    def __init__(self, *args, schedule: RetrainSchedule | None = None, **kwargs):
        if schedule is not None:
            kwargs.setdefault("initial", {}).update(schedule_initial(schedule))
        super().__init__(*args, **kwargs)
        choices = [(market_value(d.exchange, d.symbol, d.interval), dataset_label(d)) for d in datasets_available()]
        current = self.initial.get("market")
        if current and current not in dict(choices):  # an existing schedule's market whose candles are gone
            choices.insert(0, (current, f"{current.replace(':', ' ', 2)} (no candles now)"))
        self.fields["market"].choices = [("", "— pick a market —"), *choices]
        self.fields["crontab"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_market(self):
        value = self.cleaned_data["market"]
        if value.count(":") != 2:
            raise ValidationError(MSG_PICK_MARKET)
        return value

    def clean_crontab(self):
        return crontab_check(self.cleaned_data["crontab"])

    def schedule_data(self) -> dict:
        """The cleaned values as the schedule services take them."""
        data = dict(self.cleaned_data)
        data["exchange"], data["symbol"], data["interval"] = data.pop("market").split(":")
        data["more_markets"] = [line for line in (data.get("more_markets") or "").splitlines() if line.strip()]
        return data


def schedule_initial(schedule: RetrainSchedule) -> dict:
    return {
        "market": market_value(schedule.exchange, schedule.symbol, schedule.interval),
        "more_markets": "\n".join(schedule.more_markets or []),
        "profile": schedule.profile_id,
        "preset": schedule.preset,
        "crontab": schedule.crontab,
        "fetch": schedule.fetch,
        "fetch_only": schedule.fetch_only,
        "promote": schedule.promote,
        "enabled": schedule.enabled,
    }
