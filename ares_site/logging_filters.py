"""Logging filters that keep the console quiet without hiding real problems."""

from __future__ import annotations

import logging

HEALTH_PATH = "/healthz"


class ReadinessProbeFilter(logging.Filter):
    """Drops django.request's "Service Unavailable: /healthz" records: a 503 there is an answer, not an error
    (`make run` polls it while the worker starts; a load balancer reads the JSON)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        status = getattr(record, "status_code", None)
        path = getattr(request, "path", "") if request is not None else ""
        return not (status == 503 and path.rstrip("/") == HEALTH_PATH)
