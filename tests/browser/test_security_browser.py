"""The Content-Security-Policy in a real browser: the app's and the admin's pages run with no violation."""

import pytest
from django.contrib.auth.models import User

from tests.browser.browser_helpers import chromium_page, log_in, problems, shot
from tests.training.runs_helpers import make_dataset, make_finished_run, make_profile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_app_and_admin_pages_work_under_the_policy(live_server, tiny_result):
    User.objects.create_superuser("admin", "admin@example.com", "browser-pw-123")
    profile = make_profile("baseline", is_default=True)
    run = make_finished_run(profile, make_dataset(), result=tiny_result)
    url = live_server.url
    with chromium_page() as page:
        log_in(page, url, "admin", "browser-pw-123")
        for path in [
            "/runs/",
            f"/runs/{run.pk}/",
            "/runs/new/",
            "/admin/",
            f"/admin/training/regularizationprofile/{profile.pk}/change/",
            f"/admin/training/trainingrun/{run.pk}/change/",
            "/admin/auth/user/add/",
            "/api/docs/",
            "/sweeps/",
            "/models/",
        ]:
            page.goto(url + path)
            page.wait_for_load_state("networkidle")
            assert problems(page) == [], (path, problems(page))
        page.goto(f"{url}/admin/training/regularizationprofile/")
        page.click("#action-toggle")  # the admin's own script (actions.js) runs under the policy
        assert page.locator("input.action-select:checked").count() == 1
        shot(page, "admin_profiles_csp")
        assert problems(page) == []
