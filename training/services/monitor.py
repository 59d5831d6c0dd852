"""The monitor: a periodic task (beat) that evaluates declared thresholds on each market's active model and keeps
one open alert per (market, kind) while its condition holds; the alert clears (``cleared_at``) when it no longer
does. Optionally (``MONITOR_RETRAIN_ON_ALERT``) a newly raised alert fires the market's retrain schedule.

Conditions (``CONDITIONS``, each a key, its settings and a function of the market's live and drift records):
- ``live_log_loss``: over the last ``MONITOR_LOSS_BARS`` matured predictions the live log loss is significantly
  worse than the best baseline (the moving-block bootstrap verdict "worse"; needs ``LIVE_MIN_FOR_INTERVAL``).
- ``drift``: the PSI of any top-5 feature of a served regime above ``MONITOR_PSI_MAX`` (0.25).
- ``drawdown``: the trading rule's after-cost drawdown beyond ``MONITOR_MAX_DRAWDOWN`` (only with positions).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from training.models import ActiveModel, MonitorAlert, RetrainSchedule

logger = logging.getLogger(__name__)

MSG_LOSS = "live log loss {loss:.4f} is worse than the {baseline} baseline's {base:.4f} over {n} matured bars (95% {low:+.4f} … {high:+.4f})"
MSG_DRIFT = "PSI {value:.3f} on {feature} (above {limit}) over the last {bars} served bars"
MSG_DRAWDOWN = "after-cost drawdown {value:.4f} beyond {limit}"


@dataclass(frozen=True)
class Condition:
    key: str
    check: Callable[[dict, dict], tuple[bool, str, dict]]


def _live_loss(live: dict, drift: dict) -> tuple[bool, str, dict]:
    vs = live.get("vs_best_baseline") or {}
    if vs.get("verdict") != "worse":
        return False, "", {}
    base = live["baselines"][live["best_baseline"]]
    text = MSG_LOSS.format(
        loss=live["log_loss"],
        baseline=live["best_baseline"],
        base=base,
        n=live["matured"],
        low=vs["ci95_low"],
        high=vs["ci95_high"],
    )
    return True, text, {"vs_best_baseline": vs, "matured": live["matured"]}


def _drift(live: dict, drift: dict) -> tuple[bool, str, dict]:
    limit = float(getattr(settings, "MONITOR_PSI_MAX", 0.25))
    value = drift.get("max_psi")
    if value is None or value <= limit:
        return False, "", {}
    text = MSG_DRIFT.format(value=value, feature=drift["max_feature"], limit=limit, bars=drift["bars"])
    return True, text, {"max_psi": value, "feature": drift["max_feature"], "regimes": drift["regimes"]}


def _drawdown(live: dict, drift: dict) -> tuple[bool, str, dict]:
    trading = live.get("trading") or {}
    limit = float(getattr(settings, "MONITOR_MAX_DRAWDOWN", 0.1))
    if not trading.get("available") or trading["max_drawdown"] <= limit:
        return False, "", {}
    return True, MSG_DRAWDOWN.format(value=trading["max_drawdown"], limit=limit), {"trading": trading}


CONDITIONS = (Condition("live_log_loss", _live_loss), Condition("drift", _drift), Condition("drawdown", _drawdown))


def _last_matured(active: ActiveModel) -> dict:
    from training.selectors.live import live_metrics

    return live_metrics(active=active, last=int(getattr(settings, "MONITOR_LOSS_BARS", 168)))


def _retrain(active: ActiveModel) -> int | None:
    """Fire the market's first enabled training schedule (after commit); its id, None without one."""
    from training.services.schedules import SCHEDULE_TASK

    schedule = (
        RetrainSchedule.objects.filter(
            exchange=active.exchange, symbol=active.symbol, interval=active.interval, enabled=True, fetch_only=False
        )
        .order_by("id")
        .first()
    )
    if schedule is None:
        return None
    from ares_site.celery import app

    transaction.on_commit(lambda: app.send_task(SCHEDULE_TASK, args=[schedule.pk]))
    return schedule.pk


def market_monitor(*, active: ActiveModel, now=None) -> list[MonitorAlert]:
    """Evaluate every condition on one market's active model; the market's open alerts after this pass."""
    from training.selectors.drift import drift_report

    now = now or timezone.now()
    market = {"exchange": active.exchange, "symbol": active.symbol, "interval": active.interval}
    live, drift = _last_matured(active), drift_report(active=active)
    open_alerts = {a.kind: a for a in MonitorAlert.objects.filter(**market, cleared_at__isnull=True)}
    for condition in CONDITIONS:
        holds, message, details = condition.check(live, drift)
        alert = open_alerts.get(condition.key)
        if holds and alert is None:
            if getattr(settings, "MONITOR_RETRAIN_ON_ALERT", False):
                details = {**details, "retrain_schedule": _retrain(active)}
            open_alerts[condition.key] = MonitorAlert.objects.create(
                **market,
                run=active.run,
                kind=condition.key,
                message=message,
                details=details,
                raised_at=now,
                checked_at=now,
            )
        elif holds:
            MonitorAlert.objects.filter(pk=alert.pk).update(message=message, details=details, checked_at=now)
        elif alert is not None:
            MonitorAlert.objects.filter(pk=alert.pk).update(cleared_at=now, checked_at=now)
            del open_alerts[condition.key]
    # An alert about a run that is no longer active clears with it.
    MonitorAlert.objects.filter(**market, cleared_at__isnull=True).exclude(run=active.run).update(cleared_at=now)
    return list(MonitorAlert.objects.filter(**market, cleared_at__isnull=True))


def monitor_run(*, now=None) -> dict[str, int]:
    """One pass over every active model: ``{market: open alerts}``."""
    out = {}
    for active in ActiveModel.objects.select_related("run"):
        label = f"{active.exchange}:{active.symbol} {active.interval}"
        try:
            out[label] = len(market_monitor(active=active, now=now))
        except Exception:  # one market's failure must not hide the others'; it is logged with its traceback
            logger.exception("monitor: %s could not be evaluated", label)
    return out
