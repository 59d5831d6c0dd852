"""The Optuna side of an ``optuna`` sweep: a TPE study in the project database, used ask-and-tell so each trial
is an ordinary run on whichever worker is free. Called outside Django transactions: on SQLite, Optuna's own
connection could not write while Django holds the write lock."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError

from training.ml.optuna_storage import rdb_storage
from training.services.runs import optuna_storage_url

logger = logging.getLogger(__name__)

MSG_OPTUNA_NEEDS_DATABASE = (
    "An optuna sweep needs its study in the project database (PostgreSQL or a SQLite file); this database is in memory."
)


def _storage():
    url = optuna_storage_url()
    if not url:
        raise ValidationError(MSG_OPTUNA_NEEDS_DATABASE)
    return rdb_storage(url)


def _study(name: str, seed: int, *, create: bool = False):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed)
    if create:
        return optuna.create_study(
            study_name=name, storage=_storage(), direction="minimize", sampler=sampler, load_if_exists=True
        )
    return optuna.load_study(study_name=name, storage=_storage(), sampler=sampler)


def distributions(axes: list[dict]) -> dict:
    """A log-uniform float for a log-range axis, a categorical choice for a list of values."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    out = {}
    for axis in axes:
        if axis.get("log_range"):
            out[axis["param"]] = FloatDistribution(axis["log_range"]["low"], axis["log_range"]["high"], log=True)
        else:
            out[axis["param"]] = CategoricalDistribution(tuple(axis["values"]))
    return out


def study_create(*, name: str, seed: int) -> None:
    _study(name, seed, create=True)


def trial_ask(*, name: str, seed: int, axes: list[dict]) -> tuple[int, dict]:
    """(trial number, {param: value}) of a new trial."""
    trial = _study(name, seed).ask(distributions(axes))
    return trial.number, {param: float(value) for param, value in trial.params.items()}


def trial_tell(*, name: str, seed: int, trial_number: int, value: float | None) -> None:
    """The objective of a finished trial; ``None`` tells it failed (the run failed or was cancelled)."""
    import optuna

    study = _study(name, seed)
    try:
        if value is None:
            study.tell(trial_number, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial_number, value)
    except (RuntimeError, ValueError) as exc:  # already told by another process
        logger.info("trial %s of study %s not told again: %s", trial_number, name, exc)


def study_trials(*, name: str, seed: int) -> list[dict]:
    return [
        {"number": t.number, "state": t.state.name, "value": t.value, "params": t.params}
        for t in _study(name, seed).trials
    ]


MSG_IMPORTANCE_NEEDS_TRIALS = "Parameter importance needs at least two finished trials and two swept parameters."


def study_importance(*, name: str, seed: int) -> dict:
    """Optuna's own importance evaluator (fANOVA by default) over the study's finished trials:
    ``{"importance": {param: share}}`` or ``{"error": why}``."""
    import optuna

    study = _study(name, seed)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) < 2 or len({p for t in complete for p in t.params}) < 2:
        return {"error": MSG_IMPORTANCE_NEEDS_TRIALS}
    try:
        return {"importance": dict(optuna.importance.get_param_importances(study, seed=seed))}
    except (RuntimeError, ValueError) as exc:
        return {"error": str(exc)}
