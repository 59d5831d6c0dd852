"""Regularization parameters declared as data.

Every backend's parameters (range, where the value comes from when left blank, what it maps to in the
library) are declared once here. The profile model builds its fields and database check constraints
from these declarations, the admin form validates with them, the validation report reads them, and the
tests generate out-of-range values from them. Adding a parameter is one edit to ``BACKENDS``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real


@dataclass(frozen=True)
class Interval:
    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right", "neither"

    def contains(self, value: float) -> bool:
        if not isinstance(value, Real) or isinstance(value, bool) or not math.isfinite(value):
            return False
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self) -> str:
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{left}{low}, {high}{right}"

    def out_of_range_examples(self) -> list[float]:
        """Values just outside the interval, for tests and documentation."""
        examples = []
        if self.low is not None:
            examples.append(self.low if self.closed in ("right", "neither") else self.low - 0.5)
        if self.high is not None:
            examples.append(self.high if self.closed in ("left", "neither") else self.high + 0.5)
        return examples


@dataclass(frozen=True)
class RegParam:
    """One regularization parameter.

    ``source`` names the base value it derives from when left blank (``"l1_alpha"``), or
    ``"inverse:alpha"`` for a value derived as 1/x from another parameter of the same backend, or
    ``None`` when it falls back to ``default``.
    """

    name: str
    interval: Interval
    source: str | None
    library_arg: str
    help: str
    default: float | None = None
    warn_above: float | None = None  # values above this are "extreme" (a warning, not an error)


@dataclass(frozen=True)
class BackendSpec:
    key: str
    label: str
    params: tuple[RegParam, ...]
    applied: str  # how the section is applied in the library, shown in the report

    def param(self, name: str) -> RegParam:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"Unknown parameter {name!r} for backend {self.key!r}; known: {[p.name for p in self.params]}")


NON_NEGATIVE = Interval(0.0, None, "left")
UNIT_RIGHT_OPEN = Interval(0.0, 1.0, "left")
UNIT = Interval(0.0, 1.0, "both")
POSITIVE = Interval(0.0, None, "neither")

KERAS_L1_WARN = 0.005

BASE_PARAMS: tuple[RegParam, ...] = (
    RegParam("l1_alpha", NON_NEGATIVE, None, "-", "Base L1 strength; every backend's L1 derives from it.", 0.01, 10.0),
    RegParam("l2_alpha", NON_NEGATIVE, None, "-", "Base L2 strength; every backend's L2 derives from it.", 0.001, 10.0),
    RegParam("dropout_rate", UNIT_RIGHT_OPEN, None, "-", "Base dropout rate for neural networks.", 0.2, 0.7),
)

BACKENDS: dict[str, BackendSpec] = {
    spec.key: spec
    for spec in (
        BackendSpec(
            "lightgbm",
            "LightGBM",
            (
                RegParam("reg_alpha", NON_NEGATIVE, "l1_alpha", "reg_alpha", "L1 on leaf weights.", warn_above=100.0),
                RegParam("reg_lambda", NON_NEGATIVE, "l2_alpha", "reg_lambda", "L2 on leaf weights.", warn_above=100.0),
            ),
            "Passed as LGBMClassifier(reg_alpha=…, reg_lambda=…); held fixed while Optuna tunes the other params.",
        ),
        BackendSpec(
            "tensorflow",
            "Keras / TensorFlow (LSTM, Transformer)",
            (
                RegParam(
                    "l1_reg",
                    NON_NEGATIVE,
                    "l1_alpha",
                    "keras.regularizers.L1L2(l1=…)",
                    "L1 on kernel and recurrent weights.",
                    # measured on the offline sample (quick): at 0.01 the LSTM collapsed to one class and the
                    # penalty was 74 % of the Transformer's validation loss; at 0.001 neither collapsed
                    warn_above=KERAS_L1_WARN,
                ),
                RegParam(
                    "l2_reg",
                    NON_NEGATIVE,
                    "l2_alpha",
                    "keras.regularizers.L1L2(l2=…)",
                    "L2 on kernel and recurrent weights.",
                    warn_above=1.0,
                ),
                RegParam(
                    "dropout_rate",
                    UNIT_RIGHT_OPEN,
                    "dropout_rate",
                    "keras.layers.Dropout(rate=…)",
                    "Dropout between layers.",
                    warn_above=0.7,
                ),
            ),
            "L1L2(l1_reg, l2_reg) as kernel_regularizer and recurrent_regularizer (LSTM) and on Dense kernels; "
            "Dropout(dropout_rate) after each block.",
        ),
        BackendSpec(
            "sklearn",
            "scikit-learn elastic-net LogisticRegression",
            (
                RegParam(
                    "alpha", NON_NEGATIVE, "l1_alpha", "C = 1/alpha", "Overall penalty strength.", warn_above=100.0
                ),
                RegParam("l1_ratio", UNIT, None, "l1_ratio", "Mix of L1 (1.0) and L2 (0.0).", default=0.5),
                RegParam("C", POSITIVE, "inverse:alpha", "C", "Inverse strength; derived as 1/alpha when blank."),
            ),
            "LogisticRegression(solver='saga', l1_ratio=…, C=…); C = 1/alpha unless set explicitly.",
        ),
        BackendSpec(
            "tabnet",
            "TabNet (pytorch-tabnet)",
            (
                RegParam(
                    "lambda_sparse",
                    NON_NEGATIVE,
                    "l1_alpha",
                    "lambda_sparse",
                    "Sparsity penalty on the attention masks.",
                    warn_above=1.0,
                ),
                RegParam(
                    "lambda_l2",
                    NON_NEGATIVE,
                    "l2_alpha",
                    "optimizer_params['weight_decay']",
                    "L2 on the weights.",
                    warn_above=1.0,
                ),
            ),
            "TabNetClassifier(lambda_sparse=…); TabNet has no L2 argument: lambda_l2 is applied as the "
            "optimizer's weight_decay (optimizer_params={'weight_decay': lambda_l2}).",
        ),
    )
}

BASE_NAMES = tuple(p.name for p in BASE_PARAMS)


def base_param(name: str) -> RegParam:
    for p in BASE_PARAMS:
        if p.name == name:
            return p
    raise KeyError(f"Unknown base parameter {name!r}; known: {list(BASE_NAMES)}")


def override_field_name(backend: str, param: str) -> str:
    """Name of the model field that stores a per-backend override, e.g. ``sklearn_c``."""
    return f"{backend}_{param}".lower()


def iter_override_params():
    """(backend spec, param, model field name) for every per-backend parameter."""
    for spec in BACKENDS.values():
        for p in spec.params:
            yield spec, p, override_field_name(spec.key, p.name)


def derive_value(backend: str, name: str, base: dict, section: dict) -> float | None:
    """The value a blank override takes: its base value, 1/x of a sibling, or its default.

    Returns ``None`` when it cannot be derived (``C`` from an ``alpha`` of 0).
    """
    p = BACKENDS[backend].param(name)
    if p.source is None:
        return p.default
    if p.source.startswith("inverse:"):
        other = section.get(p.source.split(":", 1)[1])
        if other is None or other == 0:
            return None
        return 1.0 / other
    return base[p.source]


def resolve_config(base: dict, overrides: dict | None = None) -> dict:
    """Build the nested resolved config from base values and optional per-backend overrides.

    ``overrides`` is ``{"sklearn": {"C": 5.0}, …}``; missing or ``None`` entries are derived. Parameters
    are resolved in declaration order, so ``C`` sees the resolved ``alpha``.
    """
    overrides = overrides or {}
    config: dict = {name: float(base[name]) for name in BASE_NAMES}
    for spec in BACKENDS.values():
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
MSG_NOT_DERIVABLE = "C cannot be derived as 1/alpha because alpha is 0; set alpha > 0 or give C explicitly."
MSG_EXTREME = "{value:g} is unusually large for '{name}' (above {limit:g}); models may underfit."
MSG_NO_REGULARIZATION = "{label} has no regularization at all (every L1/L2 value is 0)."
MSG_C_DISAGREES = "C = {c:g} disagrees with 1/alpha = {inv:g}; C is what the library uses."
C_TOLERANCE = 1e-9


def _check(p: RegParam, label: str, value) -> tuple[str, str]:
    if value is None or not p.interval.contains(value):
        return ERROR, MSG_OUT_OF_RANGE.format(name=p.name, label=label, interval=p.interval, value=value)
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


def validate_and_report_regularization(config: dict) -> dict:
    """A structured report on a resolved config: per backend and parameter the value, where it came from
    (``base`` when it equals what a blank override derives from the base values, ``default`` for a
    declared default, else ``override``), a status with its message, and how the library applies it.
    Pure: no I/O, and the result is JSON-serializable.
    """
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
        base_rows.append(
            {
                "name": p.name,
                "value": config.get(p.name),
                "range": str(p.interval),
                "status": status,
                "message": message,
            }
        )

    backends = {}
    for spec in BACKENDS.values():
        section = config.get(spec.key) or {}
        rows = []
        for p in spec.params:
            value = section.get(p.name)
            derived = derive_value(spec.key, p.name, config, section)
            source = _source(p, value, derived)
            status, message = _check(p, spec.label, value)
            applied = p.library_arg
            if p.source and p.source.startswith("inverse:"):
                sibling = section.get(p.source.split(":", 1)[1])
                applied = "C = 1/alpha" if source == "base" else "C (explicit)"
                if value is None and sibling == 0:
                    status, message = ERROR, MSG_NOT_DERIVABLE
                elif status == OK and sibling and source == "override":
                    status, message = WARNING, MSG_C_DISAGREES.format(c=value, inv=1.0 / sibling)
            record(status, message if spec.label in message else f"{spec.label}: {message}")
            rows.append(
                {
                    "name": p.name,
                    "value": value,
                    "source": source,
                    "derived_from": p.source,
                    "range": str(p.interval),
                    "status": status,
                    "message": message,
                    "applied": applied,
                }
            )
        penalties = [section.get(p.name) for p in spec.params if p.source in ("l1_alpha", "l2_alpha", "dropout_rate")]
        message = ""
        if penalties and all(v == 0 for v in penalties):
            message = MSG_NO_REGULARIZATION.format(label=spec.label)
            warnings.append(message)
        backends[spec.key] = {
            "label": spec.label,
            "applied": spec.applied,
            "status": _worst([r["status"] for r in rows] + ([WARNING] if message else [])),
            "message": message,
            "params": rows,
        }
    return {
        "ok": not errors,
        "status": ERROR if errors else WARNING if warnings else OK,
        "errors": errors,
        "warnings": warnings,
        "base": base_rows,
        "backends": backends,
    }


def field_errors(base: dict, overrides: dict | None = None) -> dict[str, list[str]]:
    """Errors keyed by profile field name (``l1_alpha``, ``sklearn_c``, …) for base values and per-backend
    overrides (``{"sklearn": {"C": 5.0}}``, ``None`` = blank). Ranges first; when every value is in range,
    the cross-field errors of the report (``C`` not derivable from an ``alpha`` of 0) land on the field the
    user can fix. ``None`` base values are skipped (the form reports them as required)."""
    overrides = overrides or {}
    errors: dict[str, list[str]] = {}
    for p in BASE_PARAMS:
        value = base.get(p.name)
        if value is not None and not p.interval.contains(value):
            errors[p.name] = [MSG_OUT_OF_RANGE.format(name=p.name, label=BASE_LABEL, interval=p.interval, value=value)]
    for spec, p, field in iter_override_params():
        value = (overrides.get(spec.key) or {}).get(p.name)
        if value is not None and not p.interval.contains(value):
            errors[field] = [MSG_OUT_OF_RANGE.format(name=p.name, label=spec.label, interval=p.interval, value=value)]
    if errors or any(base.get(name) is None for name in BASE_NAMES):
        return errors
    report = validate_and_report_regularization(resolve_config(base, overrides))
    for spec in BACKENDS.values():
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
