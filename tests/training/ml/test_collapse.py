import numpy as np
from sklearn.linear_model import LogisticRegression

from training.ml.collapse import collapse_message, prediction_spread


def test_a_constant_model_is_collapsed():
    proba = np.tile([0.3, 0.45, 0.25], (500, 1))
    spread = prediction_spread(proba)
    assert spread["collapsed"] is True
    assert spread["proba_std"] < 1e-12
    assert spread["class_shares"] == {"down": 0.0, "flat": 1.0, "up": 0.0}
    assert collapse_message("bull_trend/lstm", spread).startswith("bull_trend/lstm has collapsed: it predicts flat")


def test_a_model_that_varies_but_always_answers_one_class_is_collapsed():
    rng = np.random.default_rng(0)
    proba = np.column_stack([rng.uniform(0.1, 0.2, 1000), rng.uniform(0.6, 0.7, 1000)])
    proba = np.column_stack([proba, 1 - proba.sum(axis=1)])
    spread = prediction_spread(proba)
    assert spread["proba_std"] > 1e-3
    assert spread["collapsed"] is True


def test_a_working_model_is_not_collapsed():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1500, 4))
    y = np.digitize(X[:, 0] + 0.5 * rng.normal(size=1500), [-0.5, 0.5])
    proba = LogisticRegression().fit(X[:1000], y[:1000]).predict_proba(X[1000:])
    spread = prediction_spread(proba)
    assert spread["collapsed"] is False
    assert spread["proba_std"] > 0.1
    assert all(0.1 < share < 0.6 for share in spread["class_shares"].values())
    assert sum(spread["class_shares"].values()) == 1.0
    assert collapse_message("volatile/logreg", spread) is None
