import numpy as np
import pytest

from training.ml.combiner_choice import MSG_ONE_FOLD
from training.ml.dataset import build_dataset
from training.ml.ensembles import VolatileEnsemble
from training.ml.evaluation import ensemble_record, make_comparison, model_record
from training.ml.presets import get_preset
from training.ml.regularization import resolve_config
from training.ml.stacking import fit_stacking
from training.ml.walkforward import MSG_TOO_FEW_ROWS, RegimeInputs, RegimeSkipped, WalkForward, plan_regime

CONFIG = resolve_config({"l1_alpha": 0.01, "l2_alpha": 0.001, "dropout_rate": 0.2})


@pytest.fixture(scope="module")
def rows(btc_candles):
    return build_dataset(btc_candles.iloc[-2000:].reset_index(drop=True), lookback=12)


def tiny_volatile(rows):
    """The volatile regime under the ``tiny`` preset: its ensemble (seed 3), plan and inputs."""
    preset = get_preset("tiny")
    ensemble = VolatileEnsemble(preset=preset, seed=3)
    ensemble.apply_regularization(CONFIG)
    plan = plan_regime(rows, "volatile", preset, 150)
    return ensemble, plan, RegimeInputs.prepare(rows, plan)


def test_too_few_rows_skip_the_regime_with_the_reason(rows):
    n = int((rows.regimes == "volatile").sum())
    with pytest.raises(RegimeSkipped) as skip:
        plan_regime(rows, "volatile", get_preset("tiny"), n + 1)
    assert skip.value.reason == MSG_TOO_FEW_ROWS.format(rows=n, regime="volatile", minimum=n + 1)


def test_the_fit_part_ends_purged_before_the_early_stopping_part(rows):
    plan = plan_regime(rows, "volatile", get_preset("smoke"), 150)
    for fold, (fit, early) in zip(plan.folds, plan.inner):
        assert plan.positions[fit].max() + plan.horizon + plan.embargo < plan.positions[early].min()
        assert plan.positions[early].max() < plan.positions[fold.val].min()


def test_one_fold_keeps_predictions_as_arrays_and_the_records_follow_from_them(rows):
    ensemble, plan, inputs = tiny_volatile(rows)
    steps = []
    walk = WalkForward(plan, inputs, build_backend=ensemble.build_backend, should_stop=lambda: False, step=steps.append)
    predictions = {"logreg": walk.fit("logreg", "tabular")}
    p = predictions["logreg"]
    assert len(steps) == 1 and steps[0].startswith("volatile: logreg fold 1/1 fitted")
    assert p.oof.shape == (plan.n, 3) and np.isnan(p.oof[plan.test]).all()
    np.testing.assert_allclose(p.oof[plan.val_rows].sum(axis=1), 1.0)
    assert p.test.shape == (len(plan.test), 3) and p.fold_train.shape == (len(plan.last_fit), 3)
    stacked = fit_stacking(plan, predictions, seed=3)
    assert MSG_ONE_FOLD in stacked.notes and set(stacked.fit.choice.candidates) == {"best_single", "average"}
    comparison = make_comparison(rows, plan, stacked, seed=3)
    record = model_record(plan, p, input_kind="tabular", feature_names=inputs.feature_names, comparison=comparison)
    assert record.metrics.test.n == len(plan.test) and record.metrics.validation.n == len(comparison.rows)
    ensemble_result = ensemble_record(plan, stacked, comparison)
    assert ensemble_result.train_val_gap is None  # one fold: no earlier fold to fit a combiner on
    assert ensemble_result.metrics.validation.n == len(comparison.rows)
    assert ensemble_result.metrics.test.n == len(plan.test)


def test_fit_rows_the_fit_predicted_already_are_not_predicted_again(rows):
    """A backend whose fit computed the probabilities of its fit rows (Keras does, for its evidence) gives them to
    the walk-forward, which predicts only the validation and test blocks; the records are the same."""
    ensemble, plan, inputs = tiny_volatile(rows)
    asked = []

    def build(key, fold):
        backend = ensemble.build_backend(key, fold)
        fit, predict = backend.fit, backend.predict_proba

        def fitting(X, y, *args, **kwargs):
            fit(X, y, *args, **kwargs)
            backend.fit_rows_proba = predict(X)
            return backend

        def predicting(X):
            asked.append(len(X))
            return predict(X)

        backend.fit, backend.predict_proba = fitting, predicting
        return backend

    def walk(build_backend):
        return WalkForward(plan, inputs, build_backend=build_backend, should_stop=lambda: False, step=lambda m: None)

    known = walk(build).fit("logreg", "tabular")
    plain = walk(ensemble.build_backend).fit("logreg", "tabular")
    (fold,) = plan.folds
    assert asked == [len(fold.val) + len(plan.test)]  # one fold: its validation block and the test block
    # the same model on the same rows, in other batches: equal to the last bits of a float
    np.testing.assert_allclose(known.fold_train, plain.fold_train, rtol=1e-12, atol=0)
    np.testing.assert_allclose(known.oof[plan.val_rows], plain.oof[plan.val_rows], rtol=1e-12, atol=0)
    np.testing.assert_allclose(known.test, plain.test, rtol=1e-12, atol=0)
