"""Sweeps: create (grid points or the first optuna trials, each an ordinary run), reconcile (record finished
runs' objectives, tell optuna, ask the next trials, pick the best), cancel, and save the best point as a profile.

``sweep_reconcile`` is idempotent and safe to call from several processes: a point is recorded (and its trial
told) by whoever flips ``recorded`` first; an optuna trial is asked by whoever advances ``asked`` first. It runs
when a sweep's run task ends (a Celery signal in ``training.tasks``), before a page or API POST acts on a sweep,
from the ``sweep`` command, and in every pass of the runs reconciler (``sweeps_reconcile_pending``), which covers
runs failed by the stale-heartbeat sweep ("worker lost") or cancelled before they started. A read writes nothing.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import update_change_reason

from training.models import RegularizationProfile, Sweep, SweepPoint, TrainingRun
from training.selectors.sweep_evidence import sweep_best_group
from training.selectors.sweeps import run_objective, sweep_points, sweep_status
from training.services import sweep_optuna
from training.services.profiles import EDITABLE_FIELDS, profile_create
from training.services.runs import training_run_cancel, training_run_create, training_run_validate
from training.services.sweep_axes import format_values, grid_points, parse_axes, point_config, profile_field
from training.services.sweep_holds import holds_preset_overrides, parse_holds, split_holds
from training.services.sweep_reach import axes_reach, trained_models

logger = logging.getLogger(__name__)

MAX_TRIALS = 200
MSG_TRIALS_REQUIRED = "An optuna sweep needs a number of trials from 1 to {most}."
MAX_SEEDS = 10
MSG_SEEDS = "Seeds: a whole number from 1 to {most}; got {value!r}."
MSG_SEEDS_GRID_ONLY = "Several seeds per point are for grid sweeps; an optuna sweep takes one seed per trial."
MSG_OBJECTIVE_MODEL = "Objective model {model!r} is not trained by preset {preset}; it trains {models}."
OBJECTIVE_ENSEMBLE = "ensemble"
MSG_POINT_INVALID = "Point {values}: {errors}"
MSG_NOT_CANCELLABLE = "Sweep #{pk} is {status}; only a queued or running sweep can be cancelled."
MSG_NO_BEST = "Sweep #{pk} has no finished point with an objective yet; nothing to save."
MSG_BEST_DESCRIPTION = (
    "Best point of sweep #{pk}{name} ({values}) over profile “{profile}”, preset {preset}: objective {objective:.5f} "
    "({objective_text}{seeds}), run #{run}."
)
MSG_BEST_HISTORY = "Saved as the best point of sweep #{pk}"
MSG_RERUN_NOT_FAILED = "Point {index} of sweep #{pk} is {status}; only a failed or cancelled point can be re-run."
MSG_RERUN_OPTUNA = "Point {index} of sweep #{pk} is an optuna trial already told as failed; the study asks new ones."
MSG_RERUN_CANCELLED_SWEEP = "Sweep #{pk} was cancelled; its points are not re-run."


def _point_create(
    *, sweep: Sweep, index: int, values: dict, trial_number: int | None, user, repeat: int = 0
) -> SweepPoint:
    profile = sweep.profile
    config = point_config(profile.base_values(), profile.overrides(), values)
    with transaction.atomic():
        try:
            run = training_run_create(
                profile=profile,
                symbol=sweep.symbol,
                exchange=sweep.exchange,
                interval=sweep.interval,
                preset=sweep.preset,
                user=user,
                seed=sweep.seed + repeat,
                config=config,
                sweep=sweep,
                sweep_values=values,
                trigger=TrainingRun.Trigger.SWEEP,
                preset_overrides=holds_preset_overrides(sweep.holds),
            )
        except ValidationError as exc:
            raise ValidationError(
                MSG_POINT_INVALID.format(values=format_values(values), errors=" ".join(exc.messages))
            ) from exc
        return SweepPoint.objects.create(
            sweep=sweep, run=run, index=index, values=values, trial_number=trial_number, repeat=repeat
        )


def sweep_create(
    *,
    profile: RegularizationProfile | None,
    symbol: str,
    axes: list,
    exchange: str = "BINANCE",
    interval: str = "1h",
    preset: str = "quick",
    mode: str = Sweep.Mode.GRID,
    n_trials: int | None = None,
    parallel: int = 2,
    name: str = "",
    seed: int | None = None,
    seeds: int = 1,
    objective_model: str | None = None,
    user=None,
) -> Sweep:
    """Validate everything, store the sweep and its first points (every grid point; ``parallel`` optuna
    trials), each an ordinary queued run (``seeds`` runs per grid point, seeds ``seed`` … ``seed + seeds − 1``).
    The objective is ``objective_model``'s own validation log loss (a model key), the ensemble's
    (``"ensemble"``), or by default the swept model's when every axis reaches one and the same model.
    An axis line naming a holdable setting (``lightgbm.early_stopping=off``, ``training.services.sweep_holds``)
    is held at every point instead of swept. Raises ValidationError with every message."""
    symbol, exchange = symbol.strip().upper(), exchange.strip().upper()
    errors: list[str] = []
    axes, hold_texts = split_holds(axes)
    holds: list[dict] = []
    try:
        axes = parse_axes(axes)
    except ValidationError as exc:
        errors += exc.messages
    try:
        holds = parse_holds(hold_texts, preset=preset)
    except ValidationError as exc:
        errors += exc.messages
    except KeyError:  # an unknown preset: training_run_validate below says so
        pass
    try:
        profile, *_ = training_run_validate(
            profile=profile, symbol=symbol, exchange=exchange, interval=interval, preset=preset
        )
    except ValidationError as exc:
        errors += exc.messages
    if not errors:
        try:
            reach = axes_reach(axes=axes, profile=profile, preset=preset)
        except ValidationError as exc:
            errors += exc.messages
        else:
            axes = [
                {**axis, "reaches": r["reaches"], "misses": r["misses"], "shadows": r["shadows"]}
                for axis, r in zip(axes, reach)
            ]
            objective_model, message = _objective_model(objective_model, reach=reach, preset=preset)
            errors += [message] if message else []
    try:
        seeds = int(seeds)
    except (TypeError, ValueError):
        seeds = 0
    if not 1 <= seeds <= MAX_SEEDS:
        errors.append(MSG_SEEDS.format(most=MAX_SEEDS, value=seeds))
    elif seeds > 1 and mode == Sweep.Mode.OPTUNA:
        errors.append(MSG_SEEDS_GRID_ONLY)
    if mode not in Sweep.Mode.values:
        errors.append(f"Unknown mode {mode!r}; known: {', '.join(Sweep.Mode.values)}.")
    if mode == Sweep.Mode.OPTUNA and not (n_trials and 1 <= int(n_trials) <= MAX_TRIALS):
        errors.append(MSG_TRIALS_REQUIRED.format(most=MAX_TRIALS))
    points = []
    if not errors and mode == Sweep.Mode.GRID:
        try:
            points = grid_points(axes)
        except ValidationError as exc:
            errors += exc.messages
    if errors:
        raise ValidationError(errors)
    sweep = Sweep(
        name=name,
        symbol=symbol,
        exchange=exchange,
        interval=interval,
        profile=profile,
        preset=preset,
        seed=int(getattr(settings, "TRAINING_SEED", 42) if seed is None else seed),
        axes=axes,
        holds=holds,
        mode=mode,
        n_trials=int(n_trials) if mode == Sweep.Mode.OPTUNA else None,
        parallel=max(1, int(parallel)),
        seeds=seeds,
        objective=Sweep.Objective.BACKEND_VAL_LOG_LOSS if objective_model else Sweep.Objective.ENSEMBLE_VAL_LOG_LOSS,
        objective_model=objective_model or "",
        launched_by=user if user is not None and user.is_authenticated else None,
    )
    sweep.full_clean()
    if mode == Sweep.Mode.GRID:
        with transaction.atomic():
            sweep.asked = len(points) * seeds
            sweep.save()
            for number, values in enumerate(points):
                for repeat in range(seeds):
                    index = number * seeds + repeat
                    _point_create(sweep=sweep, index=index, values=values, trial_number=None, user=user, repeat=repeat)
        return sweep
    sweep.save()
    sweep.optuna_study_name = f"ares-sweep-{sweep.pk}-{uuid.uuid4().hex[:8]}"
    sweep.save(update_fields=["optuna_study_name"])
    sweep_optuna.study_create(name=sweep.optuna_study_name, seed=sweep.seed)
    _optuna_fill(sweep=sweep, user=user)
    return sweep


def _objective_model(requested: str | None, *, reach: list[dict], preset: str) -> tuple[str, str]:
    """(model key or "" for the ensemble, error message or "")."""
    if requested == OBJECTIVE_ENSEMBLE:
        return "", ""
    if requested:
        trained = trained_models(preset)
        if requested not in trained:
            return "", MSG_OBJECTIVE_MODEL.format(model=requested, preset=preset, models=", ".join(trained))
        return requested, ""
    reached = {key for r in reach for key in r["reaches"]}
    return (reached.pop(), "") if len(reached) == 1 else ("", "")


def _optuna_fill(*, sweep: Sweep, user=None) -> int:
    """Ask trials until ``parallel`` runs are active or ``n_trials`` were asked. Returns how many were asked."""
    created = 0
    while True:
        sweep.refresh_from_db()
        active = sweep.points.filter(run__status__in=TrainingRun.ACTIVE).count()
        if sweep.pending_points == 0 or active >= sweep.parallel:
            return created
        index = sweep.asked
        if not Sweep.objects.filter(pk=sweep.pk, asked=index, cancel_requested=False).update(asked=F("asked") + 1):
            continue  # another process asked one, or the sweep was cancelled: look again
        number, values = sweep_optuna.trial_ask(name=sweep.optuna_study_name, seed=sweep.seed, axes=sweep.axes)
        try:
            point = _point_create(sweep=sweep, index=index, values=values, trial_number=number, user=user)
        except ValidationError:
            sweep_optuna.trial_tell(name=sweep.optuna_study_name, seed=sweep.seed, trial_number=number, value=None)
            raise
        created += 1
        if TrainingRun.objects.filter(pk=point.run_id, status=TrainingRun.Status.FAILED).exists():
            return created  # not queued (the broker said no; the run says why): ask no more trials into that


def _record(point: SweepPoint) -> bool:
    """Tell optuna a finished point's objective, then store it and its summary once. False when another process
    stored it. Told before it is marked recorded, so a recorded point's trial is never still running in the study
    (a reconciler that marked it first and told a moment later left that window); a second tell is refused by
    optuna and logged (``trial_tell``)."""
    run = point.run
    objective, summary = (None, {})
    if run.status == TrainingRun.Status.SUCCEEDED:
        objective, summary = run_objective(run.result or {}, model=point.sweep.objective_model)
    sweep = point.sweep
    if sweep.mode == Sweep.Mode.OPTUNA and point.trial_number is not None:
        sweep_optuna.trial_tell(
            name=sweep.optuna_study_name, seed=sweep.seed, trial_number=point.trial_number, value=objective
        )
    return bool(
        SweepPoint.objects.filter(pk=point.pk, recorded=False).update(
            recorded=True, objective=objective, summary=summary
        )
    )


def sweep_reconcile(*, sweep: Sweep, user=None) -> Sweep:
    for point in sweep.points.select_related("run", "sweep").filter(recorded=False):
        if point.run.is_terminal:
            _record(point)
    best = sweep_best_group(sweep=sweep, points=sweep_points(sweep=sweep))
    best = best["point"] if best else None
    Sweep.objects.filter(pk=sweep.pk).exclude(best_point=best).update(best_point=best)  # a page view writes nothing
    if sweep.mode == Sweep.Mode.OPTUNA and not sweep.cancel_requested:
        _optuna_fill(sweep=sweep, user=user)
    sweep.refresh_from_db()
    status = sweep_status(sweep=sweep, points=sweep_points(sweep=sweep))
    if status["active"] == 0 and status["pending"] == 0 and sweep.finished_at is None:
        Sweep.objects.filter(pk=sweep.pk, finished_at__isnull=True).update(finished_at=timezone.now())
        sweep.refresh_from_db()
    return sweep


def sweeps_reconcile_pending() -> list[int]:
    """Reconcile every sweep holding an unrecorded point whose run has ended; returns their ids."""
    pending = (
        Sweep.objects.filter(points__recorded=False, points__run__status__in=TrainingRun.TERMINAL)
        .distinct()
        .order_by("pk")
    )
    done = []
    for sweep in pending:
        sweep_reconcile(sweep=sweep)
        done.append(sweep.pk)
    return done


def sweep_run_finished(*, run_id: int) -> Sweep | None:
    """The run-finish path: reconcile the run's sweep, if it has one."""
    point = SweepPoint.objects.select_related("sweep").filter(run_id=run_id).first()
    if point is None:
        return None
    return sweep_reconcile(sweep=point.sweep)


