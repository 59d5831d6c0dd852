"""Promotions: make a succeeded run the active model of its market (exchange, symbol, interval), logged, behind
one guard for every path (run page, admin, API, ``manage.py promote``, schedules), and rollback.

The guard is ``training.selectors.promotion_checks``: a run whose checks all pass (or are not available) is
promoted freely; a failed check refuses the promotion (``PromotionRefused``, carrying the failed checks) unless
the caller forces it with a written reason. Schedules never force. Every promotion stores the checks it passed
or overrode.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from training.artifact_store import run_predictor
from training.ml.predict import ModelUnavailable
from training.models import ActiveModel, Promotion, TrainingRun
from training.selectors.promotion_checks import CheckOutcome, promotion_checks_evaluate

MSG_NOT_SUCCEEDED = "Run #{pk} is {status}; only a succeeded run can be promoted."
MSG_NO_ARTIFACTS = "Run #{pk} has no saved models (no artifacts directory); it cannot be promoted."
MSG_ALREADY_ACTIVE = "Run #{pk} is already the active model of {market}."
MSG_REFUSED = (
    "Run #{pk} fails {n} promotion check(s): {checks}. Promote it anyway only with an explicit override and a "
    "written reason."
)
MSG_REASON_REQUIRED = "An override of failed promotion checks needs a written reason."
MSG_NOTHING_TO_ROLL_BACK = "{market} has no active model; there is nothing to roll back."
MSG_ROLLED_BACK = "Rolled back {market}: run #{run} is the active model again (run #{replaced} was)."
MSG_ROLLED_BACK_EMPTY = (
    "Rolled back {market} past its first promotion: it has no active model now (run #{replaced} was); "
    "the predict API answers 404 until a run is promoted."
)
TRIGGER_ROLLBACK = "rollback"


class PromotionRefused(ValidationError):
    """The guard refused: ``failed`` holds the failed checks (``CheckOutcome``), ``checks`` all of them."""

    def __init__(self, message: str, *, failed: list[CheckOutcome], checks: list[CheckOutcome]) -> None:
        super().__init__(message, code="promotion_refused")
        self.failed = failed
        self.checks = checks


def market_label(exchange: str, symbol: str, interval: str) -> str:
    return f"{exchange}:{symbol} {interval}"


def _user(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _record(checks: list[CheckOutcome], *, overridden: bool) -> list[dict]:
    return [{**check.to_dict(), "overridden": overridden and check.failed} for check in checks]


@transaction.atomic
def model_promote(
    *,
    run: TrainingRun,
    user=None,
    trigger: str = TrainingRun.Trigger.WEB,
    reason: str = "",
    force: bool = False,
) -> Promotion:
    """Make ``run`` the active model of its market and record who, when, why, the checks and the run it replaced.

    Raises ``PromotionRefused`` when a check fails and ``force`` is false; with ``force`` a reason is required."""
    run = TrainingRun.objects.select_for_update().get(pk=run.pk)
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise ValidationError(MSG_NOT_SUCCEEDED.format(pk=run.pk, status=run.status))
    if not run.artifacts_path:
        raise ValidationError(MSG_NO_ARTIFACTS.format(pk=run.pk))
    market = {"exchange": run.exchange, "symbol": run.symbol, "interval": run.interval}
    current = ActiveModel.objects.select_for_update().filter(**market).first()
    if current is not None and current.run_id == run.pk:
        raise ValidationError(MSG_ALREADY_ACTIVE.format(pk=run.pk, market=market_label(**market)))
    try:  # the models load here before the promotion answers (every regime, read through the store)
        run_predictor(run).load_all()
    except ModelUnavailable as exc:
        raise ValidationError(str(exc), code="models_unavailable") from exc
    checks = promotion_checks_evaluate(run=run)
    failed = [check for check in checks if check.failed]
    if failed and not force:
        names = "; ".join(f"{check.label} ({check.detail})" for check in failed)
        raise PromotionRefused(MSG_REFUSED.format(pk=run.pk, n=len(failed), checks=names), failed=failed, checks=checks)
    if failed and not reason.strip():
        raise ValidationError(MSG_REASON_REQUIRED, code="reason_required")
    user = _user(user)
    now = timezone.now()
    promotion = Promotion.objects.create(
        **market,
        run=run,
        replaced_id=current.run_id if current else None,
        promoted_by=user,
        promoted_at=now,
        trigger=trigger,
        reason=reason.strip(),
        checks=_record(checks, overridden=bool(failed)),
        overridden=bool(failed),
    )
    ActiveModel.objects.update_or_create(**market, defaults={"run": run, "promoted_by": user, "promoted_at": now})
    return promotion


@transaction.atomic
def model_rollback(*, exchange: str, symbol: str, interval: str, user=None, reason: str = "") -> Promotion:
    """Make the run that the active one replaced active again (logged with trigger ``rollback``); repeated
    rollbacks walk back through the promotions (a rollback's own record is skipped), and rolling back past the
    first promotion clears the market's active model (the logged promotion has no run). Rollback is the way
    back to a run that was already live, so it is not held by the guard; its checks are recorded."""
    market = {"exchange": exchange.strip().upper(), "symbol": symbol.strip().upper(), "interval": interval.strip()}
    label = market_label(**market)
    current = ActiveModel.objects.select_for_update().filter(**market).first()
    if current is None:
        raise ValidationError(MSG_NOTHING_TO_ROLL_BACK.format(market=label), code="nothing_to_roll_back")
    made_active = (
        Promotion.objects.filter(**market, run_id=current.run_id)
        .exclude(trigger=TRIGGER_ROLLBACK)
        .order_by("-promoted_at", "-id")
        .first()
    )
    previous = made_active.replaced if made_active is not None else None
    user, now = _user(user), timezone.now()
    promotion = Promotion.objects.create(
        **market,
        run=previous,
        replaced_id=current.run_id,
        promoted_by=user,
        promoted_at=now,
        trigger=TRIGGER_ROLLBACK,
        reason=reason.strip(),
        checks=_record(promotion_checks_evaluate(run=previous), overridden=False) if previous else [],
    )
    if previous is None:
        current.delete()
    else:
        ActiveModel.objects.filter(pk=current.pk).update(run=previous, promoted_by=user, promoted_at=now)
    return promotion


def rollback_message(promotion: Promotion) -> str:
    label = market_label(promotion.exchange, promotion.symbol, promotion.interval)
    if promotion.run_id is None:
        return MSG_ROLLED_BACK_EMPTY.format(market=label, replaced=promotion.replaced_id)
    return MSG_ROLLED_BACK.format(market=label, run=promotion.run_id, replaced=promotion.replaced_id)
