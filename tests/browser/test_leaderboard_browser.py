"""The run list as a leaderboard in chromium at 1280 and 390 px: the metric columns show, a click on the Sharpe
header sorts the runs server-side (highest first, then lowest), the filters stay in the URL, and the page does not
scroll sideways (the table scrolls inside its card). Screenshots under test-artifacts/screenshots."""

import re

import pytest
from django.contrib.auth.models import User

from tests.browser.browser_helpers import chromium_page, log_in, problems, shot
from tests.training.runs_helpers import make_dataset, make_profile
from tests.training.views.real_runs import make_real_run
from training.models import TrainingRun
from training.templatetags.ares_ui import num

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "browser-pw-123"


@pytest.fixture
def runs():
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    dataset = make_dataset(rows=3000)
    made = [make_real_run(make_profile("baseline", is_default=True), dataset)]
    made.append(make_real_run(make_profile("strong-l1", l1_alpha=0.5), dataset))
    return [TrainingRun.objects.get(pk=r.pk) for r in made]


def rows(page) -> list[int]:
    return [int(v) for v in page.eval_on_selector_all("#run-table tbody tr", "rs => rs.map(r => r.dataset.run)")]


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_the_leaderboard_sorts_by_sharpe_from_its_header(live_server, runs, width):
    url = live_server.url
    best_first = [r.pk for r in sorted(runs, key=lambda r: (r.sharpe_after_costs, r.pk), reverse=True)]
    with chromium_page(width) as page:
        log_in(page, url, "admin", PASSWORD)
        page.goto(f"{url}/runs/?preset=&status=succeeded")
        page.click("#sort-sharpe")
        page.wait_for_url(re.compile(r"sort=sharpe(&|$)"))
        assert "status=succeeded" in page.url
        assert rows(page) == best_first
        assert page.get_attribute("#run-table th:has(#sort-sharpe)", "aria-sort") == "descending"
        first = page.locator(f'#run-table tr[data-run="{best_first[0]}"] td.run-sharpe').inner_text()
        assert first == num(TrainingRun.objects.get(pk=best_first[0]).sharpe_after_costs, 2)
        assert page.locator("#run-table .run-regimes .verdict-chip").count() >= 2
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "scrolls sideways"
        assert problems(page) == []
        shot(page, f"{width}-leaderboard_sharpe")
        page.click("#sort-sharpe")
        page.wait_for_url(re.compile(r"sort=sharpe_low"))
        assert rows(page) == best_first[::-1]
