"""Records computed after training from the stored predictions (as Qlib's records follow its models):
metrics per split for each base model and the ensemble, the train−validation gap, and the naive baselines
(majority class, persistence of the last known label) on the same validation blocks and test block.
"""

from __future__ import annotations

import numpy as np

from .dataset import Dataset
from .metrics import classification_metrics, majority_predict, persistence_predict
from .results import (
    BaselineResult,
    Baselines,
    EnsembleResult,
    FoldSizes,
    MetricsBySplit,
    ModelResult,
    SplitInfo,
    SplitMetrics,
    TrainValGap,
)
from .stacking import StackedPredictions, stacking_records
from .walkforward import ModelPredictions, RegimePlan

BASELINE_DEFINITIONS = {
    "majority": "the most frequent class of the training rows (probabilities: training class frequencies)",
    "persistence": "the label of bar t-{horizon}, the latest one fully known at t "
    "(log loss from P(y | that label) on the training rows)",
}


def split_metrics(y_true, proba, y_pred=None) -> SplitMetrics:
    return SplitMetrics(**classification_metrics(y_true, proba, y_pred))


def model_record(
    plan: RegimePlan,
    predictions: ModelPredictions,
    *,
    input_kind: str,
    feature_names: list[str],
) -> ModelResult:
    y, val_rows = plan.y, plan.val_rows
    metrics = MetricsBySplit(
        train=split_metrics(y[plan.last_fit], predictions.fold_train),
        validation=split_metrics(y[val_rows], predictions.oof[val_rows]),
        test=split_metrics(y[plan.test], predictions.test),
    )
    backend = predictions.backend
    return ModelResult(
        metrics=metrics,
        train_val_gap=TrainValGap.between(metrics.train, metrics.validation),
        fit_seconds=predictions.fit_seconds,
        input_kind=input_kind,
        evidence=backend.evidence(),
        history={k: [float(v) for v in backend.history.get(k, [])] for k in ("train_loss", "val_loss")},
        best_params=dict(getattr(backend, "best_params", None) or {}),
        feature_importance=importance_by_name(backend.feature_importance(), feature_names),
    )


def importance_by_name(importance, feature_names: list[str]) -> dict[str, float]:
    if importance is None:
        return {}
    values = list(importance)
    if len(values) != len(feature_names):
        return {}
    return {name: float(v) for name, v in zip(feature_names, values)}


def ensemble_record(plan: RegimePlan, stacked: StackedPredictions) -> EnsembleResult:
    y = plan.y
    train = split_metrics(y[plan.val_rows], stacked.train)
    validation = split_metrics(y[stacked.validation_rows], stacked.validation)
    return EnsembleResult(
        metrics=MetricsBySplit(train=train, validation=validation, test=split_metrics(y[plan.test], stacked.test)),
        train_val_gap=TrainValGap.between(train, validation),
        fit_seconds=stacked.fit_seconds,
        notes=list(stacked.notes),
        **stacking_records(plan, stacked),
    )


def baseline_predict(name: str, data: Dataset, plan: RegimePlan, train, evaluate):
    y, pos = plan.y, plan.positions
    if name == "majority":
        return majority_predict(y[train], len(evaluate))
    return persistence_predict(data.labels_all, pos[train], y[train], pos[evaluate], data.horizon)


def baselines_record(data: Dataset, plan: RegimePlan) -> Baselines:
    y, folds, test = plan.y, plan.folds, plan.test
    scores = {}
    for name in ("majority", "persistence"):
        preds, probas = [], []
        for fold in folds:
            pred, proba = baseline_predict(name, data, plan, fold.train, fold.val)
            preds.append(pred)
            probas.append(proba)
        validation = split_metrics(y[plan.val_rows], np.vstack(probas), np.concatenate(preds))
        pred, proba = baseline_predict(name, data, plan, folds[-1].train, test)
        scores[name] = BaselineResult(validation=validation, test=split_metrics(y[test], proba, pred))
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
