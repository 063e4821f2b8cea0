"""GET /videos, /videos/{id}, /videos/{id}/increments and DELETE /videos/{id}/tracking on a real, refreshed
read model: totals, growth, keyset pages over ties, filters, series."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from vidstats.dashboard import videos as videos_module
from vidstats.dashboard.videos import starts_from_workspace_videos
from vidstats.db import Database, Role
from vidstats.workspaces import create_workspace

from tests.dashboard_api import seed
from tests.dashboard_api.conftest import Api
from tests.factories import make_video, member


@pytest.fixture
def four(db: Database) -> dict[str, str]:
    """A: 100 -> 1000 -> 1100 (7d growth 1000, 1d 100); B: 5000 -> 5050; C: 2000 -> 2600 (1d 600); D: none."""
    vids = {name: seed.video(db, caption=f"video {name}") for name in "ABCD"}
    seed.snapshots(db, [
        (vids["A"], seed.days_ago(10), seed.views(100)), (vids["A"], seed.days_ago(2), seed.views(1000)),
        (vids["A"], seed.days_ago(0, hour=1), seed.views(1100)),
        (vids["B"], seed.days_ago(10), seed.views(5000)), (vids["B"], seed.days_ago(0, hour=1), seed.views(5050)),
        (vids["C"], seed.days_ago(1), seed.views(2000)), (vids["C"], seed.days_ago(0, hour=1), seed.views(2600)),
    ])
    seed.refresh(db)
    return vids


def names(page: dict[str, Any], vids: dict[str, str]) -> list[str]:
    by_id = {v: k for k, v in vids.items()}
    return [by_id[item["id"]] for item in page["items"]]


@pytest.mark.usefixtures("api_env")
def test_default_list_is_by_latest_views_with_totals_and_seven_day_increments(api: Api, four: dict[str, str]) -> None:
    page = api.ok("/videos")
    assert names(page, four) == ["B", "C", "A", "D"]
    a = page["items"][2]
    assert a["totals"] == {"views": 1100, "likes": 110, "comments": 11, "reposts": 0, "saves": None}
    assert a["increments"] == {"views": 1000, "likes": 100, "comments": 10, "reposts": 0, "saves": None}
    assert page["items"][3]["totals"]["views"] is None
    assert page["items"][3]["stats_at"] is None
    assert page["period"] == {"days": 7, "date_from": str(seed.today() - timedelta(days=6)),
                              "date_to": str(seed.today())}
    assert page["next_cursor"] is None
    assert page["data_as_of"] is not None


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize(("period", "expected", "a_growth"), [
    ("7d", ["A", "C", "B", "D"], 1000), ("1d", ["C", "A", "B", "D"], 100), ("30d", ["A", "C", "B", "D"], 1000)])
def test_growth_sort_ranks_by_the_sum_of_daily_increments_over_the_period(
        api: Api, four: dict[str, str], period: str, expected: list[str], a_growth: int) -> None:
    page = api.ok("/videos", sort="growth", period=period)
    assert names(page, four) == expected
    growth = {n: item["increments"]["views"] for n, item in zip(names(page, four), page["items"], strict=True)}
    assert growth["A"] == a_growth
    assert growth["D"] is None  # never fetched: nothing measured, listed last


@pytest.mark.usefixtures("api_env")
def test_growth_period_can_end_on_an_earlier_day(api: Api, four: dict[str, str]) -> None:
    page = api.ok("/videos", sort="growth", period="1d", until=str(seed.today() - timedelta(days=2)))
    assert names(page, four)[0] == "A"
    assert page["items"][0]["increments"]["views"] == 900


def summed_growth(db: Database, days: int, last: date) -> dict[str, int | None]:
    """Each video's views growth over the period, summed from the daily increments (the reference)."""
    with db.transaction(Role.EXPORT) as conn:
        rows = conn.execute("select video_id::text, views from analytics.video_period_growth(null, %s, %s)",
                            (last - timedelta(days=days - 1), last)).fetchall()
    return dict(rows)


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize("period", ["1d", "7d", "30d"])
def test_the_rows_growth_is_the_daily_sum_whether_or_not_video_growth_ends_on_the_period(
        api: Api, db: Database, four: dict[str, str], period: str) -> None:
    days, today, yesterday = int(period.removesuffix("d")), seed.today(), seed.today() - timedelta(days=1)

    def listed(**query: str) -> dict[str, int | None]:
        return {i["id"]: i["increments"]["views"] for i in api.ok("/videos", period=period, **query)["items"]}

    def summed(last: date) -> dict[str, int | None]:
        return {vid: summed_growth(db, days, last).get(vid) for vid in four.values()}

    assert listed() == summed(today)  # video_growth ends today: its rows
    # As if the refresh had not run since midnight: video_growth holds the periods ending yesterday.
    with db.transaction(Role.REFRESH) as conn:
        conn.execute("reset role")
        conn.execute("update analytics.read_model_state set growth_as_of = %s where name = 'video_statistics'",
                     (yesterday,))
        conn.execute("select analytics.resum_video_growth(%s, array(select id from analytics.videos))", (yesterday,))
    assert summed(today) != summed(yesterday)
    assert listed() == summed(today)  # summed from the days, never the table's other period
    assert listed(until=str(yesterday)) == summed(yesterday)  # the table's period: its rows


