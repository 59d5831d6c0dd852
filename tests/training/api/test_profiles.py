"""/api/profiles/: list, detail with the validation report, create and update through the profiles service."""

from __future__ import annotations

import pytest
from django.urls import reverse

from training.api.views.profiles import MSG_IF_MATCH_REQUIRED
from training.ml.regularization import field_errors
from training.models import RegularizationProfile
from training.services.profile_versions import profile_stale_message

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
    url = reverse("api:profile-detail", args=[profile.pk])
    response = clients[who].patch(url, {"l2_alpha": 0.02}, format="json", headers={"If-Match": etag(profile)})
    assert response.status_code == expected
    profile.refresh_from_db()
    assert profile.l2_alpha == (0.02 if expected == 200 else 0.001)


def etag(profile) -> str:
    return f'"profile-{profile.pk}-v{profile.version}"'


def test_update_refuses_out_of_range_values(full_api, profile):
    url = reverse("api:profile-detail", args=[profile.pk])
    response = full_api.patch(url, {"dropout_rate": 1.5}, format="json", headers={"If-Match": etag(profile)})
    assert response.status_code == 400 and list(response.json()) == ["dropout_rate"]
    profile.refresh_from_db()
    assert profile.dropout_rate == 0.2


def test_put_and_patch_need_if_match_and_a_stale_one_is_refused_and_changes_nothing(full_api, full_user, profile):
    url = reverse("api:profile-detail", args=[profile.pk])
    read = full_api.get(url)
    tag = read["ETag"]
    assert tag == etag(profile) and read.json()["version"] == profile.version
    for method in (full_api.put, full_api.patch):
        response = method(url, {"name": "baseline", "l1_alpha": 0.3}, format="json")
        assert response.status_code == 428
        assert response.json() == {"detail": MSG_IF_MATCH_REQUIRED.format(pk=profile.pk)}

    first = full_api.patch(url, {"l1_alpha": 0.3}, format="json", headers={"If-Match": tag})  # the first editor
    assert first.status_code == 200 and first["ETag"] != tag and first.json()["version"] == profile.version + 1
    stale = full_api.put(url, {"name": "baseline", "l1_alpha": 0.05}, format="json", headers={"If-Match": tag})

    assert stale.status_code == 412
    current = RegularizationProfile.objects.get(pk=profile.pk)
    assert current.l1_alpha == 0.3 and current.version == profile.version + 1  # the stale PUT changed nothing
    body = stale.json()
    seen = profile.version
    assert body["detail"] == profile_stale_message(current=current, seen=seen, submitted={"l1_alpha": 0.05})
    assert "was changed by api-full at " in body["detail"] and "l1_alpha=0.3" in body["detail"]
    assert body["current"]["l1_alpha"] == 0.3 and stale["ETag"] == first["ETag"]
    again = full_api.put(
        url, {"name": "baseline", "l1_alpha": 0.05}, format="json", headers={"If-Match": first["ETag"]}
    )
    assert again.status_code == 200 and RegularizationProfile.objects.get(pk=profile.pk).l1_alpha == 0.05
