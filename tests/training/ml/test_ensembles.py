import numpy as np
import pytest

from training.ml.backends import Backend, register, unregister
from training.ml.backends.sklearn_backend import SECTION as SKLEARN_SECTION
from training.ml.backends.sklearn_backend import SKLEARN
from training.ml.dataset import FeatureMatrix, build_dataset
from training.ml.ensembles import ENSEMBLES, BaseEnsemble, SidewaysRangeEnsemble
from training.ml.errors import TrainingError
from training.ml.metrics import classification_metrics
from training.ml.presets import get_preset
from training.ml.regularization import resolve_config
from training.ml.walkforward import MSG_BACKEND_FAILED, plan_regime

CONFIG = resolve_config({"l1_alpha": 0.05, "l2_alpha": 0.01, "dropout_rate": 0.2})


class LinearEnsemble(BaseEnsemble):
    regime = "bull_trend"
    model_keys = ("logreg",)


class BullTwo(BaseEnsemble):
    regime = "bull_trend"
    model_keys = ("logreg", "lightgbm")


class BrokenBackend(Backend):
    """A backend whose library call fails, as a real one does on bad input."""

    key = "broken"
    section = SKLEARN_SECTION
    framework = SKLEARN

    def fit(self, X_train, y_train, X_val, y_val, sample_weight=None):
        np.linalg.cholesky(-np.eye(2))  # raises LinAlgError: not positive definite


class BrokenEnsemble(BaseEnsemble):
    regime = "bear_trend"
    model_keys = ("logreg", "broken")


@pytest.fixture(scope="module")
def btc_dataset(btc_candles):
    return build_dataset(btc_candles.iloc[-2500:].reset_index(drop=True), lookback=12)


@pytest.fixture
def broken_backend():
    register(BrokenBackend)
    yield
    unregister("broken")


def _ensemble(cls, **preset_changes):
    preset = get_preset("smoke") | preset_changes
    ensemble = cls(preset=preset, seed=1)
    ensemble.apply_regularization(CONFIG)
    return ensemble


def test_every_backend_is_used_by_some_ensemble():
    from training.ml.backends import registered_backends

    used = {k for cls in ENSEMBLES.values() for k in cls.model_keys}
    assert used == set(registered_backends())
    assert set(ENSEMBLES) == {"bull_trend", "bear_trend", "sideways_range", "volatile"}


def test_regime_with_too_few_rows_is_skipped_with_reason(btc_dataset):
    rows = int((btc_dataset.regimes == "bull_trend").sum())
    result = _ensemble(LinearEnsemble, min_rows=rows + 1).train(btc_dataset)
    assert result.status == "skipped"
    assert result.reason == f"Only {rows} labeled rows in regime bull_trend; at least {rows + 1} are needed."
    assert result.models == {}


def test_single_class_regime_is_skipped_with_reason(btc_dataset):
    import dataclasses

    one_class = dataclasses.replace(btc_dataset, y=np.ones_like(btc_dataset.y))
    result = _ensemble(LinearEnsemble).train(one_class)
    assert result.status == "skipped"
    assert "single class ([1])" in result.reason and "bull_trend" in result.reason


def test_constant_column_is_dropped_with_a_note(btc_dataset):
    import dataclasses

    values = btc_dataset.matrix.values.copy()
    column = btc_dataset.feature_names.index("volume_z_96")
    values[:, column] = 0.25
    data = dataclasses.replace(btc_dataset, matrix=FeatureMatrix(values, btc_dataset.feature_names))
    ensemble = _ensemble(LinearEnsemble)
    result = ensemble.train(data)
    assert result.status == "trained"
    assert any("volume_z_96" in note for note in result.notes)
    assert "volume_z_96" not in result.feature_names
    coef = ensemble.models["logreg"].model[-1].coef_
    assert coef.shape[1] == len(btc_dataset.feature_names) - 1


def test_trained_ensemble_reports_metrics_baselines_and_gap(btc_dataset):
    result = _ensemble(LinearEnsemble).train(btc_dataset).validate().to_dict()
    assert result["status"] == "trained"
    model = result["models"]["logreg"]
    for part in ("train", "validation", "test"):
        m = model["metrics"][part]
        assert 0 <= m["accuracy"] <= 1 and m["log_loss"] > 0
        assert sum(map(sum, m["confusion_matrix"])) == m["n"]
    gap = model["train_val_gap"]
    assert len(gap["folds"]) == len(result["split"]["folds"])
    assert gap["log_loss"] == pytest.approx(np.mean([f["log_loss"] for f in gap["folds"]]))
    assert set(result["baselines"]) >= {"majority", "persistence"}
    assert result["ensemble"]["metrics"]["test"]["n"] == result["split"]["test"]
    ensemble = result["ensemble"]
    assert ensemble["combiner"] in ensemble["candidates"]
    assert ensemble["vs_best_member"]["member"] == "logreg"
    assert ensemble["calibration"]["test"]["rows"] == result["split"]["test"]


