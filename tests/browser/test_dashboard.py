"""The dashboard in headless Chromium against a real gateway process.

Changes are made the way other clients make them (REST with a token, or the
services in another process) and the page must show them within bounded waits.
"""

import json
import re

import pytest
from playwright.sync_api import Locator, Page, WebSocket, expect

from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.harness import Gateway

pytestmark = pytest.mark.browser

# The brief's promise for a change made elsewhere to reach the page.
LIVE_WITHIN_MS = 2_000
# Stop, start and the client's backoff: a few seconds, bounded generously.
RECONNECT_WITHIN_MS = 45_000


def feed(page: Page, gateway: Gateway, group: str) -> Locator:
    return page.locator(f'section.feed[data-group="{gateway.group_id(group)}"]')


def row(page: Page, gateway: Gateway, group: str, activity_id: int) -> Locator:
    return feed(page, gateway, group).locator(f'li.row[data-id="{activity_id}"]')


def fragment(gateway: Gateway, *groups: str, extra: str = "") -> str:
    ids = ",".join(str(gateway.group_id(name)) for name in groups)
    return f"#groups={ids}{extra}"


def row_ids(page: Page, gateway: Gateway, group: str) -> list[int]:
    ids = (
        feed(page, gateway, group)
        .locator("li.row")
        .evaluate_all("rows => rows.map(r => Number(r.dataset.id))")
    )
    return [int(pk) for pk in ids]


def test_home_links_the_dashboard_the_api_docs_and_the_admin(page: Page) -> None:
    page.goto("/")

    links = {
        "Live dashboard": "/dashboard/",
        "API docs": "/api/docs/",
        "Admin": "/admin/",
    }
    for name, href in links.items():
        link = page.get_by_role("link", name=re.compile(f"^{name}"))
        expect(link).to_have_attribute("href", href)


