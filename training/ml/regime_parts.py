"""One run as independent regime parts, so several workers share it: each part is an ordinary
``TrainingManager`` run restricted to one regime (its ``ensembles`` argument) without plots, seeded on its own;
``merge_regime_parts`` then joins the parts' results into the run's result, moves each regime's saved models into
the run's directory, draws the plots and writes the manifest. Plain Python (no Django).

A part prepares the data itself (features, labels and regimes are deterministic functions of the candles and the
preset), so a part can run on any worker that reads the same database.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from . import artifacts, plots
from .ensembles import ENSEMBLES
from .evidence_report import measured_warnings
from .jsonable import jsonable
from .manager import TrainingManager, merge_preset, run_candles, with_measured_warnings, without_measured_warnings
from .presets import get_preset
from .regimes import REGIMES, RULE
from .results import RunResult, Timings
from .trading.rule import TradingSettings
from .trading.system import Trials, trading_record

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
) -> dict:
    """Train and save one regime; returns that part's result (a ``RunResult`` dict holding one regime).
    ``progress`` gets the part's own (stage, fraction, message) callbacks."""
    if regime not in ENSEMBLES:
        raise KeyError(MSG_UNKNOWN_REGIME.format(regime=regime, known=", ".join(ENSEMBLES)))
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
        preset_overrides={**(preset_overrides or {}), "plots": False, "trading": False},
        run_id=run_id,
    )
    return manager.run_full_training(
        symbol, exchange_name=exchange, interval=interval, candles=candles, calendar=calendar
    )


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
    """The run's result from its parts (``{regime: part result}``), in the registry's regime order; each regime
    records the ``worker`` that trained it. ``wall_started`` is the run's ``time.perf_counter()`` start. With
    ``candles`` (the run's, as given to the parts) the trading evidence is computed as in a single-process run."""
    missing = [regime for regime in ENSEMBLES if regime not in parts]
    if missing:
        raise ValueError(MSG_MISSING_PARTS.format(regimes=", ".join(missing)))
    run_dir = Path(run_dir)
    typed = {regime: RunResult.from_dict(parts[regime]) for regime in ENSEMBLES}
    first = typed[next(iter(ENSEMBLES))]
    ensembles, applied, applied_by_regime, per_regime, stages = {}, {}, {}, {}, {}
    fit_total = 0.0
    imports: dict[str, float] = {}
    preloaded: list[str] | None = None  # what every part's process had imported before it
    for regime, part in typed.items():
        section = part.ensembles[regime]
        section.worker = workers.get(regime, "")
        ensembles[regime] = section
        for key, params in (part.regularization.get("applied") or {}).items():
            applied.setdefault(key, params)
        per_regime.update(part.regularization.get("per_regime") or {})
        applied_by_regime.update(part.regularization.get("applied_by_regime") or {})
        stages[f"part:{regime}"] = part.timings.wall_seconds if part.timings else 0.0
        fit_total += part.timings.fit_seconds_total if part.timings else 0.0
        if part.timings:
            for name, seconds in part.timings.imports.items():
                imports[name] = imports.get(name, 0.0) + seconds
            preloaded = [f for f in part.timings.preloaded if preloaded is None or f in preloaded]
        source = part_dir(run_dir, regime) / regime
        if source.is_dir():
            target = run_dir / regime
            if target.exists():
                shutil.rmtree(target)
            shutil.move(str(source), str(target))
    shutil.rmtree(run_dir / PARTS_DIR, ignore_errors=True)
    finish_started = time.perf_counter()
    result = RunResult(
        symbol=first.symbol,
        exchange=first.exchange,
        interval=first.interval,
        preset=first.preset,
        seed=first.seed,
        data=first.data,
        regularization={
            **first.regularization,
            "applied": applied,
            "applied_by_regime": applied_by_regime,
            "per_regime": per_regime,
        },
        features=first.features,
        feature_descriptions=first.feature_descriptions,
        labels=first.labels,
        regimes=first.regimes,
        regime_series=first.regime_series,
        ensembles=ensembles,
    )
    preset_settings = merge_preset(get_preset(preset), preset_overrides)
    settings = TradingSettings.from_dict(trading)
    if candles is not None and preset_settings.get("trading", True):
        started = time.perf_counter()
        result.trading = trading_record(
            run_dir=run_dir,
            candles=run_candles(candles, preset_settings),
            regimes=list(ENSEMBLES),
            ensembles=result.ensembles,
            horizon=int(preset_settings["horizon"]),
            interval=result.interval,
            settings=settings,
            trials=trials,
            seed=result.seed,
        )
        stages["trading"] = time.perf_counter() - started
    if preset_settings.get("plots", True):
        result.plots = plots.write_plots(run_dir, result)
    versions = artifacts.library_versions()
    manifest = artifacts.write_manifest(
        run_dir,
        {
            "symbol": result.symbol,
            "exchange": result.exchange,
            "interval": result.interval,
            "preset": preset,
            "preset_settings": preset_settings,
            "seed": result.seed,
            "library_versions": versions,
            "features": result.features,
            "labels": result.labels,
            "regimes": {"names": list(REGIMES), "rule": RULE},
            "config": result.regularization.get("config"),
            "data": result.data.to_dict(),
            "trained_regimes": result.trained_regimes(),
            "workers": workers,
            "trading": settings.to_dict(),
        },
    )
    stages["finish"] = time.perf_counter() - finish_started
    result.artifacts = {
        "path": str(run_dir),
        "manifest": artifacts.MANIFEST,
        "files": sorted(manifest["files"]) + [artifacts.MANIFEST],
    }
    result.library_versions = versions
    result.timings = Timings(
        stages=stages,
        fit_seconds_total=fit_total,
        wall_seconds=time.perf_counter() - wall_started,
        imports=imports,
        preloaded=preloaded or [],
    )
    result.validate()
    output = jsonable(result.to_dict())
    report = without_measured_warnings(output["regularization"].get("report"))  # the first part's, before training
    output["regularization"]["report"] = with_measured_warnings(report, measured_warnings(output))
    return output
