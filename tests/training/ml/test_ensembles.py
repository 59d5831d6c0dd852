import numpy as np
import pytest

from training.ml.backends import base as backend_base
from training.ml.backends.base import Backend
from training.ml.dataset import FeatureMatrix, build_dataset
from training.ml.ensembles import ENSEMBLES, BaseEnsemble, SidewaysRangeEnsemble
from training.ml.errors import TrainingError
from training.ml.presets import get_preset
from training.ml.regularization import resolve_config
from training.ml.walkforward import MSG_BACKEND_FAILED

CONFIG = resolve_config({"l1_alpha": 0.05, "l2_alpha": 0.01, "dropout_rate": 0.2})


class LinearEnsemble(BaseEnsemble):
    regime = "bull_trend"
    model_keys = ("logreg",)


class BrokenBackend(Backend):
    """A backend whose library call fails, as a real one does on bad input."""

    key = "broken"
    config_section = "sklearn"

    def fit(self, X_train, y_train, X_val, y_val):
        np.linalg.cholesky(-np.eye(2))  # raises LinAlgError: not positive definite


class BrokenEnsemble(BaseEnsemble):
    regime = "bear_trend"
    model_keys = ("logreg", "broken")


@pytest.fixture(scope="module")
def dataset(btc_candles):
    return build_dataset(btc_candles.iloc[-2500:].reset_index(drop=True), lookback=12)


@pytest.fixture
def broken_backend():
    backend_base._REGISTRY["broken"] = f"{__name__}.BrokenBackend"
    yield
    del backend_base._REGISTRY["broken"]


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


def test_regime_with_too_few_rows_is_skipped_with_reason(dataset):
    rows = int((dataset.regimes == "bull_trend").sum())
    result = _ensemble(LinearEnsemble, min_rows=rows + 1).train(dataset)
    assert result.status == "skipped"
    assert result.reason == f"Only {rows} labeled rows in regime bull_trend; at least {rows + 1} are needed."
    assert result.models == {}


def test_single_class_regime_is_skipped_with_reason(dataset):
    import dataclasses

    one_class = dataclasses.replace(dataset, y=np.ones_like(dataset.y))
    result = _ensemble(LinearEnsemble).train(one_class)
    assert result.status == "skipped"
    assert "single class ([1])" in result.reason and "bull_trend" in result.reason


def test_constant_column_is_dropped_with_a_note(dataset):
    import dataclasses

    values = dataset.matrix.values.copy()
    column = dataset.feature_names.index("volume_z_96")
    values[:, column] = 0.25
    data = dataclasses.replace(dataset, matrix=FeatureMatrix(values, dataset.feature_names))
    ensemble = _ensemble(LinearEnsemble)
    result = ensemble.train(data)
    assert result.status == "trained"
    assert any("volume_z_96" in note for note in result.notes)
    assert "volume_z_96" not in result.feature_names
    coef = ensemble.models["logreg"].model[-1].coef_
    assert coef.shape[1] == len(dataset.feature_names) - 1


def test_trained_ensemble_reports_metrics_baselines_and_gap(dataset):
    result = _ensemble(LinearEnsemble).train(dataset).validate().to_dict()
    assert result["status"] == "trained"
    model = result["models"]["logreg"]
    for part in ("train", "validation", "test"):
        m = model["metrics"][part]
        assert 0 <= m["accuracy"] <= 1 and m["log_loss"] > 0
        assert sum(map(sum, m["confusion_matrix"])) == m["n"]
    assert model["train_val_gap"]["log_loss"] == pytest.approx(
        model["metrics"]["validation"]["log_loss"] - model["metrics"]["train"]["log_loss"]
    )
    assert set(result["baselines"]) >= {"majority", "persistence"}
    assert result["ensemble"]["metrics"]["test"]["n"] == result["split"]["test"]
    ensemble = result["ensemble"]
    assert ensemble["combiner"] in ensemble["candidates"]
    assert ensemble["vs_best_member"]["member"] == "logreg"
    assert ensemble["calibration"]["test"]["rows"] == result["split"]["test"]


def test_a_failing_backend_fails_the_run_naming_regime_and_model(dataset, broken_backend):
    with pytest.raises(TrainingError) as exc:
        _ensemble(BrokenEnsemble).train(dataset)
    assert str(exc.value) == MSG_BACKEND_FAILED.format(
        regime="bear_trend", model="broken", error_type="LinAlgError", error=exc.value.__cause__
    )
    assert isinstance(exc.value.__cause__, np.linalg.LinAlgError)


def test_a_real_backend_with_a_broken_setting_fails_naming_regime_and_model(dataset):
    preset = get_preset("smoke")
    preset["models"]["tabnet"]["n_steps"] = 0  # TabNet needs at least one decision step
    ensemble = SidewaysRangeEnsemble(preset=preset, seed=1)
    ensemble.apply_regularization(CONFIG)
    with pytest.raises(TrainingError) as exc:
        ensemble.train(dataset)
    assert str(exc.value).startswith("Regime sideways_range, model tabnet: ")
    assert exc.value.__cause__ is not None


def test_windows_end_at_the_row_and_use_only_the_past():
    values = np.arange(40, dtype=np.float32).reshape(20, 2)
    matrix = FeatureMatrix(values, ["a", "b"])
    windows = matrix.windows(np.array([4, 10, 19]), ["b", "a"], 5)
    assert windows.shape == (3, 5, 2)
    np.testing.assert_array_equal(windows[1], values[6:11][:, [1, 0]])
    with pytest.raises(ValueError):
        matrix.windows(np.array([3]), ["a"], 5)
