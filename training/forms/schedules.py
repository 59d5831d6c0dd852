from django import forms

from training.forms.symbols import ShowNormalisedSymbolsMixin
from training.ml.presets import PRESETS
from training.models import RegularizationProfile, RetrainSchedule


class ScheduleForm(ShowNormalisedSymbolsMixin, forms.Form):
    symbol = forms.CharField(max_length=32, initial="BTCUSDT")
    exchange = forms.CharField(max_length=32, initial="BINANCE")
    interval = forms.CharField(max_length=8, initial="1h")
    more_markets = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="More markets each firing trains as one group, one per line: SYMBOL or EXCHANGE:SYMBOL INTERVAL.",
    )
    profile = forms.ModelChoiceField(
        queryset=RegularizationProfile.objects.order_by("name"), required=False, empty_label="the default profile"
    )
    preset = forms.ChoiceField(choices=[(name, name) for name in PRESETS], initial="quick")
    crontab = forms.CharField(max_length=100, initial="0 * * * *", help_text="minute hour day month weekday (UTC)")
    fetch = forms.BooleanField(required=False, help_text="Fetch new candles from Binance first.")
    fetch_only = forms.BooleanField(
        required=False, help_text="Only fetch new candles (no training): live metrics keep maturing."
    )
    promote = forms.ChoiceField(choices=RetrainSchedule.Promote.choices, initial=RetrainSchedule.Promote.NEVER)
