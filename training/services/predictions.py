"""Serving predictions, logged: every prediction served (API, CLI, schedules) is stored once per market, run and
bar (``PredictionLog``); asking again for the same bar returns the stored answer, so a retrying bot never sees
two answers for one bar. Concurrent first requests meet at the unique constraint: ``get_or_create`` keeps one row
and every caller answers from it."""

from __future__ import annotations

import math

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from training.artifact_store import run_predictor
from training.ml.predict import candles_frame
from training.ml.trading.rule import signal
from training.models import Candle, MarketDataset, PredictionLog, TrainingRun
from training.selectors.predictions import MSG_NO_STORED_CANDLES, NoCandles, stored_candles_tail

SOURCE_API, SOURCE_CLI, SOURCE_SCHEDULE = "api", "cli", "schedule"


def _market(run: TrainingRun) -> dict:
    return {"exchange": run.exchange, "symbol": run.symbol, "interval": run.interval}


def _last_stored_time(run: TrainingRun):
    dataset = MarketDataset.objects.filter(**_market(run)).first()
    last = (
        Candle.objects.filter(dataset=dataset).order_by("-open_time").values_list("open_time", flat=True).first()
        if dataset
        else None
    )
    if last is None:
        raise NoCandles(MSG_NO_STORED_CANDLES.format(market=f"{run.exchange}:{run.symbol} {run.interval}"))
    return last


def prediction_payload(log: PredictionLog) -> dict:
    """The answer of the predict API and ``manage.py predict`` for a logged prediction."""
    return {
        "exchange": log.exchange,
        "symbol": log.symbol,
        "interval": log.interval,
        "bars_used": log.bars_used,
        "run_id": log.run_id,
        "open_time": pd.Timestamp(log.open_time).isoformat(),
        "regime": log.regime,
        "probabilities": log.probabilities,
        "models": log.base_models,
        "position": log.position,
        "served_at": log.served_at.isoformat(),
        "source": log.source,
    }


def rule_position(run: TrainingRun, probabilities: dict[str, float]) -> float | None:
    """The run's declared trading rule on this bar: +1 / 0 / −1 from P(up) − P(down) against the θ the run chose on
    validation (shorting as the run was set); None when the run has no trading record. The rule's holding (a
    position kept for the label horizon) is the bot's to apply across bars; the log keeps each bar's decision."""
    trading = (run.result or {}).get("trading") or {}
    theta = (trading.get("theta") or {}).get("theta")
    if theta is None:
        return None
    allow_short = bool((trading.get("settings") or {}).get("allow_short", True))
    score = float(probabilities.get("up", 0.0)) - float(probabilities.get("down", 0.0))
    return float(signal([score], float(theta), allow_short=allow_short)[0])


def prediction_serve(*, run: TrainingRun, candles: list | None = None, source: str = SOURCE_API) -> dict:
    """The run's prediction for the last given bar (``candles`` None: the latest stored bar), logged once."""
    market = _market(run)
    frame = candles_frame(candles) if candles is not None else None
    if frame is not None:  # given candles are checked (too few bars: 400) before the log answers
        run_predictor(run).check_bars(len(frame))
    open_time = (
        pd.Timestamp(frame["open_time"].iloc[-1]).to_pydatetime() if frame is not None else _last_stored_time(run)
    )
    stored = PredictionLog.objects.filter(**market, run=run, open_time=open_time).first()
    if stored is not None:
        return prediction_payload(stored)
    predictor = run_predictor(run)
    if frame is None:
        extra = int(getattr(settings, "PREDICT_EXTRA_BARS", 16))
        frame = stored_candles_tail(**market, bars=predictor.needed_bars + extra)
    prediction = predictor.predict_last(frame)
    features = {k: v for k, v in prediction.features.items() if math.isfinite(v)}
    with transaction.atomic():
        log, _ = PredictionLog.objects.get_or_create(
            **market,
            run=run,
            open_time=prediction.open_time.to_pydatetime(),
            defaults={
                "regime": prediction.regime,
                "probabilities": prediction.probabilities,
                "base_models": prediction.models,
                "features": features,
                "position": rule_position(run, prediction.probabilities),
                "bars_used": len(frame),
                "source": source,
                "served_at": timezone.now(),
            },
        )
    return prediction_payload(log)
