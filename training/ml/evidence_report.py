"""What a run's measurements say, in words: warnings for the validation report and the per-regime verdict lines
of the run summary (run page, API, CLI).

Warnings come from what was measured after training, with thresholds taken from measurements on the offline
sample (see the closing note of issue 11). What a model's evidence warns about is declared by its backend
(``Backend.measured_warnings``: a penalty that dominates the loss, an L1 penalty that changed nothing measurable,
…) and read through the registry; this module adds what holds for every model — a collapsed model or
ensemble, an ensemble worse than the best baseline, candle gaps — and names no backend.
"""

from __future__ import annotations

from .backends.registry import model_warnings as backend_warnings
from .bootstrap import WORSE
from .collapse import collapse_message
from .jsonable import jsonable
from .results import ModelResult, RunResult

MSG_ENSEMBLE_WORSE = (
    "{regime}: the ensemble's test log loss is worse than the {baseline} baseline by {difference:.4f} "
    "(95 % interval {low:.4f} to {high:.4f})."
)
MSG_GAPS = (
    "The candles have {count} gap(s), {missing} bars missing in all (largest: {largest} bars after {after}); "
    "features, labels and purge gaps were computed inside gap-free segments only."
)
MSG_SEGMENTS_SKIPPED = "{count} gap-free segment(s) were too short to use."


def model_warnings(regime: str, key: str, model: ModelResult) -> list[str]:
    where = f"{regime}/{key}"
    found = backend_warnings(key, where, jsonable(model.evidence.to_dict()))
    message = collapse_message(where, {"collapsed": model.collapsed, **(model.spread or {})})
    return found + ([message] if message else [])


def measured_warnings(result: RunResult | dict) -> list[str]:
    """Every warning the run's measurements give, in words (the typed run result; a stored dict is read as one)."""
    if not isinstance(result, RunResult):
        result = RunResult.from_dict(result)
    found = []
    gaps = result.data.gaps or {}
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
    for regime, section in result.ensembles.items():
        for key, model in section.models.items():
            found += model_warnings(regime, key, model)
        ensemble = section.ensemble
        if ensemble is None:
            continue
        message = collapse_message(f"{regime}/ensemble", {"collapsed": ensemble.collapsed, **(ensemble.spread or {})})
        if message:
            found.append(message)
        verdict = ensemble.vs_baseline
        if verdict is not None and verdict.verdict == WORSE:
            found.append(
                MSG_ENSEMBLE_WORSE.format(
                    regime=regime,
                    baseline=verdict.baseline,
                    difference=verdict.difference,
                    low=verdict.ci95_low,
                    high=verdict.ci95_high,
                )
            )
    return found
