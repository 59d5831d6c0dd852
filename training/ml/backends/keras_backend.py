from __future__ import annotations

import numpy as np

from ..parameters import NON_NEGATIVE, PENALTY_CEILING, UNIT_RIGHT_OPEN, FromBase, RegParam, Section
from .base import N_CLASSES, Backend
from .evidence import BEST_ITERATION, PENALTY_SHARE, ZERO_SHARE
from .keras_advice import ADVICE, WARNINGS, KerasEvidence
from .keras_runtime import TENSORFLOW, TWINS_LOCK, _tensorflow, copy_state, inference_graph, training_copy
from .registry import register

# Measured on the offline sample (quick): at L1 0.01 the LSTM collapsed to one class and the penalty was 74 % of
# the Transformer's validation loss; at 0.001 neither collapsed. Above this the report warns.
KERAS_L1_WARN = 0.005

SECTION = Section(
    "tensorflow",
    "Keras / TensorFlow (LSTM, Transformer)",
    (
        RegParam(
            "l1_reg",
            NON_NEGATIVE,
            FromBase("l1_alpha"),
            "L1 on kernel and recurrent weights.",
            library_arg="l1",
            applied_as="keras.regularizers.L1L2(l1=…)",
            warn_above=KERAS_L1_WARN,
            ceiling=PENALTY_CEILING,
        ),
        RegParam(
            "l2_reg",
            NON_NEGATIVE,
            FromBase("l2_alpha"),
            "L2 on kernel and recurrent weights.",
            library_arg="l2",
            applied_as="keras.regularizers.L1L2(l2=…)",
            warn_above=1.0,
            ceiling=PENALTY_CEILING,
        ),
        RegParam(
            "dropout_rate",
            UNIT_RIGHT_OPEN,
            FromBase("dropout_rate"),
            "Dropout between layers.",
            library_arg="dropout_rate",
            applied_as="keras.layers.Dropout(rate=…)",
            warn_above=0.7,
        ),
    ),
    "L1L2(l1_reg, l2_reg) as kernel_regularizer and recurrent_regularizer (LSTM) and on Dense kernels; "
    "Dropout(dropout_rate) after each block.",
)
DATA_LOSS = "data_loss"
NEAR_ZERO = 1e-3
PREDICT_CHUNK_ROWS = 8192  # rows per call of the inference graph


def _penalty(keras, model) -> float:
    """The L1/L2 regularization term of the model's current weights (what Keras adds to the loss)."""
    return float(sum(float(keras.ops.convert_to_numpy(loss)) for loss in model.losses))


def _share(penalty: float, data_loss: float) -> float:
    return penalty / (penalty + data_loss) if penalty + data_loss > 0 else 0.0


