"""The dashboard in headless Chromium against a real gateway process."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tests.browser.harness import Gateway

pytestmark = pytest.mark.browser


def feed(page: Page, gateway: Gateway, group: str):  # noqa: ANN201
    return page.locator(f'section.feed[data-group="{gateway.group_id(group)}"]')


def row(page: Page, gateway: Gateway, group: str, activity_id: int):  # noqa: ANN201
    return feed(page, gateway, group).locator(f'li.row[data-id="{activity_id}"]')


def test_login_form_leads_to_live_feeds(page: Page, gateway: Gateway) -> None:
    sign_in(page)

    for name in ("Design team", "Game night", "Research lab"):
        expect(feed(page, gateway, name).locator("h2")).to_have_text(name)
        expect(feed(page, gateway, name).locator("li.row").first).to_be_visible()
    expect(page.locator("#connection")).to_contain_text("Live")
    expect(page).to_have_url(re.compile(r"groups="))
