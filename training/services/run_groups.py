"""Many markets in one launch: a ``RunGroup`` holds one run per market, all validated first (a group is refused
whole, with every market's reasons) and queued together on commit, so the training workers share them.

A reason every market shares (an invalid profile, an unknown preset) is listed once; the others name their
market. A broker that is down marks each run failed (as a single launch does) and raises ``RunGroupEnqueueFailed``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from training.marketdata.markets import Market
from training.models import RegularizationProfile, RunGroup, TrainingRun
from training.services.runs import training_run_create, training_run_validate

MSG_MARKET_REFUSED = "{market}: {message}"
MSG_GROUP_LAUNCHED = "Group #{pk} queued: {count} runs ({markets}) with profile '{profile}', preset {preset}."


class RunGroupEnqueueFailed(Exception):
    def __init__(self, group: RunGroup, message: str) -> None:
        super().__init__(message)
        self.group = group


def _refusals(per_market: list[tuple[Market, list[str]]]) -> list[str]:
    shared = set.intersection(*(set(m) for _, m in per_market)) if len(per_market) > 1 else set()
    errors = [m for m in dict.fromkeys(msg for _, messages in per_market for msg in messages) if m in shared]
    for market, messages in per_market:
        errors += [MSG_MARKET_REFUSED.format(market=market, message=m) for m in messages if m not in shared]
    return errors


def run_group_create(
    *,
    profile: RegularizationProfile | None,
    markets: list[Market],
    preset: str = "quick",
    user=None,
    seed: int | None = None,
    trigger: str = TrainingRun.Trigger.WEB,
    enqueue: bool = True,
    trading: dict | None = None,
) -> RunGroup:
    """Validate every market, then store the group and one queued run per market in one transaction; the runs
    are published when it commits. Raises ValidationError (nothing stored) or RunGroupEnqueueFailed."""
    if not markets:
        raise ValidationError(["No market given."])
    per_market, resolved = [], None
    for market in markets:
        try:
            resolved, *_ = training_run_validate(
                profile=profile,
                symbol=market.symbol,
                exchange=market.exchange,
                interval=market.interval,
                preset=preset,
                seed=seed,
            )
            per_market.append((market, []))
        except ValidationError as exc:
            per_market.append((market, list(exc.messages)))
    if any(messages for _, messages in per_market):
        raise ValidationError(_refusals(per_market))
    with transaction.atomic():
        group = RunGroup(
            profile=resolved,
            preset=preset,
            markets=[m.as_dict() for m in markets],
            launched_by=user if user is not None and user.is_authenticated else None,
            trigger=trigger,
        )
        group.full_clean()
        group.save()
        for market in markets:
            training_run_create(
                profile=resolved,
                symbol=market.symbol,
                exchange=market.exchange,
                interval=market.interval,
                preset=preset,
                user=user,
                seed=seed,
                enqueue=enqueue,
                trigger=trigger,
                group=group,
                trading=trading,
            )
    not_queued = TrainingRun.objects.filter(group=group, status=TrainingRun.Status.FAILED).first()
    if not_queued is not None:
        raise RunGroupEnqueueFailed(group, not_queued.error)
    return group
