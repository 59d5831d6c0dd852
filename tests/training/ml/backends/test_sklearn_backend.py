import warnings

import numpy as np
import pytest

from .conftest import PROFILE, build, split

pytestmark = pytest.mark.slow


def test_library_kwargs_map_the_profile_section():
    backend = build("logreg", reg={"alpha": 0.5, "l1_ratio": 0.3, "C": 2.0})
    assert backend.library_kwargs() == {"solver": "saga", "l1_ratio": 0.3, "C": 2.0}


def test_logistic_regression_gets_the_profile_values_without_deprecation():
    X_train, y_train, X_val, y_val, _, _ = split("logreg")
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        warnings.simplefilter("error", DeprecationWarning)
        backend = build("logreg").fit(X_train, y_train, X_val, y_val)
    logreg = backend.model.named_steps["logreg"]
    assert logreg.solver == "saga"
    assert logreg.l1_ratio == PROFILE["sklearn"]["l1_ratio"]
    assert logreg.C == PROFILE["sklearn"]["C"] == pytest.approx(1 / PROFILE["sklearn"]["alpha"])
    assert logreg.penalty == "deprecated"


def test_scaler_statistics_come_from_the_training_part_only(fitted):
    backend, _ = fitted("logreg")
    X_train = split("logreg")[0]
    np.testing.assert_allclose(backend.model.named_steps["scale"].mean_, X_train.mean(axis=0), rtol=1e-5, atol=1e-6)


def test_stronger_l1_gives_more_zero_coefficients():
    X_train, y_train, X_val, y_val, _, _ = split("logreg")
    shares = []
    for C in (10.0, 0.05):
        backend = build("logreg", reg={"alpha": 1 / C, "l1_ratio": 1.0, "C": C})
        shares.append(backend.fit(X_train, y_train, X_val, y_val).evidence()["zero_coefficient_share"])
    pure_l2 = build("logreg", reg={"alpha": 20.0, "l1_ratio": 0.0, "C": 0.05}).fit(X_train, y_train, X_val, y_val)
    assert shares[1] > shares[0]
    assert pure_l2.evidence()["zero_coefficient_share"] == 0.0


def test_same_seed_repeats_probabilities_exactly():
    X_train, y_train, X_val, y_val, X_test, _ = split("logreg")
    first = build("logreg", seed=3).fit(X_train, y_train, X_val, y_val).predict_proba(X_test)
    second = build("logreg", seed=3).fit(X_train, y_train, X_val, y_val).predict_proba(X_test)
    np.testing.assert_array_equal(first, second)


def test_convergence_warning_is_recorded_in_the_evidence():
    X_train, y_train, X_val, y_val, _, _ = split("logreg")
    messages = []
    backend = build("logreg", params={"max_iter": 1, "tol": 1e-12})
    backend.log = messages.append
    evidence = backend.fit(X_train, y_train, X_val, y_val).evidence()
    assert evidence["converged"] is False and evidence["convergence_warnings"]
    assert messages and messages[0].startswith("logreg:")


def test_importance_is_mean_absolute_coefficient(fitted):
    backend, _ = fitted("logreg")
    coef = backend.model.named_steps["logreg"].coef_
    assert backend.feature_importance() == pytest.approx(np.abs(coef).mean(axis=0).tolist())
    assert int(np.argmax(backend.feature_importance())) == 0


def test_evidence_states_the_l1_norm_and_the_per_row_strength_of_c():
    X_train, y_train, X_val, y_val, _, _ = split("logreg")
    backend = build("logreg", reg={"l1_ratio": 0.5, "C": 2.0}).fit(X_train, y_train, X_val, y_val)
    evidence = backend.evidence()
    assert evidence["coefficient_l1_norm"] == pytest.approx(float(np.abs(backend.logreg.coef_).sum()))
    assert evidence["fit_rows"] == len(y_train)
    assert evidence["penalty_per_row"] == pytest.approx(1 / (2.0 * len(y_train)))
    assert evidence["C_meaning"].startswith(f"C = 2 with {len(y_train)} fitted rows")


def test_sample_weight_reaches_the_logistic_regression():
    X_train, y_train, X_val, y_val, X_test, _ = split("logreg")
    plain = build("logreg").fit(X_train, y_train, X_val, y_val)
    ones = build("logreg").fit(X_train, y_train, X_val, y_val, sample_weight=np.ones(len(y_train)))
    np.testing.assert_allclose(plain.predict_proba(X_test), ones.predict_proba(X_test), atol=1e-8)
    weights = np.where(y_train == 2, 4.0, 0.5)
    weighted = build("logreg").fit(X_train, y_train, X_val, y_val, sample_weight=weights)
    assert weighted.predict_proba(X_test)[:, 2].mean() > plain.predict_proba(X_test)[:, 2].mean() + 0.05
    assert weighted.evidence()["fit_rows"] == pytest.approx(weights.sum())
