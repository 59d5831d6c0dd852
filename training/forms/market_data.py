from django import forms

from training.forms.symbols import ShowNormalisedSymbolsMixin
from training.marketdata.times import INTERVAL_MS


class CandleImportForm(ShowNormalisedSymbolsMixin, forms.Form):
    resubmit_hint = "Choose the file again."

    file = forms.FileField(
        help_text="Binance kline CSV (header or not, ms or µs open times; plain, .gz, or a .zip holding one CSV) or "
        "a CSV with the header timestamp,open,high,low,close,volume. Checked whole before anything is stored."
    )
    symbol = forms.CharField(max_length=32, initial="BTCUSDT")
    exchange = forms.CharField(max_length=32, initial="BINANCE")
    interval = forms.ChoiceField(choices=[(k, k) for k in INTERVAL_MS], initial="1h")
    source = forms.CharField(max_length=500, required=False, help_text="Where the file comes from (optional).")
    calendar = forms.CharField(
        max_length=16,
        required=False,
        help_text="Market calendar: 24/7, forex or an exchange_calendars code (XNYS, XLON, CMES, …). Empty: the "
        "dataset's, or the exchange's default (crypto 24/7, FX venues forex).",
    )
