"""Honest comparison records of a regime: the same rows for everyone, the same-model gap, the prediction spread
and the verdict against the best baseline.

- **Same rows.** Base models, the ensemble and the baselines are scored on identical validation rows (the rows the
  ensemble has a held-out prediction for: the validation blocks of folds 2..k, ``stacking.StackedPredictions.
  validation_rows``; the one fold's block with one fold) and on the identical test block; the row counts are in
  every ``SplitMetrics.n`` and in the regime's ``comparison``.
- **Same-model gap.** Per fold, the fold's model on its own fit rows against its own validation block, averaged
  over the folds (``TrainValGap.averaged``). For the ensemble, the chosen combiner forward-chained: fitted on folds
  1..j−1, on those rows against fold j, for j = 2..k (``stacking.forward_fold_fits``); none with one fold.
- **Spread.** ``collapse.prediction_spread`` on the validation rows (the test block where there are none), and on
  the test block as well (``test_spread``): collapsed there (thresholds in ``collapse``) → verdict ``no skill``.
- **Verdict.** The best baseline is the one with the lower validation log loss on the compared rows (chosen
  without looking at the test block); the test log-loss difference model − that baseline, per row, gets a
  moving-block bootstrap interval (``bootstrap.baseline_comparison``) and a verdict.
"""

from __future__ import annotations

import numpy as np

from .bootstrap import baseline_comparison
from .collapse import COLLAPSE_CLASS_SHARE, COLLAPSE_STD, prediction_spread
from .metrics import classification_metrics, row_log_loss
from .results import TrainValGap, Verdict
from .results.verdict import NO_SKILL

BASELINE_NAMES = ("majority", "persistence", "uniform")
ROWS_ENSEMBLE = "the rows the ensemble has a held-out validation prediction for (the validation blocks of folds 2..k)"
ROWS_ONE_FOLD = "the one fold's validation block (with one fold the combiners are scored on the rows they pick on)"


def comparison_rows(plan, stacked) -> tuple[np.ndarray, str]:
    """The validation rows every model, the ensemble and the baselines are scored on, and what they are: the
    stacking's ``validation_rows`` (plan rows of folds 2..k, where the forward-chained combiners predict held-out;
    the single fold with one fold)."""
    rows = np.asarray(stacked.validation_rows)
    return rows, ROWS_ENSEMBLE if len(plan.folds) >= 2 else ROWS_ONE_FOLD


def fold_pair_gap(y_fit, p_fit, y_val, p_val) -> dict[str, float]:
    fit, val = classification_metrics(y_fit, p_fit), classification_metrics(y_val, p_val)
    return {"log_loss": val["log_loss"] - fit["log_loss"], "accuracy": fit["accuracy"] - val["accuracy"]}


def model_gap(plan, predictions) -> TrainValGap:
    y = plan.y
    pairs = [
        fold_pair_gap(y[fit_idx], fit_proba, y[fold.val], predictions.oof[fold.val])
        for fold, (fit_idx, _), fit_proba in zip(plan.folds, plan.inner, predictions.fold_fit, strict=True)
    ]
    return TrainValGap.averaged(pairs)


def ensemble_gap(plan, stacked) -> TrainValGap | None:
    pairs = getattr(stacked, "fold_fit", None) or []
    if not pairs:
        return None
    y = plan.y
    return TrainValGap.averaged([fold_pair_gap(y[f], pf, y[v], pv) for f, pf, v, pv in pairs])


def spread_record(validation_proba, test_proba) -> tuple[bool | None, dict]:
    split, proba = ("validation", validation_proba) if validation_proba is not None else ("test", test_proba)
    spread = {**prediction_spread(proba), "split": split}
    return spread.pop("collapsed"), spread


def spread_on_test(test_proba) -> dict:
    """The spread of the test-block predictions, with ``collapsed`` kept and the thresholds it used."""
    thresholds = {"class_share_at_least": COLLAPSE_CLASS_SHARE, "proba_std_below": COLLAPSE_STD}
    return {**prediction_spread(test_proba), "split": "test", "thresholds": thresholds}


def best_baseline(validation_log_losses: dict[str, float]) -> str:
    return min(validation_log_losses, key=lambda name: (validation_log_losses[name], name))


def vs_baseline_record(
    y_test, test_proba, baseline: str, baseline_test_proba, *, horizon: int, seed: int, no_skill: bool = False
) -> Verdict:
    """The bootstrap comparison; a model collapsed on the test block (``no_skill``) gets the verdict
    ``no skill`` instead of better/worse (``interval_verdict`` keeps what the interval alone says)."""
    record = baseline_comparison(
        row_log_loss(y_test, test_proba),
        row_log_loss(y_test, baseline_test_proba),
        baseline=baseline,
        horizon=horizon,
        seed=seed,
    )
    record["interval_verdict"] = record["verdict"]
    record["no_skill"] = bool(no_skill)
    if no_skill:
        record["verdict"] = NO_SKILL
    return Verdict.from_dict(record)
