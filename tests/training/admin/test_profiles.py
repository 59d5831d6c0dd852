import html
import io
import json

import pytest
from django.urls import reverse

from tests.training.profile_factories import blank_post, declared_fields, out_of_range_cases, row
from training.admin.profiles import EXPORT_FILENAME, MSG_MAKE_DEFAULT_ONE
from training.ml.regularization import MSG_NOT_DERIVABLE
from training.models import RegularizationProfile, TrainingRun
from training.models.profiles import MSG_NAME_TAKEN
from training.services.profile_versions import profile_stale_message
from training.services.profiles import MSG_IMPORT_TOO_DEEP, MSG_PROFILE_IN_USE, profile_create, profile_export_json

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:training_regularizationprofile_changelist"


def change_url(profile):
    return reverse("admin:training_regularizationprofile_change", args=[profile.pk])


@pytest.fixture
def default_profile():
    return profile_create(name="default", is_default=True)


def test_valid_edit_saves_and_shows_in_history_with_who_and_which_field(staff_client, staff_user, default_profile):
    response = staff_client.post(
        change_url(default_profile), blank_post(default_profile, lightgbm_reg_alpha=0.5, l2_alpha=0.002)
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    default_profile.refresh_from_db()
    assert (default_profile.lightgbm_reg_alpha, default_profile.l2_alpha, default_profile.is_default) == (
        0.5,
        0.002,
        True,
    )
    record = default_profile.history.first()
    assert record.history_user == staff_user
    history = staff_client.get(reverse("admin:training_regularizationprofile_history", args=[default_profile.pk]))
    html = history.content.decode()
    assert history.status_code == 200
    assert "editor" in html and "LightGBM reg_alpha" in html and "0.5" in html


def test_revert_from_history_restores_the_old_values(staff_client, default_profile):
    first = default_profile.history.first()
    assert (first.sklearn_c, first.l1_alpha) != (9.0, 0.4)
    staff_client.post(change_url(default_profile), blank_post(default_profile, sklearn_c=9.0, l1_alpha=0.4))
    revert_url = reverse(
        "admin:training_regularizationprofile_simple_history", args=[default_profile.pk, first.history_id]
    )
    page = staff_client.get(revert_url)
    assert page.status_code == 200
    response = staff_client.post(revert_url, blank_post(first.instance))
    assert response.status_code == 302
    default_profile.refresh_from_db()
    assert (default_profile.sklearn_c, default_profile.l1_alpha) == (first.sklearn_c, first.l1_alpha)
    assert default_profile.history.count() == 3


@pytest.mark.parametrize(("field", "value", "message"), out_of_range_cases())
def test_each_out_of_range_value_is_refused_with_its_fields_message(
    staff_client, default_profile, field, value, message
):
    response = staff_client.post(change_url(default_profile), blank_post(default_profile, **{field: value}))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in errors[field], errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert RegularizationProfile.objects.get(pk=default_profile.pk).history.count() == 1


@pytest.mark.parametrize("field", [f for f, _, _ in declared_fields()])
@pytest.mark.parametrize("value", ["abc", "1e", "nan", "inf"])
def test_non_numbers_are_refused_per_field(staff_client, default_profile, field, value):
    response = staff_client.post(change_url(default_profile), blank_post(default_profile, **{field: value}))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == ["Enter a number."]


@pytest.mark.parametrize("changes", [{"l1_alpha": 0}, {"sklearn_alpha": 0}])
def test_alpha_zero_with_blank_c_is_an_error_on_c(staff_client, default_profile, changes):
    response = staff_client.post(change_url(default_profile), blank_post(default_profile, **changes))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"sklearn_c": [MSG_NOT_DERIVABLE]}
    accepted = staff_client.post(change_url(default_profile), blank_post(default_profile, **changes, sklearn_c=2))
    assert accepted.status_code == 302


