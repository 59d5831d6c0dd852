"""What a run's measurements say, in words: warnings for the validation report and the per-regime verdict lines
of the run summary (run page, API, CLI).

Warnings come from what was measured after training, with thresholds taken from measurements on the offline
sample (see the closing note of issue 11): a Keras L1/L2 penalty above half of the validation loss at the best
epoch, a TabNet sparsity term above half of its objective, a collapsed model or ensemble, a LightGBM or logistic
L1 penalty that changed nothing measurable, an ensemble worse than the best baseline, candle gaps.
"""

from __future__ import annotations

from .bootstrap import WORSE
from .collapse import collapse_message

PENALTY_SHARE_WARN = 0.5
NO_EFFECT_SHARE = 0.01

MSG_PENALTY_SHARE = (
    "{where}: the L1/L2 penalty is {share:.0%} of the validation loss at the best epoch ({epoch}); the penalty, not "
    "the data, drives training. Lower l1_reg / l2_reg."
)
MSG_SPARSITY_SHARE = (
    "{where}: TabNet's sparsity term is {share:.0%} of its objective on the validation rows; lower lambda_sparse."
)
MSG_LIGHTGBM_NO_EFFECT = (
    "{where}: reg_alpha = {alpha:g} set {share:.1%} of the leaves to zero; the L1 penalty has no measurable effect."
)
MSG_LOGREG_NO_EFFECT = (
    "{where}: no coefficient is zero (C = {C:g}, penalty {per_row:.2g} per row); the L1 part of the elastic net has "
    "no measurable effect. Lower C (raise alpha) to regularize."
)
MSG_ENSEMBLE_WORSE = (
    "{regime}: the ensemble's test log loss is worse than the {baseline} baseline by {difference:.4f} "
    "(95 % interval {low:.4f} to {high:.4f})."
)
MSG_GAPS = (
    "The candles have {count} gap(s), {missing} bars missing in all (largest: {largest} bars after {after}); "
    "features, labels and purge gaps were computed inside gap-free segments only."
)
MSG_SEGMENTS_SKIPPED = "{count} gap-free segment(s) were too short to use."


def model_warnings(regime: str, key: str, model: dict) -> list[str]:
    where, evidence, found = f"{regime}/{key}", model.get("evidence") or {}, []
    share = evidence.get("penalty_share_at_best_epoch")
    if share is not None and share > PENALTY_SHARE_WARN:
        found.append(MSG_PENALTY_SHARE.format(where=where, share=share, epoch=evidence.get("best_epoch")))
    share = evidence.get("sparsity_share_of_loss")
    if share is not None and share > PENALTY_SHARE_WARN:
        found.append(MSG_SPARSITY_SHARE.format(where=where, share=share))
    share = evidence.get("zero_leaf_share")
    if share is not None and (evidence.get("reg_alpha") or 0) > 0 and share < NO_EFFECT_SHARE:
        found.append(MSG_LIGHTGBM_NO_EFFECT.format(where=where, alpha=evidence["reg_alpha"], share=share))
    if evidence.get("zero_coefficients") == 0 and (evidence.get("l1_ratio") or 0) > 0 and evidence.get("C"):
        per_row = evidence.get("penalty_per_row") or 0.0
        found.append(MSG_LOGREG_NO_EFFECT.format(where=where, C=evidence["C"], per_row=per_row))
    message = collapse_message(where, {"collapsed": model.get("collapsed"), **(model.get("spread") or {})})
    return found + ([message] if message else [])


def measured_warnings(result: dict) -> list[str]:
    """Every warning the run's measurements give, in words (a plain run-result dict)."""
    found = []
    gaps = (result.get("data") or {}).get("gaps") or {}
    if gaps.get("count"):
        largest = gaps.get("largest") or {}
        found.append(
            MSG_GAPS.format(
                count=gaps["count"],
                missing=gaps.get("missing_bars"),
                largest=largest.get("missing"),
                after=largest.get("after"),
            )
        )
    if gaps.get("skipped_segments"):
        found.append(MSG_SEGMENTS_SKIPPED.format(count=len(gaps["skipped_segments"])))
    for regime, section in (result.get("ensembles") or {}).items():
        for key, model in (section.get("models") or {}).items():
            found += model_warnings(regime, key, model)
        ensemble = section.get("ensemble") or {}
        message = collapse_message(
            f"{regime}/ensemble", {"collapsed": ensemble.get("collapsed"), **(ensemble.get("spread") or {})}
        )
        if message:
            found.append(message)
        verdict = ensemble.get("vs_baseline") or {}
        if verdict.get("verdict") == WORSE:
            found.append(
                MSG_ENSEMBLE_WORSE.format(
                    regime=regime,
                    baseline=verdict["baseline"],
                    difference=verdict["difference"],
                    low=verdict["ci95_low"],
                    high=verdict["ci95_high"],
                )
            )
    return found
