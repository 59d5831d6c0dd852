"""Reads of the model registry: active models, their description for the API, and the promotion history."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse

from training.models import ActiveModel, Promotion

MSG_NO_ACTIVE_MODEL = (
    "No active model for {market}; promote a succeeded run first (run page, admin, "
    "POST /api/runs/<id>/promote/ or `manage.py promote RUN_ID`)."
)


class ActiveModelNotFound(LookupError):
    pass


def _market(exchange: str, symbol: str, interval: str) -> dict:
    return {"exchange": exchange.strip().upper(), "symbol": symbol.strip().upper(), "interval": interval.strip()}


def active_model_list() -> QuerySet[ActiveModel]:
    return ActiveModel.objects.select_related("run", "run__profile", "promoted_by").order_by(
        "exchange", "symbol", "interval"
    )


def active_model_get(*, exchange: str, symbol: str, interval: str) -> ActiveModel:
    market = _market(exchange, symbol, interval)
    active = active_model_list().filter(**market).first()
    if active is None:
        raise ActiveModelNotFound(
            MSG_NO_ACTIVE_MODEL.format(market=f"{market['exchange']}:{market['symbol']} {market['interval']}")
        )
    return active


def promotion_list(*, exchange: str = "", symbol: str = "", interval: str = "") -> QuerySet[Promotion]:
    promotions = Promotion.objects.select_related("promoted_by").order_by("-promoted_at", "-id")
    if exchange:
        promotions = promotions.filter(exchange=exchange.strip().upper())
    if symbol:
        promotions = promotions.filter(symbol=symbol.strip().upper())
    if interval:
        promotions = promotions.filter(interval=interval.strip())
    return promotions


def _find_verdicts(value, path: str, out: dict, depth: int = 0) -> None:
    if not isinstance(value, dict) or depth > 5:
        return
    if "verdict" in value:
        out[path] = value
        return
    for key, item in value.items():
        _find_verdicts(item, f"{path}.{key}" if path else str(key), out, depth + 1)


def _verdicts(result: dict) -> dict:
    """Every record with a ``verdict`` in the result (the evidence records add them), keyed by its path
    (``bull_trend.ensemble.vs_majority`` …); empty when the result has none."""
    out: dict = {}
    _find_verdicts(result.get("ensembles") or {}, "", out)
    return out


def active_model_payload(*, active: ActiveModel) -> dict:
    run = active.run
    result = run.result or {}
    snapshot = run.snapshot or {}
    artifacts = result.get("artifacts") or {}
    return {
        "exchange": active.exchange,
        "symbol": active.symbol,
        "interval": active.interval,
        "run_id": run.pk,
        "promoted_at": active.promoted_at,
        "promoted_by": active.promoted_by.username if active.promoted_by else None,
        "settings": {
            "profile": (snapshot.get("profile") or {}).get("name"),
            "preset": run.preset,
            "seed": run.seed,
            "config": snapshot.get("config") or {},
            "data": snapshot.get("data") or {},
        },
        "regimes": {
            regime: {"status": (ensemble or {}).get("status"), "models": list(((ensemble or {}).get("models")) or {})}
            for regime, ensemble in (result.get("ensembles") or {}).items()
        },
        "verdicts": _verdicts(result),
        "artifacts": {"manifest": artifacts.get("manifest"), "files": artifacts.get("files") or []},
        "download_url": reverse("api:run-artifacts", args=[run.pk]),
    }


def run_candle_times(*, run) -> list:
    """The open times of the candles a run trained on (its result's data range within its dataset)."""
    from datetime import datetime

    from training.models import Candle

    data = (run.result or {}).get("data") or {}
    if run.dataset_id is None or not data.get("first_open_time"):
        return []
    first, last = (datetime.fromisoformat(data[f"{k}_open_time"]) for k in ("first", "last"))
    return list(
        Candle.objects.filter(dataset_id=run.dataset_id, open_time__range=(first, last))
        .order_by("open_time")
        .values_list("open_time", flat=True)
    )


def runs_compare_test_window(*, new, active) -> dict:
    """``compare_on_overlap`` of two runs' stored test predictions (see training.ml.predict)."""
    import pandas as pd

    from training.ml.predict import compare_on_overlap, stored_test_predictions

    frames = [
        stored_test_predictions(run.artifacts_path, pd.to_datetime(run_candle_times(run=run), utc=True).to_numpy())
        for run in (new, active)
    ]
    horizon = int(((new.result or {}).get("labels") or {}).get("horizon") or 1)
    return compare_on_overlap(frames[0], frames[1], horizon=horizon, seed=new.seed)