@pytest.mark.parametrize("name", ["default", "DEFAULT", "Default"])
def test_duplicate_name_is_refused_ignoring_case(staff_client, default_profile, name):
    response = staff_client.post(reverse("admin:training_regularizationprofile_add"), blank_post(name=name))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [MSG_NAME_TAKEN.format(name="default")]
    assert RegularizationProfile.objects.count() == 1


def test_add_creates_a_non_default_profile(staff_client, default_profile):
    response = staff_client.post(
        reverse("admin:training_regularizationprofile_add"), blank_post(name="strong-l1", l1_alpha=1, is_default="on")
    )
    assert response.status_code == 302
    created = RegularizationProfile.objects.get(name="strong-l1")
    assert (created.l1_alpha, created.is_default) == (1.0, False)


def test_change_page_shows_fieldsets_derived_help_and_report_table(staff_client, default_profile):
    html = staff_client.get(change_url(default_profile)).content.decode()
    for label in (
        "LightGBM",
        "Keras / TensorFlow (LSTM, Transformer)",
        "scikit-learn elastic-net LogisticRegression",
        "TabNet (pytorch-tabnet)",
    ):
        assert f">{label}</h2>" in html
    assert "Blank → 0.01 from l1_alpha." in html and "Blank → 100 = 1/alpha." in html
    assert 'id="regularization-report"' in html
    assert 'data-backend="sklearn" data-param="C"' in html and "C = 1/alpha" in html
    assert "TabNet has no L2 argument" in html


def test_help_text_follows_the_edited_profile(staff_client):
    other = profile_create(name="other", values={"l1_alpha": 0.25, "sklearn_alpha": 0.5})
    html = staff_client.get(change_url(other)).content.decode()
    assert "Blank → 0.25 from l1_alpha." in html and "Blank → 2 = 1/alpha." in html


def test_report_json_url(staff_client, default_profile):
    default_profile.tabnet_lambda_l2 = 5.0
    default_profile.save()
    response = staff_client.get(reverse("admin:training_regularizationprofile_report", args=[default_profile.pk]))
    report = response.json()
    assert response.status_code == 200 and report["status"] == "warning" and report["profile"]["name"] == "default"
    assert row(report, "tabnet", "lambda_l2")["status"] == "warning"
    assert report["config"]["sklearn"]["C"] == pytest.approx(100)
    assert (
        'href="%s"' % reverse("admin:training_regularizationprofile_report", args=[default_profile.pk])
        in staff_client.get(change_url(default_profile)).content.decode()
    )


def test_changelist_columns_and_search(staff_client, default_profile):
    profile_create(name="strong-l1", values={"l1_alpha": 2.0})
    response = staff_client.get(reverse(CHANGELIST), {"q": "strong"})
    html = response.content.decode()
    assert response.status_code == 200 and "strong-l1" in html and ">default<" not in html
    assert "Scikit-learn C" in html and '<td class="field-sklearn_c_value">0.5</td>' in html
    assert "Import JSON" in html


def post_action(client, action, profiles):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [p.pk for p in profiles]},
        follow=action != "export_json",
    )


def test_make_default_action_leaves_exactly_one_default(staff_client, default_profile):
    other = profile_create(name="other")
    response = post_action(staff_client, "make_default", [other])
    assert "“other” is now the default profile." in response.content.decode()
    assert list(RegularizationProfile.objects.filter(is_default=True)) == [other]
    response = post_action(staff_client, "make_default", [default_profile, other])
    assert MSG_MAKE_DEFAULT_ONE in response.content.decode()
    assert RegularizationProfile.objects.filter(is_default=True).count() == 1


def test_duplicate_action(staff_client, default_profile):
    post_action(staff_client, "duplicate_profiles", [default_profile])
    copy = RegularizationProfile.objects.get(name="default (copy)")
    assert not copy.is_default and copy.l1_alpha == default_profile.l1_alpha


