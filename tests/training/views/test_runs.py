import json
import zipfile
from io import BytesIO

import pytest
from django.test import Client
from django.urls import reverse

from tests.training.runs_helpers import make_dataset, make_finished_run, make_profile
from training.models import TrainingRun
from training.views.runs import MSG_COMPARE_NEEDS_TWO

pytestmark = pytest.mark.django_db
Status = TrainingRun.Status


def launch_data(profile, **overrides):
    data = {"symbol": "BTCUSDT", "interval": "1h", "exchange": "BINANCE", "profile": profile.pk, "preset": "smoke"}
    data.update(overrides)
    return data


@pytest.fixture
def finished_smoke(profile, dataset, launcher, smoke_result):
    return make_finished_run(profile, dataset, user=launcher, result=smoke_result)


# --- access ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name,args",
    [
        ("training:home", []),
        ("training:run_list", []),
        ("training:run_new", []),
        ("training:run_detail", [1]),
        ("training:run_export", [1]),
        ("training:run_artifacts_zip", [1]),
        ("training:run_file", [1, "a.png"]),
        ("training:run_compare", []),
    ],
)
def test_anonymous_users_are_sent_to_login(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["training:run_cancel", "training:run_rerun"])
def test_anonymous_post_actions_are_sent_to_login(client, finished_smoke, name):
    response = client.post(reverse(name, args=[finished_smoke.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_viewer_without_permission_cannot_launch_cancel_or_rerun(viewer_client, profile, dataset, finished_smoke):
    assert viewer_client.get(reverse("training:run_new")).status_code == 403
    assert viewer_client.post(reverse("training:run_new"), launch_data(profile)).status_code == 403
    assert viewer_client.post(reverse("training:run_cancel", args=[finished_smoke.pk])).status_code == 403
    assert viewer_client.post(reverse("training:run_rerun", args=[finished_smoke.pk])).status_code == 403
    assert TrainingRun.objects.count() == 1
    page = viewer_client.get(reverse("training:run_detail", args=[finished_smoke.pk])).content.decode()
    assert "rerun-button" not in page and "Run again" not in page


def test_forms_require_csrf(launcher, profile, dataset, finished_smoke):
    client = Client(enforce_csrf_checks=True)
    client.force_login(launcher)
    assert client.post(reverse("training:run_new"), launch_data(profile)).status_code == 403
    assert client.post(reverse("training:run_rerun", args=[finished_smoke.pk])).status_code == 403
    assert TrainingRun.objects.count() == 1


def test_home_redirects_to_run_list(launcher_client):
    response = launcher_client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("training:run_list")


# --- launch form -------------------------------------------------------------------------------------------
def test_launch_form_offers_datasets_and_preselects_default_profile(launcher_client, profile, dataset):
    make_profile("aaa-first-by-name")
    make_dataset("ETHUSDT", interval="4h", rows=3)
    response = launcher_client.get(reverse("training:run_new"))
    form = response.context["form"]
    assert [c[0] for c in form.fields["symbol"].choices] == ["BTCUSDT", "ETHUSDT"]
    assert [c[0] for c in form.fields["interval"].choices] == ["1h", "4h"]
    assert form["profile"].value() == profile.pk
    assert form["preset"].value() == "quick"
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_launch_form_preselects_profile_from_query(launcher_client, profile, dataset):
    other = make_profile("other")
    response = launcher_client.get(reverse("training:run_new") + f"?profile={other.pk}")
    assert response.context["form"]["profile"].value() == str(other.pk)


def test_launch_creates_queued_run_and_redirects_to_it(
    launcher_client, launcher, profile, dataset, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = launcher_client.post(reverse("training:run_new"), launch_data(profile))
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("training:run_detail", args=[run.pk])
    assert run.status == Status.QUEUED and run.launched_by == launcher and run.preset == "smoke"
    assert len(callbacks) == 1  # the enqueue, deferred to the commit


def test_launch_refuses_unknown_symbol_with_the_dataset_list(launcher_client, profile, dataset):
    make_dataset("ETHUSDT", rows=3)
    response = launcher_client.post(
        reverse("training:run_new"), launch_data(profile, symbol="ETHUSDT", interval="1h", exchange="KRAKEN")
    )
    assert response.status_code == 400
    assert not TrainingRun.objects.exists()
    response = launcher_client.post(reverse("training:run_new"), launch_data(profile, symbol="DOGEUSDT"))
    assert response.status_code == 400 and "symbol" in response.context["form"].errors


def test_launch_refuses_invalid_profile_with_its_messages(launcher_client, dataset, db):
    bad = make_profile("no-l1", l1_alpha=0.0)
    response = launcher_client.post(reverse("training:run_new"), launch_data(bad))
    assert response.status_code == 400
    errors = " ".join(response.context["form"].non_field_errors())
    assert "Profile 'no-l1' cannot be used" in errors and "alpha is 0" in errors
    assert not TrainingRun.objects.exists()


# --- list ----------------------------------------------------------------------------------------------
def test_list_newest_first_filters_and_paginates(launcher_client, profile, dataset):
    other = make_profile("other")
    make_dataset("ETHUSDT", rows=3)
    runs = [TrainingRun.objects.create(symbol="BTCUSDT", profile=profile, snapshot={}) for _ in range(27)]
    eth = TrainingRun.objects.create(symbol="ETHUSDT", profile=other, status=Status.FAILED, snapshot={})
    page = launcher_client.get(reverse("training:run_list")).context["page"]
    assert [r.pk for r in page] == [eth.pk] + [r.pk for r in reversed(runs)][:24]
    assert page.paginator.count == 28
    page2 = launcher_client.get(reverse("training:run_list") + "?page=2").context["page"]
    assert [r.pk for r in page2] == [r.pk for r in reversed(runs)][24:]
    ctx = launcher_client.get(reverse("training:run_list") + "?symbol=ETHUSDT").context
    assert [r.pk for r in ctx["page"]] == [eth.pk]
    assert [r.pk for r in launcher_client.get(reverse("training:run_list") + "?status=failed").context["page"]] == [
        eth.pk
    ]
    assert [
        r.pk for r in launcher_client.get(reverse("training:run_list") + f"?profile={other.pk}").context["page"]
    ] == [eth.pk]


def test_list_query_count_is_constant(launcher_client, profile, dataset, django_assert_max_num_queries):
    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert launcher_client.get(reverse("training:run_list")).status_code == 200
        return len(ctx.captured_queries)

    TrainingRun.objects.create(symbol="BTCUSDT", profile=profile, snapshot={})
    few = count_queries()
    for i in range(40):
        TrainingRun.objects.create(symbol="BTCUSDT", profile=make_profile(f"p{i}"), snapshot={})
    assert count_queries() == few <= 12


# --- detail, api, downloads ---------------------------------------------------------------------------
def test_detail_shows_settings_report_metrics_plots_log_downloads(
    launcher_client, finished_smoke, profile, smoke_result
):
    profile.l2_alpha = 0.3
    profile.save()
    response = launcher_client.get(reverse("training:run_detail", args=[finished_smoke.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    sections = {row["section"]: row for row in response.context["settings_rows"]}
    l2 = next(p for p in sections["base"]["params"] if p["name"] == "l2_alpha")
    assert l2 == {"name": "l2_alpha", "used": 0.001, "current": 0.3, "changed": True}
    assert (
        sections["lightgbm"]["changed"]
        and not next(p for p in sections["lightgbm"]["params"] if p["name"] == "reg_alpha")["changed"]
    )
    assert "profile changed since" in page
    gap = smoke_result["ensembles"]["bull_trend"]["models"]["lightgbm"]["train_val_gap"]
    for text in (
        "Settings used",
        "Validation report",
        "Metrics per regime",
        "Plots",
        "Log",
        "Downloads",
        "keras.regularizers.L1L2",
        "lightgbm",
        "baseline: majority",
        "ensemble",
        "num_leaves=",
        "bull_trend",
        "volatile",
        f"<td>{gap['accuracy']:.3f}</td><td>{gap['log_loss']:.3f}</td>",
        "reg_alpha=0.01 reg_lambda=0.001",
        "run.json",
        "artifacts.zip",
        "Last step:</span>",
        "learning_curves_bull_trend.png",
        "<dt>Baseline majority</dt><dd>the most frequent class of the training rows",
    ):
        assert text in page, text
    assert 'id="result-problem"' not in page  # the engine's real result reads as the typed one


def test_detail_of_active_run_polls_its_progress(launcher_client, profile, dataset):
    run = TrainingRun.objects.create(symbol="BTCUSDT", profile=profile, snapshot={"config": profile.resolved_config()})
    page = launcher_client.get(reverse("training:run_detail", args=[run.pk])).content.decode()
    assert f'data-progress-url="{reverse("training:run_progress", args=[run.pk])}"' in page
    assert 'data-terminal="0"' in page and "training/js/run_detail.js" in page and "cancel-button" in page
    assert "Now:</span>" in page and "Last step:" not in page  # the engine names a step when it starts
    body = launcher_client.get(reverse("training:run_progress", args=[run.pk])).json()
    assert body == {
        "id": run.pk,
        "status": "queued",
        "terminal": False,
        "fraction": 0.0,
        "stage": "",
        "started_at": None,
        "elapsed_seconds": None,
        "error": None,
        "log_tail": "",
    }


def test_api_returns_the_documented_keys(launcher_client, finished_smoke, viewer_client, smoke_result):
    body = launcher_client.get(reverse("api:run-detail", args=[finished_smoke.pk])).json()
    assert {"status", "progress", "snapshot", "report", "metrics", "error"} <= set(body)
    assert body["status"] == "succeeded" and body["progress"]["fraction"] == 1.0 and body["error"] is None
    assert body["snapshot"] == finished_smoke.snapshot
    lgbm = next(m for m in body["metrics"] if (m["regime"], m["model"]) == ("bull_trend", "lightgbm"))
    stored = smoke_result["ensembles"]["bull_trend"]["models"]["lightgbm"]
    assert lgbm["best_params"] == stored["best_params"] and lgbm["best_params"]["num_leaves"]
    assert lgbm["train_val_gap"] == pytest.approx(stored["train_val_gap"]["accuracy"])


def test_api_of_unknown_run_is_404(launcher_client):
    assert launcher_client.get(reverse("api:run-detail", args=[999])).status_code == 404


def test_plot_file_is_served_and_traversal_refused(launcher_client, finished_smoke):
    response = launcher_client.get(
        reverse("training:run_file", args=[finished_smoke.pk, "learning_curves_bull_trend.png"])
    )
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert (
        launcher_client.get(reverse("training:run_file", args=[finished_smoke.pk, "../../etc/passwd"])).status_code
        == 404
    )


def test_artifacts_zip_and_json_export(launcher_client, finished_smoke, smoke_result):
    response = launcher_client.get(reverse("training:run_artifacts_zip", args=[finished_smoke.pk]))
    assert response["Content-Type"] == "application/zip"
    assert sorted(zipfile.ZipFile(BytesIO(response.content)).namelist()) == sorted(smoke_result["artifacts"]["files"])
    response = launcher_client.get(reverse("training:run_export", args=[finished_smoke.pk]))
    assert "attachment" in response["Content-Disposition"]
    body = json.loads(response.content)
    assert body["result"] == smoke_result
    assert body["log"].startswith("12:00:00")


# --- cancel, rerun, compare -----------------------------------------------------------------------
def test_cancel_queued_run_from_the_page(launcher_client, profile, dataset):
    run = TrainingRun.objects.create(symbol="BTCUSDT", profile=profile, snapshot={})
    response = launcher_client.post(reverse("training:run_cancel", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == Status.CANCELLED


def test_cancel_finished_run_shows_the_refusal(launcher_client, finished_smoke):
    response = launcher_client.post(reverse("training:run_cancel", args=[finished_smoke.pk]), follow=True)
    assert "only queued or running runs can be cancelled" in response.content.decode()


def test_rerun_launches_a_new_run(launcher_client, finished_smoke, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = launcher_client.post(reverse("training:run_rerun", args=[finished_smoke.pk]))
    new = TrainingRun.objects.exclude(pk=finished_smoke.pk).get()
    assert response["Location"] == reverse("training:run_detail", args=[new.pk])
    assert new.rerun_of == finished_smoke and new.status == Status.QUEUED


def test_compare_needs_two_runs(launcher_client, finished_smoke):
    response = launcher_client.get(reverse("training:run_compare") + f"?ids={finished_smoke.pk}", follow=True)
    assert MSG_COMPARE_NEEDS_TWO in response.content.decode()


# --- admin action ----------------------------------------------------------------------------------
def test_admin_profile_action_opens_the_launch_form_for_that_profile(client, profile, dataset):
    from django.contrib.auth.models import User

    admin = User.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    url = reverse("admin:training_regularizationprofile_changelist")
    assert "Train a symbol with this profile" in client.get(url).content.decode()
    response = client.post(url, {"action": "train_symbol_with_profile", "_selected_action": [profile.pk]})
    form_url = f"{reverse('training:run_new')}?profile={profile.pk}&trigger=admin"
    assert response.status_code == 302 and response["Location"] == form_url
    form = client.get(form_url).content.decode()
    assert 'name="trigger" value="admin"' in form
    client.post(form_url, launch_data(profile, trigger="admin"))
    run = TrainingRun.objects.get()
    assert (run.trigger, run.profile) == ("admin", profile)


@pytest.mark.parametrize("name", ["status", "symbol", "tag", "trigger", "preset", "verdict", "sort"])
def test_a_nul_in_a_run_list_filter_is_dropped_not_a_server_error(viewer_client, name):
    """PostgreSQL refuses NUL in a query's text (the URL fuzz found ``/runs/?status=%00`` answering 500 there)."""
    response = viewer_client.get(reverse("training:run_list") + f"?{name}=%00")
    assert response.status_code == 200
