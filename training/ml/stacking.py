"""A regime's combination of its base models: the combiner chosen on validation, then its calibration.

``fit_stacking`` takes the walk-forward predictions of a plan; ``fit_stacker`` does the work on plain arrays
(each member's out-of-fold probabilities on the validation blocks, their folds and the folds' training sizes,
each member's test-block probabilities): it chooses the combiner (``combiner_choice``: candidates, out-of-fold row
rule, forward-chained validation, selection), fits temperature scaling on the chosen combiner's held-out
validation predictions (rows weighted by the same fold rule), kept only if it passes the forward check of
``calibration.fit_temperature_checked``, and predicts the rows.
``Stacker`` is plain data (``to_dict``/``from_dict`` with JSON floats), saved as ``stacker.json``: a saved
ensemble reloads to bit-identical probabilities, and prediction goes through the same ``predict_proba``.

``forward_fold_fits`` gives the chosen combiner fitted on folds 1..j−1, predicting those rows and fold j (j = 2..k),
calibrated: ``StackedPredictions.fold_fit``, from which ``comparison.ensemble_gap`` takes the ensemble's same-model
train−validation gap (none with one fold). ``StackedPredictions.validation_rows`` (folds 2..k) are the rows every
model, the ensemble and the baselines are compared on (``comparison.comparison_rows``).

Records (from the stored predictions, called by ``evaluation``): ``calibration_record`` — method, parameter, ECE
and reliability bins before/after, on the validation rows it was fitted on and on the test block;
``vs_best_member_record`` — test log-loss difference ensemble − the best member by validation (the member
``best_single`` picks on the out-of-fold rows) with its moving-block bootstrap interval and verdict.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .bootstrap import block_length, moving_block_bootstrap
from .calibration import (
    N_BINS,
    TemperatureScaling,
    calibrator_from_dict,
    expected_calibration_error,
    fit_temperature_checked,
    reliability_bins,
)
from .combiner_choice import CombinerChoice, choose_combiner
from .combiners import COMBINERS, Combiner, combiner_from_dict
from .metrics import row_log_loss
from .results import CalibrationResult, CombinerCandidate, VsBestMember
from .walkforward import ModelPredictions, RegimePlan

STACKER_FILE = "stacker.json"
CALIBRATION_FITTED_ON = "the chosen combiner's held-out validation predictions (folds 2..k, forward-chained)"


@dataclass
class Stacker:
    combiner: Combiner
    calibrator: TemperatureScaling

    @property
    def members(self) -> list[str]:
        return self.combiner.members

    def uncalibrated(self, base: dict[str, np.ndarray]) -> np.ndarray:
        return self.combiner.predict_proba(base)

    def predict_proba(self, base: dict[str, np.ndarray]) -> np.ndarray:
        """``base``: member → (n, 3) probabilities; the calibrated ensemble probabilities."""
        return self.calibrator.transform(self.uncalibrated(base))

    def to_dict(self) -> dict:
        return {"combiner": self.combiner.to_dict(), "calibration": self.calibrator.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> Stacker:
        return cls(combiner_from_dict(data["combiner"]), calibrator_from_dict(data["calibration"]))


@dataclass
class StackingFit:
    """The fitted stacker and its predictions. ``validation_rows`` index the out-of-fold arrays (the rows the
    candidates were scored on); ``validation``/``validation_uncalibrated`` are held-out predictions there."""

    stacker: Stacker
    choice: CombinerChoice
    train: np.ndarray
    validation_rows: np.ndarray
    validation: np.ndarray
    validation_uncalibrated: np.ndarray
    test: np.ndarray
    test_uncalibrated: np.ndarray
    calibration_check: dict
    fit_seconds: float
    fold_fit: list[tuple] = field(default_factory=list)  # see ``forward_fold_fits``; out-of-fold row indices

    @property
    def best_member(self) -> str:
        return self.choice.candidates["best_single"].combiner.state["member"]


def fit_stacker(oof: dict, y, fold_ids, train_sizes, test: dict, *, horizon: int, seed: int) -> StackingFit:
    started = time.perf_counter()
    y = np.asarray(y).astype(int)
    choice = choose_combiner(oof, y, fold_ids, train_sizes, block=block_length(horizon), seed=seed)
    rows = choice.scored
    calibrator, check = fit_temperature_checked(
        choice.heldout, y[rows], choice.row_weights[rows], np.asarray(fold_ids)[rows]
    )
    stacker = Stacker(choice.combiner, calibrator)
    test_uncalibrated = stacker.uncalibrated(test)
    return StackingFit(
        stacker=stacker,
        choice=choice,
        train=stacker.predict_proba(oof),
        validation_rows=rows,
        validation=calibrator.transform(choice.heldout),
        validation_uncalibrated=choice.heldout,
        test=calibrator.transform(test_uncalibrated),
        test_uncalibrated=test_uncalibrated,
        calibration_check=check,
        fold_fit=forward_fold_fits(stacker, choice, oof, y, fold_ids),
        fit_seconds=time.perf_counter() - started,
    )


def forward_fold_fits(stacker: Stacker, choice: CombinerChoice, oof: dict, y, fold_ids) -> list[tuple]:
    """The chosen combiner forward-chained over the scored folds: for fold j, fitted (with the chosen parameters
    and the row weights) on folds 1..j-1, predicting those rows (in-sample) and fold j (held-out); both calibrated
    by the stacker's calibrator, as the ensemble's probabilities are. Indices are out-of-fold rows. For the
    forward-chained combiners the held-out part equals their validation predictions; ``best_single`` picks its
    member on the earlier folds here, ``average`` has nothing to fit. One fold: none (no same-model gap)."""
    fold_ids = np.asarray(fold_ids)
    cls, params = type(choice.combiner), choice.combiner.params
    pairs = []
    for j in np.unique(fold_ids[choice.scored]):
        before, this = np.flatnonzero(fold_ids < j), np.flatnonzero(fold_ids == j)
        if len(before) == 0:
            continue
        model = cls(choice.combiner.members, **params).fit(
            {m: p[before] for m, p in oof.items()}, y[before], choice.row_weights[before]
        )
        own = stacker.calibrator.transform(model.predict_proba({m: p[before] for m, p in oof.items()}))
        heldout = stacker.calibrator.transform(model.predict_proba({m: p[this] for m, p in oof.items()}))
        pairs.append((before, own, this, heldout))
    return pairs


@dataclass
class StackedPredictions:
    """A plan's stacking: ``train`` on every out-of-fold row (in-sample), ``validation`` held-out on the rows
    ``validation_rows`` (plan row indices), ``test`` on the test block; ``member_test`` each member's test block."""

    fit: StackingFit
    train_rows: np.ndarray
    validation_rows: np.ndarray
    member_test: dict[str, np.ndarray]
    horizon: int
    seed: int
    notes: list[str] = field(default_factory=list)
    # per held-out fold j (2..k): (plan rows of folds 1..j-1, the chosen combiner fitted on them predicting them,
    # plan rows of fold j, that same fit predicting them), for the ensemble's same-model gap
    fold_fit: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    @property
    def stacker(self) -> Stacker:
        return self.fit.stacker

    @property
    def train(self) -> np.ndarray:
        return self.fit.train

    @property
    def validation(self) -> np.ndarray:
        return self.fit.validation

    @property
    def test(self) -> np.ndarray:
        return self.fit.test

    @property
    def fit_seconds(self) -> float:
        return self.fit.fit_seconds