@pytest.mark.usefixtures("api_env")
def test_sorting_by_another_total_uses_that_counter(api: Api, db: Database) -> None:
    low_views_many_likes = seed.video(db)
    high_views_few_likes = seed.video(db)
    seed.snapshots(db, [(low_views_many_likes, seed.days_ago(1), (10, 900, 0, 0, 0)),
                        (high_views_few_likes, seed.days_ago(1), (1000, 1, 0, 0, 0))])
    seed.refresh(db)
    assert [i["id"] for i in api.ok("/videos", sort="likes")["items"]] == [low_views_many_likes,
                                                                             high_views_few_likes]
    assert [i["id"] for i in api.ok("/videos", sort="views")["items"]] == [high_views_few_likes,
                                                                             low_views_many_likes]




@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize("small_workspace", [False, True], ids=["shared sort indexes", "workspace's own videos"])
@pytest.mark.parametrize("sort", ["views", "growth", "recent", "saves"])
def test_keyset_pages_over_ties_repeat_and_skip_nothing(api: Api, db: Database, sort: str,
                                                        small_workspace: bool) -> None:
    if small_workspace:
        # Another workspace tracks videos too, and the planner's statistics know it: the caller's workspace
        # holds few enough of all videos that its pages start from its own videos (another plan, the same pages).
        conn = db.connection()
        with conn.transaction():
            other = create_workspace(conn, "Other team")
        for _ in range(20):
            make_video(db, workspace_id=other)
    same_start = seed.days_ago(3)
    tied = [seed.video(db, tracking_started_at=same_start) for _ in range(23)]
    distinct = [seed.video(db, tracking_started_at=seed.days_ago(5 + i)) for i in range(3)]
    never_fetched = [seed.video(db, tracking_started_at=same_start) for _ in range(4)]
    rows = [(v, seed.days_ago(2), seed.views(500)) for v in tied]
    rows += [(v, seed.days_ago(1), seed.views(700)) for v in tied[:5]]  # 5 tied at growth 200, views 700
    rows += [(v, seed.days_ago(2), seed.views(100 * (i + 1))) for i, v in enumerate(distinct)]
    seed.snapshots(db, rows)
    seed.refresh(db)
    if small_workspace:
        db.connection().execute("analyze analytics.videos")  # else the planner knows no size yet: shared indexes
    with member(db).transaction(Role.READER) as conn:
        assert starts_from_workspace_videos(conn) is small_workspace

    every = api.walk_videos(sort=sort, limit=4)
    ids = [r["id"] for r in every]
    assert len(ids) == len(set(ids)) == 30  # nothing repeated, nothing skipped
    one_page = api.ok("/videos", sort=sort, limit=200)
    assert [r["id"] for r in one_page["items"]] == ids  # pages concatenate to the unpaged order

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        if sort == "growth":
            growth = r["increments"]["views"]
            return (growth is None, -(growth or 0), UUID(r["id"]))
        if sort == "recent":
            return (-datetime.fromisoformat(r["tracking_started_at"]).timestamp(), UUID(r["id"]))
        value = r["totals"][sort]
        return (value is None, -(value or 0), UUID(r["id"]))
    assert every == sorted(every, key=key)
    assert set(ids) == set(tied) | set(distinct) | set(never_fetched)


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize(("query", "kept"), [
    ({"health": "failing"}, lambda i: i % 3 != 0 and i % 4 != 3),
    ({"health": "tracking"}, lambda i: i % 3 == 0 and i % 4 != 3),
    ({"tracking_state": "active"}, lambda i: i % 4 != 3),
    ({"tracking_state": "stopped"}, lambda i: i % 4 == 3),
    ({"health": "stopped", "platform": "tiktok"}, lambda i: i % 4 == 3),
], ids=["failing", "tracking", "active", "stopped", "stopped tiktok"])
@pytest.mark.parametrize("most_in_state", [2000, 2], ids=["from the videos in the state", "the state is common"])
@pytest.mark.parametrize("sort", ["views", "recent"])
def test_pages_filtered_by_the_workspaces_tracking_repeat_and_skip_nothing(
        api: Api, db: Database, query: dict[str, str], kept: Callable[[int], bool], most_in_state: int, sort: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The workspace-tracking filters run after the page's order (page_by_total's late filters, the recency walk),
    # or, for a rare state with few videos in it, the page starts from those (videos_in_state): over ties, after
    # cursors, with rows the filter drops between the kept ones. Video i: stopped when i % 4 == 3, failing when
    # i % 3 != 0, 100 * (i % 5) views (ties), tracked from (i % 3) days ago (ties), never fetched from 22 on.
    monkeypatch.setattr(videos_module, "MOST_CANDIDATES", most_in_state)
    started = [seed.days_ago(i % 3) for i in range(26)]
    videos = [seed.video(db, state="stopped" if i % 4 == 3 else "active") for i in range(26)]
    seed.snapshots(db, [(v, seed.days_ago(1), seed.views(100 * (i % 5))) for i, v in enumerate(videos[:22])])
    with db.connection().transaction():
        db.connection().execute("update analytics.workspace_videos w set added_at = s.at"
                                " from unnest(%s::uuid[], %s::timestamptz[]) s(id, at) where w.video_id = s.id",
                                (videos, started))
        db.connection().execute("update analytics.videos set consecutive_failures = 2, failure_days = 2,"
                                " last_error_class = 'transient', last_error = 'test', last_error_at = now()"
                                " where id = any(%s::uuid[])", ([v for i, v in enumerate(videos) if i % 3],))
    seed.refresh(db)

    def order(i: int) -> tuple[Any, ...]:
        if sort == "recent":
            return (-started[i].timestamp(), UUID(videos[i]))
        return (i >= 22, -(100 * (i % 5)) if i < 22 else 0, UUID(videos[i]))
    expected = sorted((i for i in range(26) if kept(i)), key=order)
    ids = [r["id"] for r in api.walk_videos(limit=3, sort=sort, **query)]
    assert ids == [videos[i] for i in expected]


