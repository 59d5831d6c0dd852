"""Predictions of a saved run for the last bar of a candle series (plain Python, no Django).

The run's regime ensembles are reloaded with ``artifacts.load_ensemble`` (once per process and run directory;
``predictor_for`` caches them). For the last bar of ``candles`` the engine's own code computes the features
(``compute_features``) and the regime (``classify_regimes``); that regime's ensemble gives the probabilities,
exactly what ``load_ensemble(<run>/<regime>).predict_proba`` gives in-process for the same bar.

The warm-up (how many bars a prediction needs) is measured, not hard-coded: the engine's feature and regime
code runs once on a synthetic series and the first bar with every feature and a regime is found; the
sequence models' ``lookback`` is added to the feature part.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .artifacts import MANIFEST, LoadedEnsemble, load_ensemble
from .bootstrap import block_length, moving_block_bootstrap
from .errors import DataError
from .features import compute_features
from .labels import CLASS_NAMES
from .metrics import row_log_loss
from .regimes import classify_regimes

MSG_TOO_FEW_BARS = "{given} candles given; a prediction needs at least {needed} consecutive bars (the warm-up)."
MSG_NO_REGIME = "The last bar has no regime yet; at least {needed} bars are needed."
MSG_REGIME_NOT_TRAINED = "Run #{run} has no trained ensemble for the regime '{regime}' of the bar at {open_time}."
MSG_NO_ARTIFACTS = "Run #{run} has no saved models at {path}."
MSG_MODEL_FILES_MISSING = "Run #{run} cannot load the model of regime '{regime}' (written by worker {worker}): {error}"
MSG_BAD_CANDLES = "candles must be rows of [open_time, open, high, low, close, volume]: {error}"
WARMUP_PROBE_BARS = 1500
COLUMNS = ("open_time", "open", "high", "low", "close", "volume")


class PredictionError(ValueError):
    """The candles cannot give a prediction (too few, malformed); the message says why."""


class ModelUnavailable(LookupError):
    """The run has no ensemble (or no files) for what was asked; ``regime`` and ``worker`` name what is missing."""

    def __init__(self, message: str, *, regime: str = "", worker: str = "") -> None:
        super().__init__(message)
        self.regime = regime
        self.worker = worker


@dataclass
class Prediction:
    run_id: int
    open_time: pd.Timestamp
    regime: str
    probabilities: dict[str, float]
    models: dict[str, dict[str, float]] = field(default_factory=dict)
    features: dict[str, float] = field(default_factory=dict)  # the bar's feature values (not in to_dict)

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "open_time": self.open_time.isoformat(),
            "regime": self.regime,
            "probabilities": self.probabilities,
            "models": self.models,
        }


def _named(row: np.ndarray) -> dict[str, float]:
    return {name: float(row[i]) for i, name in enumerate(CLASS_NAMES)}


@lru_cache(maxsize=8)
def warmup_bars(lookback: int = 1) -> int:
    """Bars needed so the last one has every feature over ``lookback`` bars and a regime."""
    rng = np.random.default_rng(0)
    n = WARMUP_PROBE_BARS
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate([close[:1], close[:-1]])
    candles = pd.DataFrame(
        {
            "open_time": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) * 1.002,
            "low": np.minimum(open_, close) * 0.998,
            "close": close,
            "volume": 1000 + rng.random(n) * 100,
        }
    )
    features_ok = compute_features(candles).notna().all(axis=1).to_numpy()
    regime_ok = classify_regimes(candles).notna().to_numpy()
    first_feature, first_regime = int(np.argmax(features_ok)), int(np.argmax(regime_ok))
    return max(first_feature + max(int(lookback), 1), first_regime + 1)


def _feature_matrix(frame: pd.DataFrame):
    from .dataset import FeatureMatrix

    return FeatureMatrix.from_frame(frame, list(frame.columns))


def candles_frame(rows: list) -> pd.DataFrame:
    """Rows of ``[open_time, open, high, low, close, volume]`` (time as epoch milliseconds or ISO text)."""
    try:
        frame = pd.DataFrame([list(r)[:6] for r in rows], columns=list(COLUMNS))
        times = frame["open_time"]
        numeric = pd.to_numeric(times, errors="coerce")
        frame["open_time"] = (
            pd.to_datetime(numeric, unit="ms", utc=True) if numeric.notna().all() else pd.to_datetime(times, utc=True)
        )
        for column in COLUMNS[1:]:
            frame[column] = frame[column].astype(float)
    except (TypeError, ValueError) as exc:
        raise PredictionError(MSG_BAD_CANDLES.format(error=exc)) from None
    return frame


class Predictor:
    """One saved run: its manifest, and each regime's ``LoadedEnsemble`` loaded on first use."""

    def __init__(self, run_id: int, directory) -> None:
        self.run_id = run_id
        self.directory = Path(directory)
        manifest = self.directory / MANIFEST
        if not manifest.is_file():
            raise ModelUnavailable(MSG_NO_ARTIFACTS.format(run=run_id, path=self.directory))
        self.manifest = json.loads(manifest.read_text())
        self.regimes = list(self.manifest.get("trained_regimes") or [])
        self._ensembles: dict[str, LoadedEnsemble] = {}
        self._lock = threading.Lock()

    @property
    def lookback(self) -> int:
        preset = self.manifest.get("preset_settings") or {}
        return int(preset.get("lookback") or 1)

    @property
    def needed_bars(self) -> int:
        return warmup_bars(self.lookback)

    def ensemble(self, regime: str) -> LoadedEnsemble:
        with self._lock:
            if regime not in self._ensembles:
                try:
                    self._ensembles[regime] = load_ensemble(self.directory / regime)
                except (OSError, ValueError, KeyError) as exc:
                    worker = str((self.manifest.get("workers") or {}).get(regime) or "unknown")
                    message = MSG_MODEL_FILES_MISSING.format(
                        run=self.run_id, regime=regime, worker=worker, error=f"{type(exc).__name__}: {exc}"
                    )
                    raise ModelUnavailable(message, regime=regime, worker=worker) from exc
            return self._ensembles[regime]

    def load_all(self) -> None:
        for regime in self.regimes:
            self.ensemble(regime)

    def check_bars(self, given: int) -> None:
        if given < self.needed_bars:
            raise PredictionError(MSG_TOO_FEW_BARS.format(given=given, needed=self.needed_bars))

    def predict_last(self, candles: pd.DataFrame) -> Prediction:
        """The prediction for the last row of ``candles`` (sorted, consecutive bars)."""
        needed = self.needed_bars
        self.check_bars(len(candles))
        candles = candles.reset_index(drop=True)
        try:
            frame = compute_features(candles)
        except DataError as exc:
            raise PredictionError(str(exc)) from None
        regime = classify_regimes(candles).iloc[-1]
        if not isinstance(regime, str):
            raise PredictionError(MSG_NO_REGIME.format(needed=needed))
        open_time = pd.Timestamp(candles["open_time"].iloc[-1])
        if regime not in self.regimes:
            raise ModelUnavailable(
                MSG_REGIME_NOT_TRAINED.format(run=self.run_id, regime=regime, open_time=open_time.isoformat())
            )
        ensemble = self.ensemble(regime)
        matrix = _feature_matrix(frame)
        position = [len(candles) - 1]
        proba = np.asarray(ensemble.predict_proba(matrix, position), dtype=float)[0]
        base = ensemble.base_proba(matrix, position)
        return Prediction(
            run_id=self.run_id,
            open_time=open_time,
            regime=regime,
            probabilities=_named(proba),
            models={key: _named(np.asarray(values, dtype=float)[0]) for key, values in base.items()},
            features={str(k): float(v) for k, v in frame.iloc[-1].items() if isinstance(v, (int, float, np.number))},
        )


