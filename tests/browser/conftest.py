"""Browser suite fixtures: one gateway, one headless Chromium, a page per test."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.harness import ARTIFACTS, Gateway

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ARTIFACTS / "screenshots"
# A wall screen: wide enough for three feeds side by side.
VIEWPORT = {"width": 1600, "height": 1000}
EXPECT_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A running gateway on fresh demo data (alice..erin, three shared groups)."""
    server = Gateway(tmp_path_factory.mktemp("gateway"))
    try:
        server.prepare(activities=20)
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser.sh first")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(
    browser: Browser, gateway: Gateway, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh browser context; its console errors fail the test, and a screenshot
    of the last state is saved under test-artifacts/screenshots/."""
    context = browser.new_context(viewport=VIEWPORT, base_url=gateway.base_url)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    tab.on("dialog", lambda dialog: (problems.append("dialog"), dialog.dismiss()))
    try:
        yield tab
        assert problems == [], problems
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        try:
            tab.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        finally:
            context.close()


def sign_in(page: Page, username: str = "alice", fragment: str = "") -> None:
    """Log in through the form and land on the dashboard with the socket live.

    `fragment` ("#groups=3,4&window=5") sets the page up after the login, since a
    redirect through the login form does not carry a URL fragment.
    """
    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/"))
    if fragment:
        page.goto(f"/dashboard/{fragment}")
        page.reload()
    expect(page.locator("#connection")).to_have_attribute("data-status", "live")
