"""A regime's combination of its base models: the combiner chosen on validation, then its calibration.

``fit_stacking`` takes the walk-forward predictions of a plan; ``fit_stacker`` does the work on plain arrays
(each member's out-of-fold probabilities on the validation blocks, their folds and the folds' training sizes,
each member's test-block probabilities): it chooses the combiner (``combiner_choice``: candidates, out-of-fold row
rule, forward-chained validation, selection), fits temperature scaling on the chosen combiner's held-out
validation predictions (rows weighted by the same fold rule), kept only if it passes the forward check of
``calibration.fit_temperature_checked``, and predicts the rows.
``Stacker`` is plain data (``to_dict``/``from_dict`` with JSON floats), saved as ``stacker.json``: a saved
ensemble reloads to bit-identical probabilities, and prediction goes through the same ``predict_proba``.

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
from .combiners import COMBINERS, Combiner, combiner_from_dict, row_log_loss
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
        fit_seconds=time.perf_counter() - started,
    )


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
        row_log_loss(fit.test, y_test), row_log_loss(member_test, y_test), block=block_length(horizon), seed=seed
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
