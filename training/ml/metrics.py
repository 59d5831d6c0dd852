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
    matrix (rows = true class, columns = predicted). ``y_pred`` defaults to the argmax of ``proba``."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score, log_loss

    y_true = np.asarray(y_true).astype(int)
    proba = clip_proba(proba)
    y_pred = proba.argmax(axis=1) if y_pred is None else np.asarray(y_pred).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # balanced accuracy warns when a class is absent from y_true
        return {
            "n": int(len(y_true)),
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
            "macro_f1": float(f1_score(y_true, y_pred, labels=LABELS, average="macro", zero_division=0)),
            "log_loss": float(log_loss(y_true, proba, labels=LABELS)),
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
