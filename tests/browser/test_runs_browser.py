"""Real chromium (Debian's, via Playwright) against the live server, with a real Celery worker sharing the DB.
Fails, never skips, when chromium is missing."""

import pytest
from django.contrib.auth.models import User

from tests.browser.browser_helpers import chromium_page, shot
from tests.training.runs_helpers import make_dataset, make_profile
from training.models import RegularizationProfile, TrainingRun

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RUN_TIMEOUT_MS = 600_000


@pytest.fixture
def page():
    with chromium_page("desktop") as page:
        yield page


def wait_for_report(page) -> None:
    page.wait_for_selector("#run-status.status-succeeded, #run-status.status-failed", timeout=RUN_TIMEOUT_MS)
    assert page.inner_text("#run-status") == "succeeded", page.inner_text("body")[:3000]
    page.wait_for_selector("#metrics table.metrics")


def test_login_edit_profile_launch_watch_and_compare(live_server, celery_worker_process, page):
    User.objects.create_superuser("admin", "admin@example.com", "browser-pw-123")
    profile = make_profile("baseline", is_default=True)
    make_dataset()
    url = live_server.url

    page.goto(f"{url}/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "browser-pw-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/runs/")
    shot(page, "run_list_empty")

    page.goto(f"{url}/admin/training/regularizationprofile/{profile.pk}/change/")
    page.fill("input[name=l2_alpha]", "0.004")
    shot(page, "admin_profile_edit")
    page.click("input[name=_save]")
    page.wait_for_url(f"{url}/admin/training/regularizationprofile/")
    profile.refresh_from_db()
    assert profile.l2_alpha == 0.004

    page.goto(f"{url}/runs/new/")
    assert page.input_value("select[name=profile]") == str(profile.pk)
    page.select_option("select[name=preset]", "tiny")
    shot(page, "launch_form")
    page.click("#launch-form button[type=submit]")
    page.wait_for_url(f"{url}/runs/*/")
    first = TrainingRun.objects.get()
    assert first.snapshot["config"]["l2_alpha"] == 0.004
    page.wait_for_selector("#live progress")
    shot(page, "run_detail_live")
    wait_for_report(page)
    assert "Settings used" in page.inner_text("#settings")
    assert page.locator("#report table tbody tr").count() >= 3
    page.wait_for_function("() => window.aresCharts && window.aresCharts.length >= 2")  # regimes + curves
    assert page.locator("#plots table.confusion").count() >= 1
    assert page.locator("#verdicts li").count() >= 1
    assert "baseline: definitions" not in page.inner_text("#metrics")
    shot(page, "run_detail_report")

    RegularizationProfile.objects.filter(pk=profile.pk).update(l1_alpha=0.02)
    page.click("#rerun-button")
    page.wait_for_url(lambda u: u.rstrip("/").endswith(str(first.pk + 1)))
    wait_for_report(page)
    assert "profile changed since" not in page.inner_text("#settings")

    page.goto(f"{url}/runs/")
    for checkbox in page.locator("input[name=ids]").all():
        checkbox.check()
    shot(page, "run_list")
    page.click("#compare-button")
    page.wait_for_url(f"{url}/runs/compare/*")
    body = page.inner_text("body")
    assert "config.l1_alpha" in body and "0.02" in body
    # tiny runs train logistic regression only (no epochs, no curves); the overlay is tested in test_run_compare
    assert page.locator("#compare-metrics tbody tr").count() >= 1
    shot(page, "compare")