@pytest.mark.usefixtures("api_env")
def test_filters_narrow_the_list(api: Api, db: Database) -> None:
    alice = seed.blogger(db, "alice_dances")
    bob = seed.blogger(db, "bob")
    v1 = seed.video(db, platform="tiktok", caption="Summer 100% sale", blogger=alice)
    v2 = seed.video(db, platform="instagram", caption="winter", blogger=bob)
    v3 = seed.video(db, platform="youtube", caption="summer_camp", blogger=bob, state="stopped")
    promo = seed.campaign(db, "Promo", seed.days_ago(30))
    seed.add_to_campaign(db, promo, v2, seed.days_ago(20))
    seed.refresh(db)

    def ids(**query: Any) -> set[str]:
        return {i["id"] for i in api.ok("/videos", **query)["items"]}

    assert ids(platform="instagram") == {v2}
    assert ids(blogger_id=bob) == {v2, v3}
    assert ids(campaign_id=promo) == {v2}
    assert ids(tracking_state="stopped") == {v3}
    assert ids(q="SUMMER") == {v1, v3}
    assert ids(q="100%") == {v1}  # LIKE wildcards are literal
    assert ids(q="n_e") == set()  # would match "winter" if _ were a wildcard
    assert ids(q="alice") == {v1}  # the blogger's username
    assert ids(q="bob", platform="youtube") == {v3}
    assert ids(sort="growth", campaign_id=promo) == {v2}
    page = api.ok("/videos", blogger_id=alice)
    assert page["items"][0]["blogger"] == {"id": alice, "username": "alice_dances", "display_name": None}


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize(("query", "field"), [
    ({"limit": 201}, "query.limit"), ({"limit": 0}, "query.limit"), ({"sort": "shares"}, "query.sort"),
    ({"period": "2d"}, "query.period"), ({"campaign_id": "nope"}, "query.campaign_id"),
    ({"until": "1999-12-31"}, "query.until"), ({"q": "a\x00b"}, "query.q")])
