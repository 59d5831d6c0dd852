"""The system's common test window and its validation series, from the regimes' stored predictions.

Every trained regime saved ``<regime>/test_predictions.npz``: the bar positions, labels and ensemble
probabilities of its test block and of its held-out validation rows. The **common test window** runs from the
latest first test bar of any trained regime (from there on, every bar of a trained regime lies in its own test
block: after its last training row and its purge gap) to the last labeled bar. Each bar's probabilities come from
the ensemble of that bar's regime; a bar whose regime trained no ensemble (or that has no label or regime) has
none and is flat. The **validation series** runs over the bars from the first to the last held-out validation row
of any regime, each bar with its regime's validation probabilities (flat elsewhere); θ is chosen there.

Positions index the run's candles (after the preset's ``max_rows``); the return after bar t is
``log(close[t+1] / close[t])``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PREDICTIONS_FILE = "test_predictions.npz"
WINDOW_FILE = "system_test_window.csv"
VALIDATION_FILE = "system_validation.csv"
WINDOW_DEFINITION = (
    "the bars from the latest first test bar of any trained regime to the last labeled bar; each bar's "
    "probabilities from its own regime's ensemble (test block), flat where its regime trained none"
)


@dataclass
class RegimePredictions:
    regime: str
    test_positions: np.ndarray
    test_y: np.ndarray
    test_proba: np.ndarray
    validation_positions: np.ndarray
    validation_proba: np.ndarray


@dataclass
class BarSeries:
    """Consecutive bars ``first..last`` (positions), each with probabilities (NaN = none), regime and label."""

    positions: np.ndarray
    proba: np.ndarray
    regime: np.ndarray
    label: np.ndarray

    @property
    def score(self) -> np.ndarray:
        return self.proba[:, 2] - self.proba[:, 0]

    @property
    def covered(self) -> np.ndarray:
        return np.isfinite(self.proba).all(axis=1)


def load_predictions(run_dir: Path, regimes) -> dict[str, RegimePredictions]:
    """The stored predictions of every regime that saved them (a regime that trained nothing saved none)."""
    out = {}
    for regime in regimes:
        path = Path(run_dir) / regime / PREDICTIONS_FILE
        if not path.is_file():
            continue
        with np.load(path) as f:
            if "validation_positions" not in f:
                continue
            out[regime] = RegimePredictions(
                regime=regime,
                test_positions=f["positions"].astype(int),
                test_y=f["y"].astype(int),
                test_proba=f["ensemble"].astype(float),
                validation_positions=f["validation_positions"].astype(int),
                validation_proba=f["validation_ensemble"].astype(float),
            )
    return out


def next_returns(close) -> np.ndarray:
    """``log(close[t+1] / close[t])`` per bar; 0 after the last bar."""
    close = np.asarray(close, dtype=float)
    out = np.zeros(close.size)
    out[:-1] = np.log(close[1:] / close[:-1])
    out[~np.isfinite(out)] = 0.0
    return out


def _series(first: int, last: int, parts) -> BarSeries:
    positions = np.arange(first, last + 1)
    proba = np.full((positions.size, 3), np.nan)
    regime = np.full(positions.size, "", dtype=object)
    label = np.full(positions.size, -1, dtype=int)
    for name, pos, y, p in parts:
        keep = (pos >= first) & (pos <= last)
        idx = pos[keep] - first
        proba[idx] = p[keep]
        regime[idx] = name
        if y is not None:
            label[idx] = y[keep]
    return BarSeries(positions, proba, regime, label)


def common_test_window(predictions: dict[str, RegimePredictions]) -> BarSeries | None:
    trained = [p for p in predictions.values() if p.test_positions.size]
    if not trained:
        return None
    first = max(int(p.test_positions.min()) for p in trained)
    last = max(int(p.test_positions.max()) for p in trained)
    if last <= first:
        return None
    return _series(first, last, [(p.regime, p.test_positions, p.test_y, p.test_proba) for p in trained])


def validation_series(predictions: dict[str, RegimePredictions]) -> BarSeries | None:
    parts = [p for p in predictions.values() if p.validation_positions.size]
    if not parts:
        return None
    first = min(int(p.validation_positions.min()) for p in parts)
    last = max(int(p.validation_positions.max()) for p in parts)
    return _series(first, last, [(p.regime, p.validation_positions, None, p.validation_proba) for p in parts])


def write_series(path: Path, series: BarSeries, times, columns: dict[str, np.ndarray]) -> None:
    """The bars as CSV: the bar's position in the run's candles (``bar``), open time, regime, probabilities, label
    (−1: none) and the given columns (the traded ``position`` among them)."""
    frame = pd.DataFrame(
        {
            "bar": series.positions,
            "open_time": [t.isoformat() for t in times],
            "regime": series.regime,
            "p_down": series.proba[:, 0],
            "p_flat": series.proba[:, 1],
            "p_up": series.proba[:, 2],
            "label": series.label,
            **columns,
        }
    )
    frame.to_csv(path, index=False, float_format="%.8g")


def read_validation_returns(path: Path) -> pd.Series:
    """A run's after-cost validation returns per bar (indexed by open time), from its ``VALIDATION_FILE``."""
    frame = pd.read_csv(path, usecols=["open_time", "net_return"])
    return pd.Series(frame["net_return"].to_numpy(dtype=float), index=frame["open_time"].to_numpy())
