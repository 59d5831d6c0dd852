"""The regularization config: resolved from a profile's base values and per-backend overrides, validated into
a report, and checked field by field for the profile form.

The parameters themselves are declared by each backend module beside its code (``training.ml.parameters``
types, collected by ``training.ml.backends.registry``); ``BACKENDS`` is a live view of those sections, keyed
by section (``lightgbm``, ``tensorflow``, ``sklearn``, ``tabnet``, and any backend registered later).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from .backends.registry import sections
from .parameters import BASE_NAMES, BASE_PARAMS, FromBase, Interval, Inverse, RegParam, Section
from .results.report import BackendReport, BaseRow, ParamRow, RegularizationReport

__all__ = ["BACKENDS", "BASE_NAMES", "BASE_PARAMS", "Interval", "RegParam", "Section"]


class _Sections(Mapping):
    """The registered profile sections, read from the registry on every access."""

    def __getitem__(self, key: str) -> Section:
        return sections()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(sections())

    def __len__(self) -> int:
        return len(sections())


BACKENDS: Mapping[str, Section] = _Sections()


def override_field_name(backend: str, param: str) -> str:
    """Name of the model field that stores a per-backend override, e.g. ``sklearn_c``."""
    return f"{backend}_{param}".lower()


def iter_override_params():
    """(backend spec, param, model field name) for every per-backend parameter."""
    for spec in sections().values():
        for p in spec.params:
            yield spec, p, override_field_name(spec.key, p.name)


def derive_value(backend: str, name: str, base: dict, section: dict) -> float | None:
    """The value a blank override takes: its base value, 1/x of a sibling, or its default.

    Returns ``None`` when it cannot be derived (``C`` from an ``alpha`` of 0).
    """
    return BACKENDS[backend].param(name).derive(base, section)


def resolve_config(base: dict, overrides: dict | None = None) -> dict:
    """Build the nested resolved config from base values and optional per-backend overrides.

    ``overrides`` is ``{"sklearn": {"C": 5.0}, …}``; missing or ``None`` entries are derived. Parameters
    are resolved in declaration order, so ``C`` sees the resolved ``alpha``.
    """
    overrides = overrides or {}
    config: dict = {name: float(base[name]) for name in BASE_NAMES}
    for spec in sections().values():
        section: dict = {}
        given = overrides.get(spec.key) or {}
        for p in spec.params:
            value = given.get(p.name)
            if value is None:
                value = derive_value(spec.key, p.name, config, section)
            section[p.name] = None if value is None else float(value)
        config[spec.key] = section
    return config


# --- Validation report ----------------------------------------------------------------------------
OK, WARNING, ERROR = "ok", "warning", "error"
BASE_LABEL = "the base settings"
MSG_OUT_OF_RANGE = "The '{name}' parameter of {label} must be a float in the range {interval}; got {value!r}."
MSG_ABOVE_CEILING = (
    "The '{name}' parameter of {label} must be at most {ceiling:g} (larger values overflow the library); got {value!r}."
)
MSG_NOT_DERIVABLE = "C cannot be derived as 1/alpha because alpha is 0; set alpha > 0 or give C explicitly."
MSG_EXTREME = "{value:g} is unusually large for '{name}' (above {limit:g}); models may underfit."
MSG_NO_REGULARIZATION = "{label} has no regularization at all (every L1/L2 value is 0)."
MSG_C_DISAGREES = "C = {c:g} disagrees with 1/alpha = {inv:g}; C is what the library uses."
C_TOLERANCE = 1e-9


def range_error(p: RegParam, label: str, value) -> str:
    """The error for a value outside the parameter's range or above its ceiling ("" when it is fine)."""
    if value is None or not p.interval.contains(value):
        return MSG_OUT_OF_RANGE.format(name=p.name, label=label, interval=p.interval, value=value)
    if p.ceiling is not None and value > p.ceiling:
        return MSG_ABOVE_CEILING.format(name=p.name, label=label, ceiling=p.ceiling, value=value)
    return ""


def _check(p: RegParam, label: str, value) -> tuple[str, str]:
    error = range_error(p, label, value)
    if error:
        return ERROR, error
    if p.warn_above is not None and value > p.warn_above:
        return WARNING, MSG_EXTREME.format(value=value, name=p.name, limit=p.warn_above)
    return OK, ""


def _worst(statuses) -> str:
    order = [OK, WARNING, ERROR]
    return max(statuses, key=order.index, default=OK)