class _KerasBackend(Backend):
    """Shared fit/predict/save for the Keras sequence models (X is (n, lookback, features) float32).

    params keys read by both (default):
      epochs (30), batch_size (64), patience (5)      early stopping on val_loss, best weights restored
      early_stopping (True)                            False (a sweep's ``tensorflow.early_stopping=off``): all
                                                       ``epochs``, the last epoch's weights kept
      learning_rate (1e-3)                             Adam
      intra_op_threads (2), inter_op_threads (1)       TensorFlow thread pools, fixed once per process
      lookback                                         accepted but not read: the window length is X.shape[1]
    Early stopping, best-weights restore and the ``history`` curves watch the **data loss**: the cross-entropy
    without the L1/L2 penalty (a compiled ``SparseCategoricalCrossentropy`` metric; Keras' own ``loss`` /
    ``val_loss`` add the penalty, which with strong L1 dominates them and would make "best epoch" the epoch the
    penalty stopped shrinking). ``history``: ``train_loss`` (mean data loss over the epoch's batches, dropout on),
    ``val_loss`` (data loss on the validation part), ``penalty`` (the L1/L2 term at the epoch's end weights) and
    ``val_loss_with_penalty`` (Keras' ``val_loss``). ``sample_weight`` weighs the training rows' loss; the
    validation data loss is unweighted.
    """

    effect_evidence = ("penalty_share_at_best_epoch", "kernel_near_zero_share")
    mechanism_evidence = ("best_epoch", "early_stopping")
    evidence_fields = {
        PENALTY_SHARE: "penalty_share_at_best_epoch",
        ZERO_SHARE: "kernel_near_zero_share",
        BEST_ITERATION: "best_epoch",
    }
    evidence_type = KerasEvidence
    measured_warnings = WARNINGS
    default_overrides = {"l1_reg": 1e-4, "l2_reg": 1e-4}
    default_reason = (
        "Keras L1 = L2 = 1e-4 (at 0.01 the LSTM collapsed to one class and the penalty was 74 % of the "
        "Transformer's validation loss; at 1e-4 ~5 %, no collapse)"
    )
    saved_state = {"evidence": "measured"}
    measured: dict = {}
    advice = ADVICE
    holds = {"early_stopping": {"off": {"early_stopping": False}}}
    section = SECTION
    framework = TENSORFLOW
    input_kind = "sequence"

    def regularizer(self, keras):
        kw = self.library_kwargs()
        return keras.regularizers.L1L2(l1=kw["l1"], l2=kw["l2"])

    def build(self, keras, input_shape: tuple[int, int]):
        raise NotImplementedError

    def architecture(self) -> dict:
        raise NotImplementedError

    def _keras(self):
        return _tensorflow(int(self.param("intra_op_threads", 2)), int(self.param("inter_op_threads", 1)), self.log)

    def fit(self, X_train, y_train, X_val, y_val, sample_weight=None) -> _KerasBackend:
        keras, _ = self._keras()
        self.start_fit()
        X_train, X_val = np.asarray(X_train, dtype=np.float32), np.asarray(X_val, dtype=np.float32)
        y_train, y_val = np.asarray(y_train, dtype=np.int64), np.asarray(y_val, dtype=np.int64)
        learning_rate = float(self.param("learning_rate", 1e-3))
        row_shape = tuple(int(d) for d in X_train.shape[1:])

        def compiled():
            model = self.build(keras, row_shape)
            model.compile(
                optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                loss="sparse_categorical_crossentropy",
                metrics=[keras.metrics.SparseCategoricalCrossentropy(name=DATA_LOSS)],
            )
            return model

        backend = self

        class StopCheck(keras.callbacks.Callback):
            cancelled = False

            def on_epoch_end(self, epoch, logs=None):
                if backend.should_stop():
                    StopCheck.cancelled = True
                    self.model.stop_training = True

        class PenaltyTrack(keras.callbacks.Callback):
            values: list[float] = []

            def on_epoch_end(self, epoch, logs=None):
                PenaltyTrack.values.append(_penalty(keras, self.model))

        PenaltyTrack.values = []
        epochs, batch_size, patience = (
            int(self.param("epochs", 30)),
            int(self.param("batch_size", 64)),
            int(self.param("patience", 5)),
        )
        stopping = bool(self.param("early_stopping", True))  # False: all ``epochs``, the last epoch's weights
        early = (
            [
                keras.callbacks.EarlyStopping(
                    monitor=f"val_{DATA_LOSS}", mode="min", patience=patience, restore_best_weights=True
                )
            ]
            if stopping
            else []
        )
        key = (
            type(self).__name__,
            tuple(sorted(self.architecture().items())),
            row_shape,
            tuple(sorted(self.library_kwargs().items())),
            learning_rate,
            sample_weight is not None,
        )
        with training_copy(key, compiled) as trainer:  # its steps traced once per key and process
            keras.utils.set_random_seed(int(self.seed))
            model = compiled()  # this fit's initial weights and dropout seeds, drawn from the seed as before
            trainer.load(model)
            with self.timing():
                fitted = trainer.model.fit(
                    X_train,
                    y_train,
                    sample_weight=None if sample_weight is None else np.asarray(sample_weight, dtype=np.float32),
                    validation_data=(X_val, y_val),
                    epochs=epochs,
                    batch_size=batch_size,
                    shuffle=True,
                    verbose=0,
                    callbacks=[PenaltyTrack(), *early, StopCheck()],
                )
            copy_state(trainer.model, model)
        self.history = {
            "train_loss": [float(v) for v in fitted.history[DATA_LOSS]],
            "val_loss": [float(v) for v in fitted.history[f"val_{DATA_LOSS}"]],
            "penalty": [float(v) for v in PenaltyTrack.values],
            "val_loss_with_penalty": [float(v) for v in fitted.history["val_loss"]],
        }
        if StopCheck.cancelled:
            self.check_stop(f"between epochs (after epoch {len(self.history['train_loss'])})")
        self.model = model
        # the epoch whose weights are kept: the restored best one, or the last without early stopping
        best_epoch = int(np.argmin(self.history["val_loss"])) + 1 if stopping else len(self.history["val_loss"])
        self.library_params = {
            **self.library_kwargs(),
            "kernel_regularizer": "L1L2",
            "recurrent_regularizer": "L1L2" if self.key == "lstm" else None,
            **self.architecture(),
            "epochs": epochs,
            "epochs_run": len(self.history["train_loss"]),
            "best_epoch": best_epoch,
            "early_stopping": stopping,
            "early_stopping_monitor": "validation cross-entropy without the penalty" if stopping else "off",
            "batch_size": batch_size,
            "patience": patience,
            "learning_rate": learning_rate,
            "seed": int(self.seed),
            "sample_weight": sample_weight is not None,
        }
        self.measured = self._measure(keras, X_train, y_train, best_epoch)
        return self

    def _measure(self, keras, X_train, y_train, best_epoch: int) -> dict:
        penalty = _penalty(keras, self.model)
        self.fit_rows_proba = self._predict_proba(X_train)
        proba = np.clip(self.fit_rows_proba, 1e-7, 1.0)
        data_loss = float(-np.mean(np.log(proba[np.arange(len(y_train)), y_train])))
        best_penalty = self.history["penalty"][best_epoch - 1]
        best_val = self.history["val_loss"][best_epoch - 1]
        return {
            "best_epoch": best_epoch,
            "early_stopping": int(bool(self.library_params.get("early_stopping", True))),
            "val_data_loss_at_best_epoch": best_val,
            "penalty_at_best_epoch": best_penalty,
            "penalty_share_at_best_epoch": _share(best_penalty, best_val),
            "regularization_penalty": penalty,
            "train_data_loss": data_loss,
            "penalty_share_of_loss": _share(penalty, data_loss),
            **self.weight_norms(),
            "regularizers": self.layer_regularizers(),
            "dropout_rates": self.dropout_rates(),
        }

    def weight_norms(self) -> dict:
        """L1 and L2 norm of every kernel the penalty acts on (kernels and recurrent kernels; no biases)."""
        kernels = [
            np.asarray(w.numpy() if hasattr(w, "numpy") else w)
            for w in self.model.trainable_weights
            if "kernel" in w.path.rsplit("/", 1)[-1]
        ]
        flat = np.concatenate([k.ravel() for k in kernels]) if kernels else np.zeros(0)
        return {
            "kernel_weights": int(flat.size),
            "kernel_l1_norm": float(np.abs(flat).sum()),
            "kernel_l2_norm": float(np.sqrt(np.square(flat).sum())),
            "kernel_mean_abs": float(np.abs(flat).mean()) if flat.size else 0.0,
            "kernel_near_zero_share": float(np.mean(np.abs(flat) < NEAR_ZERO)) if flat.size else 0.0,
        }

    def layer_regularizers(self) -> dict:
        """Per layer, the regularizers' l1/l2 numbers read back from the built model."""
        found = {}
        for layer in self.model.layers:
            for attr in ("kernel_regularizer", "recurrent_regularizer"):
                regularizer = getattr(layer, attr, None)
                if regularizer is not None:
                    config = regularizer.get_config()
                    found[f"{layer.name}.{attr}"] = {
                        "l1": float(config.get("l1", 0.0)),
                        "l2": float(config.get("l2", 0.0)),
                    }
        return found

    def dropout_rates(self) -> dict:
        rates = {}
        for layer in self.model.layers:
            if layer.__class__.__name__ == "Dropout":
                rates[layer.name] = float(layer.rate)
            elif layer.__class__.__name__ == "MultiHeadAttention":
                rates[f"{layer.name}.attention_dropout"] = float(layer.dropout)
        return rates

    def evidence(self) -> dict:
        return dict(self.measured)

    def _predict_proba(self, X):
        """The model's probabilities over chunks of PREDICT_CHUNK_ROWS through the process's inference graph of its
        architecture (``_predictor``); predict_on_batch's, bit for bit (tests)."""
        X = np.asarray(X, dtype=np.float32)
        with TWINS_LOCK:
            predict = self._predictor(X.shape[1:])
            parts = [
                np.asarray(predict(X[i : i + PREDICT_CHUNK_ROWS]), dtype=np.float64)
                for i in range(0, len(X), PREDICT_CHUNK_ROWS)
            ]
        return np.concatenate(parts) if parts else np.zeros((0, N_CLASSES))

    def _predictor(self, row_shape: tuple):
        """The inference graph of this model's architecture and window shape (``inference_graph``), holding this
        model's weights; its twin is built like the model (``build``: regularizers and dropout do nothing at
        inference), and the next fit's seeding resets the initial weights its building drew. Call with
        ``TWINS_LOCK`` held."""
        keras, tf = self._keras()
        row_shape = tuple(int(d) for d in row_shape)
        key = (type(self).__name__, tuple(sorted(self.architecture().items())), row_shape)
        return inference_graph(key, self.model, lambda: self.build(keras, row_shape), tf)

    def save_model(self, directory) -> list[str]:
        name = f"{self.key}.keras"
        self.model.save(str(directory / name))
        return [name]

    def load_model(self, directory):
        keras, _ = self._keras()
        return keras.saving.load_model(str(directory / f"{self.key}.keras"))


