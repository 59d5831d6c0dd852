import numpy as np
import pytest

from training.ml.backends import Backend, BackendNotFitted, get_backend
from training.ml.backends.base import expand_proba
from training.ml.backends.evidence import BEST_ITERATION

from .conftest import PROFILE, backend_keys, split

KEYS = backend_keys()
SHIPPED = {"lightgbm", "lstm", "transformer", "logreg", "tabnet"}


def trains_in_iterations(key: str) -> bool:
    """A backend that declares where early stopping kept it (``best_iteration``) trains in epochs or rounds and so
    records train/val loss curves (logreg has none)."""
    return BEST_ITERATION in get_backend(key).evidence_fields


def ranks_features(key: str) -> bool:
    """Backends that override ``feature_importance()``; the Keras ones keep the base class's None."""
    return get_backend(key).feature_importance is not Backend.feature_importance


def test_registry_holds_every_shipped_backend_each_with_test_params():
    assert SHIPPED <= set(KEYS)
    assert all(get_backend(key).test_params for key in SHIPPED)


def test_unknown_key_lists_known_backends():
    with pytest.raises(KeyError) as raised:
        get_backend("xgboost")
    for key in KEYS:
        assert key in str(raised.value)


@pytest.mark.parametrize("key", KEYS)
def test_predict_before_fit_raises(key):
    cls = get_backend(key)
    backend = cls(PROFILE[cls.config_section], params=cls.test_params)
    X = split(key)[4]
    with pytest.raises(BackendNotFitted, match=key):
        backend.predict_proba(X)


def test_expand_proba_places_columns_by_class_label():
    out = expand_proba(np.array([[0.3, 0.7], [0.9, 0.1]]), [0, 2])
    np.testing.assert_array_equal(out, [[0.3, 0.0, 0.7], [0.9, 0.0, 0.1]])
    binary = expand_proba(np.array([0.25]), [1, 2])
    np.testing.assert_array_equal(binary, [[0.0, 0.75, 0.25]])


@pytest.mark.slow
@pytest.mark.parametrize("key", KEYS)
def test_fit_predict_save_load_round_trip(key, fitted, tmp_path):
    backend, X_test = fitted(key)
    proba = backend.predict_proba(X_test)
    assert proba.shape == (len(X_test), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(proba >= 0)
    assert backend.fit_seconds > 0
    if trains_in_iterations(key):
        assert len(backend.history["train_loss"]) == len(backend.history["val_loss"]) > 0
    else:
        assert backend.history == {}
    importance = backend.feature_importance()
    if ranks_features(key):
        assert len(importance) == X_test.shape[-1]
    else:
        assert importance is None

    files = backend.save(tmp_path)
    assert files and all((tmp_path / name).is_file() for name in files)
    loaded = type(backend).load(tmp_path, PROFILE[backend.config_section])
    np.testing.assert_array_equal(loaded.predict_proba(X_test), proba)
    assert loaded.library_params == backend.library_params
    assert loaded.evidence() == backend.evidence()