def test_a_failing_backend_fails_the_run_naming_regime_and_model(btc_dataset, broken_backend):
    with pytest.raises(TrainingError) as exc:
        _ensemble(BrokenEnsemble).train(btc_dataset)
    assert str(exc.value) == MSG_BACKEND_FAILED.format(
        regime="bear_trend", model="broken", error_type="LinAlgError", error=exc.value.__cause__
    )
    assert isinstance(exc.value.__cause__, np.linalg.LinAlgError)


def test_a_real_backend_with_a_broken_setting_fails_naming_regime_and_model(btc_dataset):
    preset = get_preset("smoke")
    preset["models"]["tabnet"]["n_steps"] = 0  # TabNet needs at least one decision step
    ensemble = SidewaysRangeEnsemble(preset=preset, seed=1)
    ensemble.apply_regularization(CONFIG)
    with pytest.raises(TrainingError) as exc:
        ensemble.train(btc_dataset)
    assert str(exc.value).startswith("Regime sideways_range, model tabnet: ")
    assert exc.value.__cause__ is not None


def test_same_model_gap_is_each_fold_model_on_its_own_fit_rows_and_validation_block(btc_dataset):
    ensemble = _ensemble(LinearEnsemble)
    gap = ensemble.train(btc_dataset).models["logreg"].train_val_gap
    plan = plan_regime(btc_dataset, "bull_trend", ensemble.preset, ensemble.min_rows)
    predictions = ensemble.predictions["logreg"]
    expected = []
    for fold, (fit_rows, _), fit_proba in zip(plan.folds, plan.inner, predictions.fold_fit, strict=True):
        fit = classification_metrics(plan.y[fit_rows], fit_proba)
        val = classification_metrics(plan.y[fold.val], predictions.oof[fold.val])
        expected.append({"log_loss": val["log_loss"] - fit["log_loss"], "accuracy": fit["accuracy"] - val["accuracy"]})
    assert gap.folds == expected and len(expected) == 2
    assert gap.log_loss == pytest.approx(np.mean([f["log_loss"] for f in expected]))
    assert gap.accuracy == pytest.approx(np.mean([f["accuracy"] for f in expected]))


def test_models_ensemble_and_baselines_are_scored_on_the_same_rows(btc_dataset):
    result = _ensemble(BullTwo).train(btc_dataset).validate()
    rows = result.comparison["validation_rows"]
    lines = [*result.models.values(), result.ensemble, result.baselines.majority, result.baselines.persistence]
    assert {line.metrics.validation.n if hasattr(line, "metrics") else line.validation.n for line in lines} == {rows}
    assert {line.metrics.test.n if hasattr(line, "metrics") else line.test.n for line in lines} == {
        result.comparison["test_rows"]
    }
    assert rows == result.split.folds[-1].validation  # the ensemble's held-out rows: the last fold's block


def test_every_model_and_the_ensemble_carry_a_verdict_against_the_best_baseline_and_a_spread(btc_dataset):
    result = _ensemble(BullTwo).train(btc_dataset)
    baselines = result.baselines
    best = min(("majority", "persistence", "uniform"), key=lambda n: getattr(baselines, n).validation.log_loss)
    assert result.comparison["best_baseline"] == best
    for line in [*result.models.values(), result.ensemble]:
        record = line.vs_baseline
        assert record.baseline == best and record.metric == "log_loss"
        expected = line.metrics.test.log_loss - getattr(baselines, best).test.log_loss
        assert record.difference == pytest.approx(expected, abs=1e-9)
        assert record.ci95_low <= record.difference <= record.ci95_high
        assert record.interval_verdict in ("better", "worse", "no evidence")
        collapsed_on_test = line.test_spread["collapsed"]
        assert record.verdict == ("no skill" if collapsed_on_test else record.interval_verdict)
        shares = line.spread["class_shares"]
        assert line.collapsed is (max(shares.values()) >= 0.99 or line.spread["proba_std"] < 1e-3)
        assert sum(shares.values()) == pytest.approx(1.0) and line.spread["split"] == "validation"


def test_sample_weights_are_on_by_default_and_switchable_per_preset(btc_dataset):
    weighted = _ensemble(LinearEnsemble)
    weighted_result = weighted.train(btc_dataset)
    plain = _ensemble(LinearEnsemble, sample_weights=False)
    plain_result = plain.train(btc_dataset)
    assert weighted_result.comparison["sample_weights"]["on"] is True
    assert plain_result.comparison["sample_weights"]["on"] is False
    effective = weighted_result.comparison["sample_weights"]["last_fold_effective_rows"]
    assert 0 < effective < weighted_result.comparison["sample_weights"]["last_fold_fit_rows"]
    assert weighted.models["logreg"].evidence()["fit_rows"] == pytest.approx(
        weighted_result.comparison["sample_weights"]["last_fold_fit_rows"]
    )
    assert not np.allclose(weighted.predictions["logreg"].test, plain.predictions["logreg"].test)


def test_every_regime_and_fold_gets_its_own_seed():
    seeds = {cls(preset=get_preset("smoke"), seed=42).fold_seed(fold) for cls in ENSEMBLES.values() for fold in (0, 1)}
    assert len(seeds) == 2 * len(ENSEMBLES)
    assert LinearEnsemble(preset=get_preset("smoke"), seed=42).fold_seed(0) == BullTwo(
        preset=get_preset("smoke"), seed=42
    ).fold_seed(0)
