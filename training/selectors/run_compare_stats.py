"""Paired test log-loss differences between compared runs, on the test bars both of them predicted.

Each run stores its test predictions: per regime ``<regime>/test_predictions.npz`` (bar positions, labels, the
ensemble's and every base model's probabilities) and the system's common test window ``system_test_window.csv``
(per bar: open time, regime, the probabilities of that bar's regime's ensemble, the label). Positions index the
run's own candles, so bars are matched across runs by **open time** (the window's rows map a run's positions to
open times; a regime's test bars before the window's first bar have none and are left out).

A pair of runs is compared on the bars both predicted with the same label (runs on other prices, or with another
label rule, label some bars differently: those are not comparable and no difference is given). The per-bar difference
``log loss(run) − log loss(reference)`` gets the moving-block bootstrap of the per-run intervals
(``training.ml.bootstrap.moving_block_bootstrap``, block ``block_length(horizon)``): "better" only when the whole
95 % interval is below 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from training.artifact_store import run_dir
from training.ml.bootstrap import BETTER, DEFAULT_RESAMPLES, block_length, moving_block_bootstrap
from training.ml.metrics import row_log_loss
from training.ml.trading.window import PREDICTIONS_FILE, WINDOW_FILE, common_test_window, load_predictions

COMPARE_SEED = 42
SYSTEM = "system"  # the line of the whole common test window (each bar from its own regime's ensemble)
MSG_NO_PREDICTIONS = "no stored test predictions"
MSG_NO_SHARED = "no shared test bars"
MSG_LABELS_DIFFER = (
    "the runs label {n} of {shared} shared bars differently (other prices or another label rule): not comparable"
)
PAIRED_ON = (
    "test bars both runs predicted (matched by open time, same label); per bar log loss(run) − log loss(reference), "
    "mean with a 95 % circular moving-block bootstrap interval ({resamples} resamples, block = max(label horizon, "
    "24) bars); better / worse only when the interval excludes 0"
).format(resamples=f"{DEFAULT_RESAMPLES:,}")


@dataclass
class RowLosses:
    """One run's per-bar test log loss on one line (indexed by open time) and the labels it was scored on."""

    loss: pd.Series
    label: pd.Series


class RunPredictions:
    """A run's stored test predictions, read once: the window's bar position → open time map and each line's
    per-bar log loss (``SYSTEM`` or ``(regime, "ensemble" | model key)``)."""

    def __init__(self, run, regimes):
        self.run = run
        self.directory: Path | None = run_dir(run) if run.artifacts_path else None
        self._window = self._read_window(list(regimes))
        self._regimes: dict[str, dict | None] = {}

    def _read_window(self, regimes: list[str]) -> pd.DataFrame | None:
        """The window file's bars with their positions in the run's candles: its ``bar`` column, or, in the files of
        runs older than that column, the same ``common_test_window`` that wrote the file's rows, in order."""
        path = (self.directory or Path()) / WINDOW_FILE
        if self.directory is None or not path.is_file():
            return None
        frame = pd.read_csv(path, usecols=lambda c: c in {"bar", "open_time", "p_down", "p_flat", "p_up", "label"})
        if "bar" in frame:
            return frame
        window = common_test_window(load_predictions(self.directory, regimes))
        if window is None or len(window.positions) != len(frame):
            return None
        frame["bar"] = window.positions
        return frame

    @property
    def available(self) -> bool:
        return self._window is not None

    def _regime(self, regime: str) -> dict | None:
        if regime not in self._regimes:
            path = (self.directory or Path()) / regime / PREDICTIONS_FILE
            if self.directory is None or not path.is_file():
                self._regimes[regime] = None
            else:
                with np.load(path) as f:
                    self._regimes[regime] = {k: f[k] for k in f.files}
        return self._regimes[regime]

    def losses(self, line) -> RowLosses | None:
        if self._window is None:
            return None
        if line == SYSTEM:
            w = self._window
            proba = w[["p_down", "p_flat", "p_up"]].to_numpy(dtype=float)
            keep = (w["label"].to_numpy() >= 0) & np.isfinite(proba).all(axis=1)
            times, labels, proba = w["open_time"].to_numpy()[keep], w["label"].to_numpy()[keep], proba[keep]
        else:
            regime, name = line
            stored = self._regime(regime)
            column = "ensemble" if name == "ensemble" else f"base_{name}"
            if stored is None or column not in stored:
                return None
            times_of = pd.Series(self._window["open_time"].to_numpy(), index=self._window["bar"].to_numpy())
            positions = stored["positions"].astype(int)
            keep = np.isin(positions, times_of.index)
            times = times_of.loc[positions[keep]].to_numpy()
            labels, proba = stored["y"].astype(int)[keep], stored[column].astype(float)[keep]
        return RowLosses(
            loss=pd.Series(row_log_loss(labels, proba), index=times), label=pd.Series(labels.astype(int), index=times)
        )


def paired_difference(run: RowLosses | None, reference: RowLosses | None, *, horizon: int) -> dict:
    """``{"bars", "difference", "ci95_low", "ci95_high", "verdict", "block"}`` of run − reference on the shared
    bars, or ``{"bars", "error"}`` when there is nothing to compare."""
    if run is None or reference is None:
        return {"bars": 0, "error": MSG_NO_PREDICTIONS}
    shared = run.loss.index.intersection(reference.loss.index).sort_values()
    if not len(shared):
        return {"bars": 0, "error": MSG_NO_SHARED}
    differ = int((run.label.loc[shared].to_numpy() != reference.label.loc[shared].to_numpy()).sum())
    if differ:
        return {"bars": int(len(shared)), "error": MSG_LABELS_DIFFER.format(n=differ, shared=len(shared))}
    block = block_length(horizon)
    record = moving_block_bootstrap(
        run.loss.loc[shared].to_numpy(), reference.loss.loc[shared].to_numpy(), block=block, seed=COMPARE_SEED
    )
    return {
        **record,
        "bars": int(len(shared)),
        "block": min(block, len(shared)),
        "first": str(shared[0]),
        "last": str(shared[-1]),
    }


def row_winner(losses: list[RowLosses | None], *, horizon: int) -> int | None:
    """The index of the run whose test log loss is lower than every other run's on their shared bars with the
    interval below 0; None when no run is. The candidate is the run with the lowest mean loss."""
    scored = [(float(r.loss.mean()), i) for i, r in enumerate(losses) if r is not None and len(r.loss)]
    if len(scored) < 2:
        return None
    best = min(scored)[1]
    for _, other in scored:
        if other != best and paired_difference(losses[best], losses[other], horizon=horizon).get("verdict") != BETTER:
            return None
    return best
