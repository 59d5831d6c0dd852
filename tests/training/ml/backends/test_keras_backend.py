import pytest

from training.ml.errors import TrainingCancelled

from .conftest import PROFILE, build, split

pytestmark = pytest.mark.slow
SECTION = PROFILE["tensorflow"]


def test_library_kwargs_map_the_profile_section():
    backend = build("lstm", reg={"l1_reg": 0.2, "l2_reg": 0.03, "dropout_rate": 0.4})
    assert backend.library_kwargs() == {"l1": 0.2, "l2": 0.03, "dropout_rate": 0.4}


def _regularizer_numbers(layer, attr):
    config = getattr(layer, attr).get_config()
    return pytest.approx(config["l1"]), pytest.approx(config["l2"])


def test_lstm_layers_carry_the_profile_regularizers_and_dropout(fitted):
    backend, _ = fitted("lstm")
    model = backend.model
    lstm = model.get_layer("lstm")
    expected = (SECTION["l1_reg"], SECTION["l2_reg"])
    assert _regularizer_numbers(lstm, "kernel_regularizer") == expected
    assert _regularizer_numbers(lstm, "recurrent_regularizer") == expected
    for name in ("dense_hidden", "probabilities"):
        assert _regularizer_numbers(model.get_layer(name), "kernel_regularizer") == expected
    assert [model.get_layer(n).rate for n in ("dropout_lstm", "dropout_dense")] == [SECTION["dropout_rate"]] * 2


def test_transformer_layers_carry_the_profile_regularizers_and_dropout(fitted):
    backend, _ = fitted("transformer")
    model = backend.model
    expected = (SECTION["l1_reg"], SECTION["l2_reg"])
    for name in ("embed", "ff_hidden", "ff_out", "probabilities"):
        assert _regularizer_numbers(model.get_layer(name), "kernel_regularizer") == expected
    attention = model.get_layer("attention")
    for sub in ("query", "key", "value", "output"):
        assert _regularizer_numbers(getattr(attention, f"{sub}_dense"), "kernel_regularizer") == expected
    assert attention.dropout == SECTION["dropout_rate"]
    for name in ("dropout_attention", "dropout_ff", "dropout_head"):
        assert model.get_layer(name).rate == SECTION["dropout_rate"]
    assert {"LayerNormalization", "MultiHeadAttention"} <= {type(layer).__name__ for layer in model.layers}


@pytest.mark.parametrize("key", ["lstm", "transformer"])
def test_evidence_measures_the_penalty_share(key, fitted):
    backend, _ = fitted(key)
    evidence = backend.evidence()
    assert evidence["regularization_penalty"] > 0
    assert 0 < evidence["penalty_share_of_loss"] < 1
    share = evidence["regularization_penalty"] / (evidence["regularization_penalty"] + evidence["train_data_loss"])
    assert evidence["penalty_share_of_loss"] == pytest.approx(share)
    assert all(
        numbers == {"l1": pytest.approx(SECTION["l1_reg"]), "l2": pytest.approx(SECTION["l2_reg"])}
        for numbers in evidence["regularizers"].values()
    )
    assert len(backend.history["train_loss"]) == backend.library_params["epochs_run"] == 2


def test_zero_regularization_gives_zero_penalty():
    X_train, y_train, X_val, y_val, _, _ = split("lstm")
    backend = build("lstm", reg={"l1_reg": 0.0, "l2_reg": 0.0, "dropout_rate": 0.0}, params={"epochs": 1})
    assert backend.fit(X_train, y_train, X_val, y_val).evidence()["regularization_penalty"] == 0.0


def test_should_stop_cancels_between_epochs():
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) >= 3  # before training, after epoch 1, after epoch 2

    X_train, y_train, X_val, y_val, _, _ = split("lstm")
    backend = build("lstm", params={"epochs": 20, "patience": 20}, should_stop=should_stop)
    with pytest.raises(TrainingCancelled, match="after epoch 2"):
        backend.fit(X_train, y_train, X_val, y_val)
    assert len(backend.history["train_loss"]) == 2
    assert backend.model is None
