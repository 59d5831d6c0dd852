"""Shared pieces of the browser tests: Debian's chromium through Playwright, screenshots, CSP watching."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from django.db import connections

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
# Records every Content-Security-Policy violation and script error the page reports.
WATCH_SCRIPT = """
window.__problems = [];
document.addEventListener('securitypolicyviolation',
  e => window.__problems.push('CSP ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));
window.addEventListener('error', e => window.__problems.push('error ' + e.message));
"""


@contextmanager
def chromium_page(width: str = "desktop"):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/ensure_chromium.sh"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    w, h = WIDTHS[width]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": w, "height": h})
        context.add_init_script(WATCH_SCRIPT)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # While Playwright's loop runs in this thread, Django keeps the test's database connections apart
            # (asgiref's Local holds them per async context): close those here, or one stays open to the end
            # of the session and PostgreSQL refuses to drop the test database ("being accessed by other users").
            connections.close_all()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def problems(page) -> list[str]:
    """CSP violations and script errors on the current page, plus console errors other than failed loads."""
    reported = page.evaluate("window.__problems || []")
    console = [m for m in page.console_errors if "Failed to load resource" not in m]
    return reported + console


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/runs/")
