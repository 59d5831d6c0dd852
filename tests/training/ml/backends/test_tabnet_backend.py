import numpy as np
import pytest

from training.ml.errors import TrainingCancelled

from .conftest import PROFILE, build, split

pytestmark = pytest.mark.slow
SECTION = PROFILE["tabnet"]


def test_library_kwargs_map_the_profile_section():
    backend = build("tabnet", reg={"lambda_sparse": 0.02, "lambda_l2": 0.005}, params={"learning_rate": 0.01})
    assert backend.library_kwargs() == {"lambda_sparse": 0.02, "optimizer_params": {"lr": 0.01, "weight_decay": 0.005}}


def test_fitted_model_uses_lambda_sparse_and_weight_decay(fitted):
    backend, _ = fitted("tabnet")
    assert backend.model.lambda_sparse == SECTION["lambda_sparse"]
    group = backend.model._optimizer.param_groups[0]
    assert group["weight_decay"] == SECTION["lambda_l2"]
    evidence = backend.evidence()
    assert evidence["optimizer_weight_decay"] == SECTION["lambda_l2"]
    assert 0.0 <= evidence["mask_sparsity"] <= 1.0
    assert backend.library_params["device_name"] in ("cpu", "cuda")
    assert len(backend.history["train_loss"]) == len(backend.history["val_loss"]) == 2


def test_mask_sparsity_is_measured_from_explain(fitted):
    backend, X_test = fitted("tabnet")
    X_val = split("tabnet")[2]
    _, masks = backend.model.explain(X_val)
    expected = np.mean(np.stack(list(masks.values())) < 1e-6)
    assert backend.evidence()["mask_sparsity"] == pytest.approx(expected)


def test_should_stop_cancels_between_epochs():
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) >= 2  # before training, then after epoch 1

    X_train, y_train, X_val, y_val, _, _ = split("tabnet")
    backend = build("tabnet", params={"max_epochs": 20, "patience": 20}, should_stop=should_stop)
    with pytest.raises(TrainingCancelled, match="after epoch 1"):
        backend.fit(X_train, y_train, X_val, y_val)
    assert backend.model is None
