"""Write operations on regularization profiles: create, update, duplicate, make default, export/import,
delete. Every write validates with ``full_clean()`` (ranges and cross-field checks from the declarations)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from training import located_json
from training.ml.default_profile import DEFAULT_DESCRIPTION, default_override_fields
from training.ml.regularization import BACKENDS, BASE_NAMES, BASE_PARAMS, iter_override_params, override_field_name
from training.models.profiles import RegularizationProfile, profile_named
from training.services.profile_versions import StaleProfile, profile_stale_message

EXPORT_FORMAT = "ares.regularization_profiles"
EXPORT_VERSION = 1
DEFAULT_PROFILE_NAME = "default"
DEFAULT_PROFILE_DESCRIPTION = DEFAULT_DESCRIPTION

MSG_PROFILE_IN_USE = (
    "Profile “{name}” cannot be deleted: {count} training run(s) used it. Runs keep a snapshot of its values, "
    "but the profile stays for their record; create a new profile instead."
)
MSG_DELETE_DEFAULT = "Profile “{name}” is the default and cannot be deleted; make another profile the default first."
MSG_UNKNOWN_FIELD = "Unknown profile field {field!r}; known: {known}."
MSG_IMPORT_JSON = "line {line}: not valid JSON: {error}"
MSG_IMPORT_TOP = 'line {line}: the file must be a JSON object with a "profiles" list (as written by export).'
MSG_IMPORT_FORMAT = 'line {line}: "format" must be {expected!r}; got {got!r}.'
MSG_IMPORT_VERSION = 'line {line}: "version" {got!r} is not supported; expected {expected}.'
MSG_IMPORT_UNKNOWN_KEY = "line {line}: {where}unknown key {key!r}; known: {known}."
MSG_IMPORT_NOT_OBJECT = "line {line}: {where}{what} must be a JSON object."
MSG_IMPORT_NOT_NUMBER = "line {line}: {where}{key!r} must be a number{blank}; got {value!r}."
MSG_IMPORT_NOT_TEXT = "line {line}: {where}{key!r} must be a string; got {value!r}."
MSG_IMPORT_NOT_BOOL = 'line {line}: {where}"is_default" must be true or false; got {value!r}.'
MSG_IMPORT_NAME_REQUIRED = 'line {line}: {where}"name" is required.'
MSG_IMPORT_DUPLICATE_NAME = (
    "line {line}: {where}name {name!r} appears more than once in the file (first on line {first})."
)
MSG_IMPORT_TWO_DEFAULTS = "line {line}: {where}only one profile can be the default (another is on line {first})."
MSG_IMPORT_FIELD = "line {line}: {where}{message}"
MSG_IMPORT_EMPTY = 'line {line}: "profiles" is empty; nothing to import.'
MSG_IMPORT_TOO_DEEP = (
    "line 1: the JSON nests too deeply to be a profile export (an export nests 4 levels); nothing imported."
)
MSG_IMPORT_EXISTS = (
    "line {line}: {where}a profile named {existing!r} already exists (names are compared ignoring case); "
    "nothing imported. Import with --replace (admin: “Replace existing profiles”) to overwrite it."
)

PROFILE_KEYS = ("name", "description", "is_default", "base", "overrides")
TOP_KEYS = ("format", "version", "profiles")
EDITABLE_FIELDS = ("name", "description", *BASE_NAMES, *(field for _, _, field in iter_override_params()))


def _history_user(profile: RegularizationProfile, user) -> None:
    if user is not None and getattr(user, "is_authenticated", False):
        profile._history_user = user


@transaction.atomic
def profile_save(
    *, profile: RegularizationProfile, user=None, expected_version: int | None = None
) -> RegularizationProfile:
    """Validate and save a profile whose fields were already set. Every save raises an existing profile's version;
    a save based on an older `expected_version` raises `StaleProfile` and changes nothing (one conditional
    UPDATE takes the version, so two concurrent saves of one version cannot both pass)."""
    profile.full_clean()
    if profile.pk is not None:
        rows = RegularizationProfile.objects.filter(pk=profile.pk)
        if expected_version is not None:
            rows = rows.filter(version=expected_version)
        if not rows.update(version=F("version") + 1):
            current = RegularizationProfile.objects.get(pk=profile.pk)
            submitted = {f: getattr(profile, f) for f in EDITABLE_FIELDS}
            message = profile_stale_message(current=current, seen=expected_version, submitted=submitted)
            raise StaleProfile(message, current=current)
        profile.version = RegularizationProfile.objects.values_list("version", flat=True).get(pk=profile.pk)
    _history_user(profile, user)
    profile.save()
    return profile


def _set_fields(profile: RegularizationProfile, data: Mapping) -> None:
    for field, value in data.items():
        if field not in EDITABLE_FIELDS:
            raise ValidationError(MSG_UNKNOWN_FIELD.format(field=field, known=", ".join(EDITABLE_FIELDS)))
        setattr(profile, field, value)


@transaction.atomic
def profile_create(
    *, name: str, description: str = "", values: Mapping | None = None, is_default: bool = False, user=None
) -> RegularizationProfile:
    """``values`` uses field names: base (``l1_alpha``) and overrides (``sklearn_c``); omitted ones keep defaults."""
    profile = RegularizationProfile(name=name, description=description)
    _set_fields(profile, values or {})
    if is_default:
        _clear_defaults(keep=None, user=user)
        profile.is_default = True
    return profile_save(profile=profile, user=user)


@transaction.atomic
def profile_update(*, profile: RegularizationProfile, data: Mapping, user=None, expected_version=None):
    _set_fields(profile, data)
    return profile_save(profile=profile, user=user, expected_version=expected_version)


def _copy_name(name: str) -> str:
    candidate, n = f"{name} (copy)", 2
    while profile_named(candidate) is not None:
        candidate, n = f"{name} (copy {n})", n + 1
    return candidate


@transaction.atomic
def profile_duplicate(*, profile: RegularizationProfile, name: str | None = None, user=None) -> RegularizationProfile:
    """A copy with every value, never the default; named "<name> (copy)" unless ``name`` is given."""
    return profile_create(
        name=name or _copy_name(profile.name),
        description=profile.description,
        values={field: getattr(profile, field) for field in EDITABLE_FIELDS if field not in ("name", "description")},
        user=user,
    )


def _clear_defaults(*, keep: int | None, user) -> None:
    for other in RegularizationProfile.objects.select_for_update().filter(is_default=True).exclude(pk=keep):
        other.is_default = False
        _history_user(other, user)
        other.save(update_fields=["is_default", "updated_at"])


@transaction.atomic
def profile_make_default(*, profile: RegularizationProfile, user=None) -> RegularizationProfile:
    """Make ``profile`` the only default. Locks the rows so two concurrent calls cannot leave two defaults."""
    _clear_defaults(keep=profile.pk, user=user)
    profile = RegularizationProfile.objects.select_for_update().get(pk=profile.pk)
    if not profile.is_default:
        profile.is_default = True
        _history_user(profile, user)
        profile.save(update_fields=["is_default", "updated_at"])
    return profile


@transaction.atomic
def profile_ensure_default() -> tuple[RegularizationProfile, bool]:
    """Idempotent: returns ``(default profile, created)``. Creates "default" from
    ``settings.CONFIG['MODEL_TRAINING']['regularization']`` plus the measured per-backend overrides of
    ``training.ml.default_profile`` only when no profile is the default; an existing profile named "default" is
    made the default instead of being duplicated."""
    existing = RegularizationProfile.objects.select_for_update().filter(is_default=True).first()
    if existing:
        return existing, False
    named = RegularizationProfile.objects.filter(name=DEFAULT_PROFILE_NAME).first()
    if named:
        return profile_make_default(profile=named), False
    source = settings.CONFIG["MODEL_TRAINING"]["regularization"]
    profile = profile_create(
        name=DEFAULT_PROFILE_NAME,
        description=DEFAULT_PROFILE_DESCRIPTION,
        values={**{name: float(source[name]) for name in BASE_NAMES}, **default_override_fields()},
        is_default=True,
    )
    return profile, True


def profile_delete_check(*, profile: RegularizationProfile) -> None:
    """Raises ``ValidationError`` when the profile must stay: runs used it (``TrainingRun.profile`` is
    PROTECT), or it is the default."""
    count = profile.runs.count()
    if count:
        raise ValidationError(MSG_PROFILE_IN_USE.format(name=profile.name, count=count), code="in_use")
    if profile.is_default:
        raise ValidationError(MSG_DELETE_DEFAULT.format(name=profile.name), code="default")


@transaction.atomic
def profile_delete(*, profile: RegularizationProfile, user=None) -> None:
    profile_delete_check(profile=profile)
    _history_user(profile, user)
    profile.delete()


# --- Export / import ------------------------------------------------------------------------------
def _profile_to_dict(profile: RegularizationProfile) -> dict:
    return {
        "name": profile.name,
        "description": profile.description,
        "is_default": profile.is_default,
        "base": {p.name: getattr(profile, p.name) for p in BASE_PARAMS},
        "overrides": {
            spec.key: {p.name: getattr(profile, override_field_name(spec.key, p.name)) for p in spec.params}
            for spec in BACKENDS.values()
        },
    }


def profile_export(*, profiles: Iterable[RegularizationProfile]) -> dict:
    """A JSON-serializable document; blank overrides are written as ``null`` so every key is visible."""
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "profiles": [_profile_to_dict(p) for p in profiles],
    }


def profile_export_json(*, profiles: Iterable[RegularizationProfile]) -> str:
    return json.dumps(profile_export(profiles=profiles), indent=2) + "\n"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _ImportChecker:
    def __init__(self) -> None:
        self.errors: list[tuple[int, str]] = []

    def error(self, template: str, **kw) -> None:
        self.errors.append((kw["line"], template.format(**kw)))

    def messages(self) -> list[str]:
        return [message for _, message in sorted(self.errors, key=lambda e: e[0])]

    def keys(self, obj, allowed, where: str) -> None:
        for key in obj:
            if key not in allowed:
                self.error(
                    MSG_IMPORT_UNKNOWN_KEY, line=obj.line_of(key), where=where, key=key, known=", ".join(allowed)
                )

    def number(self, obj, key: str, where: str, *, nullable: bool):
        value = obj[key]
        if (value is None and nullable) or _is_number(value):
            return None if value is None else float(value)
        self.error(
            MSG_IMPORT_NOT_NUMBER,
            line=obj.line_of(key),
            where=where,
            key=key,
            value=value,
            blank=" or null" if nullable else "",
        )
        return None

    def section(self, obj, key: str, where: str):
        value = obj[key]
        if isinstance(value, located_json.LocatedDict):
            return value
        self.error(MSG_IMPORT_NOT_OBJECT, line=obj.line_of(key), where=where, what=repr(key))
        return None


def _field_lines(item) -> dict[str, int]:
    """Profile field name → line of the key that set it (or of the enclosing object)."""
    lines = {"name": item.line_of("name"), "description": item.line_of("description")}
    base = item.get("base") if isinstance(item.get("base"), located_json.LocatedDict) else None
    for name in BASE_NAMES:
        lines[name] = base.line_of(name) if base is not None else item.line_of("base")
    overrides = item.get("overrides") if isinstance(item.get("overrides"), located_json.LocatedDict) else None
    for spec, p, field in iter_override_params():
        section = overrides.get(spec.key) if overrides is not None else None
        if isinstance(section, located_json.LocatedDict):
            lines[field] = section.line_of(p.name)
        else:
            lines[field] = overrides.line_of(spec.key) if overrides is not None else item.line_of("overrides")
    return lines


def _parse_profile(check: _ImportChecker, item, index: int, list_line: int) -> tuple[dict, bool]:
    """Flat field values of one profile entry, and whether it is free of structural errors."""
    where = f"profiles[{index}]: "
    if not isinstance(item, located_json.LocatedDict):
        check.error(MSG_IMPORT_NOT_OBJECT, line=list_line, where=where, what="each profile")
        return {}, False
    before = len(check.errors)
    name = item.get("name")
    if isinstance(name, str) and name:
        where = f"profiles[{index}] {name!r}: "
    check.keys(item, PROFILE_KEYS, where)
    values: dict = {}
    if not item.get("name"):
        check.error(MSG_IMPORT_NAME_REQUIRED, line=item.line_of("name"), where=where)
    for key in ("name", "description"):
        if key in item:
            if isinstance(item[key], str):
                values[key] = item[key]
            else:
                check.error(MSG_IMPORT_NOT_TEXT, line=item.line_of(key), where=where, key=key, value=item[key])
    if "is_default" in item and not isinstance(item["is_default"], bool):
        check.error(MSG_IMPORT_NOT_BOOL, line=item.line_of("is_default"), where=where, value=item["is_default"])
    if "base" in item and (base := check.section(item, "base", where)) is not None:
        check.keys(base, BASE_NAMES, f"{where}base: ")
        for name in BASE_NAMES:
            if name in base:
                values[name] = check.number(base, name, f"{where}base: ", nullable=False)
    if "overrides" in item and (overrides := check.section(item, "overrides", where)) is not None:
        check.keys(overrides, tuple(BACKENDS), f"{where}overrides: ")
        for spec in BACKENDS.values():
            if spec.key not in overrides:
                continue
            section = check.section(overrides, spec.key, f"{where}overrides: ")
            if section is None:
                continue
            sub = f"{where}overrides.{spec.key}: "
            check.keys(section, tuple(p.name for p in spec.params), sub)
            for p in spec.params:
                if p.name in section:
                    values[override_field_name(spec.key, p.name)] = check.number(section, p.name, sub, nullable=True)
    return values, len(check.errors) == before


def _parse_document(data: str):
    try:
        document = located_json.loads(data.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise ValidationError([MSG_IMPORT_JSON.format(line=exc.lineno, error=exc.msg)]) from None
    except RecursionError:
        raise ValidationError([MSG_IMPORT_TOO_DEEP]) from None
    check = _ImportChecker()
    if not isinstance(document, located_json.LocatedDict) or not isinstance(document.get("profiles"), list):
        line = document.line_of("profiles") if isinstance(document, located_json.LocatedDict) else 1
        raise ValidationError([MSG_IMPORT_TOP.format(line=line)])
    check.keys(document, TOP_KEYS, "")
    if "format" in document and document["format"] != EXPORT_FORMAT:
        check.error(MSG_IMPORT_FORMAT, line=document.line_of("format"), expected=EXPORT_FORMAT, got=document["format"])
    if "version" in document and document["version"] != EXPORT_VERSION:
        check.error(
            MSG_IMPORT_VERSION, line=document.line_of("version"), expected=EXPORT_VERSION, got=document["version"]
        )
    if not document["profiles"]:
        check.error(MSG_IMPORT_EMPTY, line=document.line_of("profiles"))
    return document, check


def profile_import(*, data: str, replace: bool = False, user=None) -> list[RegularizationProfile]:
    """Create every profile in an exported JSON document (a leading UTF-8 BOM is accepted). A profile whose name
    exists already (ignoring case) is refused unless ``replace``, which overwrites it with the file's values.

    Everything is validated first — structure, unknown keys, types, then each profile's ``full_clean()`` —
    and errors name the line they come from. Only a fully valid file is saved, in one transaction, so a
    bad file leaves the database untouched. Raises ``ValidationError`` with the list of messages.
    """
    document, check = _parse_document(data)
    pending: list[tuple[RegularizationProfile, bool]] = []
    first_name_line: dict[str, int] = {}
    default_line: int | None = None
    for index, item in enumerate(document["profiles"]):
        values, ok = _parse_profile(check, item, index, document.line_of("profiles"))
        name = values.get("name")
        if not name:
            continue
        where = f"profiles[{index}] {name!r}: "
        if name.lower() in first_name_line:
            check.error(
                MSG_IMPORT_DUPLICATE_NAME,
                line=item.line_of("name"),
                where=where,
                name=name,
                first=first_name_line[name.lower()],
            )
            continue
        first_name_line[name.lower()] = item.line_of("name")
        if not ok:
            continue
        is_default = item.get("is_default") is True
        if is_default:
            if default_line is not None:
                check.error(MSG_IMPORT_TWO_DEFAULTS, line=item.line_of("is_default"), where=where, first=default_line)
            default_line = item.line_of("is_default")
        existing = profile_named(name)
        if existing is not None and not replace:
            check.error(MSG_IMPORT_EXISTS, line=item.line_of("name"), where=where, existing=existing.name)
            continue
        profile = existing or RegularizationProfile()
        _set_fields(profile, values)
        try:
            profile.full_clean(validate_constraints=False)
        except ValidationError as exc:
            lines = _field_lines(item)
            for field, messages in exc.message_dict.items():
                for message in messages:
                    check.error(MSG_IMPORT_FIELD, line=lines.get(field, item.line), where=where, message=message)
            continue
        pending.append((profile, is_default))
    if check.errors:
        raise ValidationError(check.messages())
    with transaction.atomic():
        saved = [profile_save(profile=profile, user=user) for profile, _ in pending]
        for profile, is_default in pending:
            if is_default:
                profile_make_default(profile=profile, user=user)
    return [RegularizationProfile.objects.get(pk=p.pk) for p in saved]
