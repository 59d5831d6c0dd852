"""Symbols and exchanges are stored trimmed and upper-case (BTCUSDT, BINANCE). A form never saves a value changed
from what was typed without the user seeing it first: the form comes back unsaved with the value it would store
in the field and a message naming both, and submitting that value saves it. Letters outside A-Z are refused
outright (upper-casing `straße` gives `STRASSE`, another word)."""

from __future__ import annotations

from training.marketdata.markets import MSG_NOT_ASCII

MSG_WILL_BECOME = (
    "{label} {given!r} would be saved as {saved!r} (stored trimmed and upper-case). Nothing was saved yet: the field "
    "now shows {saved!r}; submit again to save it."
)


class ShowNormalisedSymbolsMixin:
    """For a Form or ModelForm with CharFields named in ``normalised_fields``. Put it before the form class."""

    normalised_fields = ("symbol", "exchange")
    resubmit_hint = ""  # e.g. "Choose the file again." (a browser does not keep a file input)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.normalised_fields:
            if name in self.fields:
                self.fields[name].strip = False  # trimming is a change too: compare what was typed

    def clean(self):
        data = super().clean()
        changed = {}
        for name in self.normalised_fields:
            raw = data.get(name)
            if name not in self.fields or not isinstance(raw, str) or name in self.errors:
                continue
            label = self.fields[name].label or name.capitalize()
            if not raw.strip().isascii():
                self.add_error(name, MSG_NOT_ASCII.format(label=label, given=raw.strip(), upper=raw.strip().upper()))
                continue
            saved = raw.strip().upper()
            if saved != raw:
                changed[name] = (label, raw, saved)
        if changed:
            self.data = self.data.copy()  # a QueryDict is immutable; the re-shown field reads form.data
            for name, (label, raw, saved) in changed.items():
                self.data[self.add_prefix(name)] = saved
                message = MSG_WILL_BECOME.format(label=label, given=raw, saved=saved)
                self.add_error(name, f"{message} {self.resubmit_hint}".strip())
        return data