def test_export_action_downloads_json_and_import_view_round_trips(staff_client, default_profile):
    other = profile_create(name="b", values={"tensorflow_dropout_rate": 0.4, "sklearn_c": 3.0})
    response = post_action(staff_client, "export_json", [default_profile, other])
    assert response["Content-Disposition"] == f'attachment; filename="{EXPORT_FILENAME}"'
    data = response.content
    assert [p["name"] for p in json.loads(data)["profiles"]] == ["b", "default"]
    RegularizationProfile.objects.filter(name="b").delete()
    upload = io.BytesIO(data)
    upload.name = "profiles.json"
    response = staff_client.post(
        reverse("admin:training_regularizationprofile_import"), {"file": upload, "replace": "on"}, follow=True
    )
    assert "Imported 2 profile(s)" in response.content.decode()
    assert profile_export_json(profiles=RegularizationProfile.objects.all()).encode() == data


def test_import_view_shows_line_numbered_errors_and_saves_nothing(staff_client, default_profile):
    text = '{\n "profiles": [\n  {"name": "n", "overrides": {"tabnet": {"lambda_l2": -1}}},\n  {"name": "m", "x": 1}\n ]\n}'
    upload = io.BytesIO(text.encode())
    upload.name = "bad.json"
    response = staff_client.post(reverse("admin:training_regularizationprofile_import"), {"file": upload})
    html = response.content.decode().replace("&#x27;", "'")
    assert response.status_code == 200 and 'id="import-errors"' in html
    assert "line 3: profiles[0] 'n': The 'lambda_l2' parameter of TabNet (pytorch-tabnet) must be a float" in html
    assert "line 4: profiles[1] 'm': unknown key 'x'" in html
    assert list(RegularizationProfile.objects.values_list("name", flat=True)) == ["default"]


def test_deleting_a_used_profile_is_refused_with_a_message(staff_client, default_profile):
    used = profile_create(name="used")
    TrainingRun.objects.create(symbol="ETHUSDT", profile=used)
    url = reverse("admin:training_regularizationprofile_delete", args=[used.pk])
    for method in (staff_client.get, staff_client.post):
        response = method(url, {"post": "yes"}, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[-1][0] == change_url(used)
        assert MSG_PROFILE_IN_USE.format(name="used", count=1) in response.content.decode()
    assert RegularizationProfile.objects.filter(pk=used.pk).exists()


def test_deleting_an_unused_profile_works_and_delete_selected_is_not_offered(staff_client, default_profile):
    spare = profile_create(name="spare")
    response = staff_client.post(
        reverse("admin:training_regularizationprofile_delete", args=[spare.pk]), {"post": "yes"}
    )
    assert response.status_code == 302 and not RegularizationProfile.objects.filter(name="spare").exists()
    assert "delete_selected" not in staff_client.get(reverse(CHANGELIST)).content.decode()


def post_import(staff_client, data: bytes, **fields):
    upload = io.BytesIO(data)
    upload.name = "profiles.json"
    return staff_client.post(reverse("admin:training_regularizationprofile_import"), {"file": upload, **fields})


def test_import_view_refuses_an_existing_name_without_the_checkbox(staff_client, default_profile):
    data = json.dumps({"profiles": [{"name": "DEFAULT", "base": {"l1_alpha": 0.3}}]}).encode()
    response = post_import(staff_client, data)
    assert response.status_code == 200
    assert "a profile named 'default' already exists" in html.unescape(response.content.decode())
    default_profile.refresh_from_db()
    assert default_profile.l1_alpha != 0.3 and default_profile.name == "default"
    assert post_import(staff_client, data, replace="on").status_code == 302
    default_profile.refresh_from_db()
    assert (default_profile.name, default_profile.l1_alpha) == ("DEFAULT", 0.3)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xef\xbb\xbf" + json.dumps({"profiles": [{"name": "bom"}]}).encode(), None),
        (b"[" * 50_000 + b"]" * 50_000, MSG_IMPORT_TOO_DEEP),
    ],
)
def test_import_view_accepts_a_bom_and_explains_deep_nesting(staff_client, data, expected):
    response = post_import(staff_client, data)
    if expected is None:
        assert response.status_code == 302 and RegularizationProfile.objects.get().name == "bom"
    else:
        assert response.status_code == 200 and expected in html.unescape(response.content.decode())


