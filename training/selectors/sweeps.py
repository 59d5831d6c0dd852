"""Read side of sweeps: a point's objective and per-model summary from its run's result, the sweep's status
derived from its runs, the data behind the curves, and the API payload."""

from __future__ import annotations

from statistics import fmean

from django.db.models import Prefetch, QuerySet

from training.models import Sweep, SweepPoint, TrainingRun

ENSEMBLE = "ensemble"
BASIS_ENSEMBLE = "ensemble"
BASIS_BASE_MODELS = "base models (no ensemble validation score)"
MSG_POINTS_FAILED = "{failed} of {total} point(s) failed: {details}"
MSG_POINTS_DONE = "{done} of {total} point(s) finished"
MSG_POINT_RETRIED = "run #{run} was interrupted (worker lost or shut down) and retried: attempt {attempt}"

# Status values of a sweep (derived, never stored).
QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"


def sweep_list() -> QuerySet[Sweep]:
    return Sweep.objects.select_related("profile", "launched_by", "best_point")


def sweep_list_with_points() -> QuerySet[Sweep]:
    """``sweep_list()`` with every sweep's points and their runs' status fields in two more queries (for the list
    page's status column: ``sweep_status(sweep=s, points=list(s.points.all()))``); the runs' results, snapshots
    and logs stay in the database."""
    points = SweepPoint.objects.select_related("run").defer("run__result", "run__snapshot", "run__log")
    return sweep_list().prefetch_related(Prefetch("points", queryset=points.order_by("index")))


def sweep_get(*, sweep_id: int) -> Sweep:
    return sweep_list().get(pk=sweep_id)


def sweep_points(*, sweep: Sweep) -> list[SweepPoint]:
    return list(sweep.points.select_related("run").order_by("index"))


# --- objective --------------------------------------------------------------------------------------------
def _entry(section, key: str = "") -> dict | None:
    """Validation and train log loss, their gap and band of a model or ensemble record."""
    metrics = section.metrics if section is not None else None
    if metrics is None or metrics.validation is None:
        return None
    train = metrics.train
    gap = section.train_val_gap.log_loss if section.train_val_gap is not None else None
    if gap is None and train is not None:
        gap = metrics.validation.log_loss - train.log_loss
    return {
        "validation_log_loss": float(metrics.validation.log_loss),
        "train_log_loss": None if train is None else float(train.log_loss),
        "gap": None if gap is None else float(gap),
        "band": None,
        "effect": _effect(key, getattr(section, "evidence", None)),
    }


def _effect(key: str, evidence) -> dict:
    """The backend's declared measured-effect and mechanism evidence (zero-leaf share, best iteration, …) of a
    model's typed ``Evidence`` (None for the ensemble)."""
    from training.ml.backends import get_backend

    if evidence is None:
        return {}
    try:
        cls = get_backend(key)
    except KeyError:
        return {}
    names = (*cls.effect_evidence, *cls.mechanism_evidence)
    return {name: value for name in names if isinstance(value := evidence.value(name), (int, float))}


def run_objective(result: dict, *, model: str = "") -> tuple[float | None, dict]:
    """(objective, summary) of a finished run's result (read as the typed ``RunResult``). The objective is the
    mean over trained regimes of the ensemble's validation log loss; a regime whose ensemble has no validation
    score (one fold) contributes the mean of its base models' out-of-fold validation log loss. ``summary`` keeps
    every model's numbers per regime (for the curves) and per backend (means over trained regimes). With ``model``
    the objective is that model's mean validation log loss over the regimes that trained it."""
    from training.ml.results import RunResult

    typed = RunResult.from_dict(result)
    regimes: dict = {}
    per_regime_objective = []
    for regime, section in typed.ensembles.items():
        if not section.trained:
            regimes[regime] = {"status": section.status, "reason": section.reason, "models": {}}
            continue
        models = {key: _entry(model, key) for key, model in section.models.items()}
        models = {key: value for key, value in models.items() if value}
        ensemble = _entry(section.ensemble)
        if ensemble:
            models[ENSEMBLE] = ensemble
            value, basis = ensemble["validation_log_loss"], BASIS_ENSEMBLE
        else:
            base = [m["validation_log_loss"] for m in models.values()]
            value, basis = (fmean(base), BASIS_BASE_MODELS) if base else (None, "")
        regimes[regime] = {"status": section.status, "objective": value, "basis": basis, "models": models}
        if value is not None:
            per_regime_objective.append(value)
    backends: dict = {}
    for info in regimes.values():
        for key, entry in info["models"].items():
            backends.setdefault(key, []).append(entry)
    summary = {
        "regimes": regimes,
        "backends": {
            key: {
                "validation_log_loss": fmean(e["validation_log_loss"] for e in entries),
                "gap": fmean(e["gap"] for e in entries) if all(e["gap"] is not None for e in entries) else None,
                "regimes": len(entries),
                "effect": _mean_effect(entries),
            }
            for key, entries in backends.items()
        },
    }
    if model:
        return (summary["backends"].get(model) or {}).get("validation_log_loss"), summary
    return (fmean(per_regime_objective) if per_regime_objective else None), summary


