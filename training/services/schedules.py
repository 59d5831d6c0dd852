"""Scheduled retraining: a RetrainSchedule owns one django-celery-beat PeriodicTask (database scheduler) that
fires ``schedule_execute``: fetch new candles (optional; offline → the run goes ahead on stored candles and
its log says so), train (trigger ``schedule``), then apply the promotion policy.

Promotion policy ``not_worse``: the new run becomes active when there is no active model yet, or when, on the
bars that lie in both runs' test windows (same open time, same label), its ensemble is not worse than the
active one's — see ``training.ml.predict.compare_on_overlap`` for the exact rule (bootstrap verdict when
available, else mean log loss new ≤ active).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from training.marketdata.markets import MSG_NOT_ASCII, Market, parse_markets
from training.ml.presets import MSG_UNKNOWN_PRESET, PRESETS
from training.models import RegularizationProfile, RetrainSchedule, TrainingRun
from training.services.crontabs import crontab_check
from training.services.registry import PromotionRefused, model_promote

logger = logging.getLogger(__name__)

SCHEDULE_TASK = "training.schedule_execute"
FETCH_LOOKBACK_DAYS = 30
MSG_FETCHED = "fetch: {lines}"
MSG_OFFLINE = "fetch: new candles could not be fetched ({error}); training on the stored candles."
MSG_POLICY_NEVER = "promotion policy 'never': run #{run} was not promoted."
MSG_POLICY_PROMOTED = "promotion policy '{policy}': run #{run} promoted ({why})."
MSG_POLICY_KEPT = "promotion policy '{policy}': run #{run} not promoted ({why})."
MSG_POLICY_GUARD = "promotion policy '{policy}': run #{run} not promoted (promotion checks failed: {failed})."
MSG_POLICY_FAILED = "promotion policy '{policy}': run #{run} ended {status}; nothing promoted."
EDITABLE_FIELDS = (
    "exchange",
    "symbol",
    "interval",
    "more_markets",
    "profile",
    "preset",
    "crontab",
    "fetch",
    "fetch_only",
    "promote",
    "enabled",
)
MSG_FETCH_ONLY = "fetch only: {note}{prediction}"


def _crontab(expression: str) -> CrontabSchedule:
    minute, hour, day_of_month, month_of_year, day_of_week = expression.split()
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
        timezone="UTC",
    )
    return crontab


def _sync_periodic_task(schedule: RetrainSchedule) -> None:
    values = {
        "crontab": _crontab(schedule.crontab),
        "task": SCHEDULE_TASK,
        "args": json.dumps([schedule.pk]),
        "enabled": schedule.enabled,
    }
    if schedule.periodic_task is None:
        schedule.periodic_task = PeriodicTask.objects.create(name=f"retrain schedule #{schedule.pk}", **values)
        RetrainSchedule.objects.filter(pk=schedule.pk).update(periodic_task=schedule.periodic_task)
    else:
        for key, value in values.items():
            setattr(schedule.periodic_task, key, value)
        schedule.periodic_task.save()


def _check(schedule: RetrainSchedule) -> None:
    errors = {}
    for field in ("symbol", "exchange"):  # upper-casing letters outside A-Z changes them (straße → STRASSE)
        given = getattr(schedule, field).strip()
        if not given.isascii():
            errors[field] = [MSG_NOT_ASCII.format(label=field.capitalize(), given=given, upper=given.upper())]
    schedule.symbol, schedule.exchange = schedule.symbol.strip().upper(), schedule.exchange.strip().upper()
    schedule.crontab = " ".join(schedule.crontab.split())
    exclude = ["periodic_task", "last_run", "created_by"]
    try:  # field-by-field messages instead of the validator's raw parser error
        crontab_check(schedule.crontab)
    except ValidationError as exc:
        errors["crontab"] = exc.messages
        exclude.append("crontab")
    if schedule.preset not in PRESETS:
        errors["preset"] = [MSG_UNKNOWN_PRESET.format(name=schedule.preset, known=", ".join(PRESETS))]
    try:
        schedule.more_markets = [str(m) for m in _more_markets(schedule)]
    except ValueError as exc:
        errors["more_markets"] = [str(exc)]
    try:
        schedule.full_clean(exclude=exclude)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _more_markets(schedule: RetrainSchedule) -> list[Market]:
    items = schedule.more_markets or []
    if isinstance(items, str):
        items = items.splitlines()
    if not items:
        return []
    first = Market(schedule.exchange, schedule.symbol, schedule.interval)
    return parse_markets([str(first), *items], exchange=schedule.exchange, interval=schedule.interval)[1:]


@transaction.atomic
def schedule_create(
    *,
    symbol: str,
    crontab: str,
    exchange: str = "BINANCE",
    interval: str = "1h",
    preset: str = "quick",
    profile: RegularizationProfile | None = None,
    fetch: bool = False,
    fetch_only: bool = False,
    promote: str = RetrainSchedule.Promote.NEVER,
    enabled: bool = True,
    user=None,
    more_markets: list[str] | None = None,
) -> RetrainSchedule:
    schedule = RetrainSchedule(
        more_markets=list(more_markets or []),
        symbol=symbol,
        crontab=crontab,
        exchange=exchange,
        interval=interval,
        preset=preset,
        profile=profile,
        fetch=fetch,
        fetch_only=fetch_only,
        promote=promote,
        enabled=enabled,
        created_by=user if user is not None and getattr(user, "is_authenticated", False) else None,
    )
    _check(schedule)
    schedule.save()
    _sync_periodic_task(schedule)
    return schedule


@transaction.atomic
def schedule_update(*, schedule: RetrainSchedule, data: dict) -> RetrainSchedule:
    for field, value in data.items():
        if field not in EDITABLE_FIELDS:
            raise ValidationError({field: [f"Unknown field; editable: {', '.join(EDITABLE_FIELDS)}."]})
        setattr(schedule, field, value)
    _check(schedule)
    schedule.save()
    _sync_periodic_task(schedule)
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: RetrainSchedule) -> None:
    task = schedule.periodic_task
    schedule.delete()
    if task is not None:
        task.delete()


def _append_log(run_id: int, message: str) -> None:
    line = f"{timezone.now():%H:%M:%S} {message}\n"
    TrainingRun.objects.filter(pk=run_id).update(log=Concat(F("log"), Value(line)))


def _fetch(schedule: RetrainSchedule, market: Market | None = None) -> str:
    """Fetch the candles missing since the last stored one (at most FETCH_LOOKBACK_DAYS back); one log line."""
    from training.models import MarketDataset
    from training.services.market_data import dataset_fetch_klines

    market = market or Market(schedule.exchange, schedule.symbol, schedule.interval)
    dataset = MarketDataset.objects.filter(
        exchange=market.exchange, symbol=market.symbol, interval=market.interval
    ).first()
    now = datetime.now(UTC)
    start = now - timedelta(days=FETCH_LOOKBACK_DAYS)
    if dataset is not None and dataset.last_open_time and not dataset.is_sample:
        start = max(start, dataset.last_open_time)
    try:
        report = dataset_fetch_klines(
            symbol=market.symbol,
            exchange=market.exchange,
            interval=market.interval,
            start=start,
            max_attempts=2,
            max_wait_seconds=5.0,
        )
    except Exception as exc:  # offline, refused, bad answer: every one means "train on what is stored"
        return MSG_OFFLINE.format(error=f"{type(exc).__name__}: {exc}")
    return MSG_FETCHED.format(lines=" / ".join(report.lines()[:2]))


def schedule_apply_policy(*, schedule: RetrainSchedule, run: TrainingRun):
    """Promote ``run`` (or not) per the schedule's policy; the decision is appended to the run's log."""
    from training.selectors.registry import ActiveModelNotFound, active_model_get, runs_compare_test_window

    policy = schedule.promote
    if policy == RetrainSchedule.Promote.NEVER:
        _append_log(run.pk, MSG_POLICY_NEVER.format(run=run.pk))
        return None
    if run.status != TrainingRun.Status.SUCCEEDED:
        _append_log(run.pk, MSG_POLICY_FAILED.format(policy=policy, run=run.pk, status=run.status))
        return None
    why = "policy 'always'"
    if policy == RetrainSchedule.Promote.NOT_WORSE:
        try:
            active = active_model_get(exchange=run.exchange, symbol=run.symbol, interval=run.interval)
        except ActiveModelNotFound:
            why = "no active model yet"
        else:
            comparison = runs_compare_test_window(new=run, active=active.run)
            why = (
                f"{comparison['method']} over {comparison['bars']} bars: new {comparison['new_log_loss']}, "
                f"active run #{active.run_id} {comparison['active_log_loss']}"
            )
            if not comparison["not_worse"]:
                _append_log(run.pk, MSG_POLICY_KEPT.format(policy=policy, run=run.pk, why=why))
                return None
    try:
        promotion = model_promote(
            run=run,
            user=schedule.created_by,
            trigger=TrainingRun.Trigger.SCHEDULE,
            reason=f"schedule #{schedule.pk}: {why}",
        )
    except PromotionRefused as refused:  # schedules never override the guard
        failed = "; ".join(f"{check.key}: {check.detail}" for check in refused.failed)
        _append_log(run.pk, MSG_POLICY_GUARD.format(policy=policy, run=run.pk, failed=failed))
        return None
    _append_log(run.pk, MSG_POLICY_PROMOTED.format(policy=policy, run=run.pk, why=why))
    return promotion


def schedule_fetch_only(*, schedule: RetrainSchedule) -> None:
    """A fetch-only firing: fetch the missing candles (importing them matures the logged predictions), then log
    the active model's prediction for the newest bar (source ``schedule``) so live metrics keep maturing for a
    market no bot asks. No run; the outcome is the schedule's ``last_error`` (empty when all went well)."""
    from training.selectors.registry import ActiveModelNotFound, active_model_get
    from training.services.predictions import SOURCE_SCHEDULE, prediction_serve

    note = _fetch(schedule)
    offline = note.startswith(MSG_OFFLINE.split("(")[0])
    prediction = ""
    try:
        active = active_model_get(exchange=schedule.exchange, symbol=schedule.symbol, interval=schedule.interval)
        served = prediction_serve(run=active.run, source=SOURCE_SCHEDULE)
        prediction = f"; prediction of run #{served['run_id']} for {served['open_time']} logged"
    except ActiveModelNotFound:
        prediction = "; no active model to predict with"
    except Exception as exc:  # no candles, no files, too few bars: said in last_error, the firing is over
        prediction = f"; no prediction ({type(exc).__name__}: {exc})"
        offline = True
    error = MSG_FETCH_ONLY.format(note=note, prediction=prediction) if offline else ""
    RetrainSchedule.objects.filter(pk=schedule.pk).update(last_fired_at=timezone.now(), last_error=error)
    logger.info("retrain schedule %s (fetch only): %s%s", schedule.pk, note, prediction)
    return None