def test_a_stale_admin_save_is_refused_naming_who_changed_it_and_changes_nothing(staff_client, default_profile):
    opened = blank_post(default_profile)  # both editors opened the page at this version
    first = staff_client.post(change_url(default_profile), {**opened, "l1_alpha": 0.4})
    assert first.status_code == 302

    stale = staff_client.post(change_url(default_profile), {**opened, "l1_alpha": 0.05, "dropout_rate": 0.3})

    assert stale.status_code == 200
    current = RegularizationProfile.objects.get(pk=default_profile.pk)
    assert (current.l1_alpha, current.dropout_rate, current.version) == (0.4, 0.2, int(opened["seen_version"]) + 1)
    assert current.history.count() == 2
    errors = stale.context["adminform"].form.non_field_errors()
    submitted = stale.context["adminform"].form.cleaned_data
    assert errors == [profile_stale_message(current=current, seen=int(opened["seen_version"]), submitted=submitted)]
    message = errors[0]
    assert message.startswith("Profile “default” was changed by editor at ") and "since you opened it" in message
    assert "l1_alpha=0.4" in message and "dropout_rate=0.2" in message and "l2_alpha" not in message
    assert html.escape(message).replace("&#x27;", "'")[:60] in stale.content.decode().replace("&#x27;", "'")


@pytest.mark.parametrize("value", ["1e", "abc"])
def test_a_value_that_does_not_parse_is_a_field_error_and_loses_nothing(staff_client, default_profile, value):
    RegularizationProfile.objects.filter(pk=default_profile.pk).update(tensorflow_dropout_rate=0.3)
    default_profile.refresh_from_db()
    before = default_profile.history.count()
    response = staff_client.post(
        change_url(default_profile), blank_post(default_profile, tensorflow_dropout_rate=value, l1_alpha=0.05)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"tensorflow_dropout_rate": ["Enter a number."]}
    page = response.content.decode()
    # typed as text (a number box would have sent "" for it), shown back as typed, and the badge agrees
    assert f'type="text" name="tensorflow_dropout_rate" value="{value}"' in page
    assert 'id="report-status">error<' in page
    assert page.count("dropout_rate: Enter a number.") == 1
    stored = RegularizationProfile.objects.get(pk=default_profile.pk)
    assert (stored.tensorflow_dropout_rate, stored.l1_alpha, stored.history.count()) == (0.3, 0.01, before)


def test_an_out_of_range_value_is_listed_once_and_the_badge_says_error_after_the_refused_save(
    staff_client, default_profile
):
    response = staff_client.post(change_url(default_profile), blank_post(default_profile, tensorflow_dropout_rate=-1))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    message = response.context["adminform"].form.errors["tensorflow_dropout_rate"][0]
    report_errors = page.split('id="report-errors">', 1)[1].split("</ul>", 1)[0]
    assert report_errors.count(message) == 1 and 'id="report-status">error<' in page


def test_history_says_derived_for_a_blank_per_backend_value(staff_client, default_profile):
    staff_client.post(change_url(default_profile), blank_post(default_profile, tensorflow_dropout_rate=0.3))
    default_profile.refresh_from_db()
    staff_client.post(change_url(default_profile), blank_post(default_profile, tensorflow_dropout_rate=""))
    history = staff_client.get(reverse("admin:training_regularizationprofile_history", args=[default_profile.pk]))
    changes = [
        " ".join(html.unescape(item.split("</li>", 1)[0]).split())
        for item in history.content.decode().split("<li>")[1:]
        if "dropout_rate" in item
    ]
    assert any("derived → 0.3" in c for c in changes) and any("0.3 → derived" in c for c in changes), changes
    assert not any("None" in c for c in changes), changes
