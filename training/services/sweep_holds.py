"""Settings a sweep holds for a backend at every point, written like an axis: ``lightgbm.early_stopping=off``.

A hold is not swept: every point's run gets it, so a sweep of ``lightgbm.reg_lambda`` with
``lightgbm.early_stopping=off`` shows what L2 does alone (no early stopping, the preset's largest number of boosting
rounds). The settings a backend can hold, and the params it then receives, are declared on the backend
(``Backend.holds``); a hold reaches every model of its section the preset trains, and one that reaches none is
refused. Each point's run carries the holds as ``preset_overrides`` in its snapshot (``{"models": {key: params}}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError

from training.ml.backends.registry import backend_classes

MSG_HOLD_UNKNOWN = "Hold {text!r}: {section!r} holds no {setting!r}; holdable: {known}."
MSG_HOLD_VALUE = "Hold {text!r}: {setting} takes {words}; got {value!r}."
MSG_HOLD_DUPLICATE = "The setting {name!r} is held more than once."
MSG_HOLD_REACHES_NOTHING = "Hold {text}: preset {preset} trains no {section} model ({models})."
MSG_HOLD_TEXT = "{text}: held at every point for {models}"


def holdable() -> dict[str, dict[str, dict[str, dict]]]:
    """``{section: {setting: {word: params}}}`` over the registered backends."""
    out: dict = {}
    for cls in backend_classes():
        for setting, words in cls.holds.items():
            out.setdefault(cls.config_section, {}).setdefault(setting, {}).update(words)
    return out


def holdable_names() -> list[str]:
    return [
        f"{section}.{setting}={'|'.join(words)}"
        for section, settings in holdable().items()
        for setting, words in settings.items()
    ]


def is_hold(text) -> bool:
    """Whether an axis line names a holdable setting (``lightgbm.early_stopping=…``) rather than a parameter."""
    if isinstance(text, Mapping) or "=" not in str(text):
        return False
    name = str(text).split("=", 1)[0].strip()
    if "." not in name:
        return False
    section, setting = name.split(".", 1)
    return setting in holdable().get(section, {}) or setting == "early_stopping"


def split_holds(texts: Iterable) -> tuple[list, list[str]]:
    """(axis texts, hold texts) of an axes list as the form, CLI and API give it."""
    axes, holds = [], []
    for text in texts:
        (holds if is_hold(text) else axes).append(text if isinstance(text, Mapping) else str(text).strip())
    return axes, holds


def parse_holds(texts: Iterable[str], *, preset: str) -> list[dict]:
    """Each hold validated against the declarations and the preset: ``{"text", "section", "setting", "value",
    "models", "params"}``; ValidationError with every message."""
    from training.ml.backends.registry import get_backend
    from training.services.sweep_reach import trained_models

    declared, trained = holdable(), trained_models(preset)
    holds, errors, seen = [], [], set()
    for text in texts:
        name, value = (part.strip() for part in text.split("=", 1))
        section, setting = name.split(".", 1)
        words = declared.get(section, {}).get(setting)
        if words is None:
            errors.append(
                MSG_HOLD_UNKNOWN.format(text=text, section=section, setting=setting, known=", ".join(holdable_names()))
            )
            continue
        if value.lower() not in words:
            errors.append(MSG_HOLD_VALUE.format(text=text, setting=name, words=" or ".join(words), value=value))
            continue
        if name in seen:
            errors.append(MSG_HOLD_DUPLICATE.format(name=name))
            continue
        seen.add(name)
        every = [cls.key for cls in backend_classes() if cls.config_section == section and setting in cls.holds]
        models = [key for key in trained if key in every]
        if not models:
            label = get_backend(every[0]).section.label
            errors.append(
                MSG_HOLD_REACHES_NOTHING.format(text=name, preset=preset, section=label, models=", ".join(every))
            )
            continue
        holds.append(
            {
                "text": f"{name}={value.lower()}",
                "section": section,
                "setting": setting,
                "value": value.lower(),
                "models": models,
                "params": dict(words[value.lower()]),
            }
        )
    if errors:
        raise ValidationError(errors)
    return holds


def holds_preset_overrides(holds: Iterable[Mapping]) -> dict | None:
    """The ``preset_overrides`` a point's run trains with: ``{"models": {key: params}}``; None without holds."""
    models: dict = {}
    for hold in holds:
        for key in hold["models"]:
            models.setdefault(key, {}).update(hold["params"])
    return {"models": models} if models else None


def hold_text(hold: Mapping) -> str:
    return MSG_HOLD_TEXT.format(text=hold["text"], models=", ".join(hold["models"]))