def test_invalid_list_parameters_are_422_naming_the_field(api: Api, query: dict[str, Any], field: str) -> None:
    reply = api.get("/videos", **query)
    assert reply.status == 422, reply
    assert field in [e["field"] for e in reply.body["errors"]]


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize("cursor", ["garbage", "eyJzIjoxfQ", "e30", "eyJzIjoidmlld3M6dmlld3M6N2QiLCJrIjoxZTk5OSwi"])
def test_a_cursor_not_from_this_endpoint_is_400(api: Api, cursor: str) -> None:
    reply = api.get("/videos", cursor=cursor)
    assert reply.status == 400, reply
    assert reply.body["errors"][0]["field"] == "query.cursor"


@pytest.mark.usefixtures("api_env")
def test_a_cursor_of_another_sort_is_400(api: Api, db: Database) -> None:
    for _ in range(3):
        seed.video(db)
    cursor = api.ok("/videos", limit=1)["next_cursor"]
    assert cursor is not None
    reply = api.get("/videos", sort="growth", cursor=cursor)
    assert reply.status == 400
    assert reply.body["errors"][0]["field"] == "query.cursor"


@pytest.mark.usefixtures("api_env")
def test_one_video_has_totals_growth_tracking_and_campaigns(api: Api, db: Database, four: dict[str, str]) -> None:
    promo = seed.campaign(db, "Promo", seed.days_ago(30))
    seed.add_to_campaign(db, promo, four["A"], seed.days_ago(5))
    detail = api.ok(f"/videos/{four['A']}")
    assert detail["totals"]["views"] == 1100
    assert (detail["growth_1d"]["views"], detail["growth_7d"]["views"], detail["growth_30d"]["views"]) == (
        100, 1000, 1000)
    assert detail["tracking"]["state"] == "active"
    assert [c["campaign_id"] for c in detail["campaigns"]] == [promo]
    assert detail["data_as_of"] is not None


@pytest.mark.usefixtures("api_env")
def test_unknown_video_is_404_and_a_malformed_id_is_422(api: Api) -> None:
    missing = api.get("/videos/5b3f6f2a-1111-4222-8333-944445555666")
    assert missing.status == 404
    assert missing.body["errors"][0]["field"] == "path.video_id"
    assert api.get("/videos/not-a-uuid").status == 422


@pytest.mark.usefixtures("api_env")
def test_daily_series_has_every_day_with_null_where_nothing_was_measured(api: Api, four: dict[str, str]) -> None:
    series = api.ok(f"/videos/{four['A']}/increments", **{"from": str(seed.today() - timedelta(days=3))})
    points = {p["period_start"]: p["views"] for p in series["points"]}
    assert len(points) == 4
    assert points[str(seed.today() - timedelta(days=2))] == 900
    assert points[str(seed.today())] == 100
    assert points[str(seed.today() - timedelta(days=1))] is None


@pytest.mark.usefixtures("api_env")
def test_weekly_series_sums_the_iso_week(api: Api, db: Database) -> None:
    monday = seed.today() - timedelta(days=seed.today().weekday() + 14)
    vid = seed.video(db)
    seed.snapshots(db, [(vid, seed.at(monday - timedelta(days=1)), seed.views(0)),
                        (vid, seed.at(monday), seed.views(10)), (vid, seed.at(monday + timedelta(days=6)),
                                                                 seed.views(35)),
                        (vid, seed.at(monday + timedelta(days=7)), seed.views(100))])
    seed.refresh(db)
    series = api.ok(f"/videos/{vid}/increments", granularity="weekly", **{"from": str(monday),
                                                                           "to": str(monday + timedelta(days=7))})
    assert [(p["period_start"], p["views"], p["snapshots"]) for p in series["points"]] == [
        (str(monday), 35, 2), (str(monday + timedelta(days=7)), 65, 1)]


