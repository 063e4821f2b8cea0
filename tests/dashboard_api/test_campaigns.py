"""Campaigns: the "Totals vs Increments" analytics (growth counted from each video's entry into the campaign to
its end, at snapshot level), list, detail and the commands that create, edit and fill them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from vidstats.db import Database

from tests.dashboard_api import seed
from tests.dashboard_api.conftest import Api

T = seed.today


def day(n: int) -> str:
    return str(T() - timedelta(days=n))


@pytest.fixture
def promo(db: Database) -> dict[str, str]:
    """Campaign from day -10 00:00 (open-ended). P is in it from the start; M is added at day -4 14:30."""
    p = seed.video(db, caption="from the start")
    m = seed.video(db, caption="added mid-campaign")
    outside = seed.video(db, caption="not in the campaign")
    seed.snapshots(db, [
        (p, seed.days_ago(12), seed.views(0)),
        (p, seed.days_ago(11), seed.views(100)),  # growth before the campaign: not counted
        (p, seed.days_ago(10, hour=6), seed.views(150)),  # +50 on day -10: counted
        (p, seed.days_ago(5), seed.views(300)),  # +150: counted
        (m, seed.days_ago(8), seed.views(1000)),  # history before it was added: not counted
        (m, seed.days_ago(4, hour=10), seed.views(1500)),  # before added_at, the same day: not counted
        (m, seed.days_ago(3), seed.views(1600)),  # +100: counted
        (m, seed.days_ago(1), seed.views(1700)),  # +100: counted
        (outside, seed.days_ago(3), seed.views(10)), (outside, seed.days_ago(1), seed.views(99999)),
    ])
    seed.refresh(db)
    cid = seed.campaign(db, "Black Friday", seed.at(T() - timedelta(days=10), 0))
    seed.add_to_campaign(db, cid, p, seed.days_ago(20))
    seed.add_to_campaign(db, cid, m, seed.at(T() - timedelta(days=4), 14, 30))
    return {"id": cid, "P": p, "M": m, "outside": outside}


@pytest.mark.usefixtures("api_env")
def test_totals_are_latest_counts_and_increments_only_growth_inside_the_window(
        api: Api, promo: dict[str, str]) -> None:
    a = api.ok(f"/campaigns/{promo['id']}/analytics", mode="totals")
    assert a["totals"]["views"] == 300 + 1700
    assert a["increments"]["views"] == 200 + 200
    assert a["series"] == []
    per_video = {v["video_id"]: v for v in a["videos"]}
    assert per_video[promo["P"]]["increments"]["views"] == 200
    assert per_video[promo["P"]]["counted_from"] == day(10)
    assert per_video[promo["M"]]["increments"]["views"] == 200  # not 1700 (history), not 700 (same-day snapshot)
    assert per_video[promo["M"]]["counted_from"] == day(4)  # the day it entered: growth after 14:30 counts
    assert per_video[promo["M"]]["entered_at"].startswith(f"{day(4)}T14:30")
    assert per_video[promo["M"]]["totals"]["views"] == 1700
    assert [v["video_id"] for v in a["videos"]] == sorted([promo["P"], promo["M"]])  # tied: by id
    assert (a["date_from"], a["date_to"]) == (day(10), day(0))
    assert a["data_as_of"] is not None
    assert "UTC" in a["counting_rule"]


@pytest.mark.usefixtures("api_env")
def test_daily_series_has_one_point_per_day_with_counted_growth(api: Api, promo: dict[str, str]) -> None:
    a = api.ok(f"/campaigns/{promo['id']}/analytics", mode="daily")
    points = {p["period_start"]: p["views"] for p in a["series"]}
    assert list(points) == [day(n) for n in range(10, -1, -1)]
    assert {d: v for d, v in points.items() if v is not None} == {
        day(10): 50, day(5): 150, day(3): 100, day(1): 100}  # other days: nothing measured (null)
    assert sum(v for v in points.values() if v is not None) == a["increments"]["views"]


@pytest.mark.usefixtures("api_env")
def test_weekly_series_sums_counted_days_per_iso_week(api: Api, promo: dict[str, str]) -> None:
    a = api.ok(f"/campaigns/{promo['id']}/analytics", mode="weekly")
    first = T() - timedelta(days=10)
    expected: dict[str, int] = {}
    for n, v in ((10, 50), (5, 150), (3, 100), (1, 100)):
        d = T() - timedelta(days=n)
        start = str(max(d - timedelta(days=d.weekday()), first))  # the first week starts with the range
        expected[start] = expected.get(start, 0) + v
    got = {p["period_start"]: p["views"] for p in a["series"]}
    assert {k: v for k, v in got.items() if v is not None} == expected
    assert a["series"][0]["period_start"] == str(first)  # not the Monday before: those days are not counted
    assert a["series"][0]["period_end"] == str(first + timedelta(days=6 - first.weekday()))  # its Sunday
    assert a["series"][-1]["period_end"] == day(0)


@pytest.mark.usefixtures("api_env")
def test_from_and_to_narrow_the_counted_days(api: Api, promo: dict[str, str]) -> None:
    a = api.ok(f"/campaigns/{promo['id']}/analytics", **{"from": day(5), "to": day(2)})
    assert a["increments"]["views"] == 150 + 100
    assert (a["date_from"], a["date_to"]) == (day(5), day(2))
    backwards = api.get(f"/campaigns/{promo['id']}/analytics", **{"from": day(2), "to": day(5)})
    assert backwards.status == 400
    assert backwards.body["errors"][0]["field"] == "query.from"


@pytest.mark.usefixtures("api_env")
def test_an_ended_campaign_counts_only_growth_before_its_end(api: Api, promo: dict[str, str]) -> None:
    patched = api.call("PATCH", f"/campaigns/{promo['id']}", body={"ends_at": seed.days_ago(2).isoformat()})
    assert patched.status == 200, patched
    a = api.ok(f"/campaigns/{promo['id']}/analytics")
    assert a["date_to"] == day(2)  # the day it ended at noon
    assert a["increments"]["views"] == 200 + 100  # M's day -1 growth is after the end


@pytest.mark.usefixtures("api_env")
def test_a_campaign_that_has_not_started_counts_nothing(api: Api, promo: dict[str, str]) -> None:
    api.call("PATCH", f"/campaigns/{promo['id']}", body={"starts_at": seed.days_ago(-3).isoformat()})
    a = api.ok(f"/campaigns/{promo['id']}/analytics", mode="daily")
    assert a["increments"]["views"] is None  # nothing measured yet
    assert a["series"] == []
    assert a["date_from"] is None
    assert a["totals"]["views"] == 2000


@pytest.mark.usefixtures("api_env")
def test_campaign_detail_and_list(api: Api, promo: dict[str, str]) -> None:
    detail = api.ok(f"/campaigns/{promo['id']}")
    assert detail["name"] == "Black Friday"
    assert detail["video_count"] == 2
    assert detail["totals"]["views"] == 2000
    created = [api.call("POST", "/campaigns", body={"name": f"C{i}", "starts_at": seed.days_ago(1).isoformat()})
               for i in range(5)]
    assert all(c.status == 201 for c in created)
    seen: list[str] = []
    cursor = None
    while True:
        page = api.ok("/campaigns", limit=2, cursor=cursor)
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6
    assert seen[:5] == [c.body["id"] for c in reversed(created)]
    assert api.get("/campaigns/5b3f6f2a-1111-4222-8333-944445555666").status == 404


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize(("body", "field"), [
    ({"name": "", "starts_at": "2026-01-01T00:00:00Z"}, "body.name"),
    ({"name": "   ", "starts_at": "2026-01-01T00:00:00Z"}, "body.name"),
    ({"name": "x", "starts_at": "2026-01-01T00:00:00"}, "body.starts_at"),  # no time zone
    ({"name": "x", "starts_at": "2026-01-02T00:00:00Z", "ends_at": "2026-01-01T00:00:00Z"}, "body.ends_at"),
    ({"name": "x", "starts_at": "2026-01-01T00:00:00Z", "owner": "me"}, "body.owner"),
    ({"starts_at": "2026-01-01T00:00:00Z"}, "body.name"),
])
def test_invalid_campaigns_are_422_naming_the_field(api: Api, body: dict[str, Any], field: str) -> None:
    reply = api.call("POST", "/campaigns", body=body)
    assert reply.status == 422, reply
    assert field in [e["field"] for e in reply.body["errors"]], reply.body


@pytest.mark.usefixtures("api_env")
def test_malformed_json_is_400(api: Api) -> None:
    reply = api.call("POST", "/campaigns", raw_body="{not json")
    assert reply.status == 400, reply


@pytest.mark.usefixtures("api_env")
def test_patch_changes_only_given_fields_and_refuses_an_inverted_window(api: Api, promo: dict[str, str]) -> None:
    renamed = api.call("PATCH", f"/campaigns/{promo['id']}", body={"name": "Cyber Monday"})
    assert renamed.status == 200
    assert renamed.body["name"] == "Cyber Monday"
    assert renamed.body["starts_at"].startswith(day(10))
    inverted = api.call("PATCH", f"/campaigns/{promo['id']}", body={"ends_at": seed.days_ago(11).isoformat()})
    assert inverted.status == 409
    assert inverted.body["errors"][0]["field"] == "body.ends_at"
    reopened = api.call("PATCH", f"/campaigns/{promo['id']}", body={"ends_at": None})
    assert reopened.status == 200
    assert reopened.body["ends_at"] is None
    assert api.call("PATCH", "/campaigns/5b3f6f2a-1111-4222-8333-944445555666", body={}).status == 404


@pytest.mark.usefixtures("api_env")
def test_adding_videos_keeps_existing_added_at_and_counts_from_the_new_one(
        api: Api, promo: dict[str, str]) -> None:
    reply = api.call("POST", f"/campaigns/{promo['id']}/videos",
                     body={"video_ids": [promo["outside"], promo["M"]], "added_at": seed.days_ago(2).isoformat()})
    assert reply.status == 200, reply
    assert reply.body["added"] == [promo["outside"]]
    assert reply.body["already_present"] == [promo["M"]]
    a = api.ok(f"/campaigns/{promo['id']}/analytics")
    per_video = {v["video_id"]: v for v in a["videos"]}
    assert per_video[promo["M"]]["counted_from"] == day(4)  # unchanged
    assert per_video[promo["outside"]]["counted_from"] == day(2)
    assert per_video[promo["outside"]]["increments"]["views"] == 99999 - 10
    assert a["videos"][0]["video_id"] == promo["outside"]  # highest counted growth first
    unknown = api.call("POST", f"/campaigns/{promo['id']}/videos",
                       body={"video_ids": ["5b3f6f2a-1111-4222-8333-944445555666"]})
    assert unknown.status == 404
    assert unknown.body["errors"][0]["field"] == "body.video_ids"


@pytest.mark.usefixtures("api_env")
def test_the_lists_figures_are_the_analytics_routes_for_every_campaign_and_range(
        api: Api, db: Database, promo: dict[str, str]) -> None:
    # Beside promo: an ended campaign, one that has not started, one without videos; saves are never reported
    # (NULL growth), and the future and empty campaigns count nothing at all (every metric NULL).
    ended = seed.campaign(db, "Ended", seed.at(T() - timedelta(days=9), 0), seed.at(T() - timedelta(days=4), 0))
    seed.add_to_campaign(db, ended, promo["P"], seed.days_ago(20))
    seed.add_to_campaign(db, ended, promo["outside"], seed.days_ago(20))
    future = seed.campaign(db, "Next month", seed.at(T() + timedelta(days=30), 0))
    seed.add_to_campaign(db, future, promo["M"], seed.days_ago(1))
    empty = seed.campaign(db, "Empty", seed.days_ago(3))
    ids = {promo["id"], ended, future, empty}
    ranges: list[dict[str, str]] = [{}, {"from": day(7)}, {"to": day(3)}, {"from": day(5), "to": day(3)},
                                    {"from": day(2), "to": day(2)}, {"from": day(0)}]
    for query in ranges:
        page = api.ok("/campaigns", limit=200, **query)
        listed = {c["id"]: c for c in page["items"] if c["id"] in ids}
        assert set(listed) == ids, query
        for cid, row in listed.items():
            analytics = api.ok(f"/campaigns/{cid}/analytics", mode="totals", limit=1, **query)
            assert (row["totals"], row["increments"], row["date_from"], row["date_to"]) == (
                analytics["totals"], analytics["increments"], analytics["date_from"], analytics["date_to"]), \
                (cid, query)
    whole = {c["id"]: c for c in api.ok("/campaigns", limit=200)["items"]}
    assert whole[promo["id"]]["increments"]["views"] == 50 + 150 + 100 + 100
    assert whole[promo["id"]]["increments"]["saves"] is None  # measured nowhere: unknown, not 0
    assert whole[ended]["increments"]["views"] is not None
    assert set(whole[future]["increments"].values()) == {None}
    assert set(whole[empty]["increments"].values()) == {None}
    assert set(whole[empty]["totals"].values()) == {None}


@pytest.mark.usefixtures("api_env")
def test_the_list_refuses_a_range_that_ends_before_it_starts(api: Api) -> None:
    reply = api.get("/campaigns", **{"from": day(1), "to": day(3)})
    assert reply.status == 400