@register
class LSTMBackend(_KerasBackend):
    """LSTM → Dropout → Dense(relu) → Dropout → Dense(3, softmax).

    ``L1L2(l1=l1_reg, l2=l2_reg)`` is the LSTM's kernel_regularizer and recurrent_regularizer and the
    kernel_regularizer of both Dense layers; ``Dropout(dropout_rate)`` after the LSTM and the hidden Dense.

    params keys read, besides the shared ones: lstm_units (32), dense_units (16).
    """

    key = "lstm"
    test_params = {"epochs": 2, "lstm_units": 8, "dense_units": 8, "batch_size": 64}
    preset_params = {
        "smoke": {"epochs": 2, "batch_size": 128, "patience": 1, "lstm_units": 8, "dense_units": 8},
        "quick": {"epochs": 30, "batch_size": 64, "patience": 5, "lstm_units": 32, "dense_units": 16},
        "full": {"epochs": 60, "batch_size": 256, "patience": 8, "lstm_units": 32, "dense_units": 16},
    }

    def architecture(self) -> dict:
        return {"lstm_units": int(self.param("lstm_units", 32)), "dense_units": int(self.param("dense_units", 16))}

    def build(self, keras, input_shape):
        layers, arch, rate = keras.layers, self.architecture(), self.library_kwargs()["dropout_rate"]
        inputs = keras.Input(shape=input_shape)
        x = layers.LSTM(
            arch["lstm_units"],
            kernel_regularizer=self.regularizer(keras),
            recurrent_regularizer=self.regularizer(keras),
            name="lstm",
        )(inputs)
        x = layers.Dropout(rate, name="dropout_lstm")(x)
        x = layers.Dense(
            arch["dense_units"], activation="relu", kernel_regularizer=self.regularizer(keras), name="dense_hidden"
        )(x)
        x = layers.Dropout(rate, name="dropout_dense")(x)
        outputs = layers.Dense(
            N_CLASSES, activation="softmax", kernel_regularizer=self.regularizer(keras), name="probabilities"
        )(x)
        return keras.Model(inputs, outputs, name="lstm_classifier")


