"""``TrainingManager``: one full training run, from candles to saved per-regime ensembles and a JSON result.

Sequence: initialize components → apply_regularization_to_components() → validate_and_report_regularization()
(errors raise ``RegularizationInvalid`` before anything is trained; warnings are kept) → features → labels →
regimes (``prepare`` → a ``RunBasis``) → ``train_regime`` for each regime (trains and saves its ensemble; a
``TrainedRegime``) → ``records.record_run``: the trading evidence on the common test window (from the saved
predictions), plots, the manifest and the run's record.
"""

from __future__ import annotations

import random
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, wait
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from . import plots
from .backends import frameworks
from .dataset import Dataset, SeriesSegments, assemble_dataset
from .ensembles import ENSEMBLES
from .errors import DataError, RegularizationInvalid, TrainingCancelled
from .features import feature_descriptions
from .jsonable import jsonable
from .labels import distribution as label_distribution
from .labels import label_definition
from .optuna_storage import study_writes
from .presets import get_preset
from .records import RunBasis, TrainedRegime, record_run
from .regimes import RULE, regime_distribution
from .regularization import validate_and_report_regularization
from .results import DataSummary, RegularizationReport
from .trading.rule import TradingSettings
from .trading.system import Trials
from .warm import frameworks_import, frameworks_loaded

MAX_SERIES_POINTS = 2000
MSG_CANCELLED = "Training cancelled during {stage}."
STAGE_FRACTIONS = {
    "initialize": 0.0,
    "regularization": 0.02,
    "features": 0.04,
    "labels": 0.06,
    "regimes": 0.08,
    "training": 0.10,
    "evaluate": 0.90,
    "save": 0.92,
    "trading": 0.94,
    "report": 0.96,
    "done": 1.0,
}


def merge_preset(preset: dict, overrides: dict | None) -> dict:
    """``overrides`` replace top-level keys; under ``models`` they update each model's params."""
    for key, value in (overrides or {}).items():
        if key == "models":
            for model, params in value.items():
                preset["models"].setdefault(model, {}).update(params)
        else:
            preset[key] = value
    return preset


def seed_everything(seed: int, keys) -> None:
    """Python's and numpy's generators, then every framework the given backends use (as each declares)."""
    random.seed(seed)
    np.random.seed(seed)
    for framework in frameworks(keys):
        if framework.seed is not None:
            framework.seed(seed)


