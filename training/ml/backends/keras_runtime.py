"""The Keras models' runtime: the one place the app imports Keras (hence TensorFlow), its framework declaration
(seeding, library versions, warm imports) and TensorFlow's thread pools, fixed once per process."""

from __future__ import annotations

import os

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