def sweep_cancel(*, sweep: Sweep, user=None) -> Sweep:
    """Stop asking trials and cancel every queued or running point."""
    status = sweep_status(sweep=sweep)
    if status["active"] == 0 and status["pending"] == 0:
        raise ValidationError(MSG_NOT_CANCELLABLE.format(pk=sweep.pk, status=status["status"]))
    Sweep.objects.filter(pk=sweep.pk).update(cancel_requested=True)
    sweep.refresh_from_db()
    for point in sweep.points.select_related("run").filter(run__status__in=TrainingRun.ACTIVE):
        try:
            training_run_cancel(run=point.run, user=user)
        except ValidationError:  # it ended meanwhile
            pass
    return sweep_reconcile(sweep=sweep, user=user)


@transaction.atomic
def sweep_save_best_profile(*, sweep: Sweep, name: str, user=None) -> RegularizationProfile:
    """A new profile: the base profile's values with the best point's applied; the sweep named in its
    description and history."""
    best = sweep.best_point
    if best is None or best.objective is None:
        raise ValidationError(MSG_NO_BEST.format(pk=sweep.pk))
    base = sweep.profile
    group = sweep_best_group(sweep=sweep, points=sweep_points(sweep=sweep))
    values = {field: getattr(base, field) for field in EDITABLE_FIELDS if field not in ("name", "description")}
    for param, value in best.values.items():
        values[profile_field(param)] = value
    description = MSG_BEST_DESCRIPTION.format(
        pk=sweep.pk,
        name=f" “{sweep.name}”" if sweep.name else "",
        values=format_values(best.values),
        profile=base.name,
        preset=sweep.preset,
        objective=group["objective"] if group else best.objective,
        objective_text=sweep.objective_text,
        seeds=f"; mean of {sweep.seeds} seeds" if sweep.seeds > 1 else "",
        run=best.run_id,
    )
    profile = profile_create(name=name.strip(), description=description, values=values, user=user)
    update_change_reason(profile, MSG_BEST_HISTORY.format(pk=sweep.pk)[:100])
    return profile


