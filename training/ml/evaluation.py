"""Records computed after training from the stored predictions (as Qlib's records follow its models):
metrics per split for each base model, the ensemble and the naive baselines (majority class, persistence of the
last known label, the uniform 1/3 forecast), all on the same validation rows and the same test block (``comparison``); the same-model
train−validation gap; the prediction spread and ``collapsed``; the verdict against the best baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .comparison import (
    BASELINE_NAMES,
    best_baseline,
    comparison_rows,
    ensemble_gap,
    model_gap,
    spread_on_test,
    spread_record,
    vs_baseline_record,
)
from .dataset import Dataset
from .metrics import classification_metrics, majority_predict, persistence_predict, uniform_predict
from .results import (
    BaselineResult,
    Baselines,
    EnsembleResult,
    FoldSizes,
    MetricsBySplit,
    ModelResult,
    SplitInfo,
    SplitMetrics,
    Verdict,
)
from .stacking import StackedPredictions, stacking_records
from .walkforward import ModelPredictions, RegimePlan

BASELINE_DEFINITIONS = {
    "majority": "the most frequent class of the training rows (probabilities: training class frequencies)",
    "persistence": "the label of bar t-{horizon}, the latest one fully known at t "
    "(log loss from P(y | that label) on the training rows)",
    "uniform": "1/3 for each class on every row (no skill; log loss ln 3 = 1.0986)",
}


def split_metrics(y_true, proba, y_pred=None) -> SplitMetrics:
    return SplitMetrics(**classification_metrics(y_true, proba, y_pred))


@dataclass
class BaselinePredictions:
    """A baseline's predictions on every validation row (each fold's from that fold's training rows) and on the
    test block (from the last fold's training rows)."""

    validation_pred: np.ndarray
    validation_proba: np.ndarray
    test_pred: np.ndarray
    test_proba: np.ndarray


@dataclass
class Comparison:
    """What every record of a regime is scored against: the validation rows, the best baseline, the seed."""

    rows: np.ndarray
    rows_are: str
    baselines: dict[str, BaselinePredictions]
    best: str
    horizon: int
    seed: int

    def vs_baseline(self, plan: RegimePlan, test_proba, *, no_skill: bool = False) -> Verdict:
        return vs_baseline_record(
            plan.y[plan.test],
            test_proba,
            self.best,
            self.baselines[self.best].test_proba,
            horizon=self.horizon,
            seed=self.seed,
            no_skill=no_skill,
        )

    def record(self, plan: RegimePlan) -> dict:
        return {
            "validation_rows": int(len(self.rows)),
            "validation_rows_are": self.rows_are,
            "test_rows": int(len(plan.test)),
            "best_baseline": self.best,
            "best_baseline_chosen_on": "validation log loss on the compared rows",
            "metric": "log_loss",
        }


def baseline_predict(name: str, data: Dataset, plan: RegimePlan, train, evaluate):
    y, pos = plan.y, plan.positions
    if name == "majority":
        return majority_predict(y[train], len(evaluate))
    if name == "uniform":
        return uniform_predict(y[train], len(evaluate))
    return persistence_predict(data.labels_all, pos[train], y[train], pos[evaluate], data.horizon)


def baseline_predictions(data: Dataset, plan: RegimePlan, name: str) -> BaselinePredictions:
    pred, proba = np.zeros(plan.n, dtype=int), np.full((plan.n, 3), np.nan)
    for fold in plan.folds:
        pred[fold.val], proba[fold.val] = baseline_predict(name, data, plan, fold.train, fold.val)
    test_pred, test_proba = baseline_predict(name, data, plan, plan.folds[-1].train, plan.test)
    return BaselinePredictions(pred, proba, test_pred, test_proba)


def make_comparison(data: Dataset, plan: RegimePlan, stacked: StackedPredictions, *, seed: int) -> Comparison:
    rows, rows_are = comparison_rows(plan, stacked)
    baselines = {name: baseline_predictions(data, plan, name) for name in BASELINE_NAMES}
    losses = {
        name: classification_metrics(plan.y[rows], b.validation_proba[rows], b.validation_pred[rows])["log_loss"]
        for name, b in baselines.items()
    }
    return Comparison(rows, rows_are, baselines, best_baseline(losses), data.horizon, seed)


def model_record(
    plan: RegimePlan,
    predictions: ModelPredictions,
    *,
    input_kind: str,
    feature_names: list[str],
    comparison: Comparison,
) -> ModelResult:
    y, rows = plan.y, comparison.rows
    metrics = MetricsBySplit(
        train=split_metrics(y[plan.last_fit], predictions.fold_train),
        validation=split_metrics(y[rows], predictions.oof[rows]),
        test=split_metrics(y[plan.test], predictions.test),
    )
    backend = predictions.backend
    collapsed, spread = spread_record(predictions.oof[rows], predictions.test)
    test_spread = spread_on_test(predictions.test)
    return ModelResult(
        metrics=metrics,
        train_val_gap=model_gap(plan, predictions),
        fit_seconds=predictions.fit_seconds,
        input_kind=input_kind,
        evidence=backend.evidence_record(),
        history={k: [float(v) for v in values] for k, values in backend.history.items()},
        best_params=dict(getattr(backend, "best_params", None) or {}),
        feature_importance=importance_by_name(backend.feature_importance(), feature_names),
        collapsed=collapsed,
        spread=spread,
        test_spread=test_spread,
        vs_baseline=comparison.vs_baseline(plan, predictions.test, no_skill=bool(test_spread["collapsed"])),
    )


def importance_by_name(importance, feature_names: list[str]) -> dict[str, float]:
    if importance is None:
        return {}
    values = list(importance)
    if len(values) != len(feature_names):
        return {}
    return {name: float(v) for name, v in zip(feature_names, values)}


def ensemble_record(plan: RegimePlan, stacked: StackedPredictions, comparison: Comparison) -> EnsembleResult:
    y = plan.y
    train = split_metrics(y[plan.val_rows], stacked.train)
    validation = split_metrics(y[comparison.rows], stacked.validation)
    collapsed, spread = spread_record(stacked.validation, stacked.test)
    test_spread = spread_on_test(stacked.test)
    return EnsembleResult(
        metrics=MetricsBySplit(train=train, validation=validation, test=split_metrics(y[plan.test], stacked.test)),
        train_val_gap=ensemble_gap(plan, stacked),
        fit_seconds=stacked.fit_seconds,
        notes=list(stacked.notes),
        collapsed=collapsed,
        spread=spread,
        test_spread=test_spread,
        vs_baseline=comparison.vs_baseline(plan, stacked.test, no_skill=bool(test_spread["collapsed"])),
        **stacking_records(plan, stacked),
    )


def baselines_record(data: Dataset, plan: RegimePlan, comparison: Comparison) -> Baselines:
    y, rows, test = plan.y, comparison.rows, plan.test
    scores = {
        name: BaselineResult(
            validation=split_metrics(y[rows], b.validation_proba[rows], b.validation_pred[rows]),
            test=split_metrics(y[test], b.test_proba, b.test_pred),
        )
        for name, b in comparison.baselines.items()
    }
    definitions = {k: v.format(horizon=data.horizon) for k, v in BASELINE_DEFINITIONS.items()}
    return Baselines(**scores, definitions=definitions)


def split_record(plan: RegimePlan) -> SplitInfo:
    return SplitInfo(
        folds=[
            FoldSizes(
                train=int(len(f.train)),
                fit=int(len(i[0])),
                early_stopping=int(len(i[1])),
                validation=int(len(f.val)),
            )
            for f, i in zip(plan.folds, plan.inner)
        ],
        test=int(len(plan.test)),
        purge_gap=plan.horizon + plan.embargo,
    )
