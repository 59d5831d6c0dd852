"""Promotions: make a succeeded run the active model of its market (exchange, symbol, interval), logged."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from training.models import ActiveModel, Promotion, TrainingRun

MSG_NOT_SUCCEEDED = "Run #{pk} is {status}; only a succeeded run can be promoted."
MSG_NO_ARTIFACTS = "Run #{pk} has no saved models (no artifacts directory); it cannot be promoted."
MSG_ALREADY_ACTIVE = "Run #{pk} is already the active model of {market}."


def market_label(exchange: str, symbol: str, interval: str) -> str:
    return f"{exchange}:{symbol} {interval}"


@transaction.atomic
def model_promote(
    *, run: TrainingRun, user=None, trigger: str = TrainingRun.Trigger.WEB, reason: str = ""
) -> Promotion:
    """Make ``run`` the active model of its market and record who, when, why and which run it replaced."""
    run = TrainingRun.objects.select_for_update().get(pk=run.pk)
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise ValidationError(MSG_NOT_SUCCEEDED.format(pk=run.pk, status=run.status))
    if not run.artifacts_path:
        raise ValidationError(MSG_NO_ARTIFACTS.format(pk=run.pk))
    market = {"exchange": run.exchange, "symbol": run.symbol, "interval": run.interval}
    current = ActiveModel.objects.select_for_update().filter(**market).first()
    if current is not None and current.run_id == run.pk:
        raise ValidationError(MSG_ALREADY_ACTIVE.format(pk=run.pk, market=market_label(**market)))
    user = user if user is not None and getattr(user, "is_authenticated", False) else None
    now = timezone.now()
    promotion = Promotion.objects.create(
        **market,
        run=run,
        replaced_id=current.run_id if current else None,
        promoted_by=user,
        promoted_at=now,
        trigger=trigger,
        reason=reason,
    )
    ActiveModel.objects.update_or_create(**market, defaults={"run": run, "promoted_by": user, "promoted_at": now})
    return promotion
