"""The profile editor's live report (preview.json) and its derived placeholders."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from training.ml.regularization import iter_override_params
from training.models import RegularizationProfile

pytestmark = pytest.mark.django_db
PREVIEW = "admin:training_regularizationprofile_preview"


@pytest.fixture
def saved(db):
    return RegularizationProfile.objects.create(name="baseline", is_default=True)


def form_data(profile, **changes) -> dict:
    data = {"name": profile.name, "description": "", "l1_alpha": "0.01", "l2_alpha": "0.001", "dropout_rate": "0.2"}
    data.update({field: "" for _, _, field in iter_override_params()})
    data.update({"_profile_id": str(profile.pk), **changes})
    return data


def test_valid_unsaved_values_give_their_report_and_placeholders(admin_client, saved):
    body = admin_client.post(reverse(PREVIEW), form_data(saved, l1_alpha="0.05")).json()
    assert body["status"] in ("ok", "warning") and body["errors"] == []
    assert body["placeholders"]["lightgbm_reg_alpha"] == "0.05 ← L1 alpha"
    assert body["placeholders"]["sklearn_c"] == "20 ← 1/alpha"
    saved.refresh_from_db()
    assert saved.l1_alpha == 0.01  # nothing saved


@pytest.mark.parametrize("value", ["-1", "abc", ""])
def test_a_bad_value_turns_the_report_to_error_before_saving(admin_client, saved, value):
    body = admin_client.post(reverse(PREVIEW), form_data(saved, l1_alpha=value)).json()
    assert body["status"] == "error" and body["errors"] and "l1_alpha" in body["field_errors"]


def test_the_add_page_previews_without_a_profile(admin_client):
    body = admin_client.post(reverse(PREVIEW), form_data(RegularizationProfile(name="new"), _profile_id="")).json()
    assert body["status"] in ("ok", "warning")


def test_preview_needs_post_and_the_change_permission(client, saved):
    user = User.objects.create_user("reader", password="pw-reader-1", is_staff=True)
    client.force_login(user)
    assert client.post(reverse(PREVIEW), form_data(saved)).status_code == 403
    client.force_login(User.objects.create_superuser("root", "root@example.com", "root-pw-123"))
    assert client.get(reverse(PREVIEW)).status_code == 405


def test_change_page_shows_derived_placeholders_short_labels_and_links(admin_client, saved):
    page = admin_client.get(reverse("admin:training_regularizationprofile_change", args=[saved.pk])).content.decode()
    assert 'placeholder="0.01 ← L1 alpha"' in page and 'placeholder="0.2 ← dropout"' in page
    assert '<label for="id_lightgbm_reg_alpha">reg_alpha:</label>' in page
    assert f'href="{reverse("training:run_list")}?profile={saved.pk}"' in page
    assert "training/js/profile_editor.js" in page and reverse(PREVIEW) in page
