"""Classification metrics, the train−validation gap and the naive baselines' predictions.

Train−validation gap: ``log_loss = validation log loss − train log loss`` and
``accuracy = train accuracy − validation accuracy``; positive values mean the model does better on the data it
was fitted on (overfitting); near zero means regularization keeps train and validation close.
"""

from __future__ import annotations

import warnings

import numpy as np

LABELS = [0, 1, 2]
GAP_DEFINITION = (
    "the same model on its own fit rows and on its own validation block, per fold, averaged over folds; "
    "log_loss: validation − fit; accuracy: fit − validation (positive = overfitting)"
)


def clip_proba(proba: np.ndarray, eps: float = 1e-7) -> np.ndarray:
    proba = np.clip(np.asarray(proba, dtype=float), eps, 1.0)
    return proba / proba.sum(axis=1, keepdims=True)


def classification_metrics(y_true, proba, y_pred=None) -> dict:
    """Accuracy, balanced accuracy, macro-F1 (all classes 0/1/2), log loss with labels=[0,1,2], confusion
    matrix (rows = true class, columns = predicted). ``y_pred`` defaults to the argmax of ``proba``.

    Computed from the confusion matrix with scikit-learn's definitions (``tests/training/ml/test_metrics.py``
    checks each against ``sklearn.metrics`` on random and degenerate inputs): a walk-forward run asks for these
    a few hundred times, and scikit-learn's input validation made that 3 s of a ``quick`` run (issue 26)."""
    y_true = np.asarray(y_true).astype(int)
    proba = clip_proba(proba)
    y_pred = proba.argmax(axis=1) if y_pred is None else np.asarray(y_pred).astype(int)
    n = len(y_true)
    if not n or len(y_pred) != n or proba.shape != (n, 3) or not _in_labels(y_true) or not _in_labels(y_pred):
        return _sklearn_metrics(y_true, proba, y_pred)  # scikit-learn's own errors for what it refuses
    matrix = np.bincount(y_true * 3 + y_pred, minlength=9).reshape(3, 3)
    hits = np.diag(matrix).astype(float)
    true_counts, predicted_counts = matrix.sum(axis=1), matrix.sum(axis=0)
    present = true_counts > 0  # balanced accuracy: the mean recall of the classes y_true holds
    f1_denominator = true_counts + predicted_counts
    f1 = np.divide(2 * hits, f1_denominator, out=np.zeros(3), where=f1_denominator > 0)  # zero_division=0
    eps = np.finfo(float).eps  # log_loss clips as scikit-learn does
    chosen = np.clip(proba[np.arange(n), y_true], eps, 1 - eps)
    return {
        "n": int(n),
        "accuracy": float(hits.sum() / n),
        "balanced_accuracy": float(np.mean(hits[present] / true_counts[present])),
        "macro_f1": float(f1.mean()),
        "log_loss": float(-np.log(chosen).sum() / n),
        "confusion_matrix": matrix.tolist(),
    }


def _in_labels(values: np.ndarray) -> bool:
    return bool(values.size) and int(values.min()) >= 0 and int(values.max()) <= 2


def _sklearn_metrics(y_true, proba, y_pred) -> dict:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score, log_loss

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # balanced accuracy warns when a class is absent from y_true
        return {
            "n": int(len(y_true)),
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, labels=LABELS, average="macro", zero_division=0)),
            "log_loss": float(log_loss(y_true, y_proba=proba, labels=LABELS)),
            "confusion_matrix": confusion_matrix(y_true, y_pred, labels=LABELS).tolist(),
        }


def row_log_loss(y_true, proba) -> np.ndarray:
    """Per-row cross-entropy with the clipping of ``classification_metrics`` (its mean is that log loss)."""
    y_true = np.asarray(y_true).astype(int)
    return -np.log(clip_proba(proba)[np.arange(len(y_true)), y_true])


def train_val_gap(train: dict, validation: dict) -> dict:
    return {
        "log_loss": validation["log_loss"] - train["log_loss"],
        "accuracy": train["accuracy"] - validation["accuracy"],
        "definition": GAP_DEFINITION,
    }


# --- naive baselines -------------------------------------------------------------------------------
def class_frequencies(y, smoothing: float = 1.0) -> np.ndarray:
    counts = np.bincount(np.asarray(y).astype(int), minlength=3).astype(float) + smoothing
    return counts / counts.sum()


def majority_predict(y_train, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Always the most frequent training class; probabilities = training class frequencies (Laplace)."""
    majority = int(np.argmax(np.bincount(np.asarray(y_train).astype(int), minlength=3)))
    return np.full(n, majority), np.tile(class_frequencies(y_train), (n, 1))


def uniform_predict(y_train, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The no-skill forecast: 1/3 for each class on every row (predicted class: the training majority)."""
    majority = int(np.bincount(np.asarray(y_train, dtype=int), minlength=3).argmax())
    return np.full(n, majority), np.full((n, 3), 1.0 / 3.0)


def persisted_labels(all_labels: np.ndarray, positions: np.ndarray, horizon: int, fallback: int) -> np.ndarray:
    """For a row at bar t, the label of bar t−H: the most recent label fully known at t (its horizon ends
    at the close of bar t). ``fallback`` where that bar has no label."""
    src = np.asarray(positions) - horizon
    out = np.full(len(src), fallback, dtype=int)
    ok = src >= 0
    vals = np.full(len(src), np.nan)
    vals[ok] = np.asarray(all_labels, dtype=float)[src[ok]]
    known = ~np.isnan(vals)
    out[known] = vals[known].astype(int)
    return out


def persistence_predict(
    all_labels, train_positions, y_train, eval_positions, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Predicts the label of bar t−H (see ``persisted_labels``). The probabilities are P(y | persisted class)
    estimated on the training rows (Laplace-smoothed), used for the log loss only."""
    y_train = np.asarray(y_train).astype(int)
    fallback = int(np.argmax(np.bincount(y_train, minlength=3)))
    prev_train = persisted_labels(all_labels, np.asarray(train_positions), horizon, fallback)
    table = np.ones((3, 3))
    np.add.at(table, (prev_train, y_train), 1.0)
    table /= table.sum(axis=1, keepdims=True)
    prev_eval = persisted_labels(all_labels, np.asarray(eval_positions), horizon, fallback)
    return prev_eval, table[prev_eval]
