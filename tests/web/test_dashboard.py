"""The web dashboard in a real browser against `make demo`'s stack: every figure the page draws is the API's."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from vidstats.local.stack import DEMO_MEMBERS, DEV_USER_ID, LocalStack
from vidstats.workspaces import DEFAULT_WORKSPACE_ID, create_workspace

from tests.web.conftest import PageProblems, axe_violations, dashboard_page, screenshot, sign_in

# One worker runs them all (pyproject's --dist loadgroup): one stack with the demo data and one browser.
pytestmark = pytest.mark.xdist_group("web")

LAUNCH = "[demo] Launch campaign"
SECOND = "Zeta workspace"  # sorts after "Default workspace": /me lists by name, so the Default stays the first


@pytest.fixture(scope="module")
def second_workspace(stack: LocalStack) -> str:
    """A second workspace, empty, the developer its only owner (as an operator adds one: the project owner)."""
    conn = stack.owner_database().connection()
    with conn.transaction():
        workspace = create_workspace(conn, SECOND, owner_user_id=uuid.UUID(DEV_USER_ID), owner_email="dev@localhost")
    return str(workspace)


def campaign_id(api: httpx.Client, name: str = LAUNCH) -> str:
    items = api.get("/campaigns").json()["items"]
    return str(next(c["id"] for c in items if c["name"] == name))


def drawn(series: list[dict[str, Any]], metric: str) -> str:
    """What the chart must have drawn for the API's series, as the page writes it into data-drawn."""
    return json.dumps({"days": [p["period_start"] for p in series], "series": {metric: [p[metric] for p in series]}},
                      separators=(",", ":"))


def open_campaign(page: Page, name: str = LAUNCH) -> None:
    sign_in(page)
    page.get_by_role("link", name=name).click()
    page.get_by_role("heading", name=name, level=1).wait_for()


def current_page(page: Page) -> None:
    """Waits until the table shows the page of its current query and cursor (not the previous one)."""
    expect(page.get_by_test_id("videos")).to_have_attribute("data-current", "true")


def table_ids(page: Page) -> list[str]:
    ids: list[str] = page.locator("[data-testid=videos] tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.videoId)")
    return ids


def test_the_chart_draws_the_apis_series_for_the_campaign_and_period(page: Page, api: httpx.Client) -> None:
    cid = campaign_id(api)
    open_campaign(page)
    whole = api.get(f"/campaigns/{cid}/analytics", params={"mode": "daily", "limit": 1}).json()
    assert len(whole["series"]) > 20
    chart = page.get_by_test_id("chart")
    expect(chart).to_have_attribute("data-drawn", drawn(whole["series"], "views"))
    views = page.locator(".card[data-metric=views] .big .num")
    assert views.get_attribute("title") == f"{whole['totals']['views']:,}"  # the exact value on hover

    since = (datetime.now(UTC).date() - timedelta(days=6)).isoformat()
    week = api.get(f"/campaigns/{cid}/analytics", params={"mode": "weekly", "from": since, "limit": 1}).json()
    page.get_by_label("Growth over").select_option("7d")
    page.get_by_label("Chart").select_option("weekly")
    page.get_by_label("Metric").select_option("likes")
    expect(chart).to_have_attribute("data-drawn", drawn(week["series"], "likes"))
    expect(page.get_by_text(f"Growth counted {week['date_from']} to {week['date_to']}")).to_be_visible()


@pytest.mark.parametrize(("reported", "used"), [("en-US@posix", "en-US"), ("de_DE@euro", "de-DE"), ("C", "en-US")])
def test_a_browser_reporting_a_posix_language_opens_the_dashboard_and_draws_its_charts(
        browser: Browser, base_url: str, api: httpx.Client, reported: str, used: str) -> None:
    # Chromium on a Linux machine with a POSIX locale reports e.g. "en-US@posix", which Intl refuses: uPlot's module
    # threw as it loaded and the page stayed on "Loading vidstats…". Its valid part is used, else English.
    with dashboard_page(browser, base_url, language=reported) as page:
        open_campaign(page)
        whole = api.get(f"/campaigns/{campaign_id(api)}/analytics", params={"mode": "daily", "limit": 1}).json()
        expect(page.get_by_test_id("chart")).to_have_attribute("data-drawn", drawn(whole["series"], "views"))
        assert page.evaluate("navigator.language") == used


