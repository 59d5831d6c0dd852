"""Sweep axes: parse ``PARAM=VALUES``, validate against the regularization declarations, expand to points and
apply a point's values to a profile's resolved config.

``PARAM`` is a base value (``l1_alpha``, ``l2_alpha``, ``dropout_rate``) or a backend's (``lightgbm.reg_alpha``,
``tensorflow.l1_reg``, ``sklearn.alpha``, …). ``VALUES`` is a list (``0.0001,0.01,1``) or a log range
``LOW:HIGH:COUNT`` (``1e-4:1:5`` = five values spaced evenly on a log scale from 1e-4 to 1, both included).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError

from training.ml.regularization import (
    BACKENDS,
    BASE_LABEL,
    BASE_NAMES,
    BASE_PARAMS,
    MSG_OUT_OF_RANGE,
    RegParam,
    override_field_name,
    resolve_config,
)

MAX_VALUES_PER_AXIS = 25
MAX_GRID_POINTS = 64
MSG_NO_AXES = "Give at least one axis, e.g. l1_alpha=0.0001,0.01,1."
MSG_AXIS_SYNTAX = "Axis {text!r}: write PARAM=VALUES, e.g. l1_alpha=0.0001,0.01,1 or lightgbm.reg_alpha=1e-4:1:5."
MSG_UNKNOWN_PARAM = "Axis {text!r}: unknown parameter {param!r}; known: {known}."
MSG_NOT_A_NUMBER = "Axis {param}: {value!r} is not a number."
MSG_LOG_RANGE = (
    "Axis {param}: a log range is LOW:HIGH:COUNT with 0 < LOW < HIGH and a whole COUNT from 2 to {most}; got {text!r}."
)
MSG_DUPLICATE_VALUE = "Axis {param}: the value {value:g} appears more than once."
MSG_DUPLICATE_PARAM = "The parameter {param!r} is swept by more than one axis."
MSG_TOO_MANY_VALUES = "Axis {param}: {count} values; at most {most} per axis."
MSG_TOO_MANY_POINTS = "The grid has {count} points; at most {most}. Use fewer values or the optuna mode."
MSG_ABOVE_CEILING = "Axis {param}: {value:g} is above the largest value the library takes ({ceiling:g})."


def known_params() -> list[str]:
    return [*BASE_NAMES, *(f"{spec.key}.{p.name}" for spec in BACKENDS.values() for p in spec.params)]


def param_declaration(param: str) -> tuple[RegParam, str]:
    """The declaration and the label of a swept parameter name; KeyError when unknown."""
    if "." in param:
        backend, name = param.split(".", 1)
        spec = BACKENDS[backend]
        return spec.param(name), spec.label
    for declaration in BASE_PARAMS:
        if declaration.name == param:
            return declaration, BASE_LABEL
    raise KeyError(param)


def profile_field(param: str) -> str:
    """The profile field a swept parameter is stored in (``l1_alpha``, ``lightgbm_reg_alpha``)."""
    if "." in param:
        backend, name = param.split(".", 1)
        return override_field_name(backend, name)
    return param


def _number(param: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(MSG_NOT_A_NUMBER.format(param=param, value=text)) from None
    if not math.isfinite(value):
        raise ValidationError(MSG_NOT_A_NUMBER.format(param=param, value=text))
    return value


def _log_range(param: str, text: str) -> tuple[list[float], dict]:
    parts = text.split(":")
    error = ValidationError(MSG_LOG_RANGE.format(param=param, text=text, most=MAX_VALUES_PER_AXIS))
    if len(parts) != 3:
        raise error
    low, high = _number(param, parts[0]), _number(param, parts[1])
    try:
        count = int(parts[2])
    except ValueError:
        raise error from None
    if not (0 < low < high) or not 2 <= count <= MAX_VALUES_PER_AXIS:
        raise error
    step = (math.log10(high) - math.log10(low)) / (count - 1)
    values = [float(f"{10 ** (math.log10(low) + i * step):.6g}") for i in range(count)]
    values[0], values[-1] = low, high
    return values, {"low": low, "high": high, "count": count}


def parse_axis(text: str) -> dict:
    """``"l1_alpha=0.0001,0.01,1"`` → ``{"param": "l1_alpha", "values": [...], "log_range": None}``."""
    if "=" not in text:
        raise ValidationError(MSG_AXIS_SYNTAX.format(text=text))
    param, raw = (part.strip() for part in text.split("=", 1))
    if not param or not raw:
        raise ValidationError(MSG_AXIS_SYNTAX.format(text=text))
    try:
        declaration, label = param_declaration(param)
    except KeyError:
        raise ValidationError(
            MSG_UNKNOWN_PARAM.format(text=text, param=param, known=", ".join(known_params()))
        ) from None
    log_range = None
    if ":" in raw:
        values, log_range = _log_range(param, raw)
    else:
        values = [_number(param, item.strip()) for item in raw.split(",") if item.strip()]
        if not values:
            raise ValidationError(MSG_AXIS_SYNTAX.format(text=text))
    return validate_axis({"param": param, "values": values, "log_range": log_range}, declaration, label)


def validate_axis(axis: dict, declaration: RegParam | None = None, label: str = "") -> dict:
    param = axis["param"]
    if declaration is None:
        declaration, label = param_declaration(param)
    values = [float(v) for v in axis["values"]]
    if len(values) > MAX_VALUES_PER_AXIS:
        raise ValidationError(MSG_TOO_MANY_VALUES.format(param=param, count=len(values), most=MAX_VALUES_PER_AXIS))
    errors = []
    ceiling = getattr(declaration, "ceiling", None)
    for value in values:
        if not declaration.interval.contains(value):
            errors.append(
                MSG_OUT_OF_RANGE.format(name=declaration.name, label=label, interval=declaration.interval, value=value)
            )
        elif ceiling is not None and value > ceiling:
            errors.append(MSG_ABOVE_CEILING.format(param=param, value=value, ceiling=ceiling))
    seen = set()
    for value in values:
        if value in seen:
            errors.append(MSG_DUPLICATE_VALUE.format(param=param, value=value))
        seen.add(value)
    if errors:
        raise ValidationError(errors)
    return {"param": param, "values": values, "log_range": axis.get("log_range")}


def parse_axes(texts: Iterable[str | Mapping]) -> list[dict]:
    """Every axis parsed and validated; all errors at once."""
    axes, errors = [], []
    for text in texts:
        try:
            axes.append(validate_axis(dict(text)) if isinstance(text, Mapping) else parse_axis(str(text)))
        except ValidationError as exc:
            errors.extend(exc.messages)
        except KeyError:
            errors.append(MSG_UNKNOWN_PARAM.format(text=text, param=dict(text).get("param"), known=known_params()))
    params = [a["param"] for a in axes]
    errors += [MSG_DUPLICATE_PARAM.format(param=p) for p in sorted({p for p in params if params.count(p) > 1})]
    if not axes and not errors:
        errors.append(MSG_NO_AXES)
    if errors:
        raise ValidationError(errors)
    return axes


def grid_points(axes: list[dict]) -> list[dict]:
    """The cartesian product of the axes' values, as ``{param: value}`` dicts, first axis slowest."""
    count = math.prod(len(a["values"]) for a in axes)
    if count > MAX_GRID_POINTS:
        raise ValidationError(MSG_TOO_MANY_POINTS.format(count=count, most=MAX_GRID_POINTS))
    params = [a["param"] for a in axes]
    return [dict(zip(params, combo)) for combo in itertools.product(*(a["values"] for a in axes))]


def point_config(base: Mapping, overrides: Mapping, values: Mapping) -> dict:
    """A profile's base values and overrides with a point's values applied, resolved: a swept base value flows
    into every backend value that derives from it (unless the profile overrides that one)."""
    base = dict(base)
    merged = {section: dict(params) for section, params in overrides.items()}
    for param, value in values.items():
        if "." in param:
            backend, name = param.split(".", 1)
            merged.setdefault(backend, {})[name] = float(value)
        else:
            base[param] = float(value)
    return resolve_config(base, merged)


def format_values(values: Mapping) -> str:
    return ", ".join(f"{param}={value:g}" for param, value in values.items())