def _source(p: RegParam, value, derived) -> str:
    if p.source is None:
        return "default" if value == p.default else "override"
    if value is not None and derived is not None and math.isclose(value, derived, rel_tol=C_TOLERANCE):
        return "base"
    return "override"


def regularization_report(config: dict) -> RegularizationReport:
    """A typed report on a resolved config: per backend and parameter the value, where it came from (``base``
    when it equals what a blank override derives from the base values, ``default`` for a declared default, else
    ``override``), a status with its message, and how the library applies it. Pure: no I/O."""
    errors: list[str] = []
    warnings: list[str] = []

    def record(status: str, message: str) -> None:
        if status == ERROR:
            errors.append(message)
        elif status == WARNING:
            warnings.append(message)

    base_rows = []
    for p in BASE_PARAMS:
        status, message = _check(p, BASE_LABEL, config.get(p.name))
        record(status, message)
        base_rows.append(BaseRow(p.name, config.get(p.name), str(p.interval), status, message))

    backends = {}
    for spec in sections().values():
        section = config.get(spec.key) or {}
        rows = []
        for p in spec.params:
            value = section.get(p.name)
            derived = derive_value(spec.key, p.name, config, section)
            source = _source(p, value, derived)
            status, message = _check(p, spec.label, value)
            applied = p.shown_as
            if isinstance(p.derivation, Inverse):
                sibling = section.get(p.derivation.name)
                applied = f"{p.name} = 1/{p.derivation.name}" if source == "base" else f"{p.name} (explicit)"
                if value is None and sibling == 0:
                    status, message = ERROR, MSG_NOT_DERIVABLE
                elif status == OK and sibling and source == "override":
                    status, message = WARNING, MSG_C_DISAGREES.format(c=value, inv=1.0 / sibling)
            record(status, message if spec.label in message else f"{spec.label}: {message}")
            rows.append(ParamRow(p.name, value, source, p.source, str(p.interval), status, message, applied))
        penalties = [section.get(p.name) for p in spec.params if isinstance(p.derivation, FromBase)]
        message = ""
        if penalties and all(v == 0 for v in penalties):
            message = MSG_NO_REGULARIZATION.format(label=spec.label)
            warnings.append(message)
        status = _worst([r.status for r in rows] + ([WARNING] if message else []))
        backends[spec.key] = BackendReport(spec.label, spec.applied, status, message, rows)
    return RegularizationReport(
        ok=not errors,
        status=ERROR if errors else WARNING if warnings else OK,
        errors=errors,
        warnings=warnings,
        base=base_rows,
        backends=backends,
    )


def validate_and_report_regularization(config: dict) -> dict:
    """``regularization_report`` as the JSON a run and a profile store."""
    return regularization_report(config).to_dict()


def field_errors(base: dict, overrides: dict | None = None) -> dict[str, list[str]]:
    """Errors keyed by profile field name (``l1_alpha``, ``sklearn_c``, …) for base values and per-backend
    overrides (``{"sklearn": {"C": 5.0}}``, ``None`` = blank). Ranges first; when every value is in range,
    the cross-field errors of the report (``C`` not derivable from an ``alpha`` of 0) land on the field the
    user can fix. ``None`` base values are skipped (the form reports them as required)."""
    overrides = overrides or {}
    errors: dict[str, list[str]] = {}
    for p in BASE_PARAMS:
        value = base.get(p.name)
        if value is not None and range_error(p, BASE_LABEL, value):
            errors[p.name] = [range_error(p, BASE_LABEL, value)]
    for spec, p, field in iter_override_params():
        value = (overrides.get(spec.key) or {}).get(p.name)
        if value is not None and range_error(p, spec.label, value):
            errors[field] = [range_error(p, spec.label, value)]
    if errors or any(base.get(name) is None for name in BASE_NAMES):
        return errors
    report = validate_and_report_regularization(resolve_config(base, overrides))
    for spec in sections().values():
        given = overrides.get(spec.key) or {}
        for row in report["backends"][spec.key]["params"]:
            if row["status"] != ERROR:
                continue
            field = override_field_name(spec.key, row["name"])
            if given.get(row["name"]) is None and row["derived_from"] in BASE_NAMES:
                field = row["derived_from"]
            messages = errors.setdefault(field, [])
            if row["message"] not in messages:
                messages.append(row["message"])
    return errors