def test_the_campaigns_list_shows_each_campaigns_analytics_figures_with_one_request_per_page(
        page: Page, api: httpx.Client) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    sign_in(page)
    cid = campaign_id(api)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=LAUNCH))
    since = (datetime.now(UTC).date() - timedelta(days=6)).isoformat()
    for window, params in (("campaign", {}), ("7d", {"from": since})):
        page.get_by_label("Growth over").select_option(window)
        figures = api.get(f"/campaigns/{cid}/analytics", params={"mode": "totals", "limit": 1, **params}).json()
        growth = figures["increments"]["views"]
        assert growth is not None
        expect(row.locator(".growth").first).to_have_attribute(
            "title", re.compile(rf"^\+?{re.escape(f'{growth:,}')}( \(.*\))?$"))
        expect(row.locator(".num:not(.growth)").first).to_have_attribute("title", f"{figures['totals']['views']:,}")
    assert not [u for u in requests if "/analytics" in u]  # the list's figures come with the list
    listed = [u for u in requests if "/campaigns?" in u]
    assert len(listed) == 2
    assert f"from={since}" in listed[1]


@pytest.mark.parametrize(("header", "params"), [
    ("+7d likes", {"sort": "growth", "metric": "likes", "period": "7d"}),
    ("comments", {"sort": "comments"}),
])
def test_the_videos_table_sorts_and_pages_with_no_row_repeated_or_skipped(
        page: Page, api: httpx.Client, header: str, params: dict[str, str]) -> None:
    cid = campaign_id(api)
    listed = api.get("/videos", params={"campaign_id": cid, "limit": 200, **params}).json()
    expected = [v["id"] for v in listed["items"]]
    assert len(expected) > 5
    open_campaign(page)
    page.get_by_label("Rows per page").select_option("5")
    page.get_by_role("button", name=header, exact=True).click()
    expect(page.locator("th[aria-sort=descending] button", has_text=header)).to_be_visible()
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        expect(page.get_by_text(f"Page {pages}", exact=True)).to_be_visible()
        current_page(page)
        seen += table_ids(page)
        following = page.get_by_role("button", name="Next page")
        if following.is_disabled():
            break
        following.click()
    assert seen == expected  # same order, nothing repeated, nothing skipped
    assert pages == -(-len(expected) // 5)
    page.get_by_role("button", name="Previous page").click()
    expect(page.get_by_text(f"Page {pages - 1}", exact=True)).to_be_visible()
    current_page(page)
    assert table_ids(page) == expected[(pages - 2) * 5:(pages - 1) * 5]


def test_the_videos_screen_searches_filters_and_sorts_newest_first_as_the_api_does(
        page: Page, api: httpx.Client) -> None:
    def listed(**params: str) -> list[str]:
        return [v["id"] for v in api.get("/videos", params={"limit": 20, **params}).json()["items"]]

    every = listed()
    creator = api.get("/videos", params={"limit": 1}).json()["items"][0]["blogger"]["username"]
    found = listed(q=creator)
    failing = listed(health="failing")
    newest = listed(q=creator, sort="recent")
    assert 0 < len(found) < len(every)
    assert failing
    assert set(newest) == set(found)
    sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Videos", exact=True).click()
    page.get_by_role("heading", name="Videos", level=1).wait_for()
    current_page(page)
    assert table_ids(page) == every
    search = page.get_by_role("searchbox", name="Search captions and creators")
    search.fill(creator)
    search.press("Enter")
    expect(page.locator("[data-testid=videos] tbody tr")).to_have_count(len(found))
    current_page(page)
    assert table_ids(page) == found
    page.get_by_role("button", name="added", exact=True).click()
    expect(page.locator("th[aria-sort=descending]")).to_have_text("added ↓")
    current_page(page)
    assert table_ids(page) == newest
    search.fill("")  # clearing the box shows every video again
    page.get_by_label("Show").select_option("failing")
    expect(page.locator("[data-testid=videos] tbody tr")).to_have_count(len(failing))
    current_page(page)
    assert sorted(table_ids(page)) == sorted(failing)
    search.fill("no video says this")
    search.press("Enter")
    expect(page.get_by_text("No videos match.")).to_be_visible()


def test_a_tracked_url_appears_after_a_refresh_and_a_bad_one_says_why(
        page: Page, api: httpx.Client, base_url: str) -> None:
    url = "https://www.tiktok.com/@webtest/video/7300000000000000042"
    sign_in(page)
    page.get_by_role("link", name="Track videos").click()
    page.get_by_label("Video URLs").fill(f"{url}\nhttps://example.com/not-a-video")
    page.get_by_label("Add to campaign").select_option(label=LAUNCH)
    page.get_by_role("button", name="Track", exact=True).click()
    results = page.get_by_test_id("track-results")
    expect(results.get_by_role("row", name=url)).to_contain_text("accepted")
    expect(results.get_by_role("row", name="https://example.com/not-a-video")).to_contain_text("rejected")
    video_id = results.get_by_role("link", name=url).get_attribute("href").rsplit("/", 1)[1]  # type: ignore[union-attr]

    deadline = time.monotonic() + 20
    while api.get(f"/videos/{video_id}").json()["stats_at"] is None:  # fetched by the queue processor, refreshed
        assert time.monotonic() < deadline, "the tracked video was never fetched"
        httpx.post(f"{base_url}/_local/run/mv_refresh", timeout=30).raise_for_status()
        time.sleep(0.2)
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name=LAUNCH).click()
    page.get_by_label("Rows per page").select_option("100")
    expect(page.locator(f"[data-testid=videos] tr[data-video-id='{video_id}']")).to_be_visible()


