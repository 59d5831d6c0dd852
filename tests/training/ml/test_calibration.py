import numpy as np
import pytest

from training.ml.calibration import (
    MSG_CHECK_DROPPED,
    MSG_CHECK_KEPT,
    MSG_NO_CHECK,
    MSG_UNKNOWN_METHOD,
    TemperatureScaling,
    calibrator_from_dict,
    expected_calibration_error,
    fit_temperature_checked,
    reliability_bins,
)
from training.ml.combiners import softmax, weighted_log_loss

from .combiner_data import latent


def overconfident(n, seed):
    z, y, _ = latent(n, seed)
    return softmax(3.0 * z), y  # the truth is softmax(z): logits three times too large


def test_temperature_scaling_lowers_ece_of_an_overconfident_model_on_fresh_rows():
    val, y_val = overconfident(3000, seed=1)
    test, y_test = overconfident(3000, seed=2)
    scaler = TemperatureScaling().fit(val, y_val)
    assert scaler.temperature == pytest.approx(3.0, rel=0.15)
    before = expected_calibration_error(test, y_test)
    after = expected_calibration_error(scaler.transform(test), y_test)
    assert before > 0.1
    assert after < before / 3
    assert weighted_log_loss(scaler.transform(test), y_test) < weighted_log_loss(test, y_test)
    assert np.array_equal(scaler.transform(test).argmax(axis=1), test.argmax(axis=1))


def test_a_calibrated_model_keeps_temperature_near_one():
    z, y, _ = latent(4000, seed=3)
    assert TemperatureScaling().fit(softmax(z), y).temperature == pytest.approx(1.0, abs=0.1)


def test_reliability_bins_and_ece_by_hand():
    proba = np.array([[0.95, 0.03, 0.02], [0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.2, 0.45, 0.35]])
    y = np.array([0, 1, 0, 2])
    bins = reliability_bins(proba, y)
    assert [b["count"] for b in bins] == [0, 0, 0, 0, 2, 0, 0, 0, 0, 2]
    assert bins[9]["confidence"] == pytest.approx(0.925) and bins[9]["accuracy"] == 0.5
    assert bins[4]["confidence"] == pytest.approx(0.425) and bins[4]["accuracy"] == 0.5
    assert bins[0]["confidence"] is None
    assert expected_calibration_error(proba, y) == pytest.approx(0.5 * 0.425 + 0.5 * 0.075)


def test_calibrator_round_trips_and_unknown_method():
    scaler = TemperatureScaling(2.5)
    again = calibrator_from_dict(scaler.to_dict())
    p = softmax(np.random.default_rng(0).normal(size=(5, 3)))
    assert np.array_equal(again.transform(p), scaler.transform(p))
    with pytest.raises(KeyError) as err:
        calibrator_from_dict({"method": "isotonic"})
    assert err.value.args[0] == MSG_UNKNOWN_METHOD.format(method="isotonic", known="temperature")


def test_a_temperature_that_does_not_hold_on_the_last_fold_is_dropped():
    early, y_early = overconfident(2000, seed=4)
    z, y_late, _ = latent(2000, seed=5)
    proba = np.vstack([early, softmax(z)])  # over-confident early, calibrated in the last fold
    y = np.concatenate([y_early, y_late])
    folds = np.repeat([1, 2], 2000)
    scaler, check = fit_temperature_checked(proba, y, np.ones(len(y)), folds)
    assert check["kept"] is False and check["reason"] == MSG_CHECK_DROPPED
    assert check["probe_temperature"] > 2.0 and check["log_loss_after"] >= check["log_loss_before"]
    assert scaler.temperature == 1.0


def test_a_temperature_that_holds_on_the_last_fold_is_kept_and_one_fold_is_not_checked():
    proba, y = overconfident(4000, seed=6)
    folds = np.repeat([1, 2], 2000)
    scaler, check = fit_temperature_checked(proba, y, np.ones(len(y)), folds)
    assert check["kept"] is True and check["reason"] == MSG_CHECK_KEPT and check["rows"] == 2000
    assert scaler.temperature == TemperatureScaling().fit(proba, y).temperature
    _, single = fit_temperature_checked(proba, y, np.ones(len(y)), np.zeros(len(y)))
    assert single == {"kept": True, "reason": MSG_NO_CHECK, "rows": 0}
