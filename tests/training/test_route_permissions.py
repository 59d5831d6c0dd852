"""Every page and API route answers 403 to a logged-in user without permissions. The routes come from walking
the URL resolver (as the URL fuzz does), so a page added later is checked without editing this file; only the
routes listed in PUBLIC are open to any login, each for its reason."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.reliability.test_url_fuzz import PATTERNS, Pattern
from tests.training.runs_helpers import make_dataset, make_profile
from training.services.sweeps import sweep_create

pytestmark = pytest.mark.django_db
PUBLIC = {
    "favicon.ico": "a redirect to a static file",
    "accounts/login/": "the login page",
    "accounts/logout/": "logging out",
    "healthz": "the readiness probe (no data)",
    "metrics": "Prometheus metrics: loopback or METRICS_TOKEN, no login (tests/training/views/test_metrics.py)",
    "api/schema/": "the API's description, no data",
    "api/docs/": "the API's description, no data",
    "api/redoc/": "the API's description, no data",
    "api/.*": "the JSON 404 for unknown API paths",
}
CHECKED = [p for p in PATTERNS if not p.label.startswith("admin/") and p.label not in PUBLIC]


@pytest.fixture
def objects(django_capture_on_commit_callbacks):
    profile = make_profile("baseline", is_default=True)
    make_dataset()
    with django_capture_on_commit_callbacks(execute=False):  # queued, never published: no broker needed
        sweep = sweep_create(profile=profile, symbol="BTCUSDT", preset="smoke", axes=["l1_alpha=0.001,0.1"])
    run = sweep.points.first().run
    return {"run": run.pk, "sweep": sweep.pk, "profile": profile.pk, "dataset": 1, "schedule": 1}


def url_for(pattern: Pattern, objects: dict) -> str:
    """The pattern with real ids: `<pk>` is the id of the resource the route name starts with."""
    values = {
        "run_id": objects["run"],
        "sweep_id": objects["sweep"],
        "group_id": 1,
        "schedule_id": 1,
        "index": 0,
        "pk": objects.get(pattern.name.split("-")[0], 1),
        "name": "report.json",
        "format": "json",
        "exchange": "BINANCE",
        "symbol": "BTCUSDT",
        "interval": "1h",
    }
    text = "".join(part if isinstance(part, str) else str(values[part.name]) for part in pattern.parts)
    return "/" + text.removesuffix("/?") + ("/" if pattern.label.endswith("/?") else "")


def test_the_walk_finds_the_sweep_pages_and_every_public_route_exists():
    labels = {p.label for p in PATTERNS}
    assert {"sweeps/", "sweeps/<sweep_id>/", "api/sweeps/<pk>/", "runs/<run_id>/"} <= {p.label for p in CHECKED}
    assert set(PUBLIC) <= labels


@pytest.mark.parametrize("pattern", CHECKED, ids=lambda p: p.label)
def test_a_user_without_permissions_gets_403(client: Client, objects, pattern):
    client.force_login(User.objects.create_user("nobody", password="pw-123-secret"))
    url = url_for(pattern, objects)
    response = client.get(url, follow=True)
    if response.status_code == 405:  # a POST-only route
        response = client.post(url, {}, follow=True)
    assert response.status_code == 403, f"{url} → {response.status_code}"
    assert b"CSRF" not in response.content
