"""Profile versions: who changed a profile last, and the message a save over a newer version gets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

from django.core.exceptions import ValidationError

from training.ml.regularization import BASE_NAMES, iter_override_params
from training.models import RegularizationProfile

MSG_STALE = (
    "Profile “{name}” was changed by {user} at {time} since you opened it (version {seen} → {current}); nothing "
    "was saved. Its values now: {values}. Reload it and apply your change again."
)
MSG_STALE_NO_USER = "someone (no user recorded)"
STALE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"
VALUE_FIELDS = ("name", *BASE_NAMES, *(field for _, _, field in iter_override_params()))


class StaleProfile(ValidationError):
    """A save based on a version of the profile that is no longer the current one."""

    def __init__(self, message: str, *, current: RegularizationProfile):
        super().__init__(message, code="stale")
        self.current = current


def profile_stale_message(*, current: RegularizationProfile, seen: int, submitted: Mapping | None = None) -> str:
    """Who changed `current` last and when, and its values (those that differ from `submitted`, when given)."""
    last = current.history.order_by("-history_date", "-history_id").first()
    user = getattr(last, "history_user", None) if last else None
    when = (last.history_date if last else current.updated_at).astimezone(UTC).strftime(STALE_TIME_FORMAT)
    fields = list(VALUE_FIELDS)
    if submitted is not None:
        fields = [f for f in fields if f in submitted and submitted[f] != getattr(current, f)] or fields
    values = ", ".join(f"{f}={getattr(current, f)!r}" for f in fields)
    return MSG_STALE.format(
        name=current.name,
        user=user.get_username() if user is not None else MSG_STALE_NO_USER,
        time=when,
        seen=seen,
        current=current.version,
        values=values,
    )
