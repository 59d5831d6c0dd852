"""A run's notes and tags: what people say about a run after it ran (its snapshot stays as it was)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from training.models import RunTag, TrainingRun

TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,39}$")
MAX_TAGS = 20
MAX_NOTES_CHARS = 20_000
MSG_BAD_TAG = (
    "Tag {tag!r} is not allowed: use up to 40 lowercase letters, digits and _ . : - (starting with a letter or digit)."
)
MSG_TOO_MANY_TAGS = "A run carries at most {limit} tags; {count} were given."
MSG_NOTES_TOO_LONG = "Notes are limited to {limit} characters; these have {count}."


def run_tags_parse(text: str | list[str]) -> list[str]:
    """Tags from "a, b c" (commas or spaces) or a list: lowercased, de-duplicated in order, each checked."""
    items = text if isinstance(text, list) else re.split(r"[,\s]+", text or "")
    tags, errors = [], []
    for item in items:
        tag = str(item).strip().lower()
        if not tag or tag in tags:
            continue
        if not TAG_PATTERN.match(tag):
            errors.append(MSG_BAD_TAG.format(tag=tag))
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        errors.append(MSG_TOO_MANY_TAGS.format(limit=MAX_TAGS, count=len(tags)))
    if errors:
        raise ValidationError(errors)
    return tags


def training_run_annotate(
    *, run: TrainingRun, notes: str | None = None, tags: str | list[str] | None = None
) -> TrainingRun:
    """Replace the run's notes and/or tags (None leaves that part as it is); nothing is saved if any is refused
    (ValidationError keyed by "notes" / "tags")."""
    errors: dict[str, list[str]] = {}
    if notes is not None and len(notes) > MAX_NOTES_CHARS:
        errors["notes"] = [MSG_NOTES_TOO_LONG.format(limit=MAX_NOTES_CHARS, count=len(notes))]
    names = None
    if tags is not None:
        try:
            names = run_tags_parse(tags)
        except ValidationError as exc:
            errors["tags"] = exc.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if notes is not None:
            run.notes = notes
            TrainingRun.objects.filter(pk=run.pk).update(notes=notes)  # never rewrites the immutable snapshot
        if names is not None:
            existing = {tag.name: tag for tag in RunTag.objects.filter(name__in=names)}
            RunTag.objects.bulk_create([RunTag(name=n) for n in names if n not in existing], ignore_conflicts=True)
            run.tags.set(RunTag.objects.filter(name__in=names))
    return run


def run_tags_text(run: TrainingRun) -> str:
    return ", ".join(tag.name for tag in run.tags.all())
