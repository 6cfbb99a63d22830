"""Browser tests: Playwright drives Debian's Chromium against a live server.

They are skipped when /usr/bin/chromium is missing (a laptop without it), and
fail instead when MERIDIAN_REQUIRE_BROWSER=1 (CI), so CI can never pass by skipping them.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("MERIDIAN_CHROMIUM", "/usr/bin/chromium"))
# Flags for a headless browser on a machine with a closed network (no background requests to Google).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    if os.environ.get("MERIDIAN_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"MERIDIAN_REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself (creating users) are still synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context per test; fails the test if any asset (CSS, JS, font) failed to load
    or the page logged a JavaScript error, since both would go unnoticed in a headless run."""
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    broken = []
    page.on("response", lambda r: r.status >= 400 and "/static/" in r.url and broken.append(f"{r.status} {r.url}"))
    # A request the browser itself cancelled because the page moved on (a font still loading when a form
    # was submitted) is not a broken asset; missing ones show as 404 responses above.
    page.on(
        "requestfailed",
        lambda r: r.failure != "net::ERR_ABORTED" and broken.append(f"failed {r.url}: {r.failure}"),
    )
    page.on("pageerror", lambda exc: broken.append(f"JavaScript error: {exc}"))
    yield page
    context.close()
    assert not broken, broken


@pytest.fixture
def sign_in(page):
    def _sign_in(username: str, password: str):
        page.goto("/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")

    return _sign_in
