"""Each advisor rule on a real fit built to trigger it, and silent on one that does not: the real backend fitted on a
small synthetic series, its facts from its own evidence, the same-model gap of its real predictions and the
collapse check of the engine."""

import numpy as np
import pytest

from training.ml.advisor import GAP_LARGE, advise, model_facts, sweep_range
from training.ml.backends import get_backend
from training.ml.comparison import spread_record
from training.ml.evaluation import split_metrics
from training.ml.metrics import train_val_gap
from training.ml.regularization import resolve_config

pytestmark = pytest.mark.slow


def data(rows=600, features=30, signal=1.5, seed=0):
    """Labels from one planted feature (the rest noise): a model can learn it, and overfit the noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features))
    score = signal * X[:, 0] + rng.normal(size=rows)
    y = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))
    cut = rows * 2 // 3
    return X[:cut], y[:cut], X[cut:], y[cut:]


def fitted_rules(key, *, base=None, overrides=None, params=None, rows=600, features=30, signal=1.5):
    cls = get_backend(key)
    config = resolve_config(base or {"l1_alpha": 0.01, "l2_alpha": 0.001, "dropout_rate": 0.2}, overrides or {})
    reg = config[cls.config_section]
    X, y, Xv, yv = data(rows, features, signal)
    backend = cls(reg, params=params or {}, seed=3).fit(X, y, Xv, yv)
    train, validation = backend.predict_proba(X), backend.predict_proba(Xv)
    gap = train_val_gap(split_metrics(y, train).to_dict(), split_metrics(yv, validation).to_dict())["log_loss"]
    collapsed, _ = spread_record(validation, validation)
    facts = model_facts(gap=gap, collapsed=collapsed, evidence=backend.evidence(), reg=reg)
    return {s["rule"]: s for s in advise(cls.advice, facts, section=cls.config_section)}, facts


def test_logreg_stronger_fires_on_an_overfit_weak_penalty_and_not_on_a_strong_one():
    fired, facts = fitted_rules("logreg", overrides={"sklearn": {"alpha": 1e-4}}, rows=240, features=60, signal=0.3)
    assert facts["gap"] > GAP_LARGE and "stronger" in fired
    assert fired["stronger"]["sweep_axis"] == f"sklearn.alpha={sweep_range(1e-4)}" == "sklearn.alpha=1e-05:0.001:5"
    assert any(e.startswith("gap = ") for e in fired["stronger"]["evidence"])
    fired, facts = fitted_rules("logreg", overrides={"sklearn": {"alpha": 30.0}})
    assert "stronger" not in fired


def test_logreg_weaker_fires_on_a_collapse_and_not_on_a_healthy_model():
    fired, facts = fitted_rules("logreg", overrides={"sklearn": {"alpha": 5000.0}})
    assert facts["collapsed"] == 1 and "weaker" in fired
    fired, facts = fitted_rules("logreg", overrides={"sklearn": {"alpha": 1.0}})
    assert facts["collapsed"] == 0 and "weaker" not in fired


def test_logreg_l1_no_effect_fires_when_no_coefficient_is_zero_and_not_when_l1_zeroes_some():
    fired, facts = fitted_rules("logreg", overrides={"sklearn": {"alpha": 1e-3}})
    assert facts["zero_coefficient_share"] == 0 and "l1_no_effect" in fired
    fired, facts = fitted_rules("logreg", overrides={"sklearn": {"alpha": 30.0}})
    assert facts["zero_coefficient_share"] > 0 and "l1_no_effect" not in fired


LGB = {"n_trials": 1, "early_stopping_rounds": 10, "search_space": {"n_estimators": [200, 200]}}


def test_lightgbm_early_stopping_and_l1_rules_fire_on_what_the_fit_measured():
    fired, facts = fitted_rules("lightgbm", params=LGB, signal=0.0)  # no signal: stops after a few rounds
    assert facts["best_iteration"] <= 30 and "early_stopping" in fired
    assert facts["zero_leaf_share"] == 0 and "l1_no_effect" in fired
    assert fired["l1_no_effect"]["sweep_axis"] == f"lightgbm.reg_alpha={sweep_range(0.01)}"
    # "sweep around this" for the mechanism: L2 around its value with early stopping held off
    assert fired["early_stopping"]["sweep_axis"] == f"lightgbm.reg_lambda={sweep_range(0.001)}"
    assert fired["early_stopping"]["sweep_holds"] == ["lightgbm.early_stopping=off"]
    assert fired["l1_no_effect"]["sweep_holds"] == []
    fired, facts = fitted_rules(
        "lightgbm",
        params={**LGB, "early_stopping_rounds": 500},
        base={"l1_alpha": 0.0, "l2_alpha": 0.0, "dropout_rate": 0.2},
    )
    assert facts["best_iteration"] > 30 and "early_stopping" not in fired
    assert "l1_no_effect" not in fired  # reg_alpha 0: no L1 set


def test_lightgbm_stronger_fires_on_a_large_gap_with_few_zero_leaves():
    fired, facts = fitted_rules("lightgbm", params={**LGB, "early_stopping_rounds": 500}, rows=300, signal=0.5)
    assert facts["gap"] > GAP_LARGE and facts["zero_leaf_share"] < 0.01 and "stronger" in fired
    assert fired["stronger"]["sweep_axis"].startswith("lightgbm.reg_lambda=")
    fired, facts = fitted_rules("lightgbm", params=LGB, signal=0.0)
    assert "stronger" not in fired  # early stopping left no gap


def sequences(rows=400, lookback=8, features=4, seed=1):
    X, y, Xv, yv = data(rows + lookback, features, signal=1.0, seed=seed)
    windows = lambda a: np.stack([a[i : i + lookback] for i in range(len(a) - lookback + 1)]).astype(np.float32)  # noqa: E731
    return windows(X), y[lookback - 1 :], windows(Xv), yv[lookback - 1 :]


def keras_rules(l1, *, epochs, patience):
    cls = get_backend("lstm")
    reg = resolve_config({"l1_alpha": l1, "l2_alpha": 0.0, "dropout_rate": 0.0})["tensorflow"]
    X, y, Xv, yv = sequences()
    params = {"epochs": epochs, "batch_size": 64, "patience": patience, "lstm_units": 8, "dense_units": 8}
    backend = cls(reg, params=params, seed=3).fit(X, y, Xv, yv)
    train, validation = backend.predict_proba(X), backend.predict_proba(Xv)
    gap = train_val_gap(split_metrics(y, train).to_dict(), split_metrics(yv, validation).to_dict())["log_loss"]
    collapsed, _ = spread_record(validation, validation)
    facts = model_facts(gap=gap, collapsed=collapsed, evidence=backend.evidence(), reg=reg)
    return {s["rule"]: s for s in advise(cls.advice, facts, section="tensorflow")}, facts


def test_keras_weaker_fires_when_the_penalty_dominates_and_early_stopping_at_very_few_epochs():
    fired, facts = keras_rules(1.0, epochs=2, patience=1)
    assert facts["penalty_share_at_best_epoch"] > 0.5 and "weaker" in fired
    assert fired["weaker"]["sweep_axis"] == f"tensorflow.l1_reg={sweep_range(1.0)}"
    assert facts["best_epoch"] <= 2 and "early_stopping" in fired
    assert fired["early_stopping"]["sweep_holds"] == ["tensorflow.early_stopping=off"]
    fired, facts = keras_rules(1e-6, epochs=6, patience=6)
    assert facts["penalty_share_at_best_epoch"] < 0.5 and not facts["collapsed"] and "weaker" not in fired
    assert (facts["best_epoch"] > 2) == ("early_stopping" not in fired)


def test_lightgbm_weaker_fires_on_a_collapse_and_not_on_a_healthy_model():
    fired, facts = fitted_rules("lightgbm", params=LGB, overrides={"lightgbm": {"reg_lambda": 1e4}})
    assert facts["collapsed"] == 1 and "weaker" in fired
    assert fired["weaker"]["sweep_axis"].startswith("lightgbm.reg_alpha=")
    fired, facts = fitted_rules("lightgbm", params=LGB)
    assert facts["collapsed"] == 0 and "weaker" not in fired


def test_lightgbm_early_stopping_rule_is_silent_when_early_stopping_is_held_off():
    """The same fit that early-stops after a few rounds, with early stopping held off: every one of the fixed
    rounds is kept, the fit records it, and the mechanism rule says nothing."""
    fired, facts = fitted_rules("lightgbm", params={**LGB, "early_stopping": False}, signal=0.0)
    assert facts["early_stopping"] == 0 and facts["best_iteration"] == 200
    assert "early_stopping" not in fired


def keras_fit(reg_values: dict, *, epochs, patience, units=8, rows=400, features=4, signal=1.0, stopping=True):
    cls = get_backend("lstm")
    reg = resolve_config({"l1_alpha": 0.0, "l2_alpha": 0.0, "dropout_rate": 0.0}, {"tensorflow": reg_values})
    reg = reg["tensorflow"]
    lookback = 8
    X, y, Xv, yv = data(rows + lookback, features, signal=signal, seed=1)
    windows = lambda a: np.stack([a[i : i + lookback] for i in range(len(a) - lookback + 1)]).astype(np.float32)  # noqa: E731
    X, y, Xv, yv = windows(X), y[lookback - 1 :], windows(Xv), yv[lookback - 1 :]
    params = {"epochs": epochs, "batch_size": 32, "patience": patience, "lstm_units": units, "dense_units": units}
    if not stopping:
        params["early_stopping"] = False
    backend = cls(reg, params=params, seed=3).fit(X, y, Xv, yv)
    train, validation = backend.predict_proba(X), backend.predict_proba(Xv)
    gap = train_val_gap(split_metrics(y, train).to_dict(), split_metrics(yv, validation).to_dict())["log_loss"]
    collapsed, _ = spread_record(validation, validation)
    facts = model_facts(gap=gap, collapsed=collapsed, evidence=backend.evidence(), reg=reg)
    return {s["rule"]: s for s in advise(cls.advice, facts, section="tensorflow")}, facts


def test_keras_stronger_fires_on_an_overfit_lstm_with_a_tiny_penalty_and_not_with_a_large_l2():
    """A wide LSTM trained on few noisy rows far past its best epoch (early stopping off) overfits: a large gap
    with a penalty well under 2 % of the loss. A large L2 makes the penalty a big share: silent."""
    fit = {"epochs": 40, "patience": 40, "units": 32, "rows": 200, "features": 12, "signal": 0.3, "stopping": False}
    fired, facts = keras_fit({"l1_reg": 0.0, "l2_reg": 1e-6}, **fit)
    assert facts["gap"] > GAP_LARGE and facts["collapsed"] == 0, facts
    assert facts["penalty_share_at_best_epoch"] < 0.02 and "stronger" in fired
    assert fired["stronger"]["sweep_axis"] == f"tensorflow.l2_reg={sweep_range(1e-6)}"
    assert facts["early_stopping"] == 0 and facts["best_epoch"] == 40  # the last epoch's weights: no restore
    fired, facts = keras_fit({"l1_reg": 0.0, "l2_reg": 0.1}, **fit)
    assert facts["penalty_share_at_best_epoch"] >= 0.02 and "stronger" not in fired


def tabnet_fit(lambda_sparse: float, *, rows=300, features=20, signal=0.3, epochs=40, patience=40):
    cls = get_backend("tabnet")
    reg = resolve_config(
        {"l1_alpha": 0.0, "l2_alpha": 0.0, "dropout_rate": 0.0}, {"tabnet": {"lambda_sparse": lambda_sparse}}
    )["tabnet"]
    X, y, Xv, yv = data(rows, features, signal)
    params = {"max_epochs": epochs, "patience": patience, "batch_size": 64, "virtual_batch_size": 32, "device": "cpu"}
    backend = cls(reg, params=params, seed=3).fit(X, y, Xv, yv)
    train, validation = backend.predict_proba(X), backend.predict_proba(Xv)
    gap = train_val_gap(split_metrics(y, train).to_dict(), split_metrics(yv, validation).to_dict())["log_loss"]
    collapsed, _ = spread_record(validation, validation)
    facts = model_facts(gap=gap, collapsed=collapsed, evidence=backend.evidence(), reg=reg)
    return {s["rule"]: s for s in advise(cls.advice, facts, section="tabnet")}, facts


def test_tabnet_weaker_fires_when_the_sparsity_term_dominates_and_not_when_it_is_small():
    fired, facts = tabnet_fit(100.0, epochs=3, patience=3)
    assert facts["sparsity_share_of_loss"] > 0.5 and "weaker" in fired, facts
    assert fired["weaker"]["sweep_axis"] == f"tabnet.lambda_sparse={sweep_range(100.0)}"
    fired, facts = tabnet_fit(1e-6, epochs=3, patience=3)
    assert facts["sparsity_share_of_loss"] < 0.5 and facts["collapsed"] == 0 and "weaker" not in fired, facts


def test_tabnet_stronger_fires_on_an_overfit_model_with_a_tiny_sparsity_term_and_not_with_a_large_one():
    fired, facts = tabnet_fit(1e-6, rows=150, features=40, signal=1.5)  # few rows, many noise features
    assert facts["gap"] > GAP_LARGE and facts["collapsed"] == 0, facts
    assert facts["sparsity_share_of_loss"] < 0.01 and "stronger" in fired
    assert fired["stronger"]["sweep_axis"].startswith("tabnet.lambda_sparse=")
    fired, facts = tabnet_fit(100.0, epochs=3, patience=3)
    assert "stronger" not in fired
