from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..advisor import GAP_LARGE, NO_EFFECT, STRONGER, WEAKER, AdviceRule, When
from ..parameters import NON_NEGATIVE, PENALTY_CEILING, POSITIVE, UNIT, Default, FromBase, Inverse, RegParam, Section
from .base import Backend, Framework, expand_proba
from .evidence import ZERO_SHARE, Evidence, MeasuredWarning
from .registry import register


@dataclass
class ElasticNetEvidence(Evidence):
    """The coefficients the elastic net zeroed, its per-row penalty strength and whether saga converged."""

    zero_coefficient_share: float | None = None
    coefficient_l1_norm: float | None = None
    fit_rows: float | None = None
    penalty_per_row: float | None = None
    C_meaning: str | None = None
    zero_coefficients: int | None = None
    coefficients: int | None = None
    l1_ratio: float | None = None
    C: float | None = None
    n_iter: int | None = None
    max_iter: int | None = None
    converged: bool | None = None
    convergence_warnings: list[str] | None = None


SECTION = Section(
    "sklearn",
    "scikit-learn elastic-net LogisticRegression",
    (
        RegParam(
            "alpha",
            NON_NEGATIVE,
            FromBase("l1_alpha"),
            "Overall penalty strength.",
            applied_as="C = 1/alpha",
            warn_above=100.0,
            ceiling=PENALTY_CEILING,
        ),
        RegParam("l1_ratio", UNIT, Default(0.5), "Mix of L1 (1.0) and L2 (0.0).", library_arg="l1_ratio"),
        RegParam(
            "C",
            POSITIVE,
            Inverse("alpha"),
            "Inverse strength; derived as 1/alpha when blank.",
            library_arg="C",
            ceiling=1e12,
        ),
    ),
    "LogisticRegression(solver='saga', l1_ratio=…, C=…); C = 1/alpha unless set explicitly.",
)
ADVICE = (
    AdviceRule(
        "stronger",
        STRONGER,
        (When("gap", ">", GAP_LARGE), When("collapsed", "==", 0), When("penalty_per_row", "<", 1e-3)),
        "The validation log loss is {gap:.3f} above the fit rows' while the penalty weighs {penalty_per_row:.2g} "
        "per row: a stronger penalty (larger alpha, smaller C) may generalize better.",
        param="alpha",
    ),
    AdviceRule(
        "weaker",
        WEAKER,
        (When("collapsed", "==", 1),),
        "The model collapsed (one class on nearly every row): the penalty may be crushing it; try a smaller alpha.",
        param="alpha",
    ),
    AdviceRule(
        "l1_no_effect",
        NO_EFFECT,
        (When("reg.l1_ratio", ">", 0), When("reg.alpha", ">", 0), When("zero_coefficient_share", "==", 0)),
        "L1 is set (l1_ratio {reg_l1_ratio:g}) but no coefficient is zero: at this strength and row count L1 has "
        "no effect.",
        param="alpha",
    ),
)
MSG_NO_EFFECT = (
    "{where}: no coefficient is zero (C = {C:g}, penalty {penalty_per_row:.2g} per row); the L1 part of the elastic "
    "net has no measurable effect. Lower C (raise alpha) to regularize."
)
WARNINGS = (
    MeasuredWarning(
        MSG_NO_EFFECT,
        (When("zero_coefficients", "==", 0), When("l1_ratio", ">", 0), When("C", ">", 0)),
        defaults={"penalty_per_row": 0.0},
    ),
)
SKLEARN = Framework("scikit-learn", ("scikit-learn",), modules=("sklearn.linear_model",))
MODEL_FILE = "logreg.joblib"


