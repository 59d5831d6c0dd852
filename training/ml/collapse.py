"""Prediction spread and collapse: does a model still tell rows apart?

A heavily regularized network can end up predicting the same probabilities for every row (the class frequencies);
its log loss then equals that of the majority baseline and its accuracy that of always answering one class.
``prediction_spread`` measures, on a set of predicted probabilities:

- ``proba_std``: the standard deviation of the predicted probabilities over rows, averaged over the 3 classes;
- ``class_shares``: the share of rows predicted as each class (argmax);
- ``collapsed``: one class predicted on at least ``COLLAPSE_CLASS_SHARE`` (99 %) of the rows, or ``proba_std``
  below ``COLLAPSE_STD`` (1e-3).

It is measured on the validation rows (``spread``) and on the test block (``test_spread``, with the thresholds):
a model collapsed on the test block gets the verdict "no skill" (``comparison.vs_baseline_record``).
"""

from __future__ import annotations

import numpy as np

from .labels import CLASS_NAMES

COLLAPSE_CLASS_SHARE = 0.99
COLLAPSE_STD = 1e-3
MSG_COLLAPSED = (
    "{name} has collapsed: it predicts {cls} on {share:.0%} of the rows and its probabilities vary by "
    "{std:.4f} (std); it does not tell rows apart."
)


def prediction_spread(proba) -> dict:
    """``{"collapsed", "proba_std", "class_shares", "rows"}`` of an ``(n, 3)`` probability array."""
    proba = np.asarray(proba, dtype=float)
    if proba.ndim != 2 or proba.shape[0] == 0:
        return {"collapsed": None, "proba_std": None, "class_shares": {}, "rows": 0}
    shares = np.bincount(proba.argmax(axis=1), minlength=len(CLASS_NAMES)) / len(proba)
    std = float(proba.std(axis=0).mean())
    collapsed = bool(shares.max() >= COLLAPSE_CLASS_SHARE or std < COLLAPSE_STD)
    return {
        "collapsed": collapsed,
        "proba_std": std,
        "class_shares": {name: float(s) for name, s in zip(CLASS_NAMES, shares, strict=False)},
        "rows": int(len(proba)),
    }


def collapse_message(name: str, spread: dict) -> str | None:
    """The report line for a collapsed model, None for one that is not."""
    if not spread.get("collapsed"):
        return None
    cls, share = max(spread["class_shares"].items(), key=lambda item: item[1])
    return MSG_COLLAPSED.format(name=name, cls=cls, share=share, std=spread["proba_std"])
