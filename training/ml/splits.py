"""Time-ordered validation splits: purged expanding-window walk-forward folds and a final untouched test block.

Splits work on *bar positions* (the index of each row in the full hourly series), because a regime's rows
are not contiguous. A row at bar i has a label that uses closes up to bar i+H, so a training row must satisfy
``i + H + embargo < first bar of the block it is evaluated against`` (purge gap H plus an embargo).

Layout for ``n_folds`` folds::

    |------------------ development ------------------| gap |--- test ---|
    | train ... | gap | val 1 | gap | val 2 | ... val k |

Fold j trains on every development row that ends (label included) ``embargo`` bars before val j starts and
is evaluated on val j (expanding window). The test block (the last ``test_fraction`` of the rows) is never
used for fitting, tuning, early stopping or stacking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
