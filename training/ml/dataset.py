"""The rows a run trains on: every bar's features (``FeatureMatrix``), the labeled rows with their regime
(``Dataset``), and how they are assembled from candles (``assemble_dataset`` / ``build_dataset``).

A row is usable when it has a label, a regime and ``lookback`` bars of complete features ending at it.
``positions`` index bars of the full series, so a regime's rows (not contiguous) keep their place in time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DataError
from .features import compute_features, finish_features
from .labels import make_labels
from .regimes import classify_regimes

MSG_NO_ROWS = "No bar has features, a label and a regime; {rows} candles are too few for the warm-up."


class FeatureMatrix:
    """The feature values of every bar of the series (NaN in the warm-up), for tabular rows and windows."""

    def __init__(self, values: np.ndarray, names: list[str]) -> None:
        self.values = np.asarray(values, dtype=np.float32)
        self.names = list(names)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, names: list[str]) -> FeatureMatrix:
        return cls(frame[names].to_numpy(dtype=np.float32), names)

    def columns(self, names: list[str]) -> list[int]:
        return [self.names.index(n) for n in names]

    def tabular(self, positions, names: list[str], scaling: dict | None = None) -> np.ndarray:
        return _scale(self.values[np.asarray(positions)][:, self.columns(names)], scaling)

    def windows(self, positions, names: list[str], lookback: int, scaling: dict | None = None) -> np.ndarray:
        """(n, lookback, f): the ``lookback`` bars ending at (and including) each position."""
        from numpy.lib.stride_tricks import sliding_window_view

        positions = np.asarray(positions)
        if len(positions) and positions.min() < lookback - 1:
            raise ValueError(f"position {positions.min()} has fewer than {lookback} bars of history")
        view = sliding_window_view(self.values[:, self.columns(names)], lookback, axis=0)  # (n-l+1, f, l)
        return _scale(np.ascontiguousarray(view[positions - lookback + 1].transpose(0, 2, 1)), scaling)


def _scale(X: np.ndarray, scaling: dict | None) -> np.ndarray:
    if not scaling:
        return X
    return ((X - np.asarray(scaling["mean"], dtype=np.float32)) / np.asarray(scaling["std"], dtype=np.float32)).astype(
        np.float32
    )


def fit_scaling(X: np.ndarray) -> dict:
    """Per-column mean and standard deviation (1 where constant)."""
    std = X.std(axis=0)
    return {"mean": X.mean(axis=0).tolist(), "std": np.where(std > 0, std, 1.0).tolist()}


@dataclass
class Dataset:
    """The labeled rows of a run. ``positions`` index bars of the full series; ``labels_all`` holds every bar's
    label (NaN where unknown) for the persistence baseline."""

    matrix: FeatureMatrix
    feature_names: list[str]
    positions: np.ndarray
    y: np.ndarray
    regimes: np.ndarray
    labels_all: np.ndarray
    horizon: int
    lookback: int


def assemble_dataset(
    full: pd.DataFrame, feature_names: list[str], labels: pd.Series, regimes: pd.Series, *, horizon: int, lookback: int
) -> Dataset:
    """The rows that have a label, a regime and ``lookback`` bars of complete features ending at them."""
    window_ok = full.notna().all(axis=1).astype(float).rolling(lookback, min_periods=lookback).min() == 1.0
    usable = labels.notna() & regimes.notna() & window_ok
    positions = np.flatnonzero(usable.to_numpy())
    if len(positions) == 0:
        raise DataError(MSG_NO_ROWS.format(rows=len(full)))
    return Dataset(
        matrix=FeatureMatrix.from_frame(full, feature_names),
        feature_names=feature_names,
        positions=positions,
        y=labels.to_numpy()[positions].astype(int),
        regimes=regimes.to_numpy()[positions],
        labels_all=labels.to_numpy(dtype=float),
        horizon=horizon,
        lookback=lookback,
    )


def build_dataset(candles: pd.DataFrame, *, horizon: int = 4, label_k: float = 0.3, lookback: int = 12) -> Dataset:
    """Features, labels and regimes of ``candles`` assembled into a ``Dataset`` (what a run trains on)."""
    full = compute_features(candles)
    _, names = finish_features(full)
    return assemble_dataset(
        full,
        names,
        make_labels(candles, horizon=horizon, k=label_k),
        classify_regimes(candles),
        horizon=horizon,
        lookback=lookback,
    )
