"""Launching runs: validate, store with an immutable snapshot, publish on commit; re-run and cancel.

Redis unreachable at launch: the run is kept (never lost) but marked ``failed`` with ``MSG_BROKER_UNREACHABLE``
and ``TrainingRunEnqueueFailed`` is raised so the caller shows the reason; "run again" relaunches it.
What would only fail inside the run is refused here: a seed outside [0, 2³²−1], a dataset shorter than the
preset needs (``preset_minimum_rows``), and one whose gap-free stretches of open-market bars (its calendar's
trading bars, closures not counted as holes) hold too few labeled rows (``training.ml.stretches``).
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from importlib import metadata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ares_site.app_version import app_code_version
from training.marketdata.markets import MSG_NOT_ASCII
from training.ml import artifacts
from training.ml.features import MIN_CANDLES
from training.ml.presets import MSG_UNKNOWN_PRESET, PRESETS
from training.ml.regularization import validate_and_report_regularization
from training.ml.stretches import StretchCheck, stretch_check, stretch_need
from training.ml.trading.rule import TradingSettings
from training.models import MarketDataset, RegularizationProfile, TrainingRun
from training.selectors.market_data import DatasetNotFound, dataset_get, dataset_open_times
from training.selectors.profiles import profile_get_default
from training.services.runs.queue import training_run_publish

MSG_PROFILE_INVALID = "Profile '{name}' cannot be used: {errors}"
MSG_NO_PROFILE = "No regularization profile given and no default profile exists; create one in the admin."
MSG_TRADING_INVALID = "Trading settings are invalid: {error}"
MSG_SEED_OUT_OF_RANGE = "Seed {seed} is out of range; use a whole number from 0 to 4294967295 (2^32 - 1)."
MSG_DATASET_TOO_SHORT = (
    "Dataset {exchange}:{symbol} {interval} has {rows} candles; preset '{preset}' needs at least {minimum} "
    "({warmup} warm-up + {min_rows} rows for a regime + {horizon} label horizon)."
)
SEED_MAX = 2**32 - 1


class TrainingRunEnqueueFailed(Exception):
    def __init__(self, run: TrainingRun, message: str) -> None:
        super().__init__(message)
        self.run = run


@lru_cache(maxsize=1)
def library_versions() -> dict:
    """The engine's library versions plus the web stack's."""
    return {**artifacts.library_versions(), **{name: metadata.version(name) for name in ("django", "celery")}}


def preset_minimum_rows(preset: str) -> dict:
    """The fewest candles a run of ``preset`` can train on: the warm-up (features with a sequence window, and
    the regimes' volatility percentile), plus the rows one regime needs (the preset's ``min_rows``, at least the
    engine's floor), plus the label horizon (``training.ml.stretches``); never fewer than ``MIN_CANDLES``."""
    need = stretch_need(preset, PRESETS[preset])
    minimum = max(MIN_CANDLES, need.minimum)
    return {"minimum": minimum, "warmup": need.warmup, "min_rows": need.min_rows, "horizon": need.horizon}


@lru_cache(maxsize=256)
def _stretches(dataset_id: int, fingerprint: str, calendar: str, preset: str) -> StretchCheck:
    need = stretch_need(preset, PRESETS[preset])
    return stretch_check(dataset_open_times(dataset_id, last=need.max_rows), need, calendar=calendar)


def dataset_stretch_check(*, dataset: MarketDataset, preset: str) -> StretchCheck:
    """The gap-free stretches of open-market bars a run of ``preset`` on ``dataset`` would train on (cached
    per dataset content, calendar and preset)."""
    return _stretches(dataset.pk, dataset.fingerprint, dataset.calendar, preset)


def _dataset_section(dataset: MarketDataset) -> dict:
    def iso(value):
        return value.isoformat() if value else None

    return {
        "dataset_id": dataset.pk,
        "exchange": dataset.exchange,
        "symbol": dataset.symbol,
        "interval": dataset.interval,
        "calendar": dataset.calendar,
        "rows": dataset.row_count,
        "first_open_time": iso(dataset.first_open_time),
        "last_open_time": iso(dataset.last_open_time),
        "fingerprint": dataset.fingerprint,
    }


def _seed_error(seed) -> str | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        return MSG_SEED_OUT_OF_RANGE.format(seed=seed)
    return None


def training_run_validate(
    *,
    profile: RegularizationProfile | None,
    symbol: str,
    exchange: str,
    interval: str,
    preset: str,
    seed: int | None = None,
    config: dict | None = None,
) -> tuple[RegularizationProfile, MarketDataset, dict, dict]:
    """Every launch check; raises ValidationError with all messages. Returns (profile, dataset, config, report).
    ``config`` (a resolved config, e.g. a sweep point's) replaces the profile's for this run only."""
    errors: list[str] = []
    if profile is None:
        profile = profile_get_default()
    report = {}
    if profile is None:
        errors.append(MSG_NO_PROFILE)
        config = {}
    else:
        config = profile.resolved_config() if config is None else config
        report = validate_and_report_regularization(config)
        if report["errors"]:
            errors.append(MSG_PROFILE_INVALID.format(name=profile.name, errors=" ".join(report["errors"])))
    if preset not in PRESETS:
        errors.append(MSG_UNKNOWN_PRESET.format(name=preset, known=", ".join(PRESETS)))
    if seed_error := _seed_error(seed):
        errors.append(seed_error)
    dataset = None
    try:
        dataset = dataset_get(symbol, exchange, interval)
    except DatasetNotFound as exc:
        errors.append(str(exc))
    if dataset is not None and preset in PRESETS:
        need = preset_minimum_rows(preset)
        if dataset.row_count < need["minimum"]:
            errors.append(
                MSG_DATASET_TOO_SHORT.format(
                    exchange=exchange, symbol=symbol, interval=interval, rows=dataset.row_count, preset=preset, **need
                )
            )
        elif not (check := dataset_stretch_check(dataset=dataset, preset=preset)).ok:
            errors.append(check.message(f"{exchange}:{symbol} {interval} ({dataset.calendar} calendar)"))
    if errors:
        raise ValidationError(errors)
    return profile, dataset, config, report


def training_run_create(
    *,
    profile: RegularizationProfile | None,
    symbol: str,
    exchange: str = "BINANCE",
    interval: str = "1h",
    preset: str = "quick",
    user=None,
    seed: int | None = None,
    rerun_of: TrainingRun | None = None,
    rerun_from: str | None = None,
    enqueue: bool = True,
    trigger: str = TrainingRun.Trigger.WEB,
    config: dict | None = None,
    sweep=None,
    sweep_values: dict | None = None,
    trading: dict | None = None,
    group=None,
    preset_overrides: dict | None = None,
) -> TrainingRun:
    """Validate, store the run as ``queued`` with its immutable snapshot and publish it once committed.

    Raises ValidationError when the launch is refused, TrainingRunEnqueueFailed when the broker is down (the
    run is then stored as ``failed`` with the reason). ``enqueue=False`` leaves it queued for an in-process
    ``training_run_execute`` (``train_symbol --inline``). ``config`` overrides the profile's resolved config for
    this run only (a sweep point: ``sweep`` and its ``sweep_values`` are recorded on the run and its snapshot).
    ``trading`` (cost_bps, allow_short, hold, theta_grid; defaults of ``TradingSettings``) goes in the snapshot.
    ``group`` (a ``RunGroup``, see ``run_groups``) is recorded on the run and its snapshot.
    ``preset_overrides`` (a sweep's holds: ``{"models": {key: params}}``) go in the snapshot and update the preset's
    settings the run trains with (``training.ml.manager.merge_preset``).
    """
    for label, given in (("Symbol", symbol.strip()), ("Exchange", exchange.strip())):
        if not given.isascii():  # upper-casing would change the letters (straße → STRASSE): never silently
            raise ValidationError([MSG_NOT_ASCII.format(label=label, given=given, upper=given.upper())])
    symbol, exchange = symbol.strip().upper(), exchange.strip().upper()
    profile, dataset, config, report = training_run_validate(
        profile=profile, symbol=symbol, exchange=exchange, interval=interval, preset=preset, seed=seed, config=config
    )
    seed = int(getattr(settings, "TRAINING_SEED", 42) if seed is None else seed)
    try:
        trading_settings = TradingSettings.from_dict(trading).to_dict()
    except (TypeError, ValueError) as exc:
        raise ValidationError([MSG_TRADING_INVALID.format(error=exc)]) from exc
    snapshot = {
        "config": config,
        "profile": {"id": profile.pk, "name": profile.name, "updated_at": profile.updated_at.isoformat()},
        "preset": {"name": preset, "params": PRESETS[preset]},
        "data": _dataset_section(dataset),
        "seed": seed,
        "library_versions": library_versions(),
        "app": app_code_version(),
        "trading": trading_settings,
        "regime_tasks": bool(getattr(settings, "TRAINING_REGIME_TASKS", True)),
    }
    if rerun_of is not None:
        snapshot["rerun"] = {"of": rerun_of.pk, "from": rerun_from}
    if sweep is not None:
        snapshot["sweep"] = {"id": sweep.pk, "values": dict(sweep_values or {})}
    if preset_overrides:
        snapshot["preset_overrides"] = preset_overrides
    if group is not None:
        snapshot["group"] = {"id": group.pk, "markets": len(group.markets)}
    task_id = str(uuid.uuid4())
    enqueue_error: list[str] = []
    with transaction.atomic():
        run = TrainingRun(
            symbol=symbol,
            exchange=exchange,
            interval=interval,
            profile=profile,
            dataset=dataset,
            preset=preset,
            seed=seed,
            launched_by=user if user is not None and user.is_authenticated else None,
            rerun_of=rerun_of,
            sweep=sweep,
            group=group,
            trigger=trigger,
            snapshot=snapshot,
            report=report,
            celery_task_id=task_id,
            stage="queued",
            queued_at=timezone.now(),
        )
        run.full_clean()
        run.save()

        def enqueue_on_commit() -> None:
            message = training_run_publish(run_id=run.pk, task_id=task_id)
            if message:
                enqueue_error.append(message)
                TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.QUEUED).update(
                    status=TrainingRun.Status.FAILED, error=message, stage="not queued", finished_at=timezone.now()
                )

        if enqueue:
            transaction.on_commit(enqueue_on_commit)
    if enqueue_error:
        run.refresh_from_db()
        raise TrainingRunEnqueueFailed(run, enqueue_error[0])
    return run


