"""Compare of three real runs in chromium: on a phone (390 px) every table is stacked and nothing scrolls
sideways, the reference is picked with a link and the settings toggle is in the URL; at 1280 px the paired
differences sit beside the runs. Screenshots under test-artifacts/screenshots."""

import pytest
from django.contrib.auth.models import User

from tests.browser.browser_helpers import chromium_page, log_in, problems, shot
from tests.training.compare_runs import martingale_results, planted_results  # noqa: F401 (fixtures)
from tests.training.runs_helpers import make_finished_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.slow]
PASSWORD = "browser-pw-123"


@pytest.fixture
def three_runs(profile, dataset, planted_results, martingale_results):  # noqa: F811
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    return [make_finished_run(profile, dataset, result=r) for r in [*planted_results, martingale_results[0]]]


def fits_the_width(page) -> bool:
    """Neither the page nor any card (cards scroll their own overflow) is wider than it shows."""
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1 && "
        "Array.from(document.querySelectorAll('main .card')).every(e => e.scrollWidth <= e.clientWidth + 1)"
    )


def test_compare_of_three_runs_stacks_on_a_phone(live_server, three_runs):
    url = live_server.url
    ids = "&".join(f"ids={run.pk}" for run in three_runs)
    weak, strong, other = three_runs
    with chromium_page("phone") as page:
        log_in(page, url, "admin", PASSWORD)
        page.goto(f"{url}/runs/compare/?{ids}")
        assert page.locator("#compare-paired-table tbody tr").count() == 3
        assert fits_the_width(page), "compare scrolls sideways at 390 px"
        # stacked: the three runs' cells of a score row lie one under the other, not side by side
        boxes = [
            page.locator(f"#compare-metrics tbody tr >> nth=0 >> td[data-label='#{run.pk}']").bounding_box()
            for run in three_runs
        ]
        assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"] and abs(boxes[0]["x"] - boxes[2]["x"]) < 2
        assert boxes[0]["x"] + boxes[0]["width"] <= 390
        strong_row = page.locator(f"#compare-paired-table tr[data-run='{strong.pk}']").inner_text()
        assert "better" in strong_row  # the planted run
        label = page.evaluate(
            "getComputedStyle(document.querySelector(\"#compare-paired-table td[data-label='Shared bars']\"),"
            " '::before').content"
        )
        assert label == '"Shared bars: "'  # each stacked cell names its column
        other_row = page.locator(f"#compare-paired-table tr[data-run='{other.pk}']").inner_text()
        assert "differently (other prices or another label rule): not comparable" in other_row  # other prices
        assert problems(page) == []
        shot(page, "phone-compare_three_runs")

        page.click(f"#compare-runs li[data-run='{strong.pk}'] a.use-reference")
        page.wait_for_url(f"**ref={strong.pk}**")
        assert "worse" in page.locator(f"#compare-paired-table tr[data-run='{weak.pk}']").inner_text()
        assert fits_the_width(page)
        page.click("#compare-settings a[href$='settings=all']")
        page.wait_for_url("**settings=all")
        assert f"ref={strong.pk}" in page.url and "config.l2_alpha" in page.inner_text("#compare-settings")
        assert fits_the_width(page), "all settings scroll sideways at 390 px"
        assert problems(page) == []
        shot(page, "phone-compare_all_settings")

    with chromium_page("desktop") as page:
        log_in(page, url, "admin", PASSWORD)
        page.goto(f"{url}/runs/compare/?{ids}")
        heads = page.locator("#compare-metrics thead th")
        assert heads.count() == 5 and heads.nth(2).is_visible()
        assert fits_the_width(page) and problems(page) == []
        shot(page, "desktop-compare_three_runs")


def test_train_and_validation_curves_sit_side_by_side_on_their_own_steps(live_server, profile, dataset, smoke_result):
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    runs = [make_finished_run(profile, dataset, result=smoke_result) for _ in range(2)]
    url = live_server.url
    with chromium_page("desktop") as page:
        log_in(page, url, "admin", PASSWORD)
        page.goto(f"{url}/runs/compare/?ids={runs[0].pk}&ids={runs[1].pk}")
        page.wait_for_function("() => window.aresCharts && window.aresCharts.length >= 4")
        captions = page.locator("#compare-curve-grid figcaption").all_inner_texts()
        assert any("lightgbm: train loss per boosting round" in c for c in captions)
        assert any("lstm: validation loss per epoch" in c for c in captions)
        assert not any("lightgbm" in c and "epoch" in c for c in captions)
        pair = page.locator("#compare-curve-grid .curve-pair").first.locator("figure")
        left, right = pair.nth(0).bounding_box(), pair.nth(1).bounding_box()
        assert pair.count() == 2 and abs(left["y"] - right["y"]) < 2 and left["x"] + left["width"] <= right["x"]
        assert problems(page) == []
        shot(page, "desktop-compare_curves")
    with chromium_page("phone") as page:
        log_in(page, url, "admin", PASSWORD)
        page.goto(f"{url}/runs/compare/?ids={runs[0].pk}&ids={runs[1].pk}")
        page.wait_for_function("() => window.aresCharts && window.aresCharts.length >= 4")
        assert fits_the_width(page) and problems(page) == []
        shot(page, "phone-compare_curves")
