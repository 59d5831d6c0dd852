"""The backend registry: every ``*_backend`` module of this package is imported on first use and registers its
backend class(es) with ``@register``. A backend class declares, next to its code, its key, its profile
``Section`` (regularization parameters), its ``Framework`` (seeding, library versions), whether Optuna tunes
it, and its per-preset parameters; profile fields, the form, the report, presets, ensembles, seeding and the
artifacts' library list read them from here. Backend modules import their heavy libraries only inside methods,
so discovery is cheap."""

from __future__ import annotations

import importlib
import pkgutil

from ..parameters import Section

MSG_UNKNOWN_BACKEND = "Unknown backend {key!r}; known backends: {known}"
MSG_DUPLICATE_KEY = "Backend key {key!r} is registered twice ({first} and {second})."
MSG_SECTION_CLASH = "Backends {first} and {second} both declare section {section!r} but not the same one."
MSG_NO_CEILING = "Parameter {section}.{name} has no upper bound: declare a ceiling."

_BACKENDS: dict[str, type] = {}
_discovered = False


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.endswith("_backend"):
            importlib.import_module(f"{__package__}.{module.name}")


def register(cls):
    """Class decorator: add a backend class (checked against the backends already registered)."""
    existing = _BACKENDS.get(cls.key)
    if existing is not None and existing is not cls:
        raise ValueError(MSG_DUPLICATE_KEY.format(key=cls.key, first=existing.__qualname__, second=cls.__qualname__))
    for other in _BACKENDS.values():
        if other.section.key == cls.section.key and other.section != cls.section:
            raise ValueError(MSG_SECTION_CLASH.format(first=other.key, second=cls.key, section=cls.section.key))
    for p in cls.section.params:
        if p.interval.high is None and p.ceiling is None:
            raise ValueError(MSG_NO_CEILING.format(section=cls.section.key, name=p.name))
    _BACKENDS[cls.key] = cls
    return cls


def unregister(key: str) -> None:
    _BACKENDS.pop(key, None)


def registered_backends() -> list[str]:
    _discover()
    return list(_BACKENDS)


def get_backend(key: str):
    _discover()
    try:
        return _BACKENDS[key]
    except KeyError:
        raise KeyError(MSG_UNKNOWN_BACKEND.format(key=key, known=", ".join(sorted(_BACKENDS)))) from None


def backend_classes() -> list:
    _discover()
    return list(_BACKENDS.values())


def sections() -> dict[str, Section]:
    """Every profile section, once, in the order the backends registered."""
    out: dict[str, Section] = {}
    for cls in backend_classes():
        out.setdefault(cls.section.key, cls.section)
    return out


def frameworks(keys=None) -> list:
    """The frameworks of the given backend keys (all registered ones by default), once each."""
    out = []
    for cls in backend_classes():
        if (keys is None or cls.key in keys) and cls.framework not in out:
            out.append(cls.framework)
    return out


def generic_evidence(key: str, evidence: dict) -> dict:
    """The generic fields (``penalty_share``, ``zero_share``, ``best_iteration``) of a model's evidence, as its
    backend maps them; {} for a key no backend registers (a result stored by a backend since removed)."""
    try:
        cls = get_backend(key)
    except KeyError:
        return {}
    return cls.generic_evidence(evidence or {})


def model_warnings(key: str, where: str, evidence: dict) -> list[str]:
    """The measured warnings the backend ``key`` declares that a model's evidence gives ([] for an unknown key)."""
    try:
        cls = get_backend(key)
    except KeyError:
        return []
    return cls.warnings_for(where, evidence or {})
