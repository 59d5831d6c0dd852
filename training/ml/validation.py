"""Time-ordered validation: purged walk-forward splits, metrics, naive baselines, the train−validation gap.

Splits work on *bar positions* (the index of each row in the full hourly series), because a regime's rows
are not contiguous. A row at bar i has a label that uses closes up to bar i+H, so a training row must satisfy
``i + H + embargo < first bar of the block it is evaluated against`` (purge gap H plus an embargo).

Layout for ``n_folds`` folds::

    |------------------ development ------------------| gap |--- test ---|
    | train ... | gap | val 1 | gap | val 2 | ... val k |

Fold j trains on every development row that ends (label included) ``embargo`` bars before val j starts and
is evaluated on val j (expanding window). The test block (the last ``test_fraction`` of the rows) is never
used for fitting, tuning, early stopping or stacking.

Train−validation gap: ``log_loss = validation log loss − train log loss`` and
``accuracy = train accuracy − validation accuracy``; positive values mean the model does better on the data it
was fitted on (overfitting); near zero means regularization keeps train and validation close.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

LABELS = [0, 1, 2]


@dataclass(frozen=True)
class Fold:
    train: np.ndarray  # indices into the row arrays
    val: np.ndarray


@dataclass(frozen=True)
class Splits:
    folds: list[Fold]
    test: np.ndarray
    dev: np.ndarray


def purge_before(
    positions: np.ndarray, candidates: np.ndarray, block_start_bar: int, horizon: int, embargo: int
) -> np.ndarray:
    """The candidate rows whose label window ends more than ``embargo`` bars before ``block_start_bar``."""
    return candidates[positions[candidates] + horizon + embargo < block_start_bar]


def walk_forward_splits(
    positions,
    *,
    n_folds: int,
    horizon: int,
    embargo: int = 0,
    test_fraction: float = 0.2,
    first_train_fraction: float = 0.4,
) -> Splits:
    """Purged expanding-window folds over the development rows and a final purged test block.

    ``positions`` are the rows' bar indices, strictly increasing. The first ``first_train_fraction`` of the
    development rows are only ever trained on; the rest is cut into ``n_folds`` validation blocks.
    """
    positions = np.asarray(positions)
    if np.any(np.diff(positions) <= 0):
        raise ValueError("positions must be strictly increasing")
    n = len(positions)
    idx = np.arange(n)
    n_test = max(1, int(round(n * test_fraction)))
    test = idx[n - n_test :]
    dev = purge_before(positions, idx[: n - n_test], positions[test[0]], horizon, embargo)
    start = int(round(len(dev) * first_train_fraction))
    blocks = np.array_split(dev[start:], n_folds)
    folds = []
    for block in blocks:
        if len(block) == 0:
            continue
        train = purge_before(positions, dev[dev < block[0]], positions[block[0]], horizon, embargo)
        folds.append(Fold(train=train, val=block))
    return Splits(folds=folds, test=test, dev=dev)


def inner_split(
    positions, rows: np.ndarray, *, horizon: int, embargo: int = 0, val_fraction: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """Split training rows into a fit part and a later, purged early-stopping/tuning part."""
    positions = np.asarray(positions)
    n_val = max(1, int(round(len(rows) * val_fraction)))
    val = rows[len(rows) - n_val :]
    fit = purge_before(positions, rows[: len(rows) - n_val], positions[val[0]], horizon, embargo)
    return fit, val


# --- metrics --------------------------------------------------------------------------------------
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


def train_val_gap(train: dict, validation: dict) -> dict:
    return {
        "log_loss": validation["log_loss"] - train["log_loss"],
        "accuracy": train["accuracy"] - validation["accuracy"],
        "definition": "log_loss: validation − train; accuracy: train − validation (positive = overfitting)",
    }


# --- naive baselines -------------------------------------------------------------------------------
def class_frequencies(y, smoothing: float = 1.0) -> np.ndarray:
    counts = np.bincount(np.asarray(y).astype(int), minlength=3).astype(float) + smoothing
    return counts / counts.sum()


def majority_predict(y_train, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Always the most frequent training class; probabilities = training class frequencies (Laplace)."""
    majority = int(np.argmax(np.bincount(np.asarray(y_train).astype(int), minlength=3)))
    return np.full(n, majority), np.tile(class_frequencies(y_train), (n, 1))


def majority_baseline(y_train, y_eval) -> dict:
    pred, proba = majority_predict(y_train, len(y_eval))
    return classification_metrics(y_eval, proba, pred)


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


def persistence_baseline(all_labels, train_positions, y_train, eval_positions, y_eval, horizon: int) -> dict:
    pred, proba = persistence_predict(all_labels, train_positions, y_train, eval_positions, horizon)
    return classification_metrics(y_eval, proba, pred)
