import numpy as np
import pytest

from training.ml.backends import get_backend, registered_backends
from training.ml.regularization import resolve_config

ROWS, FEATURES, LOOKBACK = 600, 8, 8
TRAIN_END, VAL_END = 400, 500

# Distinct, non-default numbers so a test can tell that these exact values reached the library.
PROFILE = resolve_config({"l1_alpha": 0.003, "l2_alpha": 0.0007, "dropout_rate": 0.25}, {"sklearn": {"l1_ratio": 0.6}})


def backend_keys() -> list[str]:
    """Every registered backend: the parametrized tests run over these, so a new backend joins them unedited."""
    return registered_backends()


def make_tabular(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(ROWS, FEATURES)).astype(np.float32)
    signal = X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.6, size=ROWS)
    y = np.digitize(signal, [-0.5, 0.5]).astype(np.int64)
    return X, y


def make_windows(X: np.ndarray, lookback: int = LOOKBACK) -> np.ndarray:
    """Row i's window holds rows i-lookback+1..i (the first rows repeat row 0 as padding)."""
    padded = np.concatenate([np.repeat(X[:1], lookback - 1, axis=0), X])
    return np.stack([padded[i : i + lookback] for i in range(len(X))]).astype(np.float32)


def split(key: str, seed: int = 0):
    X, y = make_tabular(seed)
    if get_backend(key).input_kind == "sequence":
        X = make_windows(X)
    return (X[:TRAIN_END], y[:TRAIN_END], X[TRAIN_END:VAL_END], y[TRAIN_END:VAL_END], X[VAL_END:], y[VAL_END:])


def build(key: str, *, reg=None, params=None, seed=42, should_stop=None):
    cls = get_backend(key)
    return cls(
        PROFILE[cls.config_section] if reg is None else reg,
        params={**cls.test_params, **(params or {})},
        seed=seed,
        should_stop=should_stop,
    )


_FITTED: dict = {}


@pytest.fixture
def fitted():
    """A backend fitted once per test session with PROFILE and its declared ``test_params``, plus its test inputs."""

    def get(key: str):
        if key not in _FITTED:
            X_train, y_train, X_val, y_val, X_test, _ = split(key)
            _FITTED[key] = (build(key).fit(X_train, y_train, X_val, y_val), X_test)
        return _FITTED[key]

    return get
