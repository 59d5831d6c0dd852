"""Thin Celery tasks: load by id, call a service."""
from celery import shared_task


@shared_task(name="training.ping")
def ping(value: str) -> dict:
    """Round trip through the broker; used by the integration test and health tooling."""
    import os

    return {"echo": value, "pid": os.getpid()}