def test_the_csv_download_is_the_campaigns_export_file(page: Page, api: httpx.Client, base_url: str,
                                                       tmp_path: Path) -> None:
    cid = campaign_id(api)
    open_campaign(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".csv"

    page.get_by_role("button", name="Export to Sheets").click()
    expect(page.get_by_text("Export started:")).to_be_visible()
    deadline = time.monotonic() + 30
    while True:
        runs = httpx.get(f"{base_url}/_local/status").json()["invocations"]
        if runs and runs[0]["state"] == "succeeded":
            break
        assert time.monotonic() < deadline, runs
        time.sleep(0.2)
    (written,) = [Path(f["path"]) for f in runs[0]["result"]["csv"]]
    assert saved.read_bytes() == written.read_bytes()
    assert cid  # the export of this campaign only (include_all_videos: false)


def test_stop_tracking_a_video(page: Page, api: httpx.Client) -> None:
    cid = campaign_id(api)
    active = api.get("/videos", params={"campaign_id": cid, "tracking_state": "active", "sort": "recent"}).json()
    video = active["items"][-1]
    sign_in(page)
    page.goto(f"/#/videos/{video['id']}")
    expect(page.get_by_test_id("tracking-state")).to_have_text("active")
    page.get_by_role("button", name="Stop tracking").click()
    page.get_by_role("button", name="Yes, stop tracking").click()
    expect(page.get_by_test_id("tracking-state")).to_have_text("stopped")
    assert api.get(f"/videos/{video['id']}").json()["tracking"]["state"] == "stopped"
    expect(page.get_by_role("button", name="Stop tracking")).to_have_count(0)



def test_the_video_screen_lists_the_apis_raw_snapshots_newest_first_and_pages_to_older_ones(
        page: Page, api: httpx.Client) -> None:
    # A video with the demo's 31 days of history: more than a page (30). (Another test may have tracked one
    # more, with a single snapshot.)
    for video in api.get("/videos", params={"campaign_id": campaign_id(api), "sort": "views"}).json()["items"]:
        first = api.get(f"/videos/{video['id']}/snapshots", params={"limit": 30}).json()
        if first["next_cursor"] is not None:
            break
    else:
        raise AssertionError("no demo video has more than 30 snapshots")
    second = api.get(f"/videos/{video['id']}/snapshots", params={"limit": 30, "cursor": first["next_cursor"]}).json()
    sign_in(page)
    page.goto(f"/#/videos/{video['id']}")
    table = page.get_by_test_id("snapshots")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(first["items"]))
    assert [int(i) for i in rows.evaluate_all("rs => rs.map(r => r.dataset.snapshotId)")] == \
        [s["id"] for s in first["items"]]
    newest = first["items"][0]
    expect(rows.first.locator("td").first.locator(".num")).to_have_attribute(
        "title", f"{newest['views']:,}" if newest["views"] is not None else "not measured")
    page.get_by_role("button", name="Older snapshots").click()
    expect(rows).to_have_count(len(first["items"]) + len(second["items"]))
    assert [int(i) for i in rows.evaluate_all("rs => rs.map(r => r.dataset.snapshotId)")] == \
        [s["id"] for s in first["items"] + second["items"]]

