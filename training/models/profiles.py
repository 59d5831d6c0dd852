from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from training.ml.regularization import (
    BASE_LABEL,
    BASE_PARAMS,
    MSG_OUT_OF_RANGE,
    Interval,
    field_errors,
    iter_override_params,
    resolve_config,
)

DESCRIPTION_MAX_CHARS = 5000  # shown on every run form: a 9 MB one made /runs/new/ 14.8 MB for every user
MSG_ONE_DEFAULT = "Another profile is already the default; use “Make default” to switch."
MSG_NAME_TAKEN = "A profile named “{name}” already exists (names are compared ignoring case)."
MSG_NAME_TAKEN_DB = "A profile with this name already exists (names are compared ignoring case)."


def profile_named(name: str, *, exclude_pk: int | None = None) -> "RegularizationProfile | None":
    """The profile whose name equals `name` ignoring case, compared in Python with Unicode case folding: SQLite's
    LOWER() and LIKE fold ASCII only (Äpfel and äpfel were two profiles there, one on PostgreSQL), so both
    databases give the same answer."""
    folded = name.strip().casefold()
    for pk, other in RegularizationProfile.objects.exclude(pk=exclude_pk).values_list("pk", "name").iterator():
        if other.strip().casefold() == folded:
            return RegularizationProfile.objects.get(pk=pk)
    return None


def _range_message(name: str, label: str, interval: Interval) -> str:
    return MSG_OUT_OF_RANGE.split(";")[0].format(name=name, label=label, interval=interval) + "."


def _range_q(field: str, interval: Interval, *, nullable: bool) -> Q:
    q = Q()
    if interval.low is not None:
        q &= Q(**{f"{field}__gte" if interval.closed in ("both", "left") else f"{field}__gt": interval.low})
    if interval.high is not None:
        q &= Q(**{f"{field}__lte" if interval.closed in ("both", "right") else f"{field}__lt": interval.high})
    if nullable:
        q |= Q(**{f"{field}__isnull": True})
    return q


def _constraints() -> list:
    constraints = [
        models.UniqueConstraint(
            Lower("name"),
            name="profile_name_unique_ignoring_case",
            violation_error_message=MSG_NAME_TAKEN_DB,
        ),
        models.UniqueConstraint(
            fields=["is_default"],
            condition=Q(is_default=True),
            name="one_default_profile",
            violation_error_message=MSG_ONE_DEFAULT,
        ),
    ]
    for p in BASE_PARAMS:
        constraints.append(
            models.CheckConstraint(
                condition=_range_q(p.name, p.interval, nullable=False),
                name=f"profile_{p.name}_range",
                violation_error_message=_range_message(p.name, BASE_LABEL, p.interval),
            )
        )
    for spec, p, field in iter_override_params():
        constraints.append(
            models.CheckConstraint(
                condition=_range_q(field, p.interval, nullable=True),
                name=f"profile_{field}_range",
                violation_error_message=_range_message(p.name, spec.label, p.interval),
            )
        )
    return constraints


class RegularizationProfile(models.Model):
    """Named L1/L2/dropout settings. The base fields and the per-backend fields are generated from the
    declarations (``training.ml.parameters`` and each backend module's section, via the backend registry);
    a blank per-backend one derives from the base values."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(
        blank=True, max_length=DESCRIPTION_MAX_CHARS, validators=[MaxLengthValidator(DESCRIPTION_MAX_CHARS)]
    )
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Raised by one at every save of its values (profile_save); a save based on an older version is refused.
    version = models.PositiveIntegerField(default=1, editable=False)

    # Generated from the base declarations (their defaults are declared in ``training.ml.parameters`` only).
    for _param in BASE_PARAMS:
        locals()[_param.name] = models.FloatField(default=_param.default, help_text=_param.help)

    # Generated in the class body (not added afterwards) so the history model copies them too.
    for _spec, _param, _field in iter_override_params():
        locals()[_field] = models.FloatField(
            null=True, blank=True, verbose_name=f"{_spec.label} {_param.name}", help_text=_param.help
        )
    del _spec, _param, _field

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = _constraints()

    def __str__(self) -> str:
        return f"{self.name} (default)" if self.is_default else self.name

    def base_values(self) -> dict:
        return {p.name: getattr(self, p.name) for p in BASE_PARAMS}

    def overrides(self) -> dict:
        result: dict = {}
        for spec, p, field in iter_override_params():
            value = getattr(self, field)
            if value is not None:
                result.setdefault(spec.key, {})[p.name] = value
        return result

    def resolved_config(self) -> dict:
        return resolve_config(self.base_values(), self.overrides())

    def clean(self) -> None:
        errors = field_errors(self.base_values(), self.overrides())
        taken = profile_named(self.name or "", exclude_pk=self.pk)
        if taken is not None:
            errors["name"] = [MSG_NAME_TAKEN.format(name=taken.name)]
        if errors:
            raise ValidationError(errors)