@register
class TransformerBackend(_KerasBackend):
    """One Transformer encoder block over the window, built from Keras' own layers (saves/loads as ``.keras``).

    Causal Conv1D(d_model, kernel 3) embeds each step (giving the block local order), then
    MultiHeadAttention (dropout=dropout_rate) + residual + LayerNormalization, a feed-forward
    Dense(ff_dim, relu) → Dropout → Dense(d_model) + residual + LayerNormalization, then the mean over the
    window concatenated with the last step, Dropout, Dense(3, softmax). Every Dense/Conv/attention kernel
    carries ``L1L2(l1=l1_reg, l2=l2_reg)``.

    params keys read, besides the shared ones: d_model (32), num_heads (2), ff_dim (64).
    """

    key = "transformer"
    test_params = {"epochs": 2, "d_model": 8, "num_heads": 2, "ff_dim": 16, "batch_size": 64}
    preset_params = {
        "smoke": {"epochs": 2, "batch_size": 128, "patience": 1, "d_model": 8, "num_heads": 1, "ff_dim": 16},
        "quick": {"epochs": 25, "batch_size": 64, "patience": 5, "d_model": 16, "num_heads": 2, "ff_dim": 32},
        "full": {"epochs": 60, "batch_size": 256, "patience": 8, "d_model": 32, "num_heads": 4, "ff_dim": 64},
    }

    def architecture(self) -> dict:
        return {
            "d_model": int(self.param("d_model", 32)),
            "num_heads": int(self.param("num_heads", 2)),
            "ff_dim": int(self.param("ff_dim", 64)),
        }

    def build(self, keras, input_shape):
        layers, arch, rate = keras.layers, self.architecture(), self.library_kwargs()["dropout_rate"]
        d_model, lookback = arch["d_model"], input_shape[0]
        inputs = keras.Input(shape=input_shape)
        x = layers.Conv1D(d_model, 3, padding="causal", kernel_regularizer=self.regularizer(keras), name="embed")(
            inputs
        )
        attention = layers.MultiHeadAttention(
            arch["num_heads"],
            key_dim=max(1, d_model // arch["num_heads"]),
            dropout=rate,
            kernel_regularizer=self.regularizer(keras),
            name="attention",
        )(x, x)
        attention = layers.Dropout(rate, name="dropout_attention")(attention)
        x = layers.LayerNormalization(epsilon=1e-6, name="norm_attention")(layers.Add()([x, attention]))
        ff = layers.Dense(
            arch["ff_dim"], activation="relu", kernel_regularizer=self.regularizer(keras), name="ff_hidden"
        )(x)
        ff = layers.Dropout(rate, name="dropout_ff")(ff)
        ff = layers.Dense(d_model, kernel_regularizer=self.regularizer(keras), name="ff_out")(ff)
        x = layers.LayerNormalization(epsilon=1e-6, name="norm_ff")(layers.Add()([x, ff]))
        pooled = layers.GlobalAveragePooling1D(name="mean_over_window")(x)
        last = layers.Flatten(name="last_step")(layers.Cropping1D((lookback - 1, 0), name="crop_last")(x))
        x = layers.Concatenate(name="pool")([pooled, last])
        x = layers.Dropout(rate, name="dropout_head")(x)
        outputs = layers.Dense(
            N_CLASSES, activation="softmax", kernel_regularizer=self.regularizer(keras), name="probabilities"
        )(x)
        return keras.Model(inputs, outputs, name="transformer_classifier")