def test_login_with_a_wrong_password_stays_on_the_form(page: Page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("do not match")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_login_form_leads_to_live_feeds_of_the_shared_groups(
    page: Page, gateway: Gateway
) -> None:
    sign_in(page)

    for name in ("Design team", "Game night", "Research lab"):
        expect(feed(page, gateway, name).locator("h2")).to_have_text(name)
        expect(feed(page, gateway, name).locator("li.row").first).to_be_visible()
    expect(page.locator("#connection")).to_have_text("Live")
    expect(page.locator("#stat-total")).not_to_have_text("0")
    expect(page.locator("#rate-plot rect.bar")).to_have_count(15)
    ids = row_ids(page, gateway, "Design team")
    assert ids == sorted(ids, reverse=True), "newest first"


def test_rest_edit_changes_the_row_in_place(page: Page, gateway: Gateway) -> None:
    activity_id = gateway.create("Design team", "before the edit")
    sign_in(page, fragment=fragment(gateway, "Design team"))
    target = row(page, gateway, "Design team", activity_id)
    expect(target.locator(".text")).to_have_text("before the edit")

    gateway.api(
        "PATCH", f"/api/user-activities/{activity_id}/", json={"text": "after the edit"}
    )

    expect(target.locator(".text")).to_have_text(
        "after the edit", timeout=LIVE_WITHIN_MS
    )
    expect(target).to_have_count(1)
    expect(target.locator(".edited")).to_be_visible()


def test_created_moved_and_deleted_activities_follow_their_group(
    page: Page, gateway: Gateway
) -> None:
    sign_in(page, fragment=fragment(gateway, "Design team", "Game night"))
    design = feed(page, gateway, "Design team")
    expect(design.locator("li.row").first).to_be_visible()

    created = gateway.create("Design team", "fresh from the API", activity_type=1000)
    expect(design.locator("li.row").first).to_have_attribute(
        "data-id", str(created), timeout=LIVE_WITHIN_MS
    )
    expect(design.locator("li.row").first.locator(".badge")).to_have_text(
        re.compile("Podcast Created")
    )
    expect(page.locator('#category-counts li[data-category="podcast"]')).to_be_visible()
    expect(page.locator("#announcer")).to_have_text(
        re.compile(r"^\d+ new activit(y|ies) in .*Design team"), timeout=8_000
    )

    gateway.api(
        "PATCH",
        f"/api/user-activities/{created}/",
        json={"workspace_group": gateway.group_id("Game night")},
    )
    expect(row(page, gateway, "Design team", created)).to_have_count(
        0, timeout=LIVE_WITHIN_MS
    )
    expect(row(page, gateway, "Game night", created)).to_have_count(
        1, timeout=LIVE_WITHIN_MS
    )
    page.screenshot(path=str(SCREENSHOTS / "moved-to-game-night.png"))

    gateway.api("DELETE", f"/api/user-activities/{created}/")
    expect(row(page, gateway, "Game night", created)).to_have_count(
        0, timeout=LIVE_WITHIN_MS
    )
    expect(row(page, gateway, "Design team", created)).to_have_count(0)


def test_markup_in_activity_text_is_shown_as_text(page: Page, gateway: Gateway) -> None:
    sign_in(page, fragment=fragment(gateway, "Design team"))
    payload = "<img src=x onerror=alert(1)><b>bold</b> & <script>alert(2)</script>"

    activity_id = gateway.create("Design team", payload)

    text = row(page, gateway, "Design team", activity_id).locator(".text")
    expect(text).to_have_text(payload, timeout=LIVE_WITHIN_MS)
    expect(text.locator("img, b, script")).to_have_count(0)
    # An alert would have opened a dialog, which the page fixture reports.


def test_type_filter_is_sent_in_subscribe_and_hides_other_types(
    page: Page, gateway: Gateway
) -> None:
    frames: list[dict[str, object]] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on("framesent", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    sign_in(page, fragment=fragment(gateway, "Design team"))

    page.get_by_label("Activity type").select_option("cat:game")
    expect(page).to_have_url(re.compile(r"type=cat%3Agame"))
    game_types = [200, 201, 202, 203, 204, 205]
    blog = gateway.create("Design team", "a blog post", activity_type=750)
    game = gateway.create("Design team", "a game won", activity_type=205)

    expect(row(page, gateway, "Design team", game)).to_have_count(
        1, timeout=LIVE_WITHIN_MS
    )
    expect(row(page, gateway, "Design team", blog)).to_have_count(0)
    for category in feed(page, gateway, "Design team").locator("li.row").all():
        expect(category).to_have_class(re.compile(r"\bcat-game\b"))
    subscribes = [f for f in frames if f.get("type") == "subscribe"]
    assert subscribes[-1]["activity_types"] == game_types
    assert "since" in subscribes[-1]


def test_an_activity_whose_type_leaves_the_filter_leaves_the_feed(
    page: Page, gateway: Gateway
) -> None:
    """Regression: retyping an activity to a type the feed's filter excludes left
    its row in place, old badge and old text, until a reload."""
    sign_in(page, fragment=fragment(gateway, "Design team"))
    page.get_by_label("Activity type").select_option("cat:game")
    expect(page).to_have_url(re.compile(r"type=cat%3Agame"))
    game = gateway.create("Design team", "a game that becomes XP", activity_type=205)
    expect(row(page, gateway, "Design team", game)).to_have_count(
        1, timeout=LIVE_WITHIN_MS
    )

    gateway.api(
        "PATCH",
        f"/api/user-activities/{game}/",
        json={"activity_type": 400, "text": "and out of the filter"},
    )

    expect(row(page, gateway, "Design team", game)).to_have_count(
        0, timeout=LIVE_WITHIN_MS
    )


def test_author_filter_applies_to_rest_and_to_live_events(
    page: Page, gateway: Gateway
) -> None:
    bob_before = gateway.api(
        "POST",
        "/api/user-activities/",
        as_user="bob",
        json={
            "text": "bob was here",
            "activity_type": 501,
            "workspace_group": gateway.group_id("Design team"),
        },
    ).json()["id"]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    sign_in(page, fragment=fragment(gateway, "Design team"))
    expect(row(page, gateway, "Design team", bob_before)).to_have_count(1)

    page.get_by_label("Author").select_option(label="Bob Okafor")

    bob_id = gateway.user_id("bob")
    design = feed(page, gateway, "Design team")
    expect(design.locator("li.row .who").first).to_have_text("Bob Okafor")
    expect(design.locator("li.row .who", has_not_text="Bob Okafor")).to_have_count(0)
    assert any(f"user={bob_id}" in url for url in requests), requests
    from_alice = gateway.create("Design team", "alice again", activity_type=501)
    from_bob = gateway.api(
        "POST",
        "/api/user-activities/",
        as_user="bob",
        json={
            "text": "bob again",
            "activity_type": 501,
            "workspace_group": gateway.group_id("Design team"),
        },
    ).json()["id"]
    expect(row(page, gateway, "Design team", from_bob)).to_have_count(
        1, timeout=LIVE_WITHIN_MS
    )
    expect(row(page, gateway, "Design team", from_alice)).to_have_count(0)


def test_group_picker_works_from_the_keyboard(page: Page, gateway: Gateway) -> None:
    sign_in(page, fragment=fragment(gateway, "Design team", "Game night"))
    expect(feed(page, gateway, "Game night")).to_be_visible()

    checkbox = page.get_by_role("checkbox", name="Game night")
    checkbox.focus()
    page.keyboard.press("Space")

    expect(feed(page, gateway, "Game night")).to_have_count(0)
    expect(feed(page, gateway, "Design team")).to_be_visible()
    expect(page).to_have_url(
        re.compile(f"groups={gateway.group_id('Design team')}(&|$)")
    )
    page.keyboard.press("Space")
    expect(feed(page, gateway, "Game night").locator("li.row").first).to_be_visible()


def test_feed_keeps_a_bounded_window_and_pages_older_rows_on_scroll(
    page: Page, gateway: Gateway
) -> None:
    sign_in(page, fragment=fragment(gateway, "Research lab"))
    research = feed(page, gateway, "Research lab")
    expect(research.locator("li.row").first).to_be_visible()

    made = gateway.create_offline(
        "Research lab", [f"bulk {n}" for n in range(230)], username="carol"
    )

    expect(row(page, gateway, "Research lab", made[-1])).to_have_count(
        1, timeout=10_000
    )
    expect(research.locator("li.row")).to_have_count(200)
    assert row_ids(page, gateway, "Research lab")[:3] == made[::-1][:3]

    scroller = research.locator(".feed-scroll")
    for _ in range(20):
        scroller.evaluate("el => { el.scrollTop = el.scrollHeight; }")
        if research.locator(".newer").is_visible():
            break
        page.wait_for_timeout(250)
    expect(research.locator(".newer")).to_be_visible()
    ids = row_ids(page, gateway, "Research lab")
    assert len(ids) <= 200
    assert min(ids) < made[230 - 200], "older rows were paged in"
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)

    research.locator(".newer").click()
    expect(research.locator("li.row").first).to_have_attribute("data-id", str(made[-1]))


def test_restart_reconnects_and_shows_missed_events_exactly_once(
    page: Page, gateway: Gateway, allow_network_errors: bool
) -> None:
    sign_in(page, fragment=fragment(gateway, "Design team"))
    status = page.locator("#connection")
    before = gateway.create("Design team", "before the restart")
    expect(row(page, gateway, "Design team", before)).to_have_count(1)

    gateway.stop()
    expect(status).to_have_attribute("data-status", "reconnecting")
    page.screenshot(path=str(SCREENSHOTS / "restart-reconnecting.png"))
    missed = gateway.create_offline(
        "Design team", ["committed while down 1", "committed while down 2"]
    )
    gateway.start()

    expect(status).to_have_attribute("data-status", "live", timeout=RECONNECT_WITHIN_MS)
    after = gateway.create("Design team", "after the restart")
    for activity_id in [*missed, after]:
        expect(row(page, gateway, "Design team", activity_id)).to_have_count(
            1, timeout=LIVE_WITHIN_MS
        )
    ids = row_ids(page, gateway, "Design team")
    assert len(ids) == len(set(ids)), "no activity shown twice"
    assert ids[:4] == [after, *missed[::-1], before]


def stat_count(page: Page, category: str) -> Locator:
    return page.locator(f'#category-counts li[data-category="{category}"] .count-value')


def test_counts_follow_the_type_and_author_filters_at_once(
    page: Page, gateway: Gateway
) -> None:
    gateway.create("Design team", "Game Won: beat the bots 3-1", activity_type=205)
    gateway.api(
        "POST",
        "/api/user-activities/",
        as_user="bob",
        json={
            "text": "Game Joined: the 3v3 arena match",
            "activity_type": 201,
            "workspace_group": gateway.group_id("Design team"),
        },
    )
    gateway.create("Design team", "Blog Read: 'Designing for latency'", 752)
    sign_in(page, fragment=fragment(gateway, "Design team"))
    design = feed(page, gateway, "Design team")
    expect(stat_count(page, "blog")).to_be_visible()

    page.get_by_label("Activity type").select_option("cat:game")

    others = page.locator(
        '#category-counts li[data-category]:not([data-category="game"])'
    )
    expect(others).to_have_count(0)
    expect(design.locator("li.row").first).to_have_class(re.compile(r"\bcat-game\b"))
    expect(design.locator("li.row:not(.cat-game)")).to_have_count(0)
    shown = design.locator("li.row").count()
    # Every row of this group was made minutes ago: the counts are the rows shown.
    expect(page.locator("#stat-total")).to_have_text(str(shown))
    expect(stat_count(page, "game")).to_have_text(str(shown))

    page.get_by_label("Author").select_option(label="Bob Okafor")
    expect(design.locator("li.row .who", has_not_text="Bob Okafor")).to_have_count(0)
    bob_games = design.locator("li.row").count()
    expect(page.locator("#stat-total")).to_have_text(str(bob_games))

    page.get_by_label("Author").select_option("")
    page.get_by_label("Activity type").select_option("")
    expect(stat_count(page, "blog")).to_be_visible()


def test_a_column_emptied_by_a_filter_says_so(page: Page, gateway: Gateway) -> None:
    # Erin is not in the Design team: under her filter its column is empty.
    erin = gateway.user_id("erin")
    sign_in(page, fragment=fragment(gateway, "Design team", extra=f"&author={erin}"))
    footer = feed(page, gateway, "Design team").locator(".feed-footer")
    expect(footer).to_have_text("No activities match these filters")
    expect(page.locator("#stat-total")).to_have_text("0")

    page.get_by_label("Author").select_option("")
    expect(footer).not_to_have_text(re.compile("match these filters"))
    expect(feed(page, gateway, "Design team").locator("li.row").first).to_be_visible()


def test_an_edit_below_the_visible_rows_gets_a_cue(
    page: Page, gateway: Gateway
) -> None:
    page.set_viewport_size({"width": 1600, "height": 760})
    made = gateway.create_offline(
        "Game night", [f"XP Gained: +{10 * n} XP for a lesson" for n in range(1, 31)]
    )
    sign_in(page, fragment=fragment(gateway, "Game night"))
    game_night = feed(page, gateway, "Game night")
    target = row(page, gateway, "Game night", made[0])
    expect(target).to_have_count(1)
    expect(target).not_to_be_in_viewport()
    cue = game_night.locator(".updates-below")
    expect(cue).to_be_hidden()

    gateway.api(
        "PATCH",
        f"/api/user-activities/{made[0]}/",
        json={"text": "XP Gained: +40 XP for the weekly quest"},
    )

    expect(cue).to_have_text(re.compile(r"1 update below$"), timeout=LIVE_WITHIN_MS)
    expect(target.locator(".text")).to_have_text(re.compile("weekly quest"))
    page.screenshot(path=str(SCREENSHOTS / "update-below-cue.png"))
    cue.click()
    expect(target).to_be_in_viewport()
    expect(target).to_have_class(re.compile(r"\bchanged\b"))
    expect(cue).to_be_hidden()


def test_category_icons_are_inline_svg(page: Page, gateway: Gateway) -> None:
    session = gateway.create("Design team", "User Login: from the web app", 100)
    sign_in(page, fragment=fragment(gateway, "Design team"))
    badge = row(page, gateway, "Design team", session).locator(".badge")
    expect(badge).to_have_text("User Login")
    expect(badge.locator("svg.badge-icon path")).not_to_have_count(0)
    box = badge.locator("svg.badge-icon").bounding_box()
    assert box is not None and box["width"] >= 12 and box["height"] >= 12
    expect(
        page.locator('#category-counts li[data-category="session"] svg')
    ).to_have_count(1)
    glyphs = page.locator(".badge-icon:not(svg)")
    expect(glyphs).to_have_count(0)
    badge.screenshot(path=str(SCREENSHOTS / "session-badge.png"))


def test_peak_label_is_readable(page: Page, gateway: Gateway) -> None:
    sign_in(page, fragment=fragment(gateway, "Design team"))
    peak = page.locator("#rate-peak")
    expect(peak).to_have_text(re.compile(r"^peak [1-9]\d*/min$"))
    size = peak.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    colour = peak.evaluate("el => getComputedStyle(el).color")
    assert size >= 14, size
    assert colour == "rgb(230, 235, 245)", colour  # the body text colour


def test_narrow_screen_header_fits_without_horizontal_overflow(
    page: Page, gateway: Gateway
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, fragment=fragment(gateway, "Design team", "Game night"))
    expect(feed(page, gateway, "Design team").locator("li.row").first).to_be_visible()

    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.body.scrollWidth,"
        " window.innerWidth]"
    )
    assert max(widths[:2]) <= widths[2], widths
    header = page.locator("header.topbar").bounding_box()
    assert header is not None and header["height"] <= 60, header
    sign_out = page.get_by_role("button", name="Sign out").bounding_box()
    assert sign_out is not None and sign_out["height"] <= 40, sign_out
    expect(page.locator(".whoami strong")).to_be_visible()
    expect(page.locator(".whoami")).to_have_text(re.compile("Signed in as alice"))
    page.screenshot(path=str(SCREENSHOTS / "narrow-390.png"))


