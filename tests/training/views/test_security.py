"""Read permissions on every run endpoint, login throttling (django-axes) and the Content-Security-Policy."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.training.runs_helpers import make_finished_run
from tests.training.views.conftest import CHANGE, LAUNCH, READ, make_user_with
from training.models import TrainingRun

pytestmark = pytest.mark.django_db
# An executable inline script (data blocks such as json_script's type="application/json" are not scripts).
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>\s*\S", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


@pytest.fixture
def launchers_finished_tiny(profile, dataset, launcher, tiny_result):
    return make_finished_run(profile, dataset, user=launcher, result=tiny_result)


def read_urls(run) -> list[str]:
    return [
        reverse("training:run_list"),
        reverse("training:run_detail", args=[run.pk]),
        reverse("api:run-detail", args=[run.pk]),
        reverse("training:run_export", args=[run.pk]),
        reverse("training:run_file", args=[run.pk, run.result["plots"][0]]),
        reverse("training:run_artifacts_zip", args=[run.pk]),
        f"{reverse('training:run_compare')}?ids={run.pk},{run.pk}",
    ]


def test_reading_runs_needs_the_view_permission(stranger_client, launchers_finished_tiny):
    for url in read_urls(launchers_finished_tiny):
        assert stranger_client.get(url).status_code == 403, url


def test_the_view_permission_reads_every_run_endpoint(viewer_client, launchers_finished_tiny):
    for url in read_urls(launchers_finished_tiny)[:-1]:
        assert viewer_client.get(url).status_code == 200, url


def test_launching_needs_add_and_cancelling_needs_change(client, launchers_finished_tiny):
    reader_launcher = make_user_with("reader-launcher", READ, LAUNCH)
    reader_changer = make_user_with("reader-changer", READ, CHANGE)
    TrainingRun.objects.filter(pk=launchers_finished_tiny.pk).update(status=TrainingRun.Status.RUNNING)
    client.force_login(reader_launcher)
    assert client.get(reverse("training:run_new")).status_code == 200
    assert client.post(reverse("training:run_cancel", args=[launchers_finished_tiny.pk])).status_code == 403
    client.force_login(reader_changer)
    assert client.get(reverse("training:run_new")).status_code == 403
    assert client.post(reverse("training:run_rerun", args=[launchers_finished_tiny.pk])).status_code == 403
    assert client.post(reverse("training:run_cancel", args=[launchers_finished_tiny.pk])).status_code == 302
    launchers_finished_tiny.refresh_from_db()
    assert launchers_finished_tiny.cancel_requested or launchers_finished_tiny.status == TrainingRun.Status.CANCELLED


# --- login throttling -------------------------------------------------------------------------------------
def login(client: Client, password: str):
    return client.post(reverse("login"), {"username": "alice", "password": password})


def test_repeated_failed_logins_lock_the_account_out(db):
    User.objects.create_user("alice", password="right-pw-123")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "wrong").status_code == 200
    locked = login(client, "wrong")
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()
    still_locked = login(client, "right-pw-123")
    assert still_locked.status_code == 429 and "_auth_user_id" not in client.session


def test_a_successful_login_resets_the_failure_count(db):
    User.objects.create_user("alice", password="right-pw-123")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "wrong")
    assert login(client, "right-pw-123").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "wrong").status_code == 200
    assert login(client, "right-pw-123").status_code == 302


# --- Content-Security-Policy ------------------------------------------------------------------------------
def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_pages_send_a_policy_without_inline_scripts(launcher_client, launchers_finished_tiny):
    response = launcher_client.get(reverse("training:run_detail", args=[launchers_finished_tiny.pk]))
    directives = csp_directives(response)
    assert directives["script-src"] == ["'self'"] and "'unsafe-inline'" not in directives.get("style-src", [])
    assert directives["object-src"] == ["'none'"]


def test_app_and_admin_pages_have_no_inline_script_or_event_handler(client, launchers_finished_tiny, profile):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "root-pw-123"))
    urls = [
        *read_urls(launchers_finished_tiny)[:2],
        reverse("training:run_new"),
        reverse("admin:index"),
        reverse("admin:training_regularizationprofile_changelist"),
        reverse("admin:training_regularizationprofile_change", args=[profile.pk]),
        reverse("admin:training_trainingrun_change", args=[launchers_finished_tiny.pk]),
        reverse("admin:training_trainingrun_changelist"),
        reverse("api:docs"),
        reverse("api:redoc"),
        reverse("training:sweep_list"),
        reverse("training:model_list"),
    ]
    for url in urls:
        html = client.get(url).content.decode()
        assert not INLINE_SCRIPT.search(html), (url, INLINE_SCRIPT.search(html)[0])
        assert not INLINE_HANDLER.search(html), (url, INLINE_HANDLER.search(html)[0])
    client.logout()
    login_page = client.get(reverse("login")).content.decode()
    assert not INLINE_SCRIPT.search(login_page) and not INLINE_HANDLER.search(login_page)
