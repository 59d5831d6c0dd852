"""What `/metrics` reports about runs, queues and workers, read from the database, Redis and the workers at
scrape time (so every web process answers the same, with no shared state): a prometheus_client collector."""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings
from django.db.models import Count, F, Sum
from django.db.models.functions import Substr
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from training.models import RunPart, TrainingRun

logger = logging.getLogger(__name__)

DURATION_BUCKETS = (10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)
REASON_MAX_CHARS = 60
REASON_OTHER = "other"
REASON_UNKNOWN = "unknown"
WORKER_PING_SECONDS = 1.0
WORKER_COUNT_TTL_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 1.0


def failure_reason(error: str) -> str:
    """The reason a failed run names first: the text before its first colon ("ValueError", "worker lost",
    "TrainingError"), or "other" when that is not a short label."""
    head, colon, _ = (error or "").strip().partition(":")
    head = head.strip()
    if not head:
        return REASON_UNKNOWN
    if not colon or len(head) > REASON_MAX_CHARS or "\n" in head:
        return REASON_OTHER
    return head


def _histogram(name: str, documentation: str, rows) -> HistogramMetricFamily:
    counts, total, count = [0] * len(DURATION_BUCKETS), 0.0, 0
    for started, finished in rows:
        seconds = max((finished - started).total_seconds(), 0.0)
        total, count = total + seconds, count + 1
        for i, bound in enumerate(DURATION_BUCKETS):
            if seconds <= bound:
                counts[i] += 1
    buckets = [(str(float(b)), c) for b, c in zip(DURATION_BUCKETS, counts, strict=True)] + [("+Inf", count)]
    family = HistogramMetricFamily(name, documentation, unit="seconds")
    family.add_metric([], buckets, total)
    return family


def _queue_depths() -> dict[str, int] | None:
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        depths = {}
        for queue in (settings.CELERY_TASK_DEFAULT_QUEUE, settings.CELERY_TRAINING_QUEUE):
            keys = [queue.encode(), *client.scan_iter(match=f"{queue}\x06\x16*".encode())]  # + priority lists
            depths[queue] = sum(client.llen(key) for key in keys)
        return depths
    except (redis.RedisError, OSError) as exc:
        logger.warning("metrics: could not read the queues: %s", exc)
        return None
    finally:
        client.close()


_worker_count: dict = {"value": None, "at": -1e9}


def _workers() -> int | None:
    """Workers answering a ping (a broadcast that waits its whole timeout), kept WORKER_COUNT_TTL_SECONDS per
    process so frequent scrapes do not each wait for it."""
    from ares_site.celery import app

    if time.monotonic() - _worker_count["at"] < WORKER_COUNT_TTL_SECONDS:
        return _worker_count["value"]
    try:
        value = len(app.control.ping(timeout=WORKER_PING_SECONDS) or [])
    except Exception as exc:  # the broker is down: the count is unknown, not zero
        logger.warning("metrics: could not ping the workers: %s", exc)
        value = None
    _worker_count.update(value=value, at=time.monotonic())
    return value


class AresCollector:
    def collect(self):
        runs = GaugeMetricFamily("ares_runs", "Training runs by status.", labels=["status"])
        by_status = dict(TrainingRun.objects.order_by().values_list("status").annotate(n=Count("pk")))
        for status in TrainingRun.Status.values:
            runs.add_metric([status], by_status.get(status, 0))
        yield runs

        failures = CounterMetricFamily(
            "ares_run_failures", "Failed runs by the reason their error names first.", labels=["reason"]
        )
        reasons: dict[str, int] = {}
        failed = TrainingRun.objects.filter(status=TrainingRun.Status.FAILED).order_by()
        for head, n in (
            failed.annotate(head=Substr("error", 1, REASON_MAX_CHARS + 2)).values_list("head").annotate(n=Count("pk"))
        ):
            reason = failure_reason(head)
            reasons[reason] = reasons.get(reason, 0) + n
        for reason, n in sorted(reasons.items()):
            failures.add_metric([reason], n)
        yield failures

        retries = TrainingRun.objects.order_by().aggregate(n=Sum(F("attempts") - 1))["n"] or 0
        yield CounterMetricFamily("ares_run_retries", "Attempts beyond the first, over all runs.", value=retries)

        ended = dict(started_at__isnull=False, finished_at__isnull=False)
        yield _histogram(
            "ares_run_duration",
            "Wall time of ended runs, start to finish.",
            TrainingRun.objects.filter(**ended).order_by().values_list("started_at", "finished_at").iterator(),
        )
        yield _histogram(
            "ares_run_part_duration",
            "Wall time of ended regime parts.",
            RunPart.objects.filter(**ended).order_by().values_list("started_at", "finished_at").iterator(),
        )

        depths = _queue_depths()
        if depths is not None:
            queue = GaugeMetricFamily(
                "ares_queue_depth", "Task messages waiting in each Celery queue.", labels=["queue"]
            )
            for name, depth in depths.items():
                queue.add_metric([name], depth)
            yield queue
        workers = _workers()
        if workers is not None:
            yield GaugeMetricFamily("ares_workers", "Celery workers answering a ping.", value=workers)
