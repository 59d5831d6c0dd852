"""The cross-market robustness table of a profile: per market with data, the profile's latest succeeded run of a
preset against the reference profile's (``training.ml.robustness``), its system verdict, and the sign test."""

from __future__ import annotations

from training.ml.robustness import CrossMarketTable, MarketEffect, cross_market_table, regularization_effect
from training.models import MarketDataset, RegularizationProfile, TrainingRun
from training.selectors.run_groups import run_system_verdict

MSG_NO_RUN = "{market}: no succeeded '{preset}' run of profile '{profile}'"
MSG_NO_PREDICTIONS = "{market}: the stored test predictions cannot be read ({error})"


def _latest(profile: RegularizationProfile, dataset: MarketDataset, preset: str) -> TrainingRun | None:
    return (
        TrainingRun.objects.filter(profile=profile, dataset=dataset, preset=preset, status=TrainingRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .first()
    )


def _predictions(run: TrainingRun):
    import pandas as pd

    from training.ml.predict import stored_test_predictions
    from training.selectors.registry import run_candle_times

    times = pd.to_datetime(run_candle_times(run=run), utc=True).to_numpy()
    from training.artifact_store import run_dir

    return stored_test_predictions(run_dir(run), times)


def profile_robustness(
    *, profile: RegularizationProfile, reference: RegularizationProfile, preset: str
) -> CrossMarketTable:
    rows: list[MarketEffect] = []
    missing: list[str] = []
    for dataset in MarketDataset.objects.filter(row_count__gt=0).order_by("exchange", "symbol", "interval"):
        market = str(dataset)
        run, ref = _latest(profile, dataset, preset), _latest(reference, dataset, preset)
        absent = [p.name for p, r in ((profile, run), (reference, ref)) if r is None]
        if absent:
            missing += [MSG_NO_RUN.format(market=market, preset=preset, profile=name) for name in absent]
            continue
        try:
            setting, baseline = _predictions(run), _predictions(ref)
        except (OSError, KeyError, ValueError) as exc:
            missing.append(MSG_NO_PREDICTIONS.format(market=market, error=exc))
            continue
        horizon = int(((run.result or {}).get("labels") or {}).get("horizon") or 1)
        effect = regularization_effect(setting, baseline, market=market, horizon=horizon, seed=run.seed)
        effect.system_verdict = run_system_verdict(run)
        effect.run_id, effect.reference_run_id = run.pk, ref.pk
        rows.append(effect)
    return cross_market_table(rows, missing=missing)
