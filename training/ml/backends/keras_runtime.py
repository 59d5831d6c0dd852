"""The Keras models' runtime: the one place the app imports Keras (hence TensorFlow), its framework declaration
(seeding, library versions, warm imports), TensorFlow's thread pools, fixed once per process, the inference
graphs the models predict through, one per architecture and process, and the training copies they fit through,
one per architecture, penalty and process (Keras traces a model's training steps on its first fit: most of a
small fit's time)."""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from contextlib import contextmanager

from .base import Framework

_THREADS_SET: tuple[int, int] | None = None


def _import_keras():
    """The one place the app imports Keras (hence TensorFlow): its environment is set here, before the import."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter off in every entry point
    import keras

    return keras


def seed_tensorflow(seed: int) -> None:
    _import_keras().utils.set_random_seed(seed)


def _load_tensorflow() -> None:
    _import_keras()
    import tensorflow  # noqa: F401


TENSORFLOW = Framework(
    "tensorflow",
    ("tensorflow-cpu", "keras"),
    seed=seed_tensorflow,
    modules=("keras", "tensorflow"),
    load=_load_tensorflow,
)


def _tensorflow(intra: int, inter: int, log):
    """Import TensorFlow and Keras, limiting TF's thread pools the first time (later calls cannot change them)."""
    global _THREADS_SET
    keras = _import_keras()
    import tensorflow as tf

    if _THREADS_SET is None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(intra)
            tf.config.threading.set_inter_op_parallelism_threads(inter)
            _THREADS_SET = (intra, inter)
        except RuntimeError as exc:  # TF already initialized by someone else in this process
            _THREADS_SET = (
                tf.config.threading.get_intra_op_parallelism_threads(),
                tf.config.threading.get_inter_op_parallelism_threads(),
            )
            log(f"TensorFlow threads already fixed at intra={_THREADS_SET[0]}, inter={_THREADS_SET[1]}: {exc}")
    elif _THREADS_SET != (intra, inter):
        log(f"TensorFlow threads stay at intra={_THREADS_SET[0]}, inter={_THREADS_SET[1]} (set once per process)")
    return keras, tf


MAX_TWINS = 8  # inference twins kept per process (one per backend, architecture and window shape)


class _Twin:
    """An inference copy of one architecture and its graph, traced once; a model predicts through it after its
    weights are copied in (``source``: the model whose weights it holds now)."""

    def __init__(self, model, predict) -> None:
        self.model, self.predict, self.source = model, predict, None


_TWINS: OrderedDict[tuple, _Twin] = OrderedDict()
TWINS_LOCK = threading.Lock()  # a twin holds one model's weights at a time: predictions through it take turns


def inference_graph(key: tuple, model, build: Callable[[], object], tf):
    """The graph predicting ``model`` (probabilities, ``training=False``, any number of rows of the window shape
    ``key[-1]``): traced once per ``key`` (backend, architecture, window shape) and process on a twin made by
    ``build``, which gets ``model``'s weights when it held another model's. Tracing cost about 0.15 s a model, more
    than predicting its fit rows; ``predict_on_batch`` also traced again for a second row count. Call with
    ``TWINS_LOCK`` held."""
    twin = _TWINS.get(key)
    if twin is None:
        copy = build()
        signature = [tf.TensorSpec((None, *key[-1]), tf.float32)]
        twin = _Twin(copy, tf.function(lambda x: copy(x, training=False), input_signature=signature))
        _TWINS[key] = twin
        while len(_TWINS) > MAX_TWINS:
            _TWINS.popitem(last=False)
    _TWINS.move_to_end(key)
    if twin.source is None or twin.source() is not model:
        twin.model.set_weights(model.get_weights())
        twin.source = weakref.ref(model)
    return twin.predict


class _Trainer:
    """A compiled copy of one architecture whose training and validation steps are traced once per process; a fit
    loads the fresh model's whole state into it (weights and dropout seed states, ``Layer.variables``), resets its
    optimizer to the state it had before its first step, trains, and the caller copies the result back."""

    def __init__(self, model) -> None:
        self.model = model
        model.optimizer.build(model.trainable_variables)
        self.optimizer_start = [v.numpy() for v in model.optimizer.variables]

    def load(self, model) -> None:
        _assign(self.model.variables, model.variables)
        _assign(self.model.optimizer.variables, self.optimizer_start)


_TRAINERS: OrderedDict[tuple, _Trainer] = OrderedDict()
TRAINERS_LOCK = threading.Lock()
MAX_TRAINERS = 8  # traced trainers kept per process (one per backend, architecture, penalty and window shape)


@contextmanager
def training_copy(key: tuple, build: Callable[[], object]):
    """A ``_Trainer`` kept per ``key`` (everything its traced steps bake in: backend, architecture, window shape,
    penalty numbers, dropout rates, learning rate, weighted rows or not) and process, so Keras traces its training
    and validation steps once per key instead of once per fit (measured: about 1.0 s of a smoke LSTM fit, 1.8 s of
    a smoke Transformer fit). ``build`` makes and compiles a copy (called here, before the caller seeds and builds
    its own model, so the copy draws nothing from the seeded generators). The caller loads its fresh model into
    it (``load``), fits ``trainer.model`` and copies the result back (``copy_state``). A second fit of the same
    key while one runs in another thread builds a copy of its own."""
    with TRAINERS_LOCK:
        trainer = _TRAINERS.pop(key, None)
    if trainer is None:
        trainer = _Trainer(build())
    try:
        yield trainer
    finally:
        with TRAINERS_LOCK:
            _TRAINERS[key] = trainer
            while len(_TRAINERS) > MAX_TRAINERS:
                _TRAINERS.popitem(last=False)


def _assign(targets, values) -> None:
    for variable, value in zip(targets, values, strict=True):
        variable.assign(value)


def copy_state(source, target) -> None:
    """Every variable of ``source`` (weights and dropout seed states) and of its optimizer into ``target`` of the
    same architecture, compiled alike: ``target`` then saves as ``source`` would (a ``.keras`` file whose optimizer
    holds fewer variables than the loading model's makes Keras warn on every load)."""
    _assign(target.variables, source.variables)
    target.optimizer.build(target.trainable_variables)
    _assign(target.optimizer.variables, source.optimizer.variables)
