"""Synthetic out-of-fold predictions where the right combination is known."""

import numpy as np

from training.ml.combiners import softmax


def latent(n: int, seed: int, scale: float = 1.5):
    """True class probabilities softmax(z) and labels drawn from them."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, scale, (n, 3))
    p = softmax(z)
    y = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return z, y, rng


def folds(n: int, k: int = 3) -> tuple[np.ndarray, list[int]]:
    """Fold ids 0..k-1 in time order and expanding training sizes (as walk_forward_splits makes them)."""
    ids = np.repeat(np.arange(k), int(np.ceil(n / k)))[:n]
    return ids, [400 + 200 * j for j in range(k)]


def one_informative(n: int = 1800, seed: int = 0) -> tuple[dict, np.ndarray]:
    z, y, rng = latent(n, seed)
    return {
        "signal": softmax(z + rng.normal(0, 0.5, (n, 3))),
        "noise_a": softmax(rng.normal(0, 1.0, (n, 3))),
        "noise_b": softmax(rng.normal(0, 1.0, (n, 3))),
    }, y


def two_equal(n: int = 1800, seed: int = 0) -> tuple[dict, np.ndarray]:
    """Two members seeing the same signal through independent noise of the same size."""
    z, y, rng = latent(n, seed)
    return {"a": softmax(z + rng.normal(0, 1.2, (n, 3))), "b": softmax(z + rng.normal(0, 1.2, (n, 3)))}, y