_PREDICTORS: dict[tuple[int, str], Predictor] = {}
_PREDICTORS_LOCK = threading.Lock()


def predictor_for(run_id: int, directory) -> Predictor:
    """The process-wide cached ``Predictor`` of a run (its ensembles stay loaded)."""
    key = (int(run_id), str(directory))
    with _PREDICTORS_LOCK:
        if key not in _PREDICTORS:
            _PREDICTORS[key] = Predictor(run_id, directory)
        return _PREDICTORS[key]


def clear_cache() -> None:
    with _PREDICTORS_LOCK:
        _PREDICTORS.clear()


# --- comparing two runs on their overlapping test window ---------------------------------------------------
def stored_test_predictions(directory, open_times: np.ndarray) -> pd.DataFrame:
    """Every trained regime's saved test-block probabilities of a run, one row per bar: ``open_time``, the label
    ``y`` and the ensemble's ``down``/``flat``/``up``. ``open_times`` are the run's candle times (the positions
    saved by the engine index them)."""
    directory = Path(directory)
    manifest = json.loads((directory / MANIFEST).read_text())
    frames = []
    for regime in manifest.get("trained_regimes") or []:
        with np.load(directory / regime / "test_predictions.npz") as data:
            positions, y, proba = data["positions"], data["y"], data["ensemble"]
        frame = pd.DataFrame(np.asarray(proba, dtype=float), columns=list(CLASS_NAMES))
        frame.insert(0, "y", np.asarray(y, dtype=int))
        frame.insert(0, "open_time", pd.to_datetime(np.asarray(open_times)[positions], utc=True))
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["open_time", "y", *CLASS_NAMES])
    return pd.concat(frames).sort_values("open_time").reset_index(drop=True)


def compare_on_overlap(new: pd.DataFrame, active: pd.DataFrame, *, horizon: int, seed: int = 0) -> dict:
    """Log loss of both runs' ensembles on the bars in both test windows (same time, same label).

    ``not_worse`` is the promotion rule: with the bootstrap (``training.ml.bootstrap``, moving blocks of
    ``max(horizon, 24)`` bars) it is true unless the verdict on mean(loss_new − loss_active) is "worse"
    (its 95% interval lies above 0).
    No overlapping bar → ``not_worse`` is false.
    """
    merged = new.merge(active, on="open_time", suffixes=("_new", "_active"))
    merged = merged[merged["y_new"] == merged["y_active"]]
    out: dict = {"bars": int(len(merged)), "method": "mean test log loss on the overlapping test window"}
    if merged.empty:
        return {**out, "not_worse": False, "new_log_loss": None, "active_log_loss": None}
    loss = {}
    for side in ("new", "active"):
        proba = merged[[f"{c}_{side}" for c in CLASS_NAMES]].to_numpy(dtype=float)
        loss[side] = row_log_loss(merged[f"y_{side}"].to_numpy(dtype=int), proba)
    out.update(
        first_open_time=merged["open_time"].iloc[0].isoformat(),
        last_open_time=merged["open_time"].iloc[-1].isoformat(),
        new_log_loss=float(loss["new"].mean()),
        active_log_loss=float(loss["active"].mean()),
    )
    verdict = moving_block_bootstrap(loss["new"], loss["active"], block=block_length(horizon), seed=seed)
    out.update(method="moving-block bootstrap of the per-bar log-loss difference (new − active)", bootstrap=verdict)
    return {**out, "not_worse": verdict["verdict"] != "worse"}
