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
    assert evidence["sparsity_loss_term"] > 0
    assert backend.library_params["device_name"] in ("cpu", "cuda")
    assert len(backend.history["train_loss"]) == len(backend.history["val_loss"]) == 2


def test_sparsity_evidence_is_the_loss_term_lambda_times_mask_entropy(fitted):
    import torch

    backend, _ = fitted("tabnet")
    X_val, y_val = split("tabnet")[2:4]
    backend.model.network.eval()
    with torch.no_grad():
        _, m_loss = backend.model.network(torch.from_numpy(X_val))
    evidence = backend.evidence()
    assert evidence["mask_entropy"] == pytest.approx(-float(m_loss), rel=1e-5)
    assert evidence["sparsity_loss_term"] == pytest.approx(SECTION["lambda_sparse"] * -float(m_loss), rel=1e-5)
    proba = backend.predict_proba(X_val)
    data_loss = -np.mean(np.log(np.clip(proba[np.arange(len(y_val)), y_val], 1e-7, 1)))
    term = evidence["sparsity_loss_term"]
    assert evidence["sparsity_share_of_loss"] == pytest.approx(term / (term + data_loss), rel=1e-5)
    assert "mask_sparsity" not in evidence


def test_no_sparsity_penalty_gives_a_zero_term_and_weights_draw_the_batches():
    X_train, y_train, X_val, y_val, _, _ = split("tabnet")
    weights = np.where(y_train == 0, 3.0, 0.5)
    backend = build("tabnet", reg={"lambda_sparse": 0.0, "lambda_l2": 0.0}).fit(
        X_train, y_train, X_val, y_val, sample_weight=weights
    )
    assert backend.evidence()["sparsity_loss_term"] == 0.0
    assert backend.evidence()["mask_entropy"] > 0
    assert backend.library_params["sample_weight"] == "WeightedRandomSampler"


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


def test_a_training_set_one_row_past_a_full_batch_trains():
    X_train, y_train, X_val, y_val, _, _ = split("tabnet")
    backend = build("tabnet", params={"batch_size": 128, "virtual_batch_size": 64})
    backend.fit(X_train[:257], y_train[:257], X_val, y_val)  # 2 × 128 + 1: the last batch would hold one row
    assert backend.predict_proba(X_val).shape == (len(y_val), 3)