def fit_stacking(plan: RegimePlan, predictions: dict[str, ModelPredictions], *, seed: int) -> StackedPredictions:
    rows = plan.val_rows
    fold_ids = np.repeat(np.arange(len(plan.folds)), [len(f.val) for f in plan.folds])
    fit = fit_stacker(
        {k: p.oof[rows] for k, p in predictions.items()},
        plan.y[rows],
        fold_ids,
        [len(f.train) for f in plan.folds],
        {k: p.test for k, p in predictions.items()},
        horizon=plan.horizon,
        seed=seed,
    )
    return StackedPredictions(
        fit=fit,
        train_rows=rows,
        validation_rows=rows[fit.validation_rows],
        member_test={k: p.test for k, p in predictions.items()},
        horizon=plan.horizon,
        seed=seed,
        notes=list(fit.choice.notes),
        fold_fit=[(rows[f], pf, rows[v], pv) for f, pf, v, pv in fit.fold_fit],
    )


def calibration_record(fit: StackingFit, y_validation, y_test) -> dict:
    def part(y, before, after) -> dict:
        return {
            "rows": int(len(y)),
            "ece_before": expected_calibration_error(before, y),
            "ece_after": expected_calibration_error(after, y),
            "reliability_before": reliability_bins(before, y),
            "reliability_after": reliability_bins(after, y),
        }

    calibrator = fit.stacker.calibrator
    return {
        "method": calibrator.method,
        "parameter": calibrator.parameter,
        "fitted_on": CALIBRATION_FITTED_ON,
        "check": fit.calibration_check,
        "n_bins": N_BINS,
        "validation": part(y_validation, fit.validation_uncalibrated, fit.validation),
        "test": part(y_test, fit.test_uncalibrated, fit.test),
    }


def vs_best_member_record(fit: StackingFit, member_test: np.ndarray, y_test, *, horizon: int, seed: int) -> dict:
    """``member_test``: the best member's test probabilities."""
    record = moving_block_bootstrap(
        row_log_loss(y_test, fit.test), row_log_loss(y_test, member_test), block=block_length(horizon), seed=seed
    )
    return {"member": fit.best_member, **record}


def stacking_records(plan: RegimePlan, stacked: StackedPredictions) -> dict:
    """The typed ``EnsembleResult`` fields that explain the combination."""
    fit, y_test = stacked.fit, plan.y[plan.test]
    summary = fit.choice.summary()
    return {
        "combiner": summary["combiner"],
        "combiner_label": COMBINERS[summary["combiner"]].label,
        "combiner_params": summary["params"],
        "combiner_weights": summary["weights"],
        "candidates": {k: CombinerCandidate.from_dict(v) for k, v in summary["candidates"].items()},
        "combiner_rule": {
            k: summary[k] for k in ("lowest_validation_log_loss", "validation_rows", "row_rule", "notes")
        },
        "calibration": CalibrationResult.from_dict(calibration_record(fit, plan.y[stacked.validation_rows], y_test)),
        "vs_best_member": VsBestMember(
            **vs_best_member_record(
                fit, stacked.member_test[fit.best_member], y_test, horizon=stacked.horizon, seed=stacked.seed
            )
        ),
    }
