import math

import numpy as np
import pytest

from training.ml.metrics import (
    classification_metrics,
    majority_predict,
    persisted_labels,
    persistence_predict,
    train_val_gap,
)


def majority_baseline(y_train, y_eval) -> dict:
    pred, proba = majority_predict(y_train, len(y_eval))
    return classification_metrics(y_eval, proba, pred)


def persistence_baseline(all_labels, train_positions, y_train, eval_positions, y_eval, horizon: int) -> dict:
    pred, proba = persistence_predict(all_labels, train_positions, y_train, eval_positions, horizon)
    return classification_metrics(y_eval, proba, pred)


def test_metrics_hand_computed():
    y = np.array([0, 1, 2, 2])
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    m = classification_metrics(y, proba)
    assert m["accuracy"] == 0.75  # predictions 0, 1, 1, 2
    assert m["balanced_accuracy"] == pytest.approx((1 + 1 + 0.5) / 3)
    f1 = [1.0, 2 * 0.5 * 1 / 1.5, 2 * 1 * 0.5 / 1.5]
    assert m["macro_f1"] == pytest.approx(np.mean(f1))
    assert m["log_loss"] == pytest.approx(-np.mean(np.log([0.7, 0.6, 0.3, 0.8])))
    assert m["confusion_matrix"] == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]


def test_log_loss_counts_all_three_classes_even_if_absent():
    y = np.array([0, 0, 2])
    proba = np.array([[0.5, 0.25, 0.25], [0.5, 0.25, 0.25], [0.25, 0.25, 0.5]])
    assert classification_metrics(y, proba)["log_loss"] == pytest.approx(-math.log(0.5))


def test_majority_baseline():
    m = majority_baseline(np.array([1, 1, 1, 0, 2]), np.array([1, 0, 1, 2]))
    assert m["accuracy"] == 0.5
    assert m["confusion_matrix"] == [[0, 1, 0], [0, 2, 0], [0, 1, 0]]
    freq = np.array([2, 4, 2]) / 8  # Laplace-smoothed training frequencies
    assert m["log_loss"] == pytest.approx(-np.mean(np.log(freq[[1, 0, 1, 2]])))


def test_persistence_uses_the_label_known_at_t():
    # horizon 2: at bar t the latest fully known label is that of bar t-2, not t-1
    all_labels = np.array([0, 1, 2, 0, 1, 2, np.nan, np.nan])
    assert persisted_labels(all_labels, np.array([2, 3, 4, 5]), 2, fallback=1).tolist() == [0, 1, 2, 0]
    assert persisted_labels(all_labels, np.array([0, 1, 8]), 2, fallback=1).tolist() == [1, 1, 1]
    m = persistence_baseline(all_labels, np.array([2, 3]), np.array([2, 0]), np.array([4, 5]), np.array([2, 0]), 2)
    assert m["accuracy"] == 1.0
    assert m["confusion_matrix"] == [[1, 0, 0], [0, 0, 0], [0, 0, 1]]


def test_train_val_gap_sign():
    train = {"log_loss": 0.7, "accuracy": 0.6}
    val = {"log_loss": 1.0, "accuracy": 0.45}
    gap = train_val_gap(train, val)
    assert gap["log_loss"] == pytest.approx(0.3) and gap["accuracy"] == pytest.approx(0.15)


def _sklearn_reference(y, proba, pred) -> dict:
    """scikit-learn's own functions on the clipped probabilities (the oracle, not the code under test)."""
    import warnings

    from sklearn import metrics

    from training.ml.metrics import clip_proba

    proba = clip_proba(proba)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # balanced accuracy warns when a class is absent
        return {
            "n": len(y),
            "accuracy": metrics.accuracy_score(y, pred),
            "balanced_accuracy": metrics.balanced_accuracy_score(y, pred),
            "macro_f1": metrics.f1_score(y, pred, labels=[0, 1, 2], average="macro", zero_division=0),
            "log_loss": metrics.log_loss(y, y_proba=proba, labels=[0, 1, 2]),
            "confusion_matrix": metrics.confusion_matrix(y, pred, labels=[0, 1, 2]).tolist(),
        }


@pytest.mark.parametrize("case", range(40))
def test_the_metrics_equal_scikit_learn_s_on_random_and_degenerate_inputs(case):
    """scikit-learn's metric functions are the reference: random labels and probabilities, classes absent from
    the truth or the predictions, a single class, one row, probabilities of 0 and 1 (clipped)."""
    rng = np.random.default_rng(case)
    n = int(rng.choice([1, 2, 7, 50, 400]))
    classes = [[0, 1, 2], [0, 2], [1], [2, 1]][case % 4]
    y = rng.choice(classes, size=n)
    proba = rng.dirichlet(np.ones(3) * [0.2, 1.0, 5.0][case % 3], size=n)
    if case % 5 == 0:
        proba[: n // 2] = np.eye(3)[rng.integers(0, 3, size=n // 2)]  # certain predictions: log loss clips
    pred = None if case % 2 else rng.choice([0, 1, 2], size=n)
    ours = classification_metrics(y, proba, pred)
    reference = _sklearn_reference(y, proba, proba.argmax(axis=1) if pred is None else pred)
    assert ours["confusion_matrix"] == reference["confusion_matrix"]
    assert ours["n"] == reference["n"]
    for key in ("accuracy", "balanced_accuracy", "macro_f1", "log_loss"):
        assert ours[key] == pytest.approx(reference[key], rel=1e-12, abs=1e-15), key


def test_what_scikit_learn_refuses_is_refused_with_its_error():
    with pytest.raises(ValueError):
        classification_metrics(np.array([], dtype=int), np.zeros((0, 3)))
    with pytest.raises(ValueError):
        classification_metrics(np.array([0, 1]), np.full((3, 3), 1 / 3))  # lengths differ
