import json

import numpy as np
import pytest

from training.ml.calibration import expected_calibration_error
from training.ml.combiners import softmax, weighted_log_loss
from training.ml.stacking import Stacker, calibration_record, fit_stacker, vs_best_member_record

from .combiner_data import folds, latent, two_equal


def _split(probas, y, n_test):
    n = len(y) - n_test
    ids, sizes = folds(n)
    oof = {m: p[:n] for m, p in probas.items()}
    test = {m: p[n:] for m, p in probas.items()}
    return oof, y[:n], ids, sizes, test, y[n:]


def test_two_equal_members_stack_better_than_the_best_member_on_test():
    probas, y = two_equal(3000, seed=4)
    oof, y_oof, ids, sizes, test, y_test = _split(probas, y, 1000)
    fit = fit_stacker(oof, y_oof, ids, sizes, test, horizon=4, seed=0)
    assert fit.choice.name != "best_single"
    record = vs_best_member_record(fit, test[fit.best_member], y_test, horizon=4, seed=0)
    assert record["member"] == fit.best_member
    assert record["verdict"] == "better"
    assert record["ci95_high"] < 0 and record["difference"] < 0


def test_overconfident_members_end_calibrated_on_test():
    z, y, rng = latent(4000, seed=5)
    probas = {m: softmax(3.0 * (z + rng.normal(0, 0.3, z.shape))) for m in ("a", "b")}
    oof, y_oof, ids, sizes, test, y_test = _split(probas, y, 1500)
    fit = fit_stacker(oof, y_oof, ids, sizes, test, horizon=4, seed=0)
    record = calibration_record(fit, y_oof[fit.validation_rows], y_test)
    assert record["method"] == "temperature"
    assert record["parameter"] == {"temperature": fit.stacker.calibrator.temperature}
    assert record["test"]["ece_after"] < expected_calibration_error(test[fit.best_member], y_test) / 3
    assert record["validation"]["rows"] == len(fit.validation_rows)
    assert sum(b["count"] for b in record["test"]["reliability_after"]) == len(y_test)
    assert record["test"]["ece_before"] == expected_calibration_error(fit.test_uncalibrated, y_test)


def test_stacker_reloads_from_json_to_identical_probabilities():
    probas, y = two_equal(1500, seed=6)
    oof, y_oof, ids, sizes, test, _ = _split(probas, y, 500)
    fit = fit_stacker(oof, y_oof, ids, sizes, test, horizon=4, seed=0)
    reloaded = Stacker.from_dict(json.loads(json.dumps(fit.stacker.to_dict())))
    assert np.array_equal(reloaded.predict_proba(test), fit.test)
    assert reloaded.members == ["a", "b"]


def test_calibrated_validation_loss_never_above_the_best_member():
    probas, y = two_equal(1500, seed=7)
    oof, y_oof, ids, sizes, test, _ = _split(probas, y, 300)
    fit = fit_stacker(oof, y_oof, ids, sizes, test, horizon=4, seed=0)
    rows = fit.validation_rows
    w = fit.choice.row_weights[rows]
    calibrated = weighted_log_loss(fit.validation, y_oof[rows], w)
    assert calibrated <= fit.choice.candidates[fit.choice.name].validation_log_loss + 1e-12
    assert calibrated <= fit.choice.candidates["best_single"].validation_log_loss + 1e-12
    assert fit.choice.candidates["best_single"].validation_log_loss == pytest.approx(
        min(weighted_log_loss(p[rows], y_oof[rows], w) for p in oof.values())
    )


def test_with_one_fold_temperature_scaling_does_the_calibrating():
    z, y, rng = latent(3000, seed=8)
    probas = {m: softmax(3.0 * (z + rng.normal(0, 0.3, z.shape))) for m in ("a", "b")}
    n = 2000
    ids, sizes = np.zeros(n, dtype=int), [500]
    fit = fit_stacker(
        {m: p[:n] for m, p in probas.items()},
        y[:n],
        ids,
        sizes,
        {m: p[n:] for m, p in probas.items()},
        horizon=4,
        seed=0,
    )
    assert set(fit.choice.candidates) == {"best_single", "average"}
    assert fit.stacker.calibrator.temperature > 2.0
    record = calibration_record(fit, y[:n], y[n:])
    assert record["test"]["ece_after"] < record["test"]["ece_before"] / 2
    assert record["validation"]["ece_after"] < record["validation"]["ece_before"] / 2


