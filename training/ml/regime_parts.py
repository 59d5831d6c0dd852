"""One run as independent regime parts, so several workers share it: each part prepares the run's data and trains
one regime (``TrainingManager.prepare`` + ``train_regime``, restricted to that regime), and returns a part record
(the run's ``RunBasis`` and the regime's ``TrainedRegime``, as JSON for the part's row); ``merge_regime_parts``
moves each regime's saved models into the run's directory and finishes the run with ``records.record_run`` — the
same function that finishes a single-process run. Plain Python (no Django).

A part prepares the data itself (features, labels and regimes are deterministic functions of the candles and the
preset), so a part can run on any worker that reads the same database.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .ensembles import ENSEMBLES
from .jsonable import jsonable
from .manager import TrainingManager, merge_preset, run_candles, series_stride
from .presets import get_preset
from .records import RunBasis, TrainedRegime, record_run
from .trading.rule import TradingSettings
from .trading.system import Trials

PARTS_DIR = "parts"
MSG_UNKNOWN_REGIME = "Unknown regime {regime!r}; known: {known}."
MSG_MISSING_PARTS = "Cannot finish the run: no result for regime(s) {regimes}."


def regimes_of_run() -> list[str]:
    return list(ENSEMBLES)


def part_dir(run_dir: Path, regime: str) -> Path:
    return Path(run_dir) / PARTS_DIR / regime


def train_regime_part(
    *,
    regime: str,
    config: dict,
    preset: str,
    seed: int,
    run_dir: Path,
    candles: pd.DataFrame,
    symbol: str,
    exchange: str,
    interval: str,
    calendar: str | None = None,
    optuna_storage: str | None = None,
    should_stop: Callable[[], bool] | None = None,
    log: Callable[[str], None] | None = None,
    progress: Callable[[str, float, str], None] | None = None,
    preset_overrides: dict | None = None,
    run_id: int | None = None,
    validated_report: dict | None = None,
) -> dict:
    """Train and save one regime; returns the part's record ``{"basis": RunBasis, "regime": TrainedRegime}`` as
    JSON. ``progress`` gets the part's own (stage, fraction, message) callbacks."""
    if regime not in ENSEMBLES:
        raise KeyError(MSG_UNKNOWN_REGIME.format(regime=regime, known=", ".join(ENSEMBLES)))
    started = time.perf_counter()
    manager = TrainingManager(
        config=config,
        preset=preset,
        seed=seed,
        artifacts_dir=str(part_dir(run_dir, regime)),
        optuna_storage=optuna_storage,
        should_stop=should_stop,
        log=(lambda message: log(f"[{regime}] {message}")) if log else None,
        progress=progress,
        ensembles={regime: ENSEMBLES[regime]},
        preset_overrides=preset_overrides,
        run_id=run_id,
        validated_report=validated_report,
    )
    basis, data, _ = manager.prepare(symbol, exchange, interval, candles, calendar)
    trained = manager.train_regimes(data)[regime]
    trained.wall_seconds = time.perf_counter() - started
    manager.progress("done", 1.0, f"Regime {regime} trained")
    return jsonable({"basis": basis.to_dict(), "regime": trained.to_dict()})


def merge_regime_parts(
    *,
    parts: dict[str, dict],
    workers: dict[str, str],
    run_dir: Path,
    preset: str,
    wall_started: float,
    candles: pd.DataFrame | None = None,
    trading: dict | None = None,
    trials: Trials | None = None,
    preset_overrides: dict | None = None,
) -> dict:
    """The run's result from its part records (``{regime: train_regime_part(...)}``), in the registry's regime
    order; each regime records the ``worker`` that trained it. ``wall_started`` is the run's
    ``time.perf_counter()`` start. With ``candles`` (the run's, as given to the parts) the trading evidence is
    computed as in a single-process run."""
    missing = [regime for regime in ENSEMBLES if regime not in parts]
    if missing:
        raise ValueError(MSG_MISSING_PARTS.format(regimes=", ".join(missing)))
    run_dir = Path(run_dir)
    trained = {regime: TrainedRegime.from_dict(parts[regime]["regime"]) for regime in ENSEMBLES}
    bases = [RunBasis.from_dict(parts[regime]["basis"]) for regime in ENSEMBLES]
    basis = bases[0]
    imports: dict[str, float] = {}
    preloaded: list[str] | None = None  # what every part's process had imported before it
    for part in bases:
        for name, seconds in part.imports.items():
            imports[name] = imports.get(name, 0.0) + seconds
        preloaded = [f for f in part.preloaded if preloaded is None or f in preloaded]
    basis.imports, basis.preloaded = imports, preloaded or []
    for regime in ENSEMBLES:
        source = part_dir(run_dir, regime) / regime
        if source.is_dir():
            target = run_dir / regime
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(source), str(target))
        for name in trained[regime].plots or []:  # drawn by the part beside its regime's folder
            shutil.move(str(part_dir(run_dir, regime) / name), str(run_dir / name))
    shutil.rmtree(run_dir / PARTS_DIR, ignore_errors=True)
    preset_settings = merge_preset(get_preset(preset), preset_overrides)
    rows = None if candles is None else run_candles(candles, preset_settings)
    result = record_run(
        trained,
        basis=basis,
        run_dir=run_dir,
        preset_settings=preset_settings,
        candles=rows,
        stages={f"part:{regime}": t.wall_seconds for regime, t in trained.items()},
        wall_started=wall_started,
        stride=series_stride(len(rows)) if rows is not None else 1,
        trading=TradingSettings.from_dict(trading),
        trials=trials,
        workers={regime: workers.get(regime, "") for regime in ENSEMBLES},
        report_stage="finish",
    )
    return jsonable(result.to_dict())
