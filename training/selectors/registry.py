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


def active_run_ids() -> set[int]:
    """The runs that are some market's active model now (the run list, run page and compare mark them)."""
    return set(ActiveModel.objects.values_list("run_id", flat=True))


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


def registry_markets(*, history: int = 50) -> list[dict]:
    """The models page: per market with any promotion, the active model (or none), the promotion that made it
    active (since when, by whom, why, its checks) and the market's promotion history, newest first."""
    actives = {(a.exchange, a.symbol, a.interval): a for a in active_model_list()}
    markets: dict[tuple, list] = {}
    for promotion in Promotion.objects.select_related("promoted_by").order_by("-promoted_at", "-id"):
        rows = markets.setdefault((promotion.exchange, promotion.symbol, promotion.interval), [])
        if len(rows) < history:
            rows.append(promotion)
    for key in actives:
        markets.setdefault(key, [])
    from training.selectors.live import live_metrics

    out = []
    for key in sorted(markets):
        rows, active = markets[key], actives.get(key)
        current = rows[0] if rows and active is not None and rows[0].run_id == active.run_id else None
        out.append(
            {
                "exchange": key[0],
                "symbol": key[1],
                "interval": key[2],
                "label": f"{key[0]}:{key[1]} {key[2]}",
                "active": active,
                "promotion": current,
                "history": rows,
                "live": live_metrics(active=active) if active is not None else None,
                "alerts": market_alerts(exchange=key[0], symbol=key[1], interval=key[2]),
            }
        )
    return out


VERDICT_KEYS = ("vs_baseline", "vs_best_member")


def _verdicts(result: dict) -> dict:
    """Per trained regime, the ensemble's verdicts: ``vs_baseline`` (test log loss against the best baseline,
    moving-block bootstrap interval), ``vs_best_member`` (against its best member, when the combiner records it)
    and whether it ``collapsed``; empty for a result without ensembles."""
    out: dict = {}
    for regime, section in (result.get("ensembles") or {}).items():
        ensemble = (section or {}).get("ensemble") or {}
        if not ensemble:
            continue
        record = {key: ensemble[key] for key in VERDICT_KEYS if ensemble.get(key)}
        record["collapsed"] = ensemble.get("collapsed")
        out[regime] = record
    return out


def active_model_payload(*, active: ActiveModel) -> dict:
    from training.selectors.live import live_metrics

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
        "live": _jsonable(live_metrics(active=active)),
        "alerts": [
            alert_payload(a)
            for a in market_alerts(exchange=active.exchange, symbol=active.symbol, interval=active.interval)
        ],
    }


def market_alerts(*, exchange: str, symbol: str, interval: str, cleared: int = 5) -> list:
    """The market's open monitor alerts, then its ``cleared`` most recently cleared ones."""
    from training.models import MonitorAlert

    alerts = MonitorAlert.objects.filter(exchange=exchange, symbol=symbol, interval=interval)
    return [
        *alerts.filter(cleared_at__isnull=True),
        *alerts.filter(cleared_at__isnull=False).order_by("-cleared_at")[:cleared],
    ]


def alert_payload(alert) -> dict:
    return {
        "kind": alert.kind,
        "run_id": alert.run_id,
        "message": alert.message,
        "raised_at": alert.raised_at,
        "checked_at": alert.checked_at,
        "cleared_at": alert.cleared_at,
        "open": alert.cleared_at is None,
    }


def _jsonable(value):
    """numpy / NaN-free copy for the API (a NaN interval bound becomes null)."""
    import math

    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


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

    from training.artifact_store import run_dir
    from training.ml.predict import compare_on_overlap, stored_test_predictions

    frames = [
        stored_test_predictions(run_dir(run), pd.to_datetime(run_candle_times(run=run), utc=True).to_numpy())
        for run in (new, active)
    ]
    horizon = int(((new.result or {}).get("labels") or {}).get("horizon") or 1)
    return compare_on_overlap(frames[0], frames[1], horizon=horizon, seed=new.seed)