def test_demo_texts_fit_their_type_and_edits_rewrite_them(gateway: Gateway) -> None:
    code = (
        "import json, random\n"
        "from activities.demo import activity_text\n"
        "from activities.models import UserActivity\n"
        "from activities.types import ActivityType\n"
        "seeded = [(a.activity_type, a.text, a.updated_at > a.created_at)\n"
        "          for a in UserActivity.objects.filter(resource__has_key='ref')]\n"
        "rng = random.Random(3)\n"
        "edits = []\n"
        "for kind in ActivityType:\n"
        "    old = activity_text(rng, kind.value)\n"
        "    edits.append((kind.value, old, activity_text(rng, kind.value, old)))\n"
        "labels = {k.value: k.label for k in ActivityType}\n"
        "print('OUT=' + json.dumps({'seeded': seeded, 'edits': edits,"
        " 'labels': labels}, default=str))\n"
    )
    output = gateway.shell(code)
    line = next(x for x in output.splitlines() if x.startswith("OUT="))
    found = json.loads(line.removeprefix("OUT="))
    labels = {int(k): v for k, v in found["labels"].items()}
    assert found["seeded"], "the demo seeded activities"
    for activity_type, text, _ in found["seeded"]:
        assert text.startswith(f"{labels[activity_type]}: "), text
        assert "edited" not in text, text
    for activity_type, old, new in found["edits"]:
        assert new != old and new.startswith(f"{labels[activity_type]}: "), new
        assert "edited" not in new, new


