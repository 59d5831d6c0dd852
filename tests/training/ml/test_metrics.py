import math

import numpy as np
import pytest

from training.ml.metrics import (
    classification_metrics,
    majority_baseline,
    persisted_labels,
    persistence_baseline,
    train_val_gap,
)


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
