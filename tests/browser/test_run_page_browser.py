"""The run page of a real finished run in chromium: the three answers (baselines, regularization, problems) above
the fold at 1280 px, no sideways scrolling at 390 px, the sections collapsible from the contents list; the page's
height at each width is written to test-artifacts/run_page_height.json (the closing note's figure), screenshots
kept as artifacts."""

import json
import os

import pytest
from django.contrib.auth.models import User

from tests.browser.browser_helpers import ARTIFACTS, SCREENSHOTS, WIDTHS, chromium_page, log_in, problems, shot
from tests.training.runs_helpers import make_dataset, make_finished_run, make_profile
from tests.training.views.real_runs import make_real_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "browser-pw-123"
ANSWERS = ("#answer-baselines", "#answer-regularization", "#answer-problems")
HEIGHTS = ARTIFACTS / "run_page_height.json"


@pytest.fixture
def finished_run():
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    return make_real_run(make_profile("baseline", is_default=True), make_dataset(rows=3000))


def record_height(page, width: str, run: str = "tiny") -> int:
    """The page's full height once its charts are drawn, kept beside the screenshots."""
    height = page.evaluate("document.documentElement.scrollHeight")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    heights = json.loads(HEIGHTS.read_text()) if HEIGHTS.exists() else {}
    heights[f"{run} {WIDTHS[width][0]}px"] = height
    heights[f"{run} {WIDTHS[width][0]}px load"] = "{:.2f}/{:.2f}/{:.2f}".format(*os.getloadavg())
    HEIGHTS.write_text(json.dumps(heights, indent=2))
    return height


def open_run(page, base_url: str, run) -> None:
    log_in(page, base_url, "admin", PASSWORD)
    page.goto(f"{base_url}/runs/{run.pk}/")
    page.wait_for_load_state("networkidle")


def test_the_three_answers_are_above_the_fold_at_1280(live_server, finished_run):
    with chromium_page("desktop") as page:
        open_run(page, live_server.url, finished_run)
        record_height(page, "desktop")
        shot(page, "desktop-run_page")
        page.screenshot(path=str(SCREENSHOTS / "desktop-run_page_fold.png"))  # the first viewport only
        fold = WIDTHS["desktop"][1]
        tops = []
        for selector in ANSWERS:
            box = page.locator(selector).bounding_box()
            assert box is not None and page.locator(selector).is_visible(), selector
            assert box["y"] + box["height"] <= fold, (selector, box)
            tops.append(box["y"])
        assert tops == sorted(tops)  # baselines, then regularization, then what is wrong
        assert "Δ test log loss vs" in page.inner_text("#answer-baselines")
        assert "Predicted" in page.inner_text("#answer-rules")
        # the contents list opens a closed section and goes to it
        page.click("#run-contents a[href='#settings']")
        assert page.locator("#settings details.section").get_attribute("open") is not None
        assert page.locator("#settings table.settings").first.is_visible()
        assert problems(page) == []


def test_the_run_page_fits_a_phone(live_server, finished_run):
    with chromium_page("phone") as page:
        open_run(page, live_server.url, finished_run)
        record_height(page, "phone")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        for selector in ANSWERS:
            assert page.locator(selector).is_visible(), selector
        page.click("#run-contents a[href='#plots']")
        page.wait_for_function("() => window.aresCharts && window.aresCharts.length >= 2")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot(page, "phone-run_page")
        assert problems(page) == []


def test_learning_curves_get_one_axis_per_unit_and_importance_every_label(live_server, smoke_result):
    """The smoke result (boosting rounds beside network epochs): one curves chart per unit, each with its own x
    axis named after it, and every feature named on the importance charts."""
    from training.ml.backends import get_backend
    from training.ml.results import RunResult

    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    run = make_finished_run(make_profile("baseline", is_default=True), make_dataset(rows=3000), result=smoke_result)
    with chromium_page("phone") as page:
        open_run(page, live_server.url, run)
        record_height(page, "phone", "smoke")
    with chromium_page("desktop") as page:
        open_run(page, live_server.url, run)
        record_height(page, "desktop", "smoke")
        result = RunResult.from_dict(smoke_result)
        regime = next(r for r, s in result.ensembles.items() if s.trained)
        units = sorted({get_backend(k).history_unit for k, m in result.ensembles[regime].models.items() if m.history})
        assert len(units) >= 2, units  # the smoke preset has both kinds
        page.wait_for_function("() => window.aresCharts && window.aresCharts.length >= 3")
        drawn = page.evaluate(
            """regime => window.aresCharts.filter(c => c.canvas.closest(`figure[data-regime='${regime}']`))
                 .map(c => ({kind: c.canvas.closest('figure').dataset.chart, x: c.options.scales.x.title.text,
                             labels: c.data.labels.length, ticks: c.config.type === 'bar' ? c.scales.y.ticks.length : null}))""",
            regime,
        )
        assert sorted(c["x"] for c in drawn if c["kind"] == "curves") == units
        bars = [c for c in drawn if c["kind"] == "importance"]
        assert bars and all(c["ticks"] == c["labels"] > 1 for c in bars)
        page.locator(f"figure[data-chart='curves'][data-regime='{regime}']").first.scroll_into_view_if_needed()
        shot(page, "desktop-run_page_smoke")
        assert problems(page) == []