def test_sign_out_returns_to_sign_in_and_forgets_the_session(page: Page) -> None:
    sign_in(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Development sign-in as dev@localhost")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Development sign-in as dev@localhost")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def tab_to(page: Page, text: str, *, limit: int = 60) -> None:
    """Presses Tab until the focused element's text (or label) is ``text``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => { const e = document.activeElement; "
                                "return (e.getAttribute('aria-label') || e.textContent || '').trim() }")
        if focused == text:
            return
    raise AssertionError(f"{text!r} is not reachable with Tab")


def test_the_main_flow_works_with_the_keyboard_alone(page: Page) -> None:
    page.goto("/")
    tab_to(page, "Development sign-in as dev@localhost")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Campaigns", level=1).wait_for()
    tab_to(page, LAUNCH)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name=LAUNCH, level=1).wait_for()
    assert page.evaluate("document.activeElement.id") == "main"  # focus moved to the new screen
    tab_to(page, "likes")  # the first "likes" is the table's total header
    page.keyboard.press("Enter")
    expect(page.locator("th[aria-sort=descending]")).to_have_text("likes ↓")
    current_page(page)
    top = table_ids(page)[0]
    first_video = page.locator(f"tr[data-video-id='{top}'] th a")
    tab_to(page, first_video.inner_text().strip())
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Fetch health").wait_for()
    assert page.url.endswith(f"#/videos/{top}")
    page.keyboard.press("Shift+Tab")  # from the new screen back into the header
    tab_to(page, "Sign out", limit=200)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Development sign-in as dev@localhost")).to_be_visible()


def test_every_screen_passes_axe_and_fits_a_phone(page: Page, api: httpx.Client) -> None:
    cid = campaign_id(api)
    video = api.get("/videos", params={"campaign_id": cid}).json()["items"][0]
    creator = video["blogger"]["id"]
    token = api.post(f"/campaigns/{cid}/share-links", json={}).json()["token"]
    page.goto("/")
    page.get_by_role("button", name="Development sign-in as dev@localhost").wait_for()
    screens: list[tuple[str, str | None, str]] = [("sign-in", None, "vidstats")]
    screens += [("campaigns", "/#/campaigns", "Campaigns"), ("campaign", f"/#/campaigns/{cid}", LAUNCH),
                ("videos", "/#/videos", "Videos"),
                ("video", f"/#/videos/{video['id']}", "Fetch health"), ("creators", "/#/creators", "Creators"),
                ("creator", f"/#/creators/{creator}", "Videos"), ("track", "/#/track", "Track videos"),
                ("page-views", "/#/page-views", "Page views"), ("members", "/#/members", "Members"),
                ("settings", "/#/settings", "Workspace settings"),
                ("shared", f"/#/shared/{token}", LAUNCH),
                ("shared-gone", "/#/shared/no-such-token", "This link no longer works")]
    problems: dict[str, Any] = {}
    for name, path, heading in screens:
        if path is not None:
            if name == "campaigns":
                page.get_by_role("button", name="Development sign-in as dev@localhost").click()
            page.goto(path)
        page.get_by_role("heading", name=heading).first.wait_for()
        page.wait_for_function("() => !document.querySelector('.state.loading')")
        violations = axe_violations(page)
        if violations:
            problems[name] = violations
        for width, wide in screenshot(page, name).items():
            if wide > width:
                problems[f"{name} at {width} px"] = f"the page is {wide} px wide"
    assert problems == {}


def test_an_unknown_campaign_and_an_unreachable_api_say_so_and_offer_a_retry(page: Page, api: httpx.Client) -> None:
    sign_in(page)
    page.goto("/#/campaigns/00000000-0000-4000-8000-000000000001")
    expect(page.get_by_role("alert")).to_contain_text("no such campaign")

    page.route("**/videos?*", lambda route: route.abort())  # the API cannot be reached
    page.goto(f"/#/campaigns/{campaign_id(api)}")
    alert = page.locator(".videos-table").get_by_role("alert")
    expect(alert).to_contain_text("The API cannot be reached")
    page.unroute("**/videos?*")
    alert.get_by_role("button", name="Try again").click()
    current_page(page)
    assert len(table_ids(page)) > 0


def test_the_switcher_changes_workspace_remembers_it_and_reloads_the_screen(page: Page, second_workspace: str) -> None:
    sign_in(page)
    switcher = page.get_by_role("combobox", name="Workspace", exact=True)
    expect(switcher).to_have_value(str(DEFAULT_WORKSPACE_ID))
    expect(page.get_by_role("link", name=LAUNCH)).to_be_visible()
    expect(switcher.locator("option")).to_have_text(["Default workspace (owner)", f"{SECOND} (owner)"])
    switcher.select_option(label=f"{SECOND} (owner)")
    expect(page.get_by_text("No campaigns yet")).to_be_visible()
    expect(page.get_by_role("link", name=LAUNCH)).to_have_count(0)
    page.reload()  # remembered
    expect(page.get_by_role("combobox", name="Workspace", exact=True)).to_have_value(second_workspace)
    expect(page.get_by_text("No campaigns yet")).to_be_visible()
    page.get_by_role("combobox", name="Workspace", exact=True).select_option(str(DEFAULT_WORKSPACE_ID))
    expect(page.get_by_role("link", name=LAUNCH)).to_be_visible()


def test_a_user_in_no_workspace_is_told_so(page: Page) -> None:
    page.route("**/me", lambda route: route.fulfill(json={"user_id": DEV_USER_ID, "email": "dev@localhost",
                                                          "workspaces": []}))
    page.goto("/")
    page.get_by_role("button", name="Development sign-in as dev@localhost").click()
    expect(page.get_by_role("heading", name="No workspace yet")).to_be_visible()
    expect(page.get_by_test_id("no-workspace")).to_contain_text("not a member of any workspace")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    expect(page.get_by_role("combobox", name="Workspace", exact=True)).to_have_count(0)
    assert axe_violations(page) == []
    screenshot(page, "no-workspace")


def test_a_viewer_sees_no_command_buttons(page: Page, api: httpx.Client) -> None:
    cid = campaign_id(api)
    video = api.get("/videos", params={"campaign_id": cid, "tracking_state": "active"}).json()["items"][0]
    sign_in(page, "viewer@demo.localhost")
    expect(page.get_by_role("combobox", name="Workspace", exact=True).locator("option:checked")).to_have_text(
        "Default workspace (viewer)")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(["Campaigns", "Videos", "Creators", "Settings"])
    page.get_by_role("link", name=LAUNCH).click()
    page.get_by_role("heading", name=LAUNCH, level=1).wait_for()
    page.wait_for_function("() => !document.querySelector('.state.loading')")
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()  # a read
    for command in ("Export to Sheets", "Create share link", "Revoke"):
        expect(page.get_by_role("button", name=command)).to_have_count(0)
    expect(page.get_by_role("heading", name="Share links")).to_have_count(0)
    page.goto(f"/#/videos/{video['id']}")
    expect(page.get_by_test_id("tracking-state")).to_have_text("active")
    expect(page.get_by_role("button", name="Stop tracking")).to_have_count(0)
    page.goto("/#/settings")
    expect(page.get_by_test_id("budget")).to_be_visible()
    expect(page.get_by_role("button", name="Save caps")).to_have_count(0)
    expect(page.get_by_role("heading", name="Google Sheets export targets")).to_have_count(0)
    assert axe_violations(page) == []
    screenshot(page, "settings-viewer")
    page.goto("/#/track")
    expect(page.get_by_text("not available to you in this workspace (your role: viewer)")).to_be_visible()


def test_a_share_link_opens_the_campaigns_figures_without_sign_in_until_revoked(
        page: Page, browser: Browser, base_url: str, api: httpx.Client) -> None:
    cid = campaign_id(api)
    before = {link["id"] for link in api.get(f"/campaigns/{cid}/share-links").json()["items"]}
    sign_in(page, "owner@demo.localhost")
    page.get_by_role("link", name=LAUNCH).click()
    page.get_by_role("button", name="Create share link").click()
    link = page.get_by_label("The client's link").input_value()
    assert link.startswith(f"{base_url}/#/shared/")
    (made,) = [li for li in api.get(f"/campaigns/{cid}/share-links").json()["items"] if li["id"] not in before]
    row = page.get_by_test_id("share-links").locator(f"tr[data-link-id='{made['id']}']")
    expect(row).to_have_attribute("data-state", "active")
    assert axe_violations(page) == []  # the campaign screen with the new link shown
    screenshot(page, "share-link-created")

    client = browser.new_context(viewport={"width": 390, "height": 900}, locale="en-US", timezone_id="UTC")
    problems = PageProblems()
    try:
        shared = client.new_page()
        shared.on("console", problems.console)
        shared.goto(link)
        shared.get_by_role("heading", name=LAUNCH, level=1).wait_for()
        whole = api.get(f"/campaigns/{cid}/analytics", params={"mode": "daily", "limit": 1}).json()
        expect(shared.get_by_test_id("chart")).to_have_attribute("data-drawn", drawn(whole["series"], "views"))
        for metric, total in whole["totals"].items():
            card = shared.locator(f".card[data-metric={metric}]")
            expect(card.locator(".big .num")).to_have_attribute("title", f"{total:,}" if total is not None
                                                                else "not measured")
            growth = whole["increments"][metric]
            if growth is not None:
                expect(card.locator(".growth")).to_have_attribute("title", re.compile(
                    rf"^{'[+]' if growth > 0 else ''}{re.escape(f'{growth:,}')}( |$)"))
        listed = api.get("/videos", params={"campaign_id": cid, "limit": 20}).json()["items"]
        expect(shared.get_by_test_id("videos")).to_have_attribute("data-current", "true")
        assert table_ids(shared) == [v["id"] for v in listed]
        expect(shared.get_by_role("button", name="Sign out")).to_have_count(0)

        row.get_by_role("button", name=re.compile("^Revoke the link")).click()
        expect(row).to_have_attribute("data-state", "revoked")
        states = {li["id"]: li["state"] for li in api.get(f"/campaigns/{cid}/share-links").json()["items"]}
        assert states[made["id"]] == "revoked"
        shared.reload()
        expect(shared.get_by_role("heading", name="This link no longer works")).to_be_visible()
        expect(shared.get_by_test_id("chart")).to_have_count(0)
    finally:
        client.close()
    assert [m for m in problems.messages if "Failed to load resource" not in m] == []


def test_the_members_screen_lists_the_members_and_shows_the_apis_refusals(
        page: Page, second_workspace: str) -> None:
    sign_in(page, "owner@demo.localhost")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Members").click()
    members = page.get_by_test_id("members")
    for role, user_id, _ in DEMO_MEMBERS:
        row = members.locator(f"tr[data-user-id='{user_id}']")
        expect(row.get_by_role("combobox")).to_have_value(role)
        expect(row).to_contain_text("active")
    expect(members.locator(f"tr[data-user-id='{DEV_USER_ID}'] select")).to_have_value("owner")
    for _, _, email in DEMO_MEMBERS:
        expect(members.get_by_role("rowheader", name=email)).to_be_visible()

    page.get_by_role("textbox", name="E-mail").fill("new.client@agency.example")
    page.get_by_role("combobox", name="Role", exact=True).select_option("editor")
    page.get_by_role("button", name="Invite").click()  # no service-role key in the local stack: the API says so
    expect(page.get_by_role("alert")).to_contain_text("invitations by e-mail are not configured")

    page.goto("/")  # the developer is the only owner of the second workspace: the API refuses to demote them
    page.get_by_role("button", name="Sign out").click()
    sign_in(page)
    page.get_by_role("combobox", name="Workspace", exact=True).select_option(second_workspace)
    page.goto("/#/members")
    page.get_by_label("Role of dev@localhost").select_option("viewer")
    expect(page.get_by_role("alert")).to_contain_text("last owner cannot be removed or demoted")
    expect(page.get_by_label("Role of dev@localhost")).to_have_value("owner")


def test_an_owner_sets_the_budget_within_the_limit_and_an_editor_manages_export_targets(
        page: Page, api: httpx.Client) -> None:
    budget = api.get("/workspace/budget").json()
    maximum = budget["tracked_videos"]["maximum"]
    sign_in(page, "owner@demo.localhost")
    page.get_by_role("link", name="Settings").click()
    caps = page.get_by_label(re.compile("^Tracked videos \\(max"))
    caps.fill(str(maximum + 1))
    page.get_by_role("button", name="Save caps").click()
    expect(page.get_by_role("alert")).to_contain_text(f"at most {maximum}")  # the API's 422, as it words it
    caps.fill("500")
    page.get_by_role("button", name="Save caps").click()
    expect(page.get_by_text("Caps saved.")).to_be_visible()
    expect(page.get_by_test_id("budget").get_by_role("row", name=re.compile("^Tracked videos"))).to_contain_text("500")
    assert api.get("/workspace/budget").json()["tracked_videos"]["set_by_owner"] == 500
    page.get_by_label(re.compile("^Tracked videos \\(max")).fill("")  # back to the operator's default
    page.get_by_role("button", name="Save caps").click()
    expect(page.get_by_text("Caps saved.")).to_be_visible()
    assert api.get("/workspace/budget").json()["tracked_videos"]["set_by_owner"] is None

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "editor@demo.localhost")
    page.goto("/#/settings")
    expect(page.get_by_role("button", name="Save caps")).to_have_count(0)  # the budget is the owners'
    sheet = "1WebTestSpreadsheet_0123456789"
    page.get_by_label("Spreadsheet id or URL").fill(f"https://docs.google.com/spreadsheets/d/{sheet}/edit#gid=0")
    page.get_by_label("Campaigns (none chosen").select_option(label=LAUNCH)
    page.get_by_role("button", name="Add spreadsheet").click()
    row = page.get_by_test_id("export-targets").get_by_role("row", name=re.compile(sheet))
    expect(row).to_contain_text(LAUNCH)
    (target,) = [t for t in api.get("/workspace/export-targets").json()["items"] if t["spreadsheet_id"] == sheet]
    assert target["campaign_ids"] == [campaign_id(api)]
    page.get_by_label("Spreadsheet id or URL").fill(sheet)  # a spreadsheet is one workspace's target: 409
    page.get_by_role("button", name="Add spreadsheet").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_role("button", name=f"Remove spreadsheet {sheet}").click()
    expect(row).to_have_count(0)
    assert all(t["spreadsheet_id"] != sheet for t in api.get("/workspace/export-targets").json()["items"])


def test_copy_link_puts_the_clients_link_on_the_clipboard_and_an_expired_link_shows_the_revoked_screen(
        page: Page, browser: Browser, base_url: str, api: httpx.Client, stack: LocalStack) -> None:
    cid = campaign_id(api)
    before = {link["id"] for link in api.get(f"/campaigns/{cid}/share-links").json()["items"]}
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    sign_in(page, "owner@demo.localhost")
    page.get_by_role("link", name=LAUNCH).click()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    page.get_by_label("Works until (UTC day, optional)").fill(tomorrow)
    page.get_by_role("button", name="Create share link").click()
    link = page.get_by_label("The client's link").input_value()
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_test_id("new-share-link").get_by_role("status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == link
    (made,) = [li for li in api.get(f"/campaigns/{cid}/share-links").json()["items"] if li["id"] not in before]
    assert made["expires_at"] == f"{tomorrow}T23:59:59Z"  # the end of the chosen UTC day
    row = page.get_by_test_id("share-links").locator(f"tr[data-link-id='{made['id']}']")
    expect(row).to_have_attribute("data-state", "active")
    expect(row.locator("td").nth(1)).to_have_text(f"{tomorrow} 23:59 UTC")

    # A revoked link, to compare: what its client sees.
    revoked = api.post(f"/campaigns/{cid}/share-links", json={}).json()
    api.delete(f"/campaigns/{cid}/share-links/{revoked['id']}").raise_for_status()
    client = browser.new_context(viewport={"width": 390, "height": 900}, locale="en-US", timezone_id="UTC")
    problems = PageProblems()
    try:
        shared = client.new_page()
        shared.on("console", problems.console)
        shared.goto(f"{base_url}/#/shared/{revoked['token']}")
        gone = shared.get_by_test_id("link-gone")
        expect(gone).to_be_visible()
        revoked_screen = gone.inner_text()

        shared.goto(link)
        shared.get_by_role("heading", name=LAUNCH, level=1).wait_for()  # works until its day ends
        # The day passes: its expiry is now behind us (moved back, as the clock would).
        conn = stack.owner_database().connection()
        with conn.transaction():
            conn.execute("update analytics.campaign_share_links set created_at = now() - interval '2 days',"
                         " expires_at = now() - interval '1 second' where id = %s", (made["id"],))
        shared.reload()
        expect(gone).to_be_visible()
        assert gone.inner_text() == revoked_screen  # the same screen: a guess learns nothing
        expect(shared.get_by_test_id("chart")).to_have_count(0)
        assert httpx.get(f"{base_url}/shared/{link.rsplit('/', 1)[1]}").status_code == 404
    finally:
        client.close()
    page.reload()
    expect(row).to_have_attribute("data-state", "expired")
    expect(row.get_by_role("button", name=re.compile("^Revoke"))).to_have_count(0)
    assert [m for m in problems.messages if "Failed to load resource" not in m] == []
