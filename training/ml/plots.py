"""Report plots of a run result (matplotlib's object API, Agg), written as PNG files into the run's artifacts
directory.

A regime's plots (``regime_plots``) need only its trained section, so a run draws them while its next regime trains
(issue 26: plots were 2-3 s of a ``quick`` run's overhead, on a core the single worker leaves idle): ``draw_soon``
hands the drawing to this process's one plotting thread and returns a Future. Every drawing goes through that
thread, so matplotlib is only ever used by one thread, and figures are ``Figure`` objects (no pyplot state).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .labels import CLASS_NAMES
from .regimes import REGIMES
from .results import RegimeResult, RunResult

REGIME_COLORS = {"bull_trend": "#2ca02c", "bear_trend": "#d62728", "sideways_range": "#7f7f7f", "volatile": "#ff7f0e"}
DPI = 80


_drawer: tuple[int, ThreadPoolExecutor] | None = None
_drawer_lock = threading.Lock()


def _figure(**kwargs):
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def draw_soon(draw: Callable[..., object], *args, **kwargs) -> Future:
    """``draw(*args, **kwargs)`` in this process's plotting thread (one per process; a forked child starts its
    own); the Future holds its result or its exception."""
    global _drawer
    with _drawer_lock:
        if _drawer is None or _drawer[0] != os.getpid():
            _drawer = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="plots"))
        return _drawer[1].submit(draw, *args, **kwargs)


def series_times(candles, stride: int):
    """The open times (datetime64, naive UTC) of every ``stride``-th candle: the x axis of the regimes overview."""
    return candles["open_time"].iloc[::stride].dt.tz_localize(None).to_numpy()


def plot_regimes(directory: Path, times, close, regimes) -> str:
    Path(directory).mkdir(parents=True, exist_ok=True)  # drawn as a run starts, before anything else is written
    fig = _figure(figsize=(10, 3.5))
    ax = fig.subplots()
    times = np.asarray(times)
    close = np.asarray(close, dtype=float)
    regimes = np.asarray(regimes, dtype=object)
    ax.plot(times, close, color="black", linewidth=0.6)
    for name in REGIMES:
        mask = regimes == name
        ax.scatter(times[mask], close[mask], s=2, color=REGIME_COLORS[name], label=name)
    ax.set_title("Regimes over the close price")
    ax.legend(loc="upper left", fontsize=7, markerscale=4)
    fig.autofmt_xdate()
    return _save(fig, directory, "regimes.png")


def plot_learning_curves(directory: Path, regime: str, models: dict) -> str | None:
    curves = {k: m.history for k, m in models.items() if m.history.get("train_loss")}
    if not curves:
        return None
    fig = _figure(figsize=(4 * len(curves), 3))
    axes = fig.subplots(1, len(curves), squeeze=False)
    for ax, (key, hist) in zip(axes[0], curves.items()):
        ax.plot(hist["train_loss"], label="train")
        if hist.get("val_loss"):
            ax.plot(hist["val_loss"], label="validation")
        if hist.get("penalty"):  # Keras: the curves are the data loss; the L1/L2 term is drawn beside them
            ax.plot(hist["penalty"], label="L1/L2 penalty", linestyle="--", color="grey")
        ax.set_title(f"{regime}: {key}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend(fontsize=7)
    return _save(fig, directory, f"learning_curves_{regime}.png")


def plot_feature_importance(directory: Path, regime: str, models: dict) -> str | None:
    items = {k: m.feature_importance for k, m in models.items() if m.feature_importance}
    if not items:
        return None
    fig = _figure(figsize=(4.5 * len(items), 4.5))
    axes = fig.subplots(1, len(items), squeeze=False)
    for ax, (key, imp) in zip(axes[0], items.items()):
        names = list(imp)
        values = np.abs(np.array([imp[n] for n in names], dtype=float))
        total = values.sum() or 1.0
        order = np.argsort(values)[-12:]
        ax.barh([names[i] for i in order], values[order] / total)
        ax.set_title(f"{regime}: {key}")
        ax.tick_params(labelsize=7)
    return _save(fig, directory, f"feature_importance_{regime}.png")


def plot_confusion_matrices(directory: Path, regime: str, section: RegimeResult) -> str | None:
    mats = {k: m.metrics.test.confusion_matrix for k, m in section.models.items()}
    if section.ensemble:
        mats["ensemble"] = section.ensemble.metrics.test.confusion_matrix
    if not mats:
        return None
    fig = _figure(figsize=(3 * len(mats), 3))
    axes = fig.subplots(1, len(mats), squeeze=False)
    for ax, (key, mat) in zip(axes[0], mats.items()):
        mat = np.array(mat)
        ax.imshow(mat, cmap="Blues")
        for i in range(3):
            for j in range(3):
                ax.text(j, i, str(mat[i, j]), ha="center", va="center", fontsize=8)
        ax.set_xticks(range(3), CLASS_NAMES, fontsize=7)
        ax.set_yticks(range(3), CLASS_NAMES, fontsize=7)
        ax.set_title(f"{key} (test)", fontsize=8)
        ax.set_xlabel("predicted", fontsize=7)
    fig.suptitle(regime, fontsize=9)
    return _save(fig, directory, f"confusion_{regime}.png")


def plot_reliability(directory: Path, regime: str, section: RegimeResult) -> str | None:
    """Reliability diagram of the ensemble on the test block, before and after calibration."""
    calibration = section.ensemble.calibration if section.ensemble else None
    if calibration is None:
        return None
    fig = _figure(figsize=(4, 4))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="perfect")
    test = calibration.test
    for name, bins, ece in (
        ("before", test.reliability_before, test.ece_before),
        ("after", test.reliability_after, test.ece_after),
    ):
        filled = [b for b in bins if b.count]
        ax.plot(
            [b.confidence for b in filled], [b.accuracy for b in filled], marker="o", label=f"{name} (ECE {ece:.3f})"
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (highest probability)", fontsize=8)
    ax.set_ylabel("accuracy", fontsize=8)
    ax.set_title(f"{regime}: reliability (test, T={calibration.parameter.get('temperature', 1):.2f})", fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, directory, f"reliability_{regime}.png")


def _save(fig, directory: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(Path(directory) / name, dpi=DPI)
    return name


def regime_plots(directory: Path, regime: str, section: RegimeResult) -> list[str]:
    """A trained regime's plots (learning curves, feature importance, confusion matrices, reliability)."""
    if not section.trained:
        return []
    Path(directory).mkdir(parents=True, exist_ok=True)
    names = [
        plot_learning_curves(directory, regime, section.models),
        plot_feature_importance(directory, regime, section.models),
        plot_confusion_matrices(directory, regime, section),
        plot_reliability(directory, regime, section),
    ]
    return [n for n in names if n]


def write_plots(
    directory: Path,
    result: RunResult,
    times=None,
    drawn: dict[str, list[str]] | None = None,
    overview: Future | None = None,
) -> list[str]:
    """Every plot for a run result, drawn in the plotting thread; ``times`` (datetime64) replaces the ISO strings of
    ``regime_series``; ``drawn`` are the regimes whose plots were drawn already (regime -> names), ``overview`` the
    regimes overview when it is being drawn already."""
    directory = Path(directory)
    drawn = drawn or {}
    if overview is None:
        series = result.regime_series
        x = np.asarray(series["time"], dtype="datetime64[ns]") if times is None else times
        overview = draw_soon(plot_regimes, directory, x, series["close"], series["regime"])
    pending = {
        regime: draw_soon(regime_plots, directory, regime, section)
        for regime, section in result.ensembles.items()
        if regime not in drawn
    }
    names = [overview.result()]
    for regime in result.ensembles:
        names += drawn[regime] if regime in drawn else pending[regime].result()
    return names
