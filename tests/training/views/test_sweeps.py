import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from tests.training.runs_helpers import make_profile, make_user
from training.models import Sweep, TrainingRun
from training.services.sweep_axes import MSG_UNKNOWN_PARAM, known_params
from training.services.sweeps import MSG_NO_BEST, sweep_create

pytestmark = pytest.mark.django_db
Status = TrainingRun.Status


def sweep_data(profile, **overrides):
    data = {
        "name": "l1 scan",
        "symbol": "BTCUSDT",
        "interval": "1h",
        "exchange": "BINANCE",
        "profile": profile.pk,
        "preset": "smoke",
        "axes": "l1_alpha=0.0001,0.01\n",
        "mode": "grid",
        "parallel": 2,
    }
    data.update(overrides)
    return data


@pytest.fixture
def l1_sweep(profile, dataset, launcher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return sweep_create(
            profile=profile, symbol="BTCUSDT", preset="smoke", axes=["l1_alpha=0.001,0.1"], user=launcher
        )


@pytest.mark.parametrize("name", ["training:sweep_list", "training:sweep_new"])
def test_pages_need_a_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_viewer_sees_sweeps_but_cannot_launch_cancel_or_save(viewer_client, l1_sweep, profile):
    assert viewer_client.get(reverse("training:sweep_detail", args=[l1_sweep.pk])).status_code == 200
    assert viewer_client.get(reverse("training:sweep_new")).status_code == 403
    assert viewer_client.post(reverse("training:sweep_new"), sweep_data(profile)).status_code == 403
    assert viewer_client.post(reverse("training:sweep_cancel", args=[l1_sweep.pk])).status_code == 403
    response = viewer_client.post(reverse("training:sweep_save_profile", args=[l1_sweep.pk]), {"name": "x"})
    assert response.status_code == 403


def test_the_form_launches_a_grid_sweep_and_redirects_to_its_page(
    launcher_client, launcher, profile, dataset, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = launcher_client.post(reverse("training:sweep_new"), sweep_data(profile))
    created = Sweep.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("training:sweep_detail", args=[created.pk])
    assert created.name == "l1 scan" and created.launched_by == launcher and created.preset == "smoke"
    assert [p.values for p in created.points.order_by("index")] == [{"l1_alpha": 0.0001}, {"l1_alpha": 0.01}]
    assert len(callbacks) == 2 and set(created.runs.values_list("status", flat=True)) == {Status.QUEUED}


def test_the_form_shows_axis_errors_and_launches_nothing(launcher_client, profile, dataset):
    response = launcher_client.post(reverse("training:sweep_new"), sweep_data(profile, axes="l3_alpha=1"))
    assert response.status_code == 400
    message = MSG_UNKNOWN_PARAM.format(text="l3_alpha=1", param="l3_alpha", known=", ".join(known_params()))
    assert escape(message) in response.content.decode() and not Sweep.objects.exists()


def test_the_profile_is_preselected_from_the_admin_action(launcher_client, dataset):
    other = make_profile("strong")
    response = launcher_client.get(reverse("training:sweep_new") + f"?profile={other.pk}")
    assert response.context["form"].initial["profile"] == str(other.pk)


def test_the_sweep_page_lists_points_with_links_to_their_runs_and_no_script(launcher_client, l1_sweep):
    response = launcher_client.get(reverse("training:sweep_detail", args=[l1_sweep.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and response.context["status"]["status"] == "queued"
    for run in l1_sweep.runs.all():
        assert reverse("training:run_detail", args=[run.pk]) in page
    assert "mean over trained regimes of the ensemble" in page and "sweep_charts.js" not in page  # nothing to draw
    assert reverse("training:sweep_list") in page  # the nav entry
    listing = launcher_client.get(reverse("training:sweep_list")).content.decode()
    assert reverse("training:sweep_detail", args=[l1_sweep.pk]) in listing


def test_the_list_reads_each_sweeps_status_in_a_fixed_number_of_queries(
    launcher_client, l1_sweep, profile, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    def listing():
        return launcher_client.get(reverse("training:sweep_list"))

    with django_capture_on_commit_callbacks(execute=False):
        failed = sweep_create(profile=profile, symbol="BTCUSDT", preset="smoke", axes=["l2_alpha=0.001,0.01,0.1"])
    failed.runs.filter(pk=failed.runs.order_by("pk").first().pk).update(status=Status.FAILED, error="boom")
    with CaptureQueriesContext(connection) as two_sweeps:
        first = listing()
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(3):
            sweep_create(profile=profile, symbol="BTCUSDT", preset="smoke", axes=["dropout_rate=0,0.5"])
    with django_assert_max_num_queries(len(two_sweeps.captured_queries)):
        five = listing().content.decode()
    assert first.status_code == 200 and five.count('class="badge status-queued"') == 4
    assert "1 of 3 point(s) failed: run #" in five and ": boom" in five


def test_cancel_from_the_page_cancels_every_run(launcher_client, l1_sweep):
    response = launcher_client.post(reverse("training:sweep_cancel", args=[l1_sweep.pk]))
    assert response.status_code == 302
    assert set(l1_sweep.runs.values_list("status", flat=True)) == {Status.CANCELLED}
    page = launcher_client.get(reverse("training:sweep_detail", args=[l1_sweep.pk])).content.decode()
    assert 'id="sweep-status">cancelled<' in page


def test_saving_without_a_best_point_says_why(l1_sweep, client):
    user = make_user("profiler", can_launch=False)
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="add_regularizationprofile"))
    client.force_login(user)
    response = client.post(reverse("training:sweep_save_profile", args=[l1_sweep.pk]), {"name": "best"}, follow=True)
    assert MSG_NO_BEST.format(pk=l1_sweep.pk) in response.content.decode()


def test_the_profile_admin_action_opens_the_sweep_form(admin_client, profile):
    response = admin_client.post(
        reverse("admin:training_regularizationprofile_changelist"),
        {"action": "sweep_with_profile", "_selected_action": [profile.pk]},
    )
    assert (
        response.status_code == 302 and response["Location"] == reverse("training:sweep_new") + f"?profile={profile.pk}"
    )


def test_reading_a_sweep_writes_nothing_and_the_reconciler_records_its_ended_points(
    viewer_client, l1_sweep, test_broker, sole_reconciler
):
    from training.services.runs.reconcile import training_runs_reconcile

    first = l1_sweep.points.order_by("index").first()
    TrainingRun.objects.filter(pk=first.run_id).update(status=Status.FAILED, error="worker lost: test")
    with CaptureQueriesContext(connection) as queries:
        assert viewer_client.get(reverse("training:sweep_detail", args=[l1_sweep.pk])).status_code == 200
        assert viewer_client.get(reverse("training:sweep_list")).status_code == 200
        assert viewer_client.get(reverse("api:sweep-detail", args=[l1_sweep.pk])).status_code == 200
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert [w for w in writes if "training_" in w] == []
    first.refresh_from_db()
    assert not first.recorded

    assert training_runs_reconcile().sweeps == [l1_sweep.pk]
    first.refresh_from_db()
    assert first.recorded
    assert training_runs_reconcile().sweeps == []  # nothing left to record


def test_the_form_checks_reach_without_launching_and_the_page_lists_it(
    launcher_client, launcher, dataset, django_capture_on_commit_callbacks
):
    from training.ml.default_profile import default_override_fields

    shadowing = make_profile("default-like", **default_override_fields())
    data = sweep_data(shadowing, axes="l1_alpha=0.001,0.1\ndropout_rate=0,0.3")
    response = launcher_client.post(reverse("training:sweep_new"), {**data, "check": "1"})
    assert response.status_code == 200 and not Sweep.objects.exists()
    reach = response.content.decode().split('id="sweep-reach"')[1].split("</ul>")[0]
    assert "reaches lightgbm, tabnet; not logreg, lstm, transformer" in reach and "sklearn_alpha" in reach
    assert "reaches lstm, transformer" in reach
    response = launcher_client.post(reverse("training:sweep_new"), {**data, "preset": "tiny", "check": "1"})
    assert response.status_code == 400 and "Sweep sklearn.alpha instead." in response.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        response = launcher_client.post(reverse("training:sweep_new"), data)
    sweep = Sweep.objects.get()
    page = launcher_client.get(reverse("training:sweep_detail", args=[sweep.pk])).content.decode()
    line = page.split('class="small axis-reach" data-param="l1_alpha">')[1].split("</span>")[0]
    assert "reaches lightgbm, tabnet; not logreg, lstm, transformer" in line and "sklearn_alpha" in line


def test_the_form_takes_a_held_setting_lists_it_in_the_check_and_on_the_page(
    launcher_client, profile, dataset, django_capture_on_commit_callbacks
):
    data = sweep_data(profile, axes="lightgbm.reg_lambda=0.1,1\nlightgbm.early_stopping=off\n")
    form = launcher_client.get(reverse("training:sweep_new")).content.decode()
    assert "lightgbm.early_stopping=off" in form and "tensorflow.early_stopping=off" in form
    response = launcher_client.post(reverse("training:sweep_new"), {**data, "check": "1"})
    reach = response.content.decode().split('id="sweep-reach"')[1].split("</ul>")[0]
    assert "lightgbm.early_stopping=off: held at every point for lightgbm" in reach and not Sweep.objects.exists()
    bad = launcher_client.post(reverse("training:sweep_new"), {**data, "preset": "tiny"})
    assert bad.status_code == 400 and "preset tiny trains no LightGBM model" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        response = launcher_client.post(reverse("training:sweep_new"), data)
    sweep = Sweep.objects.get()
    assert response.status_code == 302 and sweep.holds[0]["models"] == ["lightgbm"] and sweep.points.count() == 2
    page = launcher_client.get(reverse("training:sweep_detail", args=[sweep.pk])).content.decode()
    held = page.split('id="sweep-holds"')[1].split("</dd>")[0]
    assert "lightgbm.early_stopping=off" in held and "at every point, for lightgbm" in held
