"""Bloggers with their videos' totals and growth; /status and data_as_of show how fresh the numbers are."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from vidstats.db import Database

from tests.dashboard_api import seed
from tests.dashboard_api.conftest import Api


@pytest.mark.usefixtures("api_env")
def test_bloggers_carry_their_videos_totals_and_growth(api: Api, db: Database) -> None:
    alice = seed.blogger(db, "alice")
    bob = seed.blogger(db, "bob", platform="instagram")
    a1, a2 = seed.video(db, blogger=alice), seed.video(db, blogger=alice)
    seed.video(db, blogger=bob)
    seed.snapshots(db, [(a1, seed.days_ago(20), seed.views(100)), (a1, seed.days_ago(1), seed.views(400)),
                        (a2, seed.days_ago(3), seed.views(50)), (a2, seed.days_ago(2), seed.views(60))])
    seed.refresh(db)

    page = api.ok("/bloggers")
    assert [b["id"] for b in page["items"]] == [bob, alice]  # newest first
    a = page["items"][1]
    assert a["video_count"] == 2
    assert a["totals"]["views"] == 460
    assert a["increments"]["views"] == 300 + 10
    b = page["items"][0]
    assert b["video_count"] == 1
    assert b["totals"]["views"] is None
    assert b["increments"]["views"] is None  # its video was never fetched: nothing measured
    assert [x["id"] for x in api.ok("/bloggers", platform="instagram")["items"]] == [bob]
    assert [x["id"] for x in api.ok("/bloggers", q="ALI")["items"]] == [alice]
    first = api.ok("/bloggers", limit=1)
    second = api.ok("/bloggers", limit=1, cursor=first["next_cursor"])
    assert [first["items"][0]["id"], second["items"][0]["id"]] == [bob, alice]
    assert second["next_cursor"] is None

    detail = api.ok(f"/bloggers/{alice}", period="1d", until=str(seed.today() - timedelta(days=1)))
    assert [v["id"] for v in detail["videos"]] == [a1, a2]  # most viewed first
    assert detail["increments"]["views"] == 300
    assert detail["videos"][0]["increments"]["views"] == 300
    assert api.get("/bloggers/5b3f6f2a-1111-4222-8333-944445555666").status == 404


@pytest.mark.usefixtures("api_env")
def test_status_reports_lag_until_the_refresh_catches_up(api: Api, db: Database) -> None:
    assert api.ok("/status")["data_as_of"] is None  # never refreshed
    vid = seed.video(db)
    seed.snapshots(db, [(vid, seed.days_ago(1), seed.views(1))])
    seed.refresh(db)
    caught_up = api.ok("/status")
    assert caught_up["oldest_pending_at"] is None
    assert caught_up["lag_seconds"] == 0
    assert caught_up["data_as_of"] == caught_up["last_success_at"]

    seed.snapshots(db, [(vid, seed.days_ago(0, hour=0), seed.views(2))])
    behind = api.ok("/status")
    assert behind["oldest_pending_at"] is not None
    assert behind["lag_seconds"] > 0
    pending = datetime.fromisoformat(behind["oldest_pending_at"])
    assert datetime.fromisoformat(behind["data_as_of"]) <= pending
    assert api.ok("/videos")["data_as_of"] == behind["data_as_of"]
