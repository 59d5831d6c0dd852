"""Crontab expressions as Celery beat reads them: field-by-field messages a person can act on, a description in
words and the next fire times (UTC). Celery's crontab requires every field to match (a day-of-month and a
day-of-week both set means days that are both, not either as in classic cron); the preview follows Celery."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from celery.schedules import crontab_parser
from django.core.exceptions import ValidationError

# name, lowest, highest, example
FIELDS = (
    ("minute", 0, 59, "'0', '*/15' or '0,30'"),
    ("hour", 0, 23, "'3', '*/6' or '9-17'"),
    ("day of month", 1, 31, "'1', '*' or '1,15'"),
    ("month", 1, 12, "'*', '1' or '1-6'"),
    ("day of week", 0, 6, "'*', '1-5' (Monday to Friday; 0 is Sunday) or 'sat,sun'"),
)
MSG_FIELD_COUNT = (
    "A crontab has 5 fields separated by spaces — minute hour day-of-month month day-of-week (UTC), e.g. "
    "'0 3 * * *' for 03:00 every day; '{expression}' has {count}."
)
MSG_FIELD_BAD = "The {name} field '{value}' is not valid: use {low}–{high}, e.g. {example} ({reason})."
MSG_NEVER_FIRES = "'{expression}' never fires (no day matches both its day of month and its month)."
PREVIEW_COUNT = 5
PREVIEW_MAX_DAYS = 4 * 366 + 1


def crontab_fields(expression: str) -> list[set[int]]:
    """The five fields parsed to sets of values; ValidationError with one message per bad field."""
    parts = expression.split()
    if len(parts) != len(FIELDS):
        raise ValidationError(MSG_FIELD_COUNT.format(expression=" ".join(parts), count=len(parts)))
    sets, errors = [], []
    for value, (name, low, high, example) in zip(parts, FIELDS, strict=True):
        try:
            parsed = crontab_parser(high + 1 if low == 0 else high, low).parse(value)
        except ValueError as exc:
            errors.append(MSG_FIELD_BAD.format(name=name, value=value, low=low, high=high, example=example, reason=exc))
            continue
        bad = sorted(v for v in parsed if not low <= v <= high)
        if bad:
            reason = f"{bad[0]} is out of range"
            errors.append(
                MSG_FIELD_BAD.format(name=name, value=value, low=low, high=high, example=example, reason=reason)
            )
            continue
        sets.append(set(parsed))
    if errors:
        raise ValidationError(errors)
    return sets


def crontab_check(expression: str) -> str:
    """The expression normalised (single spaces); ValidationError with readable messages when it is not valid or
    never fires."""
    expression = " ".join(expression.split())
    if not crontab_next_fires(expression, count=1):
        raise ValidationError(MSG_NEVER_FIRES.format(expression=expression))
    return expression


def crontab_next_fires(expression: str, *, count: int = PREVIEW_COUNT, after: datetime | None = None) -> list[datetime]:
    """The next ``count`` fire times (UTC) strictly after ``after`` (default: now)."""
    minutes, hours, days, months, weekdays = crontab_fields(expression)
    after = (after or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
    times = sorted(time(h, m) for h in hours for m in minutes)
    fires: list[datetime] = []
    day = after.date()
    for _ in range(PREVIEW_MAX_DAYS):
        if day.month in months and day.day in days and (day.weekday() + 1) % 7 in weekdays:
            for at in times:
                moment = datetime.combine(day, at, tzinfo=UTC)
                if moment > after:
                    fires.append(moment)
                    if len(fires) == count:
                        return fires
        day = day + timedelta(days=1)
    return fires


def crontab_describe(expression: str) -> str:
    """The expression in words ("At 03:00, Monday through Friday"), or "" when it cannot be described."""
    from cron_descriptor import ExpressionDescriptor, Options

    options = Options()
    options.use_24hour_time_format = True
    try:
        return ExpressionDescriptor(" ".join(expression.split()), options).get_description() + " (UTC)"
    except Exception:  # the library's own parse errors; the field messages above are what the user sees
        return ""


def crontab_preview(expression: str, *, after: datetime | None = None) -> dict:
    """{"ok", "description", "next" (ISO times), "errors"} for the schedule form's live preview."""
    try:
        crontab_check(expression)
        fires = crontab_next_fires(expression, after=after)
    except ValidationError as exc:
        return {"ok": False, "description": "", "next": [], "errors": exc.messages}
    return {
        "ok": True,
        "description": crontab_describe(expression),
        "next": [f.strftime("%Y-%m-%d %H:%M UTC (%a)") for f in fires],
        "errors": [],
    }
