"""Which trained models a sweep axis reaches: the axis is resolved against the base profile (its per-backend
overrides) and the preset (the base models each regime's ensemble trains). An axis reaches a model when some
value of the axis changes that model's library arguments (``Section.library_kwargs``: ``sklearn.alpha`` with an
explicit ``C`` changes nothing the library sees). An axis that reaches no model is refused at creation, naming
what shadows it and the backend axis to sweep instead; one that reaches some models says which.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError

from training.ml.backends.registry import get_backend
from training.ml.ensembles import ENSEMBLES
from training.ml.parameters import FromBase
from training.ml.presets import get_preset
from training.ml.regularization import BACKENDS, override_field_name
from training.services.sweep_axes import point_config

MSG_AXIS_REACHES_NOTHING = (
    "Axis {param}: it changes no trained model's parameter with profile “{profile}” and preset {preset} — "
    "{shadows}. {instead}"
)
MSG_SHADOWED_BY_OVERRIDE = "the profile's per-backend override(s) {fields} shadow it for {section} ({models})"
MSG_SHADOWED_BY_PRESET = "preset {preset} trains no {section} model ({models})"
MSG_NO_EFFECT = "{section} ({models}) does not read it"
MSG_SWEEP_INSTEAD = "Sweep {axes} instead."
MSG_PRESET_INSTEAD = "Use a preset that trains {models} ({presets})."
MSG_REACHES_SOME = "reaches {reached}; not {missed}"
MSG_REACHES_ALL = "reaches {reached}"


def trained_models(preset: str) -> list[str]:
    """The base models the preset's ensembles train, in first-seen order over the regimes."""
    settings = get_preset(preset)
    chosen = settings.get("ensembles") or {}
    out: list[str] = []
    for regime, cls in ENSEMBLES.items():
        for key in chosen.get(regime) or cls.model_keys:
            if key not in out:
                out.append(key)
    return out


def _models_of(section: str, among: list[str]) -> list[str]:
    return [key for key in among if get_backend(key).config_section == section]


def _all_models_of(section: str) -> list[str]:
    from training.ml.backends.registry import registered_backends

    return _models_of(section, registered_backends())


def _kwargs(config: dict, section: str) -> dict:
    return (
        BACKENDS[section].library_kwargs(config[section]) if None not in config[section].values() else config[section]
    )


def _changed_sections(param: str, values: list[float], base: Mapping, overrides: Mapping) -> set[str]:
    """Sections whose library arguments differ between the axis' values (one value: from the profile's own)."""
    configs = [point_config(base, overrides, {param: value}) for value in values]
    if len(configs) == 1:
        configs.append(point_config(base, overrides, {}))
    return {s for s in BACKENDS if any(_kwargs(c, s) != _kwargs(configs[0], s) for c in configs[1:])}


def _dependants(param: str) -> list[tuple[str, str]]:
    """(section, parameter) pairs whose blank value derives from the base value ``param``."""
    return [
        (spec.key, p.name)
        for spec in BACKENDS.values()
        for p in spec.params
        if isinstance(p.derivation, FromBase) and p.derivation.name == param
    ]


def axis_reach(*, axis: Mapping, base: Mapping, overrides: Mapping, preset: str) -> dict:
    """``{"param", "reaches": [model keys], "misses": [model keys], "shadows": [texts], "instead": text}``."""
    param, values = axis["param"], [float(v) for v in axis["values"]]
    trained = trained_models(preset)
    changed = _changed_sections(param, values, base, overrides)
    reaches = [key for key in trained if get_backend(key).config_section in changed]
    sections = [param.split(".", 1)[0]] if "." in param else sorted({s for s, _ in _dependants(param)})
    misses = [key for key in trained if key not in reaches and get_backend(key).config_section in sections]
    shadows, instead_axes, instead_models = [], [], []
    for section in sections:
        label = BACKENDS[section].label
        in_preset = _models_of(section, trained)
        if not in_preset:
            shadows.append(
                MSG_SHADOWED_BY_PRESET.format(preset=preset, section=label, models=", ".join(_all_models_of(section)))
            )
            instead_models += _all_models_of(section)
            continue
        if section in changed:
            continue
        names = [name for s, name in _dependants(param) if s == section] if "." not in param else []
        given = overrides.get(section) or {}
        fields = [
            override_field_name(section, n) for n, v in given.items() if v is not None and (not names or n in names)
        ]
        if fields:
            shadows.append(
                MSG_SHADOWED_BY_OVERRIDE.format(fields=", ".join(fields), section=label, models=", ".join(in_preset))
            )
            instead_axes += [f"{section}.{n}" for n in (names or [n for n, v in given.items() if v is not None])]
        else:
            shadows.append(MSG_NO_EFFECT.format(section=label, models=", ".join(in_preset)))
    if "." not in param and not sections:
        shadows.append(MSG_NO_EFFECT.format(section="any backend", models=", ".join(trained)))
    instead = ""
    if instead_axes:
        instead = MSG_SWEEP_INSTEAD.format(axes=" or ".join(dict.fromkeys(instead_axes)))
    elif instead_models:
        presets = [p for p in ("smoke", "quick", "full") if set(instead_models) & set(trained_models(p))]
        instead = MSG_PRESET_INSTEAD.format(models=", ".join(instead_models), presets=", ".join(presets))
    return {"param": param, "reaches": reaches, "misses": misses, "shadows": shadows, "instead": instead}


def reach_text(reach: Mapping) -> str:
    reached = ", ".join(reach.get("reaches") or []) or "nothing"
    if reach.get("misses"):
        return MSG_REACHES_SOME.format(reached=reached, missed=", ".join(reach["misses"]))
    return MSG_REACHES_ALL.format(reached=reached)


def axes_reach(*, axes: list[dict], profile, preset: str) -> list[dict]:
    """Every axis' reach; ValidationError naming the shadows of each axis that reaches no trained model."""
    base, overrides = profile.base_values(), profile.overrides()
    reach = [axis_reach(axis=axis, base=base, overrides=overrides, preset=preset) for axis in axes]
    errors = [
        MSG_AXIS_REACHES_NOTHING.format(
            param=r["param"],
            profile=profile.name,
            preset=preset,
            shadows="; ".join(r["shadows"]) or "no value of it changes a library argument",
            instead=r["instead"],
        ).strip()
        for r in reach
        if not r["reaches"]
    ]
    if errors:
        raise ValidationError(errors)
    return reach


def sweep_reach_preview(*, profile, preset: str, axes: list) -> list[dict]:
    """The reach of axes not yet launched (the form's check): each with its text, then each held setting
    (``lightgbm.early_stopping=off``) with the models it holds; ValidationError as at creation."""
    from training.services.sweep_axes import parse_axes
    from training.services.sweep_holds import hold_text, parse_holds, split_holds

    axes, hold_texts = split_holds(axes)
    holds = parse_holds(hold_texts, preset=preset)
    reach = [{**r, "text": reach_text(r)} for r in axes_reach(axes=parse_axes(axes), profile=profile, preset=preset)]
    held = [{"param": h["text"], "reaches": h["models"], "shadows": [], "text": hold_text(h)} for h in holds]
    return reach + held