def scroll_top(scroller: Locator) -> float:
    return float(scroller.evaluate("el => el.scrollTop"))


def test_new_activities_above_a_scrolled_column_get_a_cue(
    page: Page, gateway: Gateway
) -> None:
    page.set_viewport_size({"width": 1600, "height": 760})
    gateway.create_offline(
        "Game night", [f"XP Gained: +{5 * n} XP at table {n}" for n in range(1, 31)]
    )
    sign_in(page, fragment=fragment(gateway, "Game night"))
    game_night = feed(page, gateway, "Game night")
    scroller = game_night.locator(".feed-scroll")
    cue = game_night.locator(".updates-above")
    expect(game_night.locator("li.row").nth(29)).to_be_attached()
    scroller.evaluate("el => { el.scrollTop = 400; }")
    expect(cue).to_be_hidden()

    first = gateway.create("Game night", "Game Completed: the final, 3-2")
    second = gateway.create("Game night", "Game Completed: the rematch, 2-0")

    expect(cue).to_have_text("↑ 2 new", timeout=LIVE_WITHIN_MS)
    expect(game_night.locator("li.row").first).to_have_attribute("data-id", str(second))
    # The rows being read stayed in place; the new ones wait above them.
    expect(row(page, gateway, "Game night", first)).not_to_be_in_viewport()
    assert scroll_top(scroller) > 400
    box = cue.bounding_box()
    column = scroller.bounding_box()
    assert box is not None and column is not None
    assert column["y"] <= box["y"] <= column["y"] + 40, (box, column)

    # The pill is opaque and shows the page's focus ring (#9db9ff) with its shadow.
    cue.focus()
    assert cue.evaluate("el => el.matches(':focus-visible')")
    shadow = cue.evaluate("el => getComputedStyle(el).boxShadow")
    assert "rgb(157, 185, 255)" in shadow, shadow
    background = cue.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background.startswith("rgb("), background
    page.screenshot(path=str(SCREENSHOTS / "new-above-cue.png"))

    # Pressed: a smooth scroll to the top; the focus stays in the column.
    started = cue.evaluate(
        "el => { el.click(); return el.closest('.feed').querySelector('.feed-scroll')"
        ".scrollTop; }"
    )
    assert started > 0, "the scroll is animated"
    expect(row(page, gateway, "Game night", second)).to_be_in_viewport()
    expect(cue).to_be_hidden()
    expect(scroller).to_be_focused()
    page.wait_for_function("el => el.scrollTop < 1", arg=scroller.element_handle())

    # Back at the top by other means hides the cue too; reduced motion jumps there.
    scroller.evaluate("el => { el.scrollTop = 400; }")
    third = gateway.create("Game night", "Game Completed: the exhibition match")
    expect(cue).to_have_text("↑ 1 new", timeout=LIVE_WITHIN_MS)
    page.emulate_media(reduced_motion="reduce")
    landed = cue.evaluate(
        "el => { el.click(); return el.closest('.feed').querySelector('.feed-scroll')"
        ".scrollTop; }"
    )
    assert landed < 1, landed
    expect(cue).to_be_hidden()
    expect(row(page, gateway, "Game night", third)).to_be_in_viewport()

    scroller.evaluate("el => { el.scrollTop = 400; }")
    gateway.create("Game night", "Game Completed: the late table")
    expect(cue).to_have_text("↑ 1 new", timeout=LIVE_WITHIN_MS)
    scroller.hover()
    page.mouse.wheel(0, -5_000)
    expect(cue).to_be_hidden()


