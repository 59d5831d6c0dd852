"""Thin Celery tasks: load by id, call a service."""
import os
import time

from celery import shared_task

PING_MAX_SLEEP_SECONDS = 60.0


@shared_task(name="training.ping")
def ping(value: str, sleep_seconds: float = 0.0) -> dict:
    """Round trip through the broker; `sleep_seconds` lets tests catch it mid-task."""
    time.sleep(min(max(float(sleep_seconds), 0.0), PING_MAX_SLEEP_SECONDS))
    return {"echo": value, "pid": os.getpid()}
