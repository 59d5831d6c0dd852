"""The rows a run trains on: every bar's features (``FeatureMatrix``), the labeled rows with their regime
(``Dataset``), and how they are assembled from candles (``assemble_dataset`` / ``build_dataset``).

A row is usable when it has a label, a regime and ``lookback`` bars of complete features ending at it, all inside
one gap-free segment of the series (``gaps``; with the market's calendar a closure is not a gap): features, labels and regimes are computed per segment
(``segmented_series``), so no rolling window, forward return or sequence window spans a hole in the candles.
``positions`` index bars of the full series, so a regime's rows (not contiguous) keep their place in time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DataError
from .features import MIN_CANDLES, compute_features, finish_features
from .gaps import bars_since_segment_start, find_gaps, per_segment, segment_bounds
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
    full: pd.DataFrame,
    feature_names: list[str],
    labels: pd.Series,
    regimes: pd.Series,
    *,
    horizon: int,
    lookback: int,
    bars_in_segment: np.ndarray | None = None,
) -> Dataset:
    """The rows that have a label, a regime and ``lookback`` bars of complete features ending at them (and, with
    ``bars_in_segment``, all of those bars in the row's own gap-free segment)."""
    window_ok = full.notna().all(axis=1).astype(float).rolling(lookback, min_periods=lookback).min() == 1.0
    usable = labels.notna() & regimes.notna() & window_ok
    if bars_in_segment is not None:
        usable &= pd.Series(np.asarray(bars_in_segment) >= lookback - 1, index=full.index)
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


@dataclass
class SegmentedSeries:
    """Features, labels and regimes of every bar, each computed inside its gap-free segment only."""

    full: pd.DataFrame
    feature_names: list[str]
    labels: pd.Series
    regimes: pd.Series
    bars_in_segment: np.ndarray
    gaps: dict
    notes: list[str]


class SeriesSegments:
    """The gap-free segments of a candle series and per-segment computation (segments shorter than
    ``MIN_CANDLES`` are skipped: their rows get no feature, label or regime). ``calendar`` (a key of
    ``calendars``, default 24/7) says which bars the market trades, so its closures do not cut segments."""

    def __init__(self, candles: pd.DataFrame, calendar: str | None = None) -> None:
        self.candles = candles
        self.bounds = segment_bounds(candles["open_time"], calendar=calendar)
        self.gaps = find_gaps(candles["open_time"], calendar=calendar)
        self.notes: list[str] = []

    def apply(self, compute):
        out, notes = per_segment(self.candles, self.bounds, compute, min_rows=MIN_CANDLES)
        self.notes = notes
        if out is None:
            raise DataError(MSG_NO_ROWS.format(rows=len(self.candles)))
        return out

    def features(self) -> tuple[pd.DataFrame, list[str]]:
        full = self.apply(compute_features)
        _, names = finish_features(full)
        return full, names

    def labels(self, *, horizon: int, label_k: float) -> pd.Series:
        return self.apply(lambda part: make_labels(part, horizon=horizon, k=label_k)).astype(float)

    def regimes(self) -> pd.Series:
        regimes = self.apply(classify_regimes).astype(object)
        return regimes.where(regimes.notna(), None)

    def bars_in_segment(self) -> np.ndarray:
        return bars_since_segment_start(len(self.candles), self.bounds)

    def summary(self) -> dict:
        return {**self.gaps, "segments": len(self.bounds), "skipped_segments": list(self.notes)}


def segmented_series(
    candles: pd.DataFrame, *, horizon: int, label_k: float, calendar: str | None = None
) -> SegmentedSeries:
    segments = SeriesSegments(candles, calendar)
    full, names = segments.features()
    return SegmentedSeries(
        full=full,
        feature_names=names,
        labels=segments.labels(horizon=horizon, label_k=label_k),
        regimes=segments.regimes(),
        bars_in_segment=segments.bars_in_segment(),
        gaps=segments.summary(),
        notes=list(segments.notes),
    )


def build_dataset(
    candles: pd.DataFrame, *, horizon: int = 4, label_k: float = 0.3, lookback: int = 12, calendar: str | None = None
) -> Dataset:
    """Features, labels and regimes of ``candles``, per gap-free segment, assembled into a ``Dataset``."""
    series = segmented_series(candles, horizon=horizon, label_k=label_k, calendar=calendar)
    return assemble_dataset(
        series.full,
        series.feature_names,
        series.labels,
        series.regimes,
        horizon=horizon,
        lookback=lookback,
        bars_in_segment=series.bars_in_segment,
    )
