"""Issue 25's layout pieces in chromium: the phone's one-row top bar with its Menu, the footer's health dot, the
schedule form's live crontab preview with readable errors, and the notes page; screenshots kept as artifacts."""

import pytest
from django.contrib.auth.models import User

from tests.browser.browser_helpers import chromium_page, log_in, problems, shot
from tests.training.runs_helpers import make_dataset, make_profile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "browser-pw-123"


@pytest.fixture
def admin_user():
    return User.objects.create_superuser("admin", "admin@example.com", PASSWORD)


def test_the_phone_nav_is_one_row_until_menu_opens_it(live_server, admin_user):
    url = live_server.url
    with chromium_page("phone") as page:
        log_in(page, url, "admin", PASSWORD)
        bar = page.locator("header.topbar").bounding_box()
        assert bar["height"] < 64, bar  # one row: the brand and the Menu button
        runs_link = page.locator("nav[aria-label=Main] a", has_text="Schedules")
        assert not runs_link.is_visible() and page.get_attribute("#nav-toggle", "aria-expanded") == "false"
        shot(page, "phone-nav_closed")
        page.click("#nav-toggle")
        assert runs_link.is_visible() and page.get_attribute("#nav-toggle", "aria-expanded") == "true"
        shot(page, "phone-nav_open")
        runs_link.click()
        page.wait_for_url(f"{url}/schedules/")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.keyboard.press("Escape")
        assert problems(page) == []
    with chromium_page("desktop") as page:
        log_in(page, url, "admin", PASSWORD)
        assert page.locator("nav[aria-label=Main] a", has_text="Schedules").is_visible()
        assert not page.locator("#nav-toggle").is_visible()


def test_the_footer_dot_and_the_schedule_preview_answer_live(live_server, admin_user):
    make_profile("baseline", is_default=True)
    make_dataset()
    url = live_server.url
    with chromium_page() as page:
        log_in(page, url, "admin", PASSWORD)
        page.goto(f"{url}/schedules/")
        # no worker in this test: /healthz answers 503 naming what is down, and the footer says so
        page.wait_for_function("() => document.getElementById('health-text').textContent !== 'health'")
        assert "health-fail" in page.get_attribute("#health-dot", "class")
        assert "celery workers" in page.inner_text("#health-text")
        page.wait_for_function("() => document.querySelectorAll('#crontab-next li').length === 5")
        page.select_option("select[name=market]", "BINANCE:BTCUSDT:1h")
        page.fill("input[name=crontab]", "0 25 * * *")
        page.wait_for_function("() => document.getElementById('crontab-preview').dataset.state === 'error'")
        assert "The hour field '25' is not valid: use 0–23" in page.inner_text("#crontab-errors")
        assert page.locator("#crontab-next li").count() == 0
        page.fill("input[name=crontab]", "30 9 * * 1-5")
        page.wait_for_function("() => document.getElementById('crontab-preview').dataset.state === 'ok'")
        assert "Monday through Friday" in page.inner_text("#crontab-description")
        assert page.locator("#crontab-next li").count() == 5
        shot(page, "desktop-schedule_preview")
        page.click("#schedule-form button[type=submit]")
        page.wait_for_selector("#schedules tbody tr td a[aria-label^='edit schedule']")
        assert "next five" in page.inner_text("#schedules")
        assert problems(page) == []
        shot(page, "desktop-schedule_list")
