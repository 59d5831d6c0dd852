"""Every page in Debian's chromium at 1280 and 390 px, with screenshots under test-artifacts/screenshots:
the run page (summary, verdicts, charts), the README's compare URL, the list, the launch form, the profile
editor's live report turning to an error before saving, the admin's run page and a styled 404."""

import pytest
from django.contrib.auth.models import User

from tests.browser.browser_helpers import chromium_page, log_in, problems, shot
from tests.training.runs_helpers import make_dataset, make_profile
from tests.training.views.real_runs import make_real_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "browser-pw-123"


@pytest.fixture
def site():
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    profile = make_profile("baseline", is_default=True)
    dataset = make_dataset(rows=3000)
    first = make_real_run(profile, dataset)
    second = make_real_run(make_profile("strong-l1", l1_alpha=0.5), dataset)
    return {"profile": profile, "runs": (first, second)}


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_every_page_renders_readably(live_server, site, width):
    url = live_server.url
    first, second = site["runs"]
    with chromium_page(width) as page:
        log_in(page, url, "admin", PASSWORD)
        page.wait_for_selector("table.runs tbody tr")
        assert page.locator("nav[aria-label=Main] a[aria-current=page]").inner_text() == "Runs"
        shot(page, f"{width}-run_list")

        page.goto(f"{url}/runs/{first.pk}/")
        page.wait_for_function("() => window.aresCharts && window.aresCharts.length >= 1")
        verdicts = page.inner_text("#verdicts")
        assert "bull_trend" in verdicts and ("better" in verdicts or "worse" in verdicts or "equal" in verdicts)
        assert page.locator("#metrics table.metrics tr.best").count() >= 1
        assert page.locator("#plots table.confusion").count() >= 1
        assert fits_the_width(page), "the run page scrolls sideways"
        assert problems(page) == []
        shot(page, f"{width}-run_detail")
        page.locator("#chart-regimes .enlarge").click()
        assert "enlarged" in page.get_attribute("#chart-regimes", "class")

        page.goto(f"{url}/runs/compare/?ids={first.pk},{second.pk}")  # the README's form
        assert page.locator("#compare-metrics tbody tr").count() >= 3
        assert "l1_alpha" in page.inner_text("#compare-settings")
        assert fits_the_width(page)
        shot(page, f"{width}-compare")

        page.goto(f"{url}/runs/new/")
        assert page.input_value("select[name=profile]") == str(site["profile"].pk)
        shot(page, f"{width}-launch_form")

        page.goto(f"{url}/admin/training/trainingrun/{first.pk}/change/")
        assert page.locator("input[name=_save]").count() == 0
        shot(page, f"{width}-admin_run")

        response = page.goto(f"{url}/no/such/page/")
        assert response.status == 404 and page.locator("#not-found").is_visible()
        assert page.locator("nav[aria-label=Main] a", has_text="Runs").count() == 1
        shot(page, f"{width}-not_found")
        assert problems(page) == []


def test_the_profile_editor_report_turns_to_error_before_saving(live_server, site):
    url = live_server.url
    profile = site["profile"]
    with chromium_page() as page:
        log_in(page, url, "admin", PASSWORD)
        page.goto(f"{url}/admin/training/regularizationprofile/{profile.pk}/change/")
        assert page.get_attribute("input[name=lightgbm_reg_alpha]", "placeholder") == "0.01 ← L1 alpha"
        page.fill("input[name=l1_alpha]", "0.05")
        page.wait_for_function(
            "() => document.querySelector('input[name=lightgbm_reg_alpha]').placeholder.startsWith('0.05')"
        )
        page.fill("input[name=l1_alpha]", "-1")
        page.wait_for_function("() => document.getElementById('report-status').textContent === 'error'")
        assert "l1_alpha" in page.inner_text("#report-errors")
        shot(page, "desktop-profile_live_error")
        profile.refresh_from_db()
        assert profile.l1_alpha == 0.01  # nothing saved
        page.fill("input[name=l1_alpha]", "0.02")
        page.wait_for_function("() => document.getElementById('report-status').textContent !== 'error'")
        assert problems(page) == []
