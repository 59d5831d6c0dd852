"""/api/profiles/: list, detail with the validation report, create and update through the profiles service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from training.ml.regularization import field_errors
from training.models import RegularizationProfile

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 200), ("full", 200)])
def test_read_needs_the_view_permission(clients, profile, who, expected):
    assert clients[who].get(reverse("api:profile-list")).status_code == expected
    response = clients[who].get(reverse("api:profile-detail", args=[profile.pk]))
    assert response.status_code == expected
    if expected == 200:
        body = response.json()
        assert body["name"] == "baseline" and body["is_default"] is True
        assert body["report"]["ok"] is True and body["report"]["profile"]["id"] == profile.pk


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 403), ("full", 201)])
def test_create_needs_the_add_permission(clients, db, who, expected):
    response = clients[who].post(
        reverse("api:profile-list"), {"name": "strong-l1", "l1_alpha": 0.5, "sklearn_c": 3.0}, format="json"
    )
    assert response.status_code == expected, response.content
    if expected == 201:
        profile = RegularizationProfile.objects.get(name="strong-l1")
        assert (profile.l1_alpha, profile.sklearn_c) == (0.5, 3.0)
        assert response.json()["report"]["config"]["sklearn"]["C"] == 3.0
        assert profile.history.first().history_user.username == "api-full"


def test_create_reports_field_errors_like_the_admin(full_api, profile):
    response = full_api.post(
        reverse("api:profile-list"), {"name": "baseline", "l1_alpha": -1, "dropout_rate": "x"}, format="json"
    )
    assert response.status_code == 400 and set(response.json()) == {"dropout_rate"}  # types first (serializer)
    response = full_api.post(reverse("api:profile-list"), {"name": "baseline", "l1_alpha": -1}, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert "name" in errors  # unique, reported by the model's validation
    expected = field_errors({"l1_alpha": -1.0, "l2_alpha": 0.001, "dropout_rate": 0.2})["l1_alpha"]
    assert errors["l1_alpha"] == expected and "must be a float in the range" in expected[0]


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 401), ("noperm", 403), ("viewer", 403), ("full", 200)])
def test_update_needs_the_change_permission(clients, profile, who, expected):
    response = clients[who].patch(reverse("api:profile-detail", args=[profile.pk]), {"l2_alpha": 0.02}, format="json")
    assert response.status_code == expected
    profile.refresh_from_db()
    assert profile.l2_alpha == (0.02 if expected == 200 else 0.001)


def test_update_refuses_out_of_range_values(full_api, profile):
    response = full_api.patch(reverse("api:profile-detail", args=[profile.pk]), {"dropout_rate": 1.5}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["dropout_rate"]
    profile.refresh_from_db()
    assert profile.dropout_rate == 0.2