def test_fit_stacking_on_a_plan_gives_a_valid_record_that_round_trips():
    from training.ml.results import EnsembleResult

    from .combiner_data import synthetic_ensemble_record

    record = synthetic_ensemble_record()
    data = json.loads(json.dumps(record.to_dict()))
    again = EnsembleResult.from_dict(data).validate()
    assert again == record
    assert data["combiner"] in data["candidates"] and data["combiner"] != "best_single"
    assert data["vs_best_member"]["verdict"] == "better"
    assert data["metrics"]["validation"]["n"] == data["combiner_rule"]["validation_rows"]
    assert len(data["calibration"]["test"]["reliability_after"]) == data["calibration"]["n_bins"]


def test_a_record_whose_combiner_is_worse_than_best_single_is_invalid():
    from training.ml.results import ResultInvalid

    from .combiner_data import synthetic_ensemble_record

    record = synthetic_ensemble_record(1200)
    record.candidates[record.combiner].validation_log_loss = record.candidates["best_single"].validation_log_loss + 0.1
    with pytest.raises(ResultInvalid) as err:
        record.validate()
    assert "worse validation log loss than best_single" in str(err.value)


def test_an_ensemble_that_is_its_best_member_uncalibrated_compares_exactly_equal():
    from training.ml.calibration import TemperatureScaling

    probas, y = two_equal(1200, seed=9)
    oof, y_oof, ids, sizes, test, y_test = _split(probas, y, 400)
    fit = fit_stacker(oof, y_oof, ids, sizes, test, horizon=4, seed=0)
    best = fit.choice.candidates["best_single"].combiner
    fit.stacker = Stacker(best, TemperatureScaling(1.0))
    fit.test = fit.stacker.predict_proba(test)
    assert np.array_equal(fit.test, test[fit.best_member])
    record = vs_best_member_record(fit, test[fit.best_member], y_test, horizon=4, seed=0)
    assert record["difference"] == record["ci95_low"] == record["ci95_high"] == 0.0
    assert record["verdict"] == "no evidence"


def test_the_ensemble_is_compared_on_its_held_out_rows_with_a_forward_chained_same_model_gap():
    from training.ml.comparison import ROWS_ENSEMBLE
    from training.ml.evaluation import ensemble_record, make_comparison
    from training.ml.stacking import fit_stacking

    from .combiner_data import synthetic_dataset, synthetic_plan

    plan, predictions = synthetic_plan(*two_equal(2400, seed=0))
    stacked = fit_stacking(plan, predictions, seed=0)
    comparison = make_comparison(synthetic_dataset(plan), plan, stacked, seed=0)
    # the compared rows are the validation blocks of folds 2..k: where the ensemble predicts held-out
    assert comparison.rows_are == ROWS_ENSEMBLE
    assert np.array_equal(comparison.rows, np.concatenate([f.val for f in plan.folds[1:]]))
    assert np.array_equal(comparison.rows, stacked.validation_rows)
    # one (earlier folds, next fold) pair per held-out fold; the held-out side is the ensemble's validation there
    assert [len(v) for _, _, v, _ in stacked.fold_fit] == [len(f.val) for f in plan.folds[1:]]
    assert stacked.fit.choice.name != "best_single"  # (best_single picks its member on the earlier folds there)
    at = {row: i for i, row in enumerate(stacked.validation_rows)}
    for fit_rows, _, val_rows, heldout in stacked.fold_fit:
        assert fit_rows.max() < val_rows.min()
        assert np.allclose(heldout, stacked.validation[[at[r] for r in val_rows]])
    record = ensemble_record(plan, stacked, comparison).validate()
    assert record.metrics.validation.n == len(comparison.rows) == record.combiner_rule["validation_rows"]
    assert len(record.train_val_gap.folds) == len(plan.folds) - 1
    assert record.vs_baseline.baseline == comparison.best