def test_a_lost_connection_dims_the_feeds_and_says_since_when(
    page: Page, gateway: Gateway, allow_network_errors: bool
) -> None:
    sign_in(page, fragment=fragment(gateway, "Design team"))
    status = page.locator("#connection")
    feeds = page.locator("#feeds")
    body = page.locator("body")
    expect(feed(page, gateway, "Design team").locator("li.row").first).to_be_visible()
    expect(body).to_have_attribute("data-connection", "live")
    expect(feeds).to_have_css("opacity", "1")
    # A wall screen comes back within seconds of a restart, not half a minute.
    assert page.evaluate("window.dashboardPage.client.options.backoffMaxMs") == 10_000

    gateway.stop()
    try:
        expect(status).to_have_attribute("data-status", "reconnecting")
        expect(body).to_have_attribute("data-connection", "reconnecting")
        expect(feeds).to_have_css("opacity", "0.5")
        expect(status).to_have_text(
            re.compile(
                r"^\s*Reconnecting…\s+· last update (just now|\d+ sec\. ago)\s*$"
            )
        )
        # The 1 s tick moves the time on; only the status word is a live region.
        expect(status).to_have_text(
            re.compile(r"last update \d+ sec\. ago\s*$"), timeout=20_000
        )
        expect(status).to_have_attribute("data-status", "offline", timeout=30_000)
        expect(status).to_have_text(
            re.compile(r"^\s*Offline\s+· last update \d+ sec\. ago\s*$")
        )
        expect(status.get_by_role("status")).to_have_text("Offline")
        expect(feeds).to_have_css("opacity", "0.5")
        page.screenshot(path=str(SCREENSHOTS / "offline-dimmed.png"))
    finally:
        gateway.start()

    expect(status).to_have_attribute("data-status", "live", timeout=RECONNECT_WITHIN_MS)
    expect(status).to_have_text("Live")
    expect(body).to_have_attribute("data-connection", "live")
    expect(feeds).to_have_css("opacity", "1")


