"""A toy backend, whole in this one module as a new backend would be: scikit-learn's RidgeClassifier with its one
penalty ``alpha``. Importing the module registers it (as the registry's discovery imports a real one); the tests
import it inside a fixture and unregister it after, or load it as a pytest plugin (``-p``) in a subprocess, where it
is registered before Django builds the profile model and the form."""

from __future__ import annotations

import numpy as np

from training.ml.advisor import When
from training.ml.backends import Backend, Framework, register
from training.ml.backends.base import expand_proba
from training.ml.backends.evidence import ZERO_SHARE, MeasuredWarning
from training.ml.parameters import NON_NEGATIVE, FromBase, RegParam, Section

KEY = "toyridge"
SMALL = 1e-3  # |coefficient| below this counts as shrunk to zero
MSG_SHRUNK = "{where}: ridge alpha = {alpha:g} shrank {zero_share:.0%} of the coefficients below 0.001."
SECTION = Section(
    KEY,
    "Toy ridge classifier",
    (
        RegParam(
            "alpha",
            NON_NEGATIVE,
            FromBase("l2_alpha"),
            "L2 strength of the ridge classifier.",
            library_arg="alpha",
            ceiling=1e9,
        ),
    ),
    "RidgeClassifier(alpha=…)",
)


@register
class ToyRidgeBackend(Backend):
    key = KEY
    section = SECTION
    framework = Framework("toy-ridge", ("scikit-learn",))
    preset_params = {"tiny": {"tol": 1e-4}, "smoke": {"tol": 1e-4}}
    test_params = {"tol": 1e-3}
    effect_evidence = ("small_coefficient_share",)
    evidence_fields = {ZERO_SHARE: "small_coefficient_share"}
    measured_warnings = (MeasuredWarning(MSG_SHRUNK, (When(ZERO_SHARE, ">", 0.9),)),)
    saved_state = {"classes": "classes"}

    def fit(self, X_train, y_train, X_val, y_val, sample_weight=None):
        from sklearn.linear_model import RidgeClassifier

        self.start_fit()
        self.library_params = {**self.library_kwargs(), "tol": float(self.param("tol", 1e-4))}
        with self.timing():
            self.model = RidgeClassifier(**self.library_params).fit(X_train, y_train, sample_weight=sample_weight)
        self.classes = [int(c) for c in self.model.classes_]
        return self

    def _predict_proba(self, X):
        scores = self.model.decision_function(X)
        scores = np.column_stack([-scores, scores]) if scores.ndim == 1 else scores
        exp = np.exp(scores - scores.max(axis=1, keepdims=True))
        return expand_proba(exp / exp.sum(axis=1, keepdims=True), self.classes)

    def evidence(self) -> dict:
        coef = np.abs(self.model.coef_)
        return {"alpha": float(self.model.alpha), "small_coefficient_share": float(np.mean(coef < SMALL))}

    def save_model(self, directory) -> list[str]:
        import joblib

        joblib.dump(self.model, directory / "toyridge.joblib")
        return ["toyridge.joblib"]

    def load_model(self, directory):
        import joblib

        return joblib.load(directory / "toyridge.joblib")
