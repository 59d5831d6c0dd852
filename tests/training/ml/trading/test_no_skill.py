"""A constant forecaster is "no skill", never "better", even where its interval alone would say better."""

import numpy as np

from training.ml.comparison import NO_SKILL, spread_on_test, vs_baseline_record
from training.ml.metrics import majority_predict, uniform_predict
from training.ml.results import Verdict


def test_a_constant_forecaster_gets_no_skill():
    rng = np.random.default_rng(0)
    y_train = rng.choice(3, size=600, p=[0.6, 0.2, 0.2])
    y_test = rng.choice(3, size=600, p=[0.2, 0.2, 0.6])  # the class shares moved between training and test
    constant = np.tile([0.2, 0.2, 0.6], (600, 1))  # the test shares, on every row: it tells no row apart
    _, majority = majority_predict(y_train, 600)
    spread = spread_on_test(constant)
    assert spread["collapsed"] is True and spread["split"] == "test"
    assert spread["thresholds"] == {"class_share_at_least": 0.99, "proba_std_below": 1e-3}
    record = vs_baseline_record(y_test, constant, "majority", majority, horizon=4, seed=0, no_skill=spread["collapsed"])
    assert isinstance(record, Verdict) and record.no_skill is True
    assert record.interval_verdict == "better"  # the interval alone would certify it
    assert record.verdict == NO_SKILL
    assert record.mismatch("m") == []
    stored_better = Verdict.from_dict({**record.to_dict(), "verdict": "better"})
    assert stored_better.mismatch("m")  # a stored "better" for it is invalid


def test_the_uniform_baseline_is_one_third_each():
    pred, proba = uniform_predict(np.array([0, 2, 2]), 4)
    assert proba.tolist() == [[1 / 3] * 3] * 4 and pred.tolist() == [2] * 4