def sweep_point_rerun(*, point: SweepPoint, user=None) -> SweepPoint:
    """Train a failed or cancelled grid point again: a new run with the failed run's own config and seed (the
    profile may have changed since), linked to the point in its place; the point is recorded again when it ends."""
    sweep, old = point.sweep, point.run
    if old.status not in (TrainingRun.Status.FAILED, TrainingRun.Status.CANCELLED):
        raise ValidationError(MSG_RERUN_NOT_FAILED.format(index=point.index, pk=sweep.pk, status=old.status))
    if sweep.mode == Sweep.Mode.OPTUNA:
        raise ValidationError(MSG_RERUN_OPTUNA.format(index=point.index, pk=sweep.pk))
    if sweep.cancel_requested:
        raise ValidationError(MSG_RERUN_CANCELLED_SWEEP.format(pk=sweep.pk))
    with transaction.atomic():
        run = training_run_create(
            profile=sweep.profile,
            symbol=sweep.symbol,
            exchange=sweep.exchange,
            interval=sweep.interval,
            preset=sweep.preset,
            user=user,
            seed=old.seed,
            config=(old.snapshot or {}).get("config"),
            sweep=sweep,
            sweep_values=point.values,
            rerun_of=old,
            trigger=TrainingRun.Trigger.SWEEP,
            trading=(old.snapshot or {}).get("trading"),
            preset_overrides=(old.snapshot or {}).get("preset_overrides"),
        )
        SweepPoint.objects.filter(pk=point.pk).update(run=run, recorded=False, objective=None, summary={})
        Sweep.objects.filter(pk=sweep.pk).update(finished_at=None)
    point.refresh_from_db()
    return point
