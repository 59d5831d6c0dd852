"""One registration point: a backend defined here (an L2-penalized SGD logistic model) flows through the
resolved config, the validation report, the presets, seeding, the recorded library versions and an ensemble
fit, with no edit anywhere else."""

import time
from pathlib import Path

import numpy as np
import pytest

from training.ml.artifacts import library_versions, load_ensemble
from training.ml.backends import Backend, Framework, frameworks, get_backend, register, registered_backends, unregister
from training.ml.backends.base import expand_proba
from training.ml.dataset import FeatureMatrix
from training.ml.ensembles import VolatileEnsemble
from training.ml.features import compute_features
from training.ml.manager import TrainingManager
from training.ml.parameters import NON_NEGATIVE, FromBase, RegParam, Section
from training.ml.presets import PRESETS, get_preset
from training.ml.regularization import MSG_ABOVE_CEILING, resolve_config, validate_and_report_regularization

SEEDED: list[int] = []
SGD_SECTION = Section(
    "sgd",
    "scikit-learn SGD logistic regression",
    (
        RegParam(
            "alpha",
            NON_NEGATIVE,
            FromBase("l2_alpha"),
            "L2 strength of the SGD model.",
            library_arg="alpha",
            warn_above=1.0,
            ceiling=100.0,
        ),
    ),
    "SGDClassifier(loss='log_loss', penalty='l2', alpha=…)",
)
SGD_FRAMEWORK = Framework("sgd-test", ("scikit-learn", "threadpoolctl"), seed=SEEDED.append)


class SGDBackend(Backend):
    key = "sgd"
    section = SGD_SECTION
    framework = SGD_FRAMEWORK
    library_constants = {"loss": "log_loss", "penalty": "l2"}
    preset_params = {"tiny": {"max_iter": 50}, "smoke": {"max_iter": 100}}

    def fit(self, X_train, y_train, X_val, y_val, sample_weight=None):
        from sklearn.linear_model import SGDClassifier

        self.library_params = {**self.library_kwargs(), "max_iter": int(self.param("max_iter", 100))}
        started = time.perf_counter()
        self.model = SGDClassifier(**self.library_params, random_state=self.seed).fit(
            X_train, y_train, sample_weight=sample_weight
        )
        self.fit_seconds = time.perf_counter() - started
        return self

    def _predict_proba(self, X):
        return expand_proba(self.model.predict_proba(X), self.model.classes_)

    def save(self, directory) -> list[str]:
        import joblib

        joblib.dump(self.model, Path(directory) / "sgd.joblib")
        return ["sgd.joblib", self._write_meta(directory)]

    @classmethod
    def load(cls, directory, reg, params=None):
        import joblib

        backend, _ = cls._from_meta(directory, reg, params)
        backend.model = joblib.load(Path(directory) / "sgd.joblib")
        return backend


@pytest.fixture
def sgd_backend():
    register(SGDBackend)
    yield SGDBackend
    unregister("sgd")


BASE = {"l1_alpha": 0.01, "l2_alpha": 0.004, "dropout_rate": 0.2}


def test_an_extra_backend_reaches_config_report_and_presets(sgd_backend):
    assert "sgd" in registered_backends() and get_backend("sgd") is SGDBackend
    config = resolve_config(BASE)
    assert config["sgd"] == {"alpha": 0.004}
    report = validate_and_report_regularization(config)
    assert report["ok"] and report["backends"]["sgd"]["params"][0]["applied"] == "alpha"
    refused = validate_and_report_regularization(resolve_config(BASE, {"sgd": {"alpha": 1e300}}))
    assert refused["errors"] == [
        MSG_ABOVE_CEILING.format(name="alpha", label=SGD_SECTION.label, ceiling=100.0, value=1e300)
    ]
    assert get_preset("tiny")["models"]["sgd"] == {"max_iter": 50}
    assert PRESETS["smoke"]["models"]["sgd"] == {"max_iter": 100}
    assert "sgd" not in PRESETS["quick"]["models"]
    assert SGD_FRAMEWORK in frameworks(["sgd"]) and "threadpoolctl" in library_versions()


def test_an_extra_backend_trains_in_an_ensemble_chosen_by_the_preset(sgd_backend, btc_candles, tmp_path):
    SEEDED.clear()
    manager = TrainingManager(
        resolve_config(BASE),
        preset="tiny",
        seed=11,
        artifacts_dir=tmp_path,
        ensembles={"volatile": VolatileEnsemble},
        preset_overrides={"ensembles": {"volatile": ["logreg", "sgd"]}},
    )
    result = manager.run_full_training("BTCUSDT", candles=btc_candles)
    section = result["ensembles"]["volatile"]
    assert section["status"] == "trained" and list(section["models"]) == ["logreg", "sgd"]
    assert set(section["ensemble"]["combiner_weights"]) == {"logreg", "sgd"}  # the combiner sees the extra backend
    assert result["regularization"]["applied"]["sgd"] == {
        "loss": "log_loss",
        "penalty": "l2",
        "alpha": 0.004,
        "max_iter": 50,
    }
    assert result["regularization"]["per_regime"]["volatile"]["sgd"] == {"section": "sgd", "values": {"alpha": 0.004}}
    assert SEEDED == [11]
    loaded = load_ensemble(tmp_path / "volatile")
    saved = loaded.saved_test_predictions()
    frame = compute_features(btc_candles.iloc[-get_preset("tiny")["max_rows"] :].reset_index(drop=True))
    matrix = FeatureMatrix.from_frame(frame, list(frame.columns))
    np.testing.assert_allclose(loaded.predict_proba(matrix, saved["positions"]), saved["ensemble"], atol=1e-9)