RERUN_FROM_SNAPSHOT = "snapshot"
RERUN_FROM_PROFILE = "profile"
RERUN_SOURCES = {
    RERUN_FROM_SNAPSHOT: "with this run's settings",
    RERUN_FROM_PROFILE: "with the profile now",
}
MSG_RERUN_SOURCE = "Run again from 'snapshot' (this run's settings) or 'profile' (the profile now), not {value!r}."
MSG_RERUN_NO_SNAPSHOT = "Run #{pk} has no stored settings to run again with; run it again with the profile now."


def training_run_rerun(
    *, run: TrainingRun, user=None, trigger: str = TrainingRun.Trigger.WEB, source: str = RERUN_FROM_PROFILE
) -> TrainingRun:
    """A new run of the same market, profile, preset, seed and trading rule. ``source`` "snapshot": with the
    regularization this run trained with (its snapshot's config), whatever the profile says now; "profile": with
    the profile's current values. The new run's snapshot records which (``rerun``)."""
    if source not in RERUN_SOURCES:
        raise ValidationError(MSG_RERUN_SOURCE.format(value=source))
    snapshot = run.snapshot or {}
    config = None
    if source == RERUN_FROM_SNAPSHOT:
        config = snapshot.get("config")
        if not isinstance(config, dict) or not config:
            raise ValidationError(MSG_RERUN_NO_SNAPSHOT.format(pk=run.pk))
    return training_run_create(
        profile=run.profile,
        symbol=run.symbol,
        exchange=run.exchange,
        interval=run.interval,
        preset=run.preset,
        user=user,
        seed=run.seed,
        rerun_of=run,
        rerun_from=source,
        trigger=trigger,
        config=config,
        trading=snapshot.get("trading"),
    )