class TrainingManager:
    def __init__(
        self,
        config: dict,
        preset: str = "quick",
        seed: int = 42,
        artifacts_dir=None,
        optuna_storage: str | None = None,
        progress: Callable[[str, float, str], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        log: Callable[[str], None] | None = None,
        ensembles: dict | None = None,
        preset_overrides: dict | None = None,
        trading: dict | None = None,
        trials: Trials | None = None,
        run_id: int | None = None,
        validated_report: dict | None = None,
    ) -> None:
        self.config = config
        # the report the launch made of this exact config: given (and from before any training), the config is not
        # validated a second time here
        self.validated_report = validated_report
        self.preset_name = preset
        self.preset = merge_preset(get_preset(preset), preset_overrides)
        self.seed = seed
        self.artifacts_dir = Path(artifacts_dir) if artifacts_dir else Path(tempfile.mkdtemp(prefix="ares-run-"))
        self.optuna_storage = optuna_storage
        self._progress = progress or (lambda stage, fraction, message: None)
        self._should_stop = should_stop or (lambda: False)
        self._log = log or (lambda message: None)
        self.ensemble_classes = dict(ensembles or ENSEMBLES)
        self.trading = TradingSettings.from_dict(trading)
        self.trials = trials
        self.run_id = run_id  # the project's run id, given to the stored Optuna studies (run_id user attribute)
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self.run_tag = f"run{run_id}-{stamp}" if run_id is not None else stamp
        self.components: dict = {}
        self.applied: dict = {}
        self.report: dict | None = None
        self.timings: dict[str, float] = {}
        self._steps_done = 0
        self._steps_total = 1

    # --- callbacks ----------------------------------------------------------------------------------
    def progress(self, stage: str, fraction: float, message: str) -> None:
        self._progress(stage, float(min(1.0, max(0.0, fraction))), message)

    def log(self, message: str) -> None:
        self._log(message)

    def check_stop(self, stage: str) -> None:
        if self._should_stop():
            raise TrainingCancelled(MSG_CANCELLED.format(stage=stage))

    def _step(self, message: str) -> None:
        self._steps_done += 1
        lo, hi = STAGE_FRACTIONS["training"], STAGE_FRACTIONS["evaluate"]
        self.progress("training", lo + (hi - lo) * self._steps_done / self._steps_total, message)

    def _begin(self, message: str) -> None:
        """A training step starts: the progress names it, at the fraction the finished steps reached."""
        lo, hi = STAGE_FRACTIONS["training"], STAGE_FRACTIONS["evaluate"]
        self.progress("training", lo + (hi - lo) * self._steps_done / self._steps_total, f"{message} …")

    def _stage(self, name: str, message: str) -> float:
        self.check_stop(name)
        self.progress(name, STAGE_FRACTIONS[name], message)
        return time.perf_counter()

    def _done(self, name: str, started: float) -> None:
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - started

    # --- components ---------------------------------------------------------------------------------
    def initialize_components(self) -> dict:
        self.components = {
            regime: cls(
                preset=self.preset,
                seed=self.seed,
                should_stop=self._should_stop,
                log=self.log,
                step=self._step,
                begin=self._begin,
                optuna_storage=self.optuna_storage,
                run_tag=self.run_tag,
                run_id=self.run_id,
            )
            for regime, cls in self.ensemble_classes.items()
        }
        return self.components

    def apply_regularization_to_components(self) -> dict:
        """Give every ensemble the resolved config; log what each of its models receives."""
        self.applied = {}
        for regime, ensemble in self.components.items():
            applied = ensemble.apply_regularization(self.config)
            self.applied[regime] = applied
            for model, entry in applied.items():
                values = ", ".join(
                    f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in entry["values"].items()
                )
                self.log(f"Regularization for {regime}/{model} ({entry['section']}): {values}")
        return self.applied

    def validate_regularization(self) -> dict:
        given = self.validated_report
        fresh = not given or given.get("measured_warnings") is not None
        self.report = validate_and_report_regularization(self.config) if fresh else dict(given)
        for warning in self.report["warnings"]:
            self.log(f"Regularization warning: {warning}")
        if not self.report["ok"]:
            raise RegularizationInvalid(self.report)
        return self.report

    # --- the run ------------------------------------------------------------------------------------
    def run_full_training(
        self,
        symbol: str,
        exchange_name: str = "BINANCE",
        interval: str = "1h",
        candles: pd.DataFrame | None = None,
        calendar: str | None = None,
    ) -> dict:
        """Prepare, train every regime, then ``record_run``; returns the run's result as stored (JSON)."""
        wall_started = time.perf_counter()
        basis, data, candles = self.prepare(symbol, exchange_name, interval, candles, calendar)
        stride = series_stride(len(candles))
        drawing: dict[str, Future] = {}  # the plots, drawn in the plotting thread while the main thread works on
        overview = None
        if self.preset.get("plots", True):
            series = basis.regime_series
            times = plots.series_times(candles, stride)
            overview = plots.draw_soon(plots.plot_regimes, self.artifacts_dir, times, series["close"], series["regime"])
        try:
            regimes = self.train_regimes(data, drawing=drawing)
            result = record_run(
                regimes,
                basis=basis,
                run_dir=self.artifacts_dir,
                preset_settings=self.preset,
                candles=candles,
                stages=self.timings,
                wall_started=wall_started,
                stride=stride,
                trading=self.trading,
                trials=self.trials,
                stage=self._stage,
                log=self.log,
                drawing=drawing,
                overview=overview,
            )
        finally:  # a failed or cancelled run returns after its drawings, not with files still being written
            wait([*drawing.values(), *([overview] if overview else [])])
        self.progress("done", 1.0, "Training finished")
        return jsonable(result.to_dict())

    def prepare(
        self,
        symbol: str,
        exchange_name: str = "BINANCE",
        interval: str = "1h",
        candles: pd.DataFrame | None = None,
        calendar: str | None = None,
    ) -> tuple[RunBasis, Dataset, pd.DataFrame]:
        """Components, regularization (validated: errors raise before anything trains), features, labels, regimes
        and the frameworks' imports: the run's ``RunBasis``, the dataset every regime trains on and the run's rows."""
        preloaded = frameworks_loaded()
        if candles is None:
            raise DataError("run_full_training needs a candles DataFrame.")
        p = self.preset

        t = self._stage("initialize", f"Initializing {len(self.ensemble_classes)} regime ensembles")
        self.initialize_components()
        self._done("initialize", t)

        t = self._stage("regularization", "Applying and validating regularization")
        self.apply_regularization_to_components()
        self.validate_regularization()
        self._done("regularization", t)

        t = self._stage("features", "Computing features")
        candles = run_candles(candles, p)
        segments = SeriesSegments(candles, calendar)
        if segments.gaps["closures"]:
            self.log(
                f"Calendar {segments.gaps['calendar']}: {segments.gaps['closures']} market closure(s) are not gaps; "
                "features, labels and windows run over trading bars"
            )
        if segments.gaps["count"]:
            largest = segments.gaps["largest"]
            self.log(
                f"{segments.gaps['count']} gap(s) in the candles ({segments.gaps['missing_bars']} bars missing, "
                f"largest {largest['missing']} after {largest['after']}); features, labels and regimes are "
                "computed per gap-free segment"
            )
        full, feature_names = segments.features()
        self._done("features", t)

        t = self._stage("labels", f"Labelling with horizon {p['horizon']}")
        labels = segments.labels(horizon=int(p["horizon"]), label_k=float(p["label_k"]))
        self._done("labels", t)

        t = self._stage("regimes", "Classifying regimes")
        regimes = segments.regimes()
        data = assemble_dataset(
            full,
            feature_names,
            labels,
            regimes,
            horizon=int(p["horizon"]),
            lookback=int(p["lookback"]),
            bars_in_segment=segments.bars_in_segment(),
        )
        positions = data.positions
        distribution = regime_distribution(regimes.iloc[positions])
        self.log(f"Regimes: {distribution}")
        self._done("regimes", t)

        keys = {k for e in self.components.values() for k in e.model_keys}
        t = time.perf_counter()
        imported = frameworks_import(keys)
        self._done("imports", t)
        basis = RunBasis(
            symbol=symbol,
            exchange=exchange_name,
            interval=interval,
            preset=self.preset_name,
            seed=self.seed,
            data=DataSummary(
                rows=int(len(candles)),
                labeled_rows=int(len(positions)),
                first_open_time=candles["open_time"].iloc[0].isoformat(),
                last_open_time=candles["open_time"].iloc[-1].isoformat(),
                label_distribution=label_distribution(labels.iloc[positions]),
                gaps=segments.summary(),
            ),
            config=self.config,
            report=RegularizationReport.from_dict(self.report),
            features=feature_names,
            feature_descriptions=feature_descriptions(),
            labels=label_definition(horizon=int(p["horizon"]), k=float(p["label_k"])),
            regimes={"distribution": distribution, "rule": RULE},
            regime_series=_regime_series(candles, regimes, series_stride(len(candles))),
            imports=imported,
            preloaded=preloaded,
        )
        return basis, data, candles

    def train_regimes(self, data: Dataset, drawing: dict[str, Future] | None = None) -> dict[str, TrainedRegime]:
        """Every component's regime, in order (seeded once for the frameworks they use). Each regime's plots are
        drawn in the plotting thread while the next regime trains; with ``drawing`` given, their Futures are put
        there and left to the caller (``record_run`` collects them, so the last regime's plots are drawn while the
        trading evidence is computed), else they are waited for and set on their regimes."""
        t = self._stage("training", "Training regime ensembles")
        seed_everything(self.seed, {k for e in self.components.values() for k in e.model_keys})
        self._steps_total = sum(e.planned_steps() for e in self.components.values())
        pending: dict[str, Future] = {} if drawing is None else drawing
        trained = {}
        try:
            for regime in self.components:
                trained[regime] = done = self.train_regime(regime, data)
                if self.preset.get("plots", True) and done.section.trained:
                    pending[regime] = plots.draw_soon(plots.regime_plots, self.artifacts_dir, regime, done.section)
        except BaseException:  # a failed or cancelled run returns after its drawings, not with files being written
            wait(pending.values())
            raise
        if drawing is None:
            for regime, future in pending.items():
                trained[regime].plots = future.result()  # a drawing's failure fails the run
        self._done("training", t)
        return trained

    def train_regime(self, regime: str, data: Dataset) -> TrainedRegime:
        """Train one regime's ensemble and save it (models and predictions) under ``artifacts_dir/regime``."""
        started = time.perf_counter()
        ensemble = self.components[regime]
        self.check_stop("training")
        self.log(f"[{regime}] training {', '.join(ensemble.model_keys)}")
        with study_writes():  # the tuned studies are written while the next models fit; stored before it returns
            section = ensemble.train(data)
        files = []
        if section.trained:
            t = time.perf_counter()
            self.artifacts_dir.mkdir(parents=True, exist_ok=True)
            files = [f"{regime}/{f}" for f in ensemble.save(self.artifacts_dir / regime)]
            self._done("save", t)
        return TrainedRegime(
            regime=regime,
            section=section,
            applied={key: b.library_params for key, b in ensemble.models.items()} if section.trained else {},
            per_regime=self.applied.get(regime, {}),
            files=files,
            fit_seconds=float(ensemble.fit_seconds),
            wall_seconds=time.perf_counter() - started,
        )


def run_candles(candles: pd.DataFrame, preset: dict) -> pd.DataFrame:
    """The candles a run trains on: the preset's most recent ``max_rows`` (all without it), indexed from 0."""
    candles = candles.reset_index(drop=True)
    if preset.get("max_rows"):
        candles = candles.iloc[-int(preset["max_rows"]) :].reset_index(drop=True)
    return candles


def series_stride(rows: int) -> int:
    """Every how many bars the price/regime series of a result keeps one, to stay under MAX_SERIES_POINTS."""
    return max(1, int(np.ceil(rows / MAX_SERIES_POINTS)))


def _regime_series(candles: pd.DataFrame, regimes: pd.Series, stride: int) -> dict:
    part = candles.iloc[::stride]
    return {
        "time": [t.isoformat() for t in part["open_time"]],
        "close": [float(c) for c in part["close"]],
        "regime": [r if isinstance(r, str) else None for r in regimes.iloc[::stride]],
    }
