import numpy as np
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


@pytest.mark.parametrize("key", ["lstm", "transformer"])
def test_validation_history_is_the_cross_entropy_without_the_penalty(key):
    X_train, y_train, X_val, y_val, _, _ = split(key)
    reg = {"l1_reg": 0.01, "l2_reg": 0.001, "dropout_rate": 0.1}
    backend = build(key, reg=reg, params={"epochs": 4, "patience": 10}).fit(X_train, y_train, X_val, y_val)
    history, evidence = backend.history, backend.evidence()
    best = evidence["best_epoch"]
    assert best == int(np.argmin(history["val_loss"])) + 1 == backend.library_params["best_epoch"]
    proba = np.clip(backend.predict_proba(X_val), 1e-7, 1.0)  # the restored weights are the best epoch's
    by_hand = -np.mean(np.log(proba[np.arange(len(y_val)), y_val]))
    assert history["val_loss"][best - 1] == pytest.approx(by_hand, abs=1e-5)
    assert all(p > 0.05 for p in history["penalty"])
    for data, penalty, keras_val in zip(
        history["val_loss"], history["penalty"], history["val_loss_with_penalty"], strict=True
    ):
        assert keras_val == pytest.approx(data + penalty, rel=1e-4)
    share = history["penalty"][best - 1] / (history["penalty"][best - 1] + history["val_loss"][best - 1])
    assert evidence["penalty_share_at_best_epoch"] == pytest.approx(share)
    assert evidence["kernel_l1_norm"] > 0 and evidence["kernel_l2_norm"] > 0


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


@pytest.mark.parametrize("key", ["lstm", "transformer"])
def test_predictions_in_chunks_equal_keras_predict(key, fitted, monkeypatch):
    from training.ml.backends import keras_backend

    backend, X_test = fitted(key)
    expected = backend.model.predict(X_test, batch_size=256, verbose=0)
    whole = backend.predict_proba(X_test)
    monkeypatch.setattr(keras_backend, "PREDICT_CHUNK_ROWS", 7)  # several chunks and a short last one
    chunked = backend.predict_proba(X_test)
    assert whole.shape == chunked.shape == (len(X_test), 3)
    np.testing.assert_allclose(whole, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(chunked, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("key", ["lstm", "transformer"])
def test_one_graph_per_model_predicts_any_number_of_rows(key, fitted):
    """The graph is traced once for a model, whatever the row counts of its predictions (predict_on_batch traced
    again for a second count), and gives predict_on_batch's probabilities."""
    backend, X_test = fitted(key)
    for rows in (len(X_test), 5, len(X_test) - 3, 1):
        np.testing.assert_array_equal(
            backend.predict_proba(X_test[:rows]), np.asarray(backend.model.predict_on_batch(X_test[:rows]), float)
        )
    assert backend._predictor(X_test.shape[1:]).experimental_get_tracing_count() == 1


@pytest.mark.parametrize("key", ["lstm", "transformer"])
def test_models_of_one_architecture_share_one_graph_and_each_predicts_its_own_probabilities(key, fitted):
    """A second model of the same architecture (another seed: other weights) predicts through the graph traced for
    the first, with its own predict_on_batch probabilities; then the first again, with its own."""
    first, X_test = fitted(key)
    X_train, y_train, X_val, y_val, _, _ = split(key)
    second = build(key, seed=7).fit(X_train, y_train, X_val, y_val)
    graph = second._predictor(X_test.shape[1:])
    assert first._predictor(X_test.shape[1:]) is graph
    theirs = {b: np.asarray(b.model.predict_on_batch(X_test), float) for b in (first, second)}
    assert not np.array_equal(theirs[first], theirs[second])  # two different models
    for backend in (second, first, second):
        np.testing.assert_array_equal(backend.predict_proba(X_test), theirs[backend])
    assert graph.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("key", ["lstm", "transformer"])
def test_fits_of_one_architecture_share_traced_training_steps_and_each_gets_a_fresh_fits_numbers(key, monkeypatch):
    """A fit through a kept training copy (its steps traced by an earlier fit of another seed, its optimizer and
    dropout seeds advanced by it) ends with the weights, history and probabilities of the same fit on a copy built
    for it, bit for bit; the second and third fits run the first fit's traced step function."""
    from collections import OrderedDict

    from training.ml.backends import keras_runtime

    monkeypatch.setattr(keras_runtime, "_TRAINERS", OrderedDict())  # the first fit below builds its copy
    X_train, y_train, X_val, y_val, X_test, _ = split(key)
    params = {"epochs": 3, "early_stopping": False}
    fresh = build(key, seed=3, params=params).fit(X_train, y_train, X_val, y_val)
    (trainer,) = keras_runtime._TRAINERS.values()
    steps = trainer.model.train_function
    other = build(key, seed=9, params=params).fit(X_train, y_train, X_val, y_val)
    again = build(key, seed=3, params=params).fit(X_train, y_train, X_val, y_val)
    assert list(keras_runtime._TRAINERS.values()) == [trainer] and trainer.model.train_function is steps
    assert again.history == fresh.history != other.history
    for mine, theirs in zip(again.model.variables, fresh.model.variables, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    np.testing.assert_array_equal(again.predict_proba(X_test), fresh.predict_proba(X_test))
    assert again.model is not trainer.model  # the backend keeps a model of its own


@pytest.mark.parametrize("key", ["lstm", "transformer"])
def test_a_model_trained_through_the_copy_saves_its_optimizer_and_loads_without_a_warning(key, fitted, tmp_path):
    import warnings

    backend, X_test = fitted(key)
    backend.save(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = backend.load_model(tmp_path)
    assert not [w for w in caught if "Skipping variable loading for optimizer" in str(w.message)]
    assert len(loaded.optimizer.variables) == len(backend.model.optimizer.variables) > 2  # the moments came along
    np.testing.assert_array_equal(np.asarray(loaded.predict_on_batch(X_test), float), backend.predict_proba(X_test))
