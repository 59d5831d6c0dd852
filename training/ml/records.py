"""One line of records (Qlib's ``SignalRecord`` → ``SigAnaRecord``): training returns what it trained, one function
turns that into the run's record.

- ``RunBasis``: what every regime of a run shares, prepared from the candles and the preset (data summary,
  features, labels, regimes, the validated regularization config and its report before training).
- ``TrainedRegime``: what ``TrainingManager.train_regime`` returns for one regime — its typed section (models,
  ensemble, baselines), the library parameters its models received, the saved files (its predictions are stored
  with its models) and its fit time.
- ``record_run(regimes, basis=…)``: the run's ``RunResult`` — regularization record, trading evidence, plots,
  manifest, artifacts, timings, validation and the warnings measured after training. The single-process run
  (``TrainingManager.run_full_training``) and the run in regime parts (``regime_parts.merge_regime_parts``) both
  finish here, so their records cannot drift apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import artifacts, plots
from .evidence_report import measured_warnings
from .regimes import REGIMES, RULE
from .results import DataSummary, Record, RegimeResult, RegularizationReport, RunResult, Timings
from .trading.rule import TradingSettings
from .trading.system import Trials, trading_record


@dataclass
class RunBasis(Record):
    symbol: str
    exchange: str
    interval: str
    preset: str
    seed: int
    data: DataSummary
    config: dict[str, Any]
    report: RegularizationReport  # before training (``record_run`` adds the warnings measured after it)
    features: list[str]
    feature_descriptions: dict[str, str]
    labels: dict[str, Any]
    regimes: dict[str, Any]
    regime_series: dict[str, list]
    imports: dict[str, float] = field(default_factory=dict)  # seconds importing each framework in this process
    preloaded: list[str] = field(default_factory=list)  # frameworks this process had imported before the run


@dataclass
class TrainedRegime(Record):
    regime: str
    section: RegimeResult
    applied: dict[str, Any] = field(default_factory=dict)  # model key -> library params (trained regimes)
    per_regime: dict[str, Any] = field(default_factory=dict)  # model key -> {"section", "values"} it was given
    files: list[str] = field(default_factory=list)  # saved under the regime's folder
    fit_seconds: float = 0.0
    wall_seconds: float = 0.0  # the process's time for this regime (a part: preparing, training and saving)
    plots: list[str] | None = None  # its plots in the run's folder when drawn as it trained (None: record_run draws)


def regularization_record(basis: RunBasis, regimes: dict[str, TrainedRegime]) -> dict:
    applied: dict = {}
    for trained in regimes.values():
        for key, params in trained.applied.items():
            applied.setdefault(key, params)
    return {
        "config": basis.config,
        "report": basis.report.to_dict(),
        "applied": applied,
        "applied_by_regime": {r: t.applied for r, t in regimes.items() if t.section.trained},
        "per_regime": {r: t.per_regime for r, t in regimes.items()},
    }


def record_run(
    regimes: dict[str, TrainedRegime],
    *,
    basis: RunBasis,
    run_dir: Path,
    preset_settings: dict,
    candles: pd.DataFrame | None,
    stages: dict[str, float],
    wall_started: float,
    stride: int = 1,
    trading: TradingSettings | None = None,
    trials: Trials | None = None,
    workers: dict[str, str] | None = None,
    stage: Callable[[str, str], None] | None = None,
    log: Callable[[str], None] | None = None,
    report_stage: str = "report",
    drawing: dict[str, Future] | None = None,
    overview: Future | None = None,
) -> RunResult:
    """The run's record from its trained regimes (in run order). ``candles`` are the rows the run trained on (the
    trading evidence needs them; None leaves it out), ``stages`` the seconds of the stages so far (this adds
    ``trading`` and ``report_stage``), ``wall_started`` the run's ``time.perf_counter()`` start, ``workers`` the
    worker of each regime when the run was spread over workers; ``stage(name, message)`` announces a stage;
    ``drawing`` the regimes' plots and ``overview`` the regimes overview still being drawn (collected before the
    manifest; the caller waits for them if this raises)."""
    stage = stage or (lambda name, message: None)
    log = log or (lambda message: None)
    trading = trading or TradingSettings.from_dict(None)
    run_dir = Path(run_dir)
    stages = dict(stages)
    for regime, trained in regimes.items():
        if workers and regime in workers:
            trained.section.worker = workers[regime]
    result = RunResult(
        symbol=basis.symbol,
        exchange=basis.exchange,
        interval=basis.interval,
        preset=basis.preset,
        seed=basis.seed,
        data=basis.data,
        regularization=regularization_record(basis, regimes),
        features=basis.features,
        feature_descriptions=basis.feature_descriptions,
        labels=basis.labels,
        regimes=basis.regimes,
        regime_series=basis.regime_series,
        ensembles={regime: trained.section for regime, trained in regimes.items()},
    )
    if candles is not None and preset_settings.get("trading", True):
        stage("trading", "Trading evidence on the common test window")
        started = time.perf_counter()
        result.trading = trading_record(
            run_dir=run_dir,
            candles=candles,
            regimes=list(regimes),
            ensembles=result.ensembles,
            horizon=int(preset_settings["horizon"]),
            interval=basis.interval,
            settings=trading,
            trials=trials,
            seed=basis.seed,
        )
        if result.trading:
            log(result.trading.summary_line())
        stages["trading"] = time.perf_counter() - started

    stage("report", "Drawing plots and writing the manifest")
    started = time.perf_counter()
    if preset_settings.get("plots", True):
        times = None
        if candles is not None:
            times = plots.series_times(candles, stride)
        for regime, future in (drawing or {}).items():
            regimes[regime].plots = future.result()  # a drawing's failure fails the run
        drawn = {regime: t.plots for regime, t in regimes.items() if t.plots is not None}
        result.plots = plots.write_plots(run_dir, result, times=times, drawn=drawn, overview=overview)
    versions = artifacts.library_versions()
    manifest = {
        "symbol": basis.symbol,
        "exchange": basis.exchange,
        "interval": basis.interval,
        "preset": basis.preset,
        "preset_settings": preset_settings,
        "seed": basis.seed,
        "library_versions": versions,
        "features": basis.features,
        "labels": basis.labels,
        "regimes": {"names": list(REGIMES), "rule": RULE},
        "config": basis.config,
        "data": basis.data.to_dict(),
        "trained_regimes": result.trained_regimes(),
        "trading": trading.to_dict(),
    }
    if workers:
        manifest["workers"] = workers
    written = artifacts.write_manifest(run_dir, manifest)
    stages[report_stage] = time.perf_counter() - started

    result.artifacts = {
        "path": str(run_dir),
        "manifest": artifacts.MANIFEST,
        "files": sorted(written["files"]) + [artifacts.MANIFEST],
    }
    result.library_versions = versions
    result.timings = Timings(
        stages=stages,
        fit_seconds_total=sum(t.fit_seconds for t in regimes.values()),
        wall_seconds=time.perf_counter() - wall_started,
        imports=dict(basis.imports),
        preloaded=list(basis.preloaded),
    )
    result.validate()
    warnings = measured_warnings(result)
    result.regularization["report"] = basis.report.with_measured(warnings).to_dict()
    for warning in warnings:
        log(f"Measured: {warning}")
    return result
