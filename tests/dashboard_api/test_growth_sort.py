"""GET /videos?sort=growth reads video_growth when the period ends on its as-of day and sums the daily
increments at read time otherwise: the same rows in the same order either way, page by page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from vidstats.db import Database

from tests.conftest import IsolatedDatabase
from tests.dashboard_api import seed
from tests.dashboard_api.conftest import Api


def _set_growth_as_of(database: IsolatedDatabase, days_ago: int | None) -> None:
    """Moves only the recorded as-of day (not the sums): the API must then stop reading the table."""
    with database.connect_owner() as conn:
        conn.execute("update analytics.read_model_state"
                     " set growth_as_of = (now() at time zone 'UTC')::date - %s::int", (days_ago,))


@pytest.fixture
def growing(db: Database) -> list[str]:
    """31 videos: ties at every growth (pairs and a group of 8), negative growth, growth outside 7 days,
    captions and platforms to filter on, some never fetched (growth 0) and a stopped one."""
    vids = [seed.video(db, platform=("tiktok", "youtube", "instagram")[i % 3], caption=f"clip {i % 4}",
                       state="stopped" if i == 5 else None) for i in range(31)]
    rows: list[tuple[str, Any, seed.Counters]] = []
    for i, v in enumerate(vids[:26]):
        base = 1000 + 10 * i
        gain = (i % 6) * 50 if i < 18 else 100  # 8 videos tied at 100
        rows += [(v, seed.days_ago(20), (base, base, base, None, base)),
                 (v, seed.days_ago(3), (base + gain, base - i, base, None, base + i % 2)),
                 (v, seed.days_ago(0, hour=1), (base + gain + i % 3, base - i, base + 1, None, base + i % 2))]
    seed.snapshots(db, rows)
    seed.refresh(db)
    return vids


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize(("period", "metric"), [("7d", "views"), ("1d", "views"), ("30d", "likes"),
                                                ("7d", "saves"), ("30d", "reposts")])
@pytest.mark.parametrize("filters", [{}, {"platform": "youtube"}, {"q": "clip 1"}, {"tracking_state": "active"}])
def test_growth_pages_from_the_table_and_from_read_time_sums_are_identical(
        api: Api, database: IsolatedDatabase, growing: list[str], period: str, metric: str,
        filters: dict[str, str]) -> None:
    query = {"sort": "growth", "period": period, "metric": metric, **filters}
    from_table = api.walk_videos(**query, limit=3)
    ids = [r["id"] for r in from_table]
    assert len(ids) == len(set(ids))  # nothing repeated
    assert [r["id"] for r in api.ok("/videos", **query, limit=200)["items"]] == ids  # nothing skipped

    _set_growth_as_of(database, 1)
    summed = api.walk_videos(**query, limit=3)
    assert summed == from_table
    keys = [(r["increments"][metric] is None, -(r["increments"][metric] or 0), r["id"]) for r in summed]
    assert keys == sorted(keys)


@pytest.mark.usefixtures("api_env")
def test_the_growth_sort_reads_video_growth_only_when_it_ends_on_the_requested_day(
        api: Api, database: IsolatedDatabase, growing: list[str]) -> None:
    last = growing[-1]  # never fetched: growth 0, listed last
    with database.connect_owner() as conn:  # a value only the table has
        conn.execute("update analytics.video_growth set views = 1000000 where video_id = %s and period_days = 7",
                     (last,))
    assert api.ok("/videos", sort="growth", period="7d", limit=1)["items"][0]["id"] == last
    # Another day than the table's: summed at read time, where that video has not grown.
    yesterday = str(seed.today() - timedelta(days=1))
    assert api.ok("/videos", sort="growth", period="7d", until=yesterday, limit=1)["items"][0]["id"] != last
    _set_growth_as_of(database, 1)
    assert api.ok("/videos", sort="growth", period="7d", limit=1)["items"][0]["id"] != last
    _set_growth_as_of(database, None)
    assert api.ok("/videos", sort="growth", period="7d", limit=1)["items"][0]["id"] != last


@pytest.mark.usefixtures("api_env")
def test_a_cursor_from_the_table_continues_by_read_time_sums_after_a_new_day(
        api: Api, database: IsolatedDatabase, growing: list[str]) -> None:
    query = {"sort": "growth", "period": "7d"}
    every = api.walk_videos(**query, limit=200)
    first = api.ok("/videos", **query, limit=10)
    _set_growth_as_of(database, -1)  # the table has moved on to another day: the cursor's day is summed
    assert first["next_cursor"] is not None
    rest = api.walk_videos(first["next_cursor"], **query, limit=10)
    assert first["items"] + rest == every