@register
class ElasticNetLogRegBackend(Backend):
    """StandardScaler (fit on the training part only) → elastic-net LogisticRegression.

    ``LogisticRegression(solver="saga", l1_ratio=…, C=…)``: in scikit-learn 1.9 ``l1_ratio`` alone selects
    the elastic-net mix (``penalty`` is deprecated and not passed). ``C`` comes from the resolved section
    (``1/alpha`` unless set explicitly). A ConvergenceWarning is recorded in the evidence, not hidden.

    scikit-learn minimizes ``C · Σ_i w_i · loss_i + penalty(coef)``; divided by the (weighted) row count n that
    is the mean loss plus ``penalty / (C · n)``, so the same C is a weaker penalty the more rows there are. The
    evidence reports that per-row strength ``1 / (C · n)`` beside the zero-coefficient share and the L1 norm.
    ``sample_weight`` is passed to ``LogisticRegression.fit``.

    params keys read (default): max_iter (1000), tol (1e-4).
    """

    key = "logreg"
    effect_evidence = ("zero_coefficient_share", "penalty_per_row")
    evidence_fields = {ZERO_SHARE: "zero_coefficient_share"}
    evidence_type = ElasticNetEvidence
    measured_warnings = WARNINGS
    test_params = {"max_iter": 300}
    default_overrides = {"alpha": 10.0}
    default_reason = (
        "logistic alpha 10, C = 0.1 (44 % zero coefficients, log loss 1.1167 vs 1.1257 at C = 100, which zeroed none)"
    )
    saved_state = {"convergence_warnings": "convergence_warnings", "weighted_rows": "weighted_rows"}
    convergence_warnings: list[str] = []
    weighted_rows = 0.0
    advice = ADVICE
    section = SECTION
    framework = SKLEARN
    library_constants = {"solver": "saga"}
    preset_params = {
        "tiny": {"max_iter": 200},
        "smoke": {"max_iter": 300},
        "quick": {"max_iter": 500},
        "full": {"max_iter": 2000},
    }

    def fit(self, X_train, y_train, X_val, y_val, sample_weight=None) -> ElasticNetLogRegBackend:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        self.start_fit()
        kwargs = {
            **self.library_kwargs(),
            "max_iter": int(self.param("max_iter", 1000)),
            "tol": float(self.param("tol", 1e-4)),
            "random_state": int(self.seed),
        }
        model = Pipeline([("scale", StandardScaler()), ("logreg", LogisticRegression(**kwargs))])
        with warnings.catch_warnings(record=True) as caught, self.timing():
            warnings.simplefilter("always", ConvergenceWarning)
            fit_kwargs = {} if sample_weight is None else {"logreg__sample_weight": np.asarray(sample_weight, float)}
            model.fit(np.asarray(X_train, dtype=np.float64), np.asarray(y_train), **fit_kwargs)
        self.convergence_warnings = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
        for message in self.convergence_warnings:
            self.log(f"logreg: {message}")
        for w in caught:
            if not issubclass(w.category, ConvergenceWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        self.model = model
        self.library_params = kwargs
        self.weighted_rows = float(len(y_train) if sample_weight is None else np.sum(sample_weight))
        self.sample_weighted = sample_weight is not None
        return self

    @property
    def logreg(self):
        return self.model.named_steps["logreg"]

    def _predict_proba(self, X):
        return expand_proba(self.model.predict_proba(np.asarray(X, dtype=np.float64)), self.logreg.classes_)

    def evidence(self) -> dict:
        coef = self.logreg.coef_
        rows = float(self.weighted_rows)
        C = float(self.logreg.C)
        per_row = 1.0 / (C * rows) if rows else None
        return {
            "zero_coefficient_share": float(np.mean(coef == 0.0)),
            "coefficient_l1_norm": float(np.abs(coef).sum()),
            "fit_rows": rows,
            "penalty_per_row": per_row,
            "C_meaning": (
                f"C = {C:g} with {rows:,.0f} fitted rows: the penalty weighs {per_row:.2g} against the mean log loss"
                if per_row is not None
                else ""
            ),
            "zero_coefficients": int(np.sum(coef == 0.0)),
            "coefficients": int(coef.size),
            "l1_ratio": float(self.logreg.l1_ratio),
            "C": float(self.logreg.C),
            "n_iter": int(np.max(self.logreg.n_iter_)),
            "max_iter": int(self.logreg.max_iter),
            "converged": not self.convergence_warnings,
            "convergence_warnings": list(self.convergence_warnings),
        }

    def feature_importance(self) -> list[float]:
        return [float(v) for v in np.mean(np.abs(self.logreg.coef_), axis=0)]

    def save_model(self, directory) -> list[str]:
        import joblib

        joblib.dump(self.model, directory / MODEL_FILE)
        return [MODEL_FILE]

    def load_model(self, directory):
        import joblib

        return joblib.load(directory / MODEL_FILE)