@pytest.mark.usefixtures("api_env")
def test_series_range_backwards_is_400(api: Api, four: dict[str, str]) -> None:
    reply = api.get(f"/videos/{four['A']}/increments", **{"from": "2026-02-01", "to": "2026-01-01"})
    assert reply.status == 400
    assert reply.body["errors"][0]["field"] == "query.from"


@pytest.mark.usefixtures("api_env")
def test_stopping_tracking_is_idempotent_and_keeps_history(api: Api, four: dict[str, str]) -> None:
    first = api.call("DELETE", f"/videos/{four['A']}/tracking")
    assert first.status == 200
    assert first.body["tracking"]["state"] == "stopped"
    again = api.call("DELETE", f"/videos/{four['A']}/tracking")
    assert again.status == 200
    assert again.body["tracking"]["stopped_at"] == first.body["tracking"]["stopped_at"]
    assert api.ok(f"/videos/{four['A']}")["totals"]["views"] == 1100
    assert {i["id"] for i in api.ok("/videos", tracking_state="stopped")["items"]} == {four["A"]}
    assert api.call("DELETE", "/videos/5b3f6f2a-1111-4222-8333-944445555666/tracking").status == 404


@pytest.mark.usefixtures("api_env")
def test_stopping_a_gone_video_is_409(api: Api, db: Database) -> None:
    vid = seed.video(db, state="gone")
    reply = api.call("DELETE", f"/videos/{vid}/tracking")
    assert reply.status == 409
    assert reply.body["errors"][0]["field"] == "path.video_id"


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize("sort", ["views", "likes", "recent", "growth"])
@pytest.mark.parametrize("query", [
    {"health": "failing"}, {"tracking_state": "stopped", "platform": "tiktok"}, {"q": "summer"},
    {"q": "SUMMER", "platform": "tiktok"}, {"q": "summer", "health": "failing"}, {"q": "no such text"},
], ids=["failing", "stopped tiktok", "search", "search tiktok", "search failing", "search without match"])
def test_a_filter_that_finds_its_videos_gives_the_same_pages_from_them_as_walking_the_sort(
        api: Api, db: Database, sort: str, query: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Few videos in a rare state or matching a search: the list starts from them (videos_in_state, the trigram
    # indexes); many: it walks the sort's order and checks each video. Both must give the same pages. Video i:
    # stopped when i % 4 == 3, failing when i % 3 != 0, an Instagram video when i % 5 == 1, "Summer" in its
    # caption when i % 4 == 0 or by a creator "summer_vibes" when i % 7 == 0, views and likes with ties, growth
    # over two days.
    creator = seed.blogger(db, "summer_vibes")
    videos = [seed.video(db, state="stopped" if i % 4 == 3 else "active",
                         platform="instagram" if i % 5 == 1 else "tiktok",
                         caption=f"Summer sale {i}" if i % 4 == 0 else f"clip {i}",
                         blogger=creator if i % 7 == 0 else None) for i in range(24)]
    fetched = list(enumerate(videos[:20]))
    seed.snapshots(db, [(v, seed.days_ago(2), seed.views(10 * (i % 3))) for i, v in fetched])
    seed.snapshots(db, [(v, seed.days_ago(1), seed.views(100 * (i % 5) + 10 * (i % 3))) for i, v in fetched])
    with db.connection().transaction():
        db.connection().execute("update analytics.videos set failure_days = 2 where id = any(%s::uuid[])",
                                ([v for i, v in enumerate(videos) if i % 3],))
    seed.refresh(db)
    found = [r["id"] for r in api.walk_videos(limit=2, sort=sort, **query)]
    monkeypatch.setattr(videos_module, "MOST_CANDIDATES", 1)  # every filter "common": the walk
    assert [r["id"] for r in api.walk_videos(limit=2, sort=sort, **query)] == found
    assert len(found) == len(set(found))
    assert (found == []) == (query.get("q") == "no such text")
