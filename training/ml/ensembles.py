"""Per-regime stacking ensembles.

``BaseEnsemble`` owns the fixed sequence: plan the regime's rows (purged walk-forward folds, ``walkforward``) →
fit every base model per fold and keep its out-of-fold / fold-train / test predictions → stack the out-of-fold
probabilities (``stacking``) → compute the records from the stored predictions (``evaluation``) → save.
A subclass only names its regime and its default base models; a preset may choose others per regime
(``preset["ensembles"] = {"bull_trend": ["logreg"], …}``):

- ``BullTrendEnsemble``: lightgbm, logreg, lstm — a trend is a sequence; the LSTM reads the window of bars.
- ``BearTrendEnsemble``: lightgbm, logreg, transformer — self-attention can weigh the few bars of a sharp sell-off.
- ``SidewaysRangeEnsemble``: lightgbm, logreg, tabnet — in a range the oscillator levels (RSI, %B, %K) matter,
  a tabular problem; TabNet's sparse feature masks pick among them.
- ``VolatileEnsemble``: lightgbm, logreg — the rarest regime with the noisiest labels; only the two models that
  stay stable on few rows.
Together the four use all five backends. LightGBM and the elastic-net logistic regression are in every ensemble
as strong, cheap, interpretable anchors.

``MIN_ROWS`` (150) is the floor below which a regime is skipped with the reason recorded: with 2 folds, a 20 %
test block and purge gaps, fewer rows leave validation blocks of a few dozen rows, too small to compare models.
Presets may raise it (``min_rows``). A regime with a single class, or a fold whose training rows hold a single
class, is skipped with the reason. Feature columns constant over a regime's development rows are dropped for
that regime and named in ``notes``. A base model that raises fails the run with a ``TrainingError`` naming the
regime, the model and the original error.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np

from .backends import get_backend
from .dataset import Dataset
from .errors import TrainingCancelled, TrainingError
from .evaluation import baselines_record, ensemble_record, make_comparison, model_record, split_record
from .results import TRAINED, RegimeResult
from .stacking import STACKER_FILE, fit_stacking
from .uniqueness import effective_rows
from .walkforward import MSG_CANCELLED, ModelPredictions, RegimeInputs, RegimeSkipped, WalkForward, plan_regime

MSG_NOT_CONFIGURED = "Regime {regime}: apply_regularization() was not called before train()."


class BaseEnsemble:
    regime: ClassVar[str]
    model_keys: tuple[str, ...]  # class default; an instance takes the preset's choice for its regime
    MIN_ROWS: ClassVar[int] = 150

    def __init__(
        self,
        *,
        preset: dict,
        seed: int = 42,
        should_stop: Callable[[], bool] | None = None,
        log: Callable[[str], None] | None = None,
        step: Callable[[str], None] | None = None,
        begin: Callable[[str], None] | None = None,
        optuna_storage: str | None = None,
        run_tag: str = "run",
        run_id: int | None = None,
    ) -> None:
        self.preset = preset
        self.seed = seed
        self.should_stop = should_stop or (lambda: False)
        self.log = log or (lambda message: None)
        self.step = step or (lambda message: None)  # a step finished (advances the progress)
        self.begin = begin or (lambda message: None)  # a step starts (names what runs now)
        self.optuna_storage = optuna_storage
        self.run_tag = run_tag
        self.run_id = run_id
        self.model_keys = tuple((preset.get("ensembles") or {}).get(self.regime) or type(self).model_keys)
        self.config: dict | None = None
        self.min_rows = max(self.MIN_ROWS, int(preset.get("min_rows") or 0))
        self.models: dict = {}
        self.predictions: dict[str, ModelPredictions] = {}
        self.stacker = None
        self.feature_names: list[str] = []
        self.test_output: dict = {}
        self.fit_seconds = 0.0

    # --- configuration ------------------------------------------------------------------------------
    def apply_regularization(self, config: dict) -> dict:
        """Store the resolved config; return, per base model, the section it will be built with."""
        self.config = config
        applied = {
            key: {"section": get_backend(key).config_section, "values": dict(config[get_backend(key).config_section])}
            for key in self.model_keys
        }
        return applied

    def model_params(self, key: str, fold: int) -> dict:
        params = dict((self.preset.get("models") or {}).get(key) or {})
        if get_backend(key).tuned_by_optuna:
            params.setdefault("optuna_storage", self.optuna_storage)
            params.setdefault("study_name", f"{self.run_tag}-{self.regime}-fold{fold}")
            attrs = {"run_id": self.run_id} if self.run_id is not None else {}
            params.setdefault("study_user_attrs", {**attrs, "regime": self.regime, "fold": fold, "model": key})
        if get_backend(key).input_kind == "sequence":
            params.setdefault("lookback", self.preset.get("lookback"))
        return params

    def planned_steps(self) -> int:
        return len(self.model_keys) * int(self.preset["n_folds"]) + 1

    def fold_seed(self, fold: int) -> int:
        """The run seed derived per regime and fold (stable across processes), so e.g. Optuna's sampler does not
        propose the same trials in every regime and fold."""
        return zlib.crc32(f"{self.seed}:{self.regime}:{fold}".encode()) % (2**31 - 1)

    def build_backend(self, key: str, fold: int):
        cls = get_backend(key)
        return cls(
            self.config[cls.config_section],
            params=self.model_params(key, fold),
            seed=self.fold_seed(fold),
            should_stop=self.should_stop,
            log=lambda m: self.log(f"[{self.regime}/{key}] {m}"),
        )

    # --- training -----------------------------------------------------------------------------------
    def train(self, data: Dataset) -> RegimeResult:
        if self.config is None:
            raise TrainingError(MSG_NOT_CONFIGURED.format(regime=self.regime))
        try:
            plan = plan_regime(data, self.regime, self.preset, self.min_rows)
        except RegimeSkipped as skip:
            self.log(f"[{self.regime}] skipped: {skip.reason}")
            return RegimeResult.skipped(skip.reason, skip.rows)
        inputs = RegimeInputs.prepare(data, plan)
        self.feature_names, self.lookback, self.scaling = inputs.feature_names, data.lookback, inputs.scaling
        walk = WalkForward(
            plan,
            inputs,
            build_backend=self.build_backend,
            should_stop=self.should_stop,
            step=self.step,
            begin=self.begin,
            sample_weights=bool(self.preset.get("sample_weights", True)),
        )
        for key in self.model_keys:
            predictions = walk.fit(key, get_backend(key).input_kind)
            self.predictions[key] = predictions
            self.models[key] = predictions.backend
            self.fit_seconds += predictions.fit_seconds

        if self.should_stop():
            raise TrainingCancelled(MSG_CANCELLED.format(regime=self.regime, model="combiner"))
        self.begin(f"{self.regime}: choosing and calibrating the combiner")
        stacked = fit_stacking(plan, self.predictions, seed=self.seed)
        self.stacker = stacked.stacker
        self.fit_seconds += stacked.fit_seconds
        self.step(f"{self.regime}: combiner {stacked.fit.choice.name} chosen and calibrated")
        comparison = make_comparison(data, plan, stacked, seed=self.seed)
        self.test_output = {
            "positions": plan.positions[plan.test],
            "y": plan.y[plan.test],
            "ensemble": stacked.test,
            **{f"base_{k}": p.test for k, p in self.predictions.items()},
            "validation_positions": plan.positions[comparison.rows],
            "validation_y": plan.y[comparison.rows],
            "validation_ensemble": stacked.validation,
            **{f"validation_base_{k}": p.oof[comparison.rows] for k, p in self.predictions.items()},
        }
        return RegimeResult(
            status=TRAINED,
            reason="",
            rows=int(plan.n),
            notes=inputs.notes,
            models={
                key: model_record(
                    plan,
                    p,
                    input_kind=get_backend(key).input_kind,
                    feature_names=self.feature_names,
                    comparison=comparison,
                )
                for key, p in self.predictions.items()
            },
            ensemble=ensemble_record(plan, stacked, comparison),
            baselines=baselines_record(data, plan, comparison),
            split=split_record(plan),
            comparison={**comparison.record(plan), "sample_weights": self.sample_weight_record(plan)},
            feature_names=self.feature_names,
        )

    def sample_weight_record(self, plan) -> dict:
        fit_positions = plan.positions[plan.last_fit]
        return {
            "on": bool(self.preset.get("sample_weights", True)),
            "method": "average label uniqueness over the label horizon (López de Prado ch. 4), mean 1",
            "last_fold_fit_rows": int(len(fit_positions)),
            "last_fold_effective_rows": effective_rows(fit_positions, plan.horizon),
        }

    # --- persistence --------------------------------------------------------------------------------
    def save(self, directory: Path) -> list[str]:
        """Each base model via its backend's native ``save``, the combiner and its calibration as
                ``stacker.json``, ``ensemble.json`` and the test-block probabilities (``test_predictions.npz``, which also keeps
        the ensemble's held-out validation probabilities with their bar positions and labels, for the trading records).
                Returns paths relative to ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        files = []
        for key, backend in self.models.items():
            sub = directory / key
            sub.mkdir(exist_ok=True)
            backend.save(sub)
            files += [str(f.relative_to(directory)) for f in sorted(sub.rglob("*")) if f.is_file()]
        (directory / STACKER_FILE).write_text(json.dumps(self.stacker.to_dict(), indent=2))
        np.savez(directory / "test_predictions.npz", **self.test_output)
        spec = {
            "regime": self.regime,
            "class": type(self).__name__,
            "models": list(self.model_keys),
            "feature_names": self.feature_names,
            "lookback": self.lookback,
            "scaling": self.scaling,
            "horizon": int(self.preset.get("horizon", 4)),
            "regularization": {k: self.config[get_backend(k).config_section] for k in self.model_keys},
            "params": {
                k: {kk: vv for kk, vv in self.model_params(k, 0).items() if kk != "optuna_storage"}
                for k in self.model_keys
            },
            "input_kinds": {k: get_backend(k).input_kind for k in self.model_keys},
        }
        (directory / "ensemble.json").write_text(json.dumps(spec, indent=2, default=str))
        return files + [STACKER_FILE, "test_predictions.npz", "ensemble.json"]


class BullTrendEnsemble(BaseEnsemble):
    regime = "bull_trend"
    model_keys = ("lightgbm", "logreg", "lstm")


class BearTrendEnsemble(BaseEnsemble):
    regime = "bear_trend"
    model_keys = ("lightgbm", "logreg", "transformer")


class SidewaysRangeEnsemble(BaseEnsemble):
    regime = "sideways_range"
    model_keys = ("lightgbm", "logreg", "tabnet")


class VolatileEnsemble(BaseEnsemble):
    regime = "volatile"
    model_keys = ("lightgbm", "logreg")


ENSEMBLES: dict[str, type[BaseEnsemble]] = {
    cls.regime: cls for cls in (BullTrendEnsemble, BearTrendEnsemble, SidewaysRangeEnsemble, VolatileEnsemble)
}
