"""Browser suite fixtures: one gateway, one headless Chromium, a page per test."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

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
VIEWPORT: ViewportSize = {"width": 1600, "height": 1000}
EXPECT_TIMEOUT_MS = 10_000
NETWORK_ERROR = re.compile(r"net::ERR_CONNECTION_(REFUSED|RESET|CLOSED)")


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
def allow_network_errors() -> bool:
    """Requested by a test that cuts the server off: the browser then logs failed
    connections, which are expected there and not page errors."""
    return True


@pytest.fixture
def page(
    browser: Browser, gateway: Gateway, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh browser context; its console errors fail the test, and a screenshot
    of the last state is saved under test-artifacts/screenshots/."""
    tolerate_network = "allow_network_errors" in request.fixturenames
    context = browser.new_context(viewport=VIEWPORT, base_url=gateway.base_url)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    tab = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if tolerate_network and NETWORK_ERROR.search(message.text):
            return
        problems.append(f"console: {message.text}")

    def on_dialog(dialog: Dialog) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on("console", on_console)
    tab.on("dialog", on_dialog)
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
    status = page.locator("#connection")
    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/"))
    expect(status).to_have_attribute("data-status", "live")
    if fragment:
        # Leave the page first: its own start-up may still rewrite the fragment.
        page.goto("about:blank")
        page.goto(f"/dashboard/{fragment}")
        expect(status).to_have_attribute("data-status", "live")
