"""`/metrics` in Prometheus's text format: open to the loopback address (METRICS_ALLOW_LOOPBACK), otherwise only
with `Authorization: Bearer <METRICS_TOKEN>`."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from ares_site.request_metrics import request_registry
from training.selectors.metrics import AresCollector

MSG_METRICS_FORBIDDEN = (
    "/metrics answers the loopback address, or a request with `Authorization: Bearer <METRICS_TOKEN>`."
)


def _allowed(request) -> bool:
    try:
        loopback = ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        loopback = False
    if loopback and settings.METRICS_ALLOW_LOOPBACK:
        return True
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(sent.encode(), token.encode())


@never_cache
@require_GET
def metrics(request):
    if not _allowed(request):
        return HttpResponse(MSG_METRICS_FORBIDDEN, status=403, content_type="text/plain; charset=utf-8")
    app = CollectorRegistry(auto_describe=False)
    app.register(AresCollector())
    return HttpResponse(generate_latest(app) + generate_latest(request_registry()), content_type=CONTENT_TYPE_LATEST)
