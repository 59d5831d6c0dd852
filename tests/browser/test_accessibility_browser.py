"""axe-core (vendored, tests/browser/vendor/axe.min.js, 4.14.1) on the main pages: no WCAG 2 A/AA violation.
The context bypasses the page's CSP only to inject axe itself."""

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from tests.browser.browser_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.training.runs_helpers import make_dataset, make_profile
from tests.training.views.real_runs import make_real_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_VERSION = "4.14.1"
RUN_AXE = "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})"


def test_main_pages_have_no_wcag_aa_violation(live_server):
    from playwright.sync_api import sync_playwright

    User.objects.create_superuser("admin", "admin@example.com", "browser-pw-123")
    profile = make_profile("baseline", is_default=True)
    dataset = make_dataset(rows=3000)
    first, second = make_real_run(profile, dataset), make_real_run(profile, dataset)
    url = live_server.url
    pages = ["/runs/", f"/runs/{first.pk}/", f"/runs/compare/?ids={first.pk},{second.pk}", "/runs/new/", "/nope/"]
    pages += ["/sweeps/", "/sweeps/new/", "/models/", "/schedules/", f"/runs/{first.pk}/notes/"]
    report = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{url}/accounts/login/")
        page.add_script_tag(path=str(AXE))
        assert page.evaluate("axe.version") == AXE_VERSION
        login_violations = page.evaluate(RUN_AXE)["violations"]
        report["/accounts/login/"] = login_violations
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "browser-pw-123")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{url}/runs/")
        for path in pages:
            page.goto(url + path)
            page.wait_for_load_state("networkidle")
            page.add_script_tag(path=str(AXE))
            report[path] = page.evaluate(RUN_AXE)["violations"]
        context.close()
        browser.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "axe-report.json").write_text(json.dumps(report, indent=2))
    summary = {
        path: [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
        for path, violations in report.items()
        if violations
    }
    assert summary == {}