def test_wall_mode_hides_the_settings_survives_a_reload_and_escape_leaves_it(
    page: Page, gateway: Gateway
) -> None:
    sign_in(page, fragment=fragment(gateway, "Design team", "Game night"))
    design = feed(page, gateway, "Design team")
    controls = page.locator("section.controls")
    enter = page.get_by_role("button", name="Wall mode", exact=True)
    leave = page.get_by_role("button", name="Exit wall mode")
    expect(design.locator("li.row").first).to_be_visible()
    expect(leave).to_be_hidden()
    before = design.bounding_box()
    text_size = design.locator("li.row .text").first.evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)"
    )
    assert before is not None

    enter.focus()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"[#&]wall=1(&|$)"))
    expect(controls).to_be_hidden()
    expect(page.locator("#connection")).to_be_visible()
    expect(leave).to_be_focused()
    after = design.bounding_box()
    assert after is not None and after["height"] > before["height"] + 60, (
        before,
        after,
    )
    larger = design.locator("li.row .text").first.evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)"
    )
    assert larger > text_size, (text_size, larger)
    page.screenshot(path=str(SCREENSHOTS / "wall-mode.png"))

    # Bookmarked: a reload comes back in wall mode, and start-up keeps it in the URL.
    page.reload()
    expect(page.locator("#connection")).to_have_attribute("data-status", "live")
    expect(design.locator("li.row").first).to_be_visible()
    expect(controls).to_be_hidden()
    expect(leave).to_be_visible()
    expect(page).to_have_url(re.compile(r"[#&]wall=1(&|$)"))

    page.keyboard.press("Escape")
    expect(controls).to_be_visible()
    expect(leave).to_be_hidden()
    expect(page).not_to_have_url(re.compile(r"wall="))

    enter.click()
    expect(controls).to_be_hidden()
    leave.click()
    expect(controls).to_be_visible()
    expect(enter).to_be_focused()


def test_rate_plot_has_a_time_axis_in_text(page: Page, gateway: Gateway) -> None:
    sign_in(page, fragment=fragment(gateway, "Design team"))
    start = page.locator("#rate-axis-start")
    expect(start).to_have_text("−15 min")
    expect(page.locator(".rate-axis")).to_contain_text("now")
    expect(page.locator("#rate-plot text")).to_have_count(0)
    plot = page.locator("#rate-plot").bounding_box()
    axis = page.locator(".rate-axis").bounding_box()
    assert plot is not None and axis is not None
    assert axis["y"] >= plot["y"] + plot["height"] - 1, (plot, axis)

    page.get_by_label("Window").select_option("5")
    expect(start).to_have_text("−5 min")