# --- status -----------------------------------------------------------------------------------------------
def sweep_status(*, sweep: Sweep, points: list[SweepPoint] | None = None) -> dict:
    """``{"status", "detail", "counts"}`` derived from the runs: running while a run is active (or an optuna
    trial is still to be asked); then cancelled (on request), failed (a point failed), or succeeded."""
    points = sweep_points(sweep=sweep) if points is None else points
    counts = {status: 0 for status in TrainingRun.Status.values}
    for point in points:
        counts[point.run.status] += 1
    active = counts["queued"] + counts["running"]
    pending = sweep.pending_points
    failed = [p for p in points if p.run.status == TrainingRun.Status.FAILED]
    done = len(points) - active
    if active or pending:
        status = QUEUED if counts["running"] == 0 and done == 0 else RUNNING
    elif sweep.cancel_requested:
        status = CANCELLED
    elif failed:
        status = FAILED
    elif counts["cancelled"]:
        status = CANCELLED
    else:
        status = SUCCEEDED
    detail = MSG_POINTS_DONE.format(done=done, total=len(points) + pending)
    if failed:
        details = "; ".join(f"run #{p.run_id}: {p.run.error or p.run.stage}" for p in failed)
        detail = MSG_POINTS_FAILED.format(failed=len(failed), total=len(points) + pending, details=details)
    retried = [p for p in points if p.run.attempts > 1 and p.run.status != TrainingRun.Status.FAILED]
    if retried:
        detail += "; " + "; ".join(MSG_POINT_RETRIED.format(run=p.run_id, attempt=p.run.attempts) for p in retried)
    return {"status": status, "detail": detail, "counts": counts, "active": active, "pending": pending}


# --- curves and the API -----------------------------------------------------------------------------------
def sweep_api_payload(*, sweep: Sweep, points: list[SweepPoint] | None = None) -> dict:
    from training.selectors.sweep_evidence import sweep_evidence, sweep_mechanism
    from training.selectors.trading import sweep_trading

    points = sweep_points(sweep=sweep) if points is None else points
    status = sweep_status(sweep=sweep, points=points)
    trading = sweep_trading(sweep=sweep, points=points)
    evidence = sweep_evidence(sweep=sweep, points=points)
    return {
        "id": sweep.pk,
        "name": sweep.name,
        "symbol": sweep.symbol,
        "exchange": sweep.exchange,
        "interval": sweep.interval,
        "profile": {"id": sweep.profile_id, "name": sweep.profile.name},
        "preset": sweep.preset,
        "mode": sweep.mode,
        "n_trials": sweep.n_trials,
        "axes": sweep.axes,
        "holds": sweep.holds,
        "mechanism": sweep_mechanism(sweep=sweep, points=points),
        "status": status["status"],
        "detail": status["detail"],
        "objective": {
            "key": sweep.objective,
            "model": sweep.objective_model or "ensemble",
            "description": sweep.objective_text,
            "lower_is_better": True,
        },
        "runs": [p.run_id for p in points],
        "points": [
            {
                "index": p.index,
                "values": p.values,
                "repeat": p.repeat,
                "run": p.run_id,
                "status": p.run.status,
                "objective": p.objective,
                "backends": (p.summary or {}).get("backends", {}),
            }
            for p in points
        ],
        "best": sweep.best_point.values if sweep.best_point else None,
        "best_objective": sweep.best_point.objective if sweep.best_point else None,
        "best_run": sweep.best_point.run_id if sweep.best_point else None,
        "seeds": sweep.seeds,
        "best_vs_runner_up": _plain(evidence["best_vs_runner_up"]),
        "best_vs_least_regularized": _plain(evidence["best_vs_least_regularized"]),
        "test_best_vs_least_regularized": _plain(evidence["test_best_vs_least_regularized"]),
        "evidence_verdict": evidence["verdict"],
        "left_out_points": evidence["left_out"],
        "curves": [
            {
                "index": g["index"],
                "values": g["values"],
                "objective": g["objective"],
                "objective_seed_sd": g["objective_seed_sd"],
                "regimes": g.get("curves", {}),
            }
            for g in evidence["groups"]
            if g["complete"]
        ],
        "pbo": trading["pbo"],
        "trading": {"points": trading["points"], "degradation_verdict": trading["degradation_verdict"]},
    }


def _plain(comparison: dict | None) -> dict | None:
    return None if comparison is None else {k: v for k, v in comparison.items()}


def _mean_effect(entries: list[dict]) -> dict:
    """Per declared effect or mechanism key (zero-leaf share, best iteration, …) its mean over the regimes."""
    values: dict = {}
    for entry in entries:
        for name, value in (entry.get("effect") or {}).items():
            values.setdefault(name, []).append(value)
    return {name: fmean(v) for name, v in values.items()}
