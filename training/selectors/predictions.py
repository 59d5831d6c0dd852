"""Predictions of a market's active model, for the API and ``manage.py predict`` (the engine does the work in
``training.ml.predict``; this module finds the run and the candles)."""

from __future__ import annotations

import pandas as pd
from django.conf import settings

from training.artifact_store import run_predictor
from training.ml.predict import candles_frame
from training.models import ActiveModel, Candle, MarketDataset, TrainingRun

MSG_NO_STORED_CANDLES = "No stored candles for {market}; send them in the request ('candles')."


class NoCandles(LookupError):
    pass


def stored_candles_tail(*, exchange: str, symbol: str, interval: str, bars: int) -> pd.DataFrame:
    """The last ``bars`` stored candles of the market, oldest first."""
    dataset = MarketDataset.objects.filter(exchange=exchange, symbol=symbol, interval=interval).first()
    rows = (
        list(
            Candle.objects.filter(dataset=dataset)
            .order_by("-open_time")
            .values_list("open_time", "open", "high", "low", "close", "volume")[:bars]
        )
        if dataset
        else []
    )
    if not rows:
        raise NoCandles(MSG_NO_STORED_CANDLES.format(market=f"{exchange}:{symbol} {interval}"))
    frame = pd.DataFrame(rows[::-1], columns=["open_time", "open", "high", "low", "close", "volume"])
    frame["open_time"] = pd.to_datetime(frame["open_time"], utc=True)
    return frame


def run_predict(*, run: TrainingRun, candles: list | None = None) -> dict:
    """The run's prediction for the last given bar, or (``candles`` None) for the latest stored bar."""
    predictor = run_predictor(run)
    if candles is None:
        frame = stored_candles_tail(
            exchange=run.exchange,
            symbol=run.symbol,
            interval=run.interval,
            bars=predictor.needed_bars + int(getattr(settings, "PREDICT_EXTRA_BARS", 16)),
        )
    else:
        frame = candles_frame(candles)
    prediction = predictor.predict_last(frame)
    return {
        "exchange": run.exchange,
        "symbol": run.symbol,
        "interval": run.interval,
        "bars_used": len(frame),
        **prediction.to_dict(),
    }


def active_model_predict(*, active: ActiveModel, candles: list | None = None) -> dict:
    return run_predict(run=active.run, candles=candles)
