"""Every page in Debian's chromium at 1280 and 390 px, with screenshots under test-artifacts/screenshots:
the run page (summary, verdicts, charts), the README's compare URL, the list, the launch form with its profile
panel, the sweeps (list, form, a finished sweep), models, schedules, profiles, datasets, API docs, the login,
the profile editor's live report turning to an error before saving, the admin's run page and a styled 404."""

import pytest
from django.contrib.auth.models import User

from tests.browser.browser_helpers import chromium_page, log_in, problems, shot
from tests.training.runs_helpers import execute_inline, make_dataset, make_profile
from tests.training.views.real_runs import make_real_run
from training.selectors.sweeps import sweep_points
from training.services.registry import model_promote
from training.services.schedules import schedule_create
from training.services.sweeps import sweep_create, sweep_reconcile

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
        panel = page.locator(f"#profile-panels [data-profile='{site['profile'].pk}']")
        assert panel.is_visible() and "reg_alpha" in panel.inner_text()
        strong = page.locator(f"#profile-panels [data-profile='{second.profile_id}']")
        assert not strong.is_visible()
        page.select_option("select[name=profile]", str(second.profile_id))
        assert strong.is_visible() and not panel.is_visible() and "0.5" in strong.inner_text()
        assert fits_the_width(page)
        assert problems(page) == []
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
        page.route("**/preview.json", lambda route: route.fulfill(status=503, body="down"))  # the preview fails
        page.fill("input[name=l1_alpha]", "0.03")
        page.wait_for_function(
            "() => document.getElementById('report-status').textContent.startsWith('not updated (503)')"
        )


@pytest.fixture
def more_site(site, test_broker):
    """A finished two-point sweep (its `tiny` runs trained inline; published to a Redis no worker reads), an
    active model and a schedule, beside ``site``."""
    first, _ = site["runs"]
    sweep = sweep_create(
        profile=site["profile"], symbol="BTCUSDT", preset="tiny", axes=["l1_alpha=0.001,0.1"], name="l1 scan"
    )
    for point in sweep_points(sweep=sweep):
        assert execute_inline(point.run_id).status == "succeeded"
    sweep = sweep_reconcile(sweep=sweep)
    model_promote(run=first, force=True, reason="page test: any verdict will do")
    schedule_create(symbol="BTCUSDT", crontab="0 3 * * *", preset="tiny", profile=site["profile"])
    return {**site, "sweep": sweep}


SWEEP_BANDS = """() => {
  const out = {loss: 0, gap: 0, bands: 0, band_inside: true};
  for (const item of window.aresSweepCharts) {
    if (item.metric === "loss") { out.loss++; } else if (item.metric === "gap") { out.gap++; } else { continue; }
    const sets = item.chart.data.datasets;
    sets.forEach((set, i) => {
      if (set.fill !== "-1" || !set.data.length) { return; }
      out.bands++;
      const low = sets[i - 1].data, mean = sets[i + 1].data;
      set.data.forEach((p, k) => { if (!(low[k].y <= mean[k].y && mean[k].y <= p.y)) { out.band_inside = false; } });
    });
    if (item.chart.canvas.width === 0) { out.band_inside = false; }
  }
  return out;
}"""


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_the_other_pages_render_readably(live_server, more_site, width):
    url, sweep = live_server.url, more_site["sweep"]
    first, _ = more_site["runs"]
    with chromium_page(width) as page:
        page.goto(f"{url}/accounts/login/")
        assert fits_the_width(page)
        shot(page, f"{width}-login")
        log_in(page, url, "admin", PASSWORD)
        own_pages = {
            "sweep_list": ("/sweeps/", "l1 scan"),
            "sweep_form": ("/sweeps/new/", "Axes"),
            "sweep_detail": (f"/sweeps/{sweep.pk}/", "succeeded"),
            "model_list": ("/models/", f"#{first.pk}"),
            "schedule_list": ("/schedules/", "0 3 * * *"),
        }
        for name, (path, expected) in own_pages.items():
            response = page.goto(url + path)
            assert response.status == 200, path
            assert expected in page.inner_text("main"), (path, page.inner_text("main")[:2000])
            assert fits_the_width(page), f"{path} scrolls sideways"
            assert problems(page) == [], path
            if name == "sweep_detail":  # per regime a loss chart with its interval band and a gap chart, drawn
                page.wait_for_function("window.aresSweepCharts && window.aresSweepCharts.length >= 2")
                drawn = page.evaluate(SWEEP_BANDS)
                assert drawn["loss"] >= 1 and drawn["gap"] >= 1 and drawn["bands"] >= 1, drawn
                assert drawn["band_inside"], drawn
            shot(page, f"{width}-{name}")
        admin_pages = {
            "profile_list": "/admin/training/regularizationprofile/",
            "profile_edit": f"/admin/training/regularizationprofile/{more_site['profile'].pk}/change/",
            "dataset_list": "/admin/training/marketdataset/",
            "api_docs": "/api/docs/",
        }
        for name, path in admin_pages.items():
            response = page.goto(url + path)
            page.wait_for_load_state("networkidle")
            assert response.status == 200, path
            shot(page, f"{width}-{name}")
        assert page.locator(".swagger-ui").count() == 1
