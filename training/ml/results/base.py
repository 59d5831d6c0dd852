"""The base of the typed run result: ``Record`` (``to_dict``/``from_dict``/``validate``), ``ResultInvalid`` and the
constants every record uses."""

from __future__ import annotations

import functools
import math
import types
import typing
from dataclasses import MISSING, fields

from ..errors import TrainingError

TRAINED, SKIPPED = "trained", "skipped"
SPLIT_NAMES = ("train", "validation", "test")
GAP_TOLERANCE = 1e-9
MSG_RESULT_INVALID = "The run result is invalid: {problems}"
MSG_UNKNOWN_KEYS = "{where}: unknown keys {keys}"
MSG_MISSING_KEYS = "{where}: missing keys {keys}"
MSG_GAP_MISMATCH = "{where}.train_val_gap does not match its per-fold values (or, without them, its metrics)"
MSG_VERDICT_MISMATCH = "{where}.vs_baseline.verdict {verdict!r} does not follow from its interval"


class ResultInvalid(TrainingError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(MSG_RESULT_INVALID.format(problems="; ".join(problems)))


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _dump(value):
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_dump(v) for v in value]
    return value


@functools.cache
def _plan(tp) -> tuple[str, object, bool]:
    """How a value of the annotation ``tp`` loads, worked out once per annotation: ``(kind, argument, optional)``
    with kind ``record`` (argument: the class), ``dict`` / ``list`` (argument: the item annotation) or ``plain``."""
    optional = False
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        tp, optional = next(arg for arg in typing.get_args(tp) if arg is not type(None)), True
    origin = typing.get_origin(tp)
    if isinstance(tp, type) and issubclass(tp, Record):
        return "record", tp, optional
    if origin is dict:
        return "dict", typing.get_args(tp)[1], optional
    if origin is list:
        return "list", typing.get_args(tp)[0], optional
    return "plain", None, optional


def _load(tp, value, where: str):
    if value is None:
        return None
    kind, arg, optional = _plan(tp)
    if kind == "plain":
        return value
    if kind == "record":
        if optional and value == {}:
            return None  # results stored before the typed result kept {} for a skipped regime's baselines
        return arg.from_dict(value, where=where)
    if kind == "dict":
        return {k: _load(arg, v, f"{where}.{k}") for k, v in value.items()}
    return [_load(arg, v, f"{where}[{i}]") for i, v in enumerate(value)]


@functools.cache
def record_schema(cls: type) -> tuple[dict, frozenset[str], frozenset[str]]:
    """A record class's resolved field types, field names and required names, computed once per class.

    ``typing.get_type_hints`` evaluates every string annotation (``from __future__ import annotations``) on each
    call; loading one run page's result did that ~200 times (~33,000 ``compile`` calls), a third of the page."""
    hints = typing.get_type_hints(cls)
    names = frozenset(f.name for f in fields(cls))
    required = frozenset(f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING)
    return hints, names, required


class Record:
    """A dataclass of the result: to_dict / from_dict over its fields, and validate() collecting problems."""

    def to_dict(self) -> dict:
        """The stored dict; an optional key a stored (older) dict did not have and that is still None is left out
        again, so reading a stored result and writing it back loses and adds nothing."""
        absent = getattr(self, "_absent", ())
        return {
            f.name: _dump(value)
            for f in fields(self)
            if not ((value := getattr(self, f.name)) is None and f.name in absent)
        }

    @classmethod
    def from_dict(cls, data: dict, *, where: str | None = None):
        where = where or cls.__name__
        hints, names, required = record_schema(cls)
        unknown = set(data) - names
        if unknown:
            raise ResultInvalid([MSG_UNKNOWN_KEYS.format(where=where, keys=sorted(unknown))])
        missing = required - set(data)
        if missing:
            raise ResultInvalid([MSG_MISSING_KEYS.format(where=where, keys=sorted(missing))])
        record = cls(**{k: _load(hints[k], v, f"{where}.{k}") for k, v in data.items()})
        if len(data) < len(names):
            record._absent = names - set(data)
        return record

    def problems(self, where: str) -> list[str]:
        """This record's own problems; ``validate`` adds those of every nested record."""
        return []

    def all_problems(self, where: str | None = None) -> list[str]:
        where = where or type(self).__name__
        found = list(self.problems(where))
        for f in fields(self):
            found += _nested_problems(getattr(self, f.name), f"{where}.{f.name}")
        return found

    def validate(self):
        found = self.all_problems()
        if found:
            raise ResultInvalid(found)
        return self


def _nested_problems(value, where: str) -> list[str]:
    if isinstance(value, Record):
        return value.all_problems(where)
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nested_problems(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nested_problems(v, f"{where}[{i}]")]
    return []