def schedule_execute(*, schedule_id: int, task_id: str = "", worker: str = "") -> TrainingRun | None:
    """What beat fires: fetch (optional), launch a run (trigger ``schedule``), train it here, apply the policy."""
    from training.services.runs import training_run_create, training_run_execute

    schedule = RetrainSchedule.objects.select_related("profile", "created_by").filter(pk=schedule_id).first()
    if schedule is None or not schedule.enabled:
        logger.info("retrain schedule %s is gone or disabled; nothing to do", schedule_id)
        return None
    if schedule.fetch_only:
        return schedule_fetch_only(schedule=schedule)
    if schedule.more_markets:
        return schedule_execute_group(schedule=schedule, task_id=task_id, worker=worker)
    note = _fetch(schedule) if schedule.fetch else ""
    try:
        run = training_run_create(
            profile=schedule.profile,
            symbol=schedule.symbol,
            exchange=schedule.exchange,
            interval=schedule.interval,
            preset=schedule.preset,
            user=schedule.created_by,
            enqueue=False,
            trigger=TrainingRun.Trigger.SCHEDULE,
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
        RetrainSchedule.objects.filter(pk=schedule.pk).update(last_error=error, last_fired_at=timezone.now())
        logger.warning("retrain schedule %s launched no run: %s", schedule.pk, error)
        return None
    RetrainSchedule.objects.filter(pk=schedule.pk).update(last_run=run, last_fired_at=timezone.now(), last_error="")
    _append_log(run.pk, f"retrain schedule #{schedule.pk} ('{schedule.crontab}', promote: {schedule.promote})")
    if note:
        _append_log(run.pk, note)
    training_run_execute(run_id=run.pk, task_id=task_id, worker=worker)
    run.refresh_from_db()
    schedule_apply_policy(schedule=schedule, run=run)
    return run


def schedule_execute_group(*, schedule: RetrainSchedule, task_id: str = "", worker: str = "") -> TrainingRun | None:
    """A schedule with more markets: fetch each (optional), launch one run group over all of them (refused whole,
    as any group), train its runs here in turn and apply the promotion policy to each market's run."""
    from training.services.run_groups import run_group_create
    from training.services.runs import training_run_execute

    markets = [Market(schedule.exchange, schedule.symbol, schedule.interval), *_more_markets(schedule)]
    notes = {market: _fetch(schedule, market) for market in markets} if schedule.fetch else {}
    try:
        group = run_group_create(
            profile=schedule.profile,
            markets=markets,
            preset=schedule.preset,
            user=schedule.created_by,
            enqueue=False,
            trigger=TrainingRun.Trigger.SCHEDULE,
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
        RetrainSchedule.objects.filter(pk=schedule.pk).update(last_error=error, last_fired_at=timezone.now())
        logger.warning("retrain schedule %s launched no group: %s", schedule.pk, error)
        return None
    runs = list(group.runs.order_by("id"))
    RetrainSchedule.objects.filter(pk=schedule.pk).update(last_run=runs[0], last_fired_at=timezone.now(), last_error="")
    for market, run in zip(markets, runs, strict=True):
        _append_log(
            run.pk,
            f"retrain schedule #{schedule.pk} ('{schedule.crontab}', promote: {schedule.promote}), group #{group.pk}",
        )
        if notes.get(market):
            _append_log(run.pk, notes[market])
        training_run_execute(run_id=run.pk, task_id=f"{task_id}-{run.pk}" if task_id else "", worker=worker)
        run.refresh_from_db()
        schedule_apply_policy(schedule=schedule, run=run)
    return runs[0]
