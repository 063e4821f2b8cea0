"""A campaign's daily growth kept by the refresh (migration 20261203100000): the figures asked without per-video
rows (``limit=0``: the campaign screen, the campaign list) read it while it is current, and they always equal the
figures summed from the campaign's video-days (the one definition, read whenever video rows are asked), after
videos join or leave the campaign, after late snapshots, after its window moves and after a bulk catch-up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from vidstats.db import Database, Role
from vidstats.read_model import verify_read_model, verify_read_model_sample

from tests.dashboard_api import seed
from tests.dashboard_api.conftest import Api
from tests.factories import member

pytestmark = pytest.mark.usefixtures("api_env")

RANGES: list[dict[str, Any]] = [{"mode": "daily"}, {"mode": "weekly"}, {"mode": "totals"},
                                {"mode": "daily", "from": str(seed.today() - timedelta(days=3))},
                                {"mode": "weekly", "to": str(seed.today() - timedelta(days=2))}]


@contextmanager
def as_owner(db: Database) -> Iterator[psycopg.Connection]:
    with db.transaction(Role.INGEST) as conn:
        conn.execute("set local role none")
        yield conn


def marks(db: Database, campaign: str) -> int:
    with as_owner(db) as conn:
        row = conn.execute("select marks from analytics.campaign_daily_growth_state where campaign_id = %s",
                           (campaign,)).fetchone()
    assert row is not None
    return int(row[0])


def assert_figures_agree(api: Api, campaign: str) -> None:
    """Without video rows (the kept days when current) and with them (always the video-days): the same growth and
    series, for every mode and range."""
    for query in RANGES:
        defined = api.get(f"/campaigns/{campaign}/analytics", **query, limit=50)
        fast = api.get(f"/campaigns/{campaign}/analytics", **query, limit=0)
        assert defined.status == fast.status == 200, (defined, fast)
        assert fast.body["videos"] == []
        assert fast.body["videos_truncated"] is (defined.body["campaign"]["video_count"] > 0)
        for key in ("increments", "series", "totals", "date_from", "date_to"):
            assert fast.body[key] == defined.body[key], (query, key)
    listed = {c["id"]: c for c in api.get("/campaigns", limit=200).body["items"]}
    whole = api.get(f"/campaigns/{campaign}/analytics", mode="totals", limit=50).body
    assert listed[campaign]["increments"] == whole["increments"]


def campaign_of(db: Database, name: str, videos: list[str], days_ago: int, *, added_days_ago: int | None = None
                ) -> str:
    """A campaign started ``days_ago`` days ago (midnight) holding ``videos``, each added then (or
    ``added_days_ago``)."""
    campaign = seed.campaign(db, name, seed.days_ago(days_ago, 0))
    added = seed.days_ago(days_ago if added_days_ago is None else added_days_ago, 0)
    for video in videos:
        seed.add_to_campaign(db, campaign, video, added)
    return campaign


def history(db: Database, videos: list[str], days: int = 8) -> None:
    seed.snapshots(db, [(video, seed.days_ago(d, hour), seed.views(1000 * (i + 1) + (days - d) * 37 + hour))
                        for i, video in enumerate(videos) for d in range(days, -1, -1) for hour in (3, 15)])


def test_the_kept_days_are_current_after_a_refresh_and_give_the_definitions_figures(api: Api, db: Database) -> None:
    videos = [seed.video(db) for _ in range(3)]
    campaign = seed.campaign(db, "Kept", seed.days_ago(6, 0))
    for index, video in enumerate(videos):
        seed.add_to_campaign(db, campaign, video, seed.days_ago(6 - index, 9))
    history(db, videos)
    seed.refresh(db)
    assert marks(db, campaign) == 0
    with as_owner(db) as conn:
        kept = conn.execute("select count(*) from analytics.campaign_daily_growth where campaign_id = %s",
                            (campaign,)).fetchone()
    assert kept == (7,)  # its 7 counted days
    assert_figures_agree(api, campaign)
    report = verify_read_model(db)
    assert report.ok, report
    assert report.campaign_daily_rows >= 7, report


def test_figures_stay_right_while_a_membership_change_awaits_the_refresh(api: Api, db: Database) -> None:
    videos = [seed.video(db) for _ in range(3)]
    campaign = seed.campaign(db, "Changing", seed.days_ago(7, 0))
    seed.add_to_campaign(db, campaign, videos[0], seed.days_ago(7, 0))
    seed.add_to_campaign(db, campaign, videos[1], seed.days_ago(7, 0))
    history(db, videos)
    seed.refresh(db)
    before = api.get(f"/campaigns/{campaign}/analytics", mode="daily", limit=0).body

    seed.add_to_campaign(db, campaign, videos[2], seed.days_ago(4, 0))  # joins: marked until the refresh
    assert marks(db, campaign) == 1
    assert_figures_agree(api, campaign)
    joined = api.get(f"/campaigns/{campaign}/analytics", mode="daily", limit=0).body
    assert joined["increments"]["views"] > before["increments"]["views"]
    seed.refresh(db)
    assert marks(db, campaign) == 0
    assert api.get(f"/campaigns/{campaign}/analytics", mode="daily", limit=0).body["series"] == joined["series"]
    assert_figures_agree(api, campaign)

    with member(db).transaction(Role.READER) as conn:  # leaves
        conn.execute("delete from analytics.campaign_videos where campaign_id = %s and video_id = %s",
                     (campaign, videos[0]))
    assert marks(db, campaign) == 1
    assert_figures_agree(api, campaign)
    seed.refresh(db)
    assert marks(db, campaign) == 0
    assert_figures_agree(api, campaign)
    assert verify_read_model(db).ok


def test_late_and_out_of_order_snapshots_update_the_kept_days(api: Api, db: Database) -> None:
    videos = [seed.video(db) for _ in range(2)]
    campaign = campaign_of(db, "Late", videos, 6)
    history(db, videos)
    seed.refresh(db)
    before = api.get(f"/campaigns/{campaign}/analytics", mode="daily", limit=0).body
    # A snapshot older than what the read model reflects, between two others (its day and every later one change),
    # and one on a day that had none, in the same refresh.
    seed.snapshots(db, [(videos[0], seed.days_ago(4, 9), seed.views(900_000)),
                        (videos[1], seed.days_ago(3, 22), (None, 5, None, 1, 2))])
    seed.refresh(db)
    assert marks(db, campaign) == 0  # kept up by the step itself, not recomputed in full
    after = api.get(f"/campaigns/{campaign}/analytics", mode="daily", limit=0).body
    assert after["series"] != before["series"]
    assert_figures_agree(api, campaign)
    report = verify_read_model_sample(db, sample=100)  # (a random sample checks one random campaign)
    assert report.ok, report
    assert report.campaign_daily_campaigns == 1, report


def test_a_moved_window_marks_the_campaign_until_the_refresh(api: Api, db: Database) -> None:
    videos = [seed.video(db) for _ in range(2)]
    campaign = campaign_of(db, "Moved", videos, 7, added_days_ago=8)
    history(db, videos)
    seed.refresh(db)
    reply = api.call("PATCH", f"/campaigns/{campaign}",
                     body={"starts_at": seed.days_ago(3, 6).isoformat(), "ends_at": seed.days_ago(1, 6).isoformat()})
    assert reply.status == 200, reply
    assert marks(db, campaign) == 1
    assert_figures_agree(api, campaign)
    seed.refresh(db)
    assert marks(db, campaign) == 0
    assert_figures_agree(api, campaign)


def test_a_step_recomputes_marked_campaigns_up_to_its_budget_and_the_next_step_the_rest(api: Api,
                                                                                        db: Database) -> None:
    videos = [seed.video(db) for _ in range(2)]
    campaigns = [campaign_of(db, f"Marked {n}", videos, 6) for n in range(3)]
    history(db, videos)
    with as_owner(db) as conn:  # one video-day: a single campaign per step
        conn.execute("update analytics.read_model_state set campaign_days_per_step = 1")
    seed.refresh(db)  # (one step: the first campaign)
    assert [marks(db, c) == 0 for c in sorted(campaigns)] == [True, False, False]  # in campaign id order
    for campaign in campaigns:
        assert_figures_agree(api, campaign)
    seed.refresh(db)
    seed.refresh(db)
    assert [marks(db, c) for c in campaigns] == [0, 0, 0]
    for campaign in campaigns:
        assert_figures_agree(api, campaign)


def test_a_bulk_catch_up_recomputes_every_campaign_with_its_last_chunk(api: Api, db: Database) -> None:
    videos = [seed.video(db) for _ in range(4)]
    campaign = campaign_of(db, "Bulk", videos, 6)
    seed.refresh(db)
    with as_owner(db) as conn:
        conn.execute("update analytics.read_model_state set bulk_min_rows = 1, bulk_min_share = 0,"
                     " bulk_chunk_rows = 20")
    history(db, videos)
    with db.transaction(Role.REFRESH) as conn:
        first = conn.execute("select analytics.refresh_materialized_views(100000)").fetchone()
    assert first is not None
    assert first[0]["bulk"], first  # one chunk of several
    assert not first[0]["caught_up"], first
    assert marks(db, campaign) > 0  # not current while the chunks rewrite the daily rows
    assert_figures_agree(api, campaign)
    seed.refresh(db)
    assert marks(db, campaign) == 0
    assert_figures_agree(api, campaign)
    assert verify_read_model(db).ok


def test_a_reader_reads_the_kept_days_only_when_it_may_see_every_video_of_the_campaign(api: Api, db: Database) -> None:
    videos = [seed.video(db) for _ in range(2)]
    campaign = campaign_of(db, "Partly tracked", videos, 5)
    history(db, videos)
    seed.refresh(db)
    window = (seed.today() - timedelta(days=5), seed.today())

    def under_its_own_rights() -> tuple[Any, ...]:
        with member(db).transaction(Role.READER) as conn:
            assert conn.execute("select has_table_privilege('analytics.campaign_daily_growth', 'select')"
                                ).fetchone() == (False,)
            kept = conn.execute("select analytics.campaign_days_kept(%s)", (campaign,)).fetchone()
            fast = conn.execute("select views from analytics.campaign_figures(%s, %s, %s, null, false)"
                                " where kind = 'campaign'", (campaign, *window)).fetchone()
            summed = conn.execute("select sum(views) from analytics.campaign_video_days(%s, %s, %s)",
                                  (campaign, *window)).fetchone()
        assert kept is not None
        assert fast is not None
        assert summed is not None
        return kept[0], fast[0], summed[0]

    kept, fast, summed = under_its_own_rights()
    assert kept is True
    assert fast == summed
    with as_owner(db) as conn:  # the workspace stops tracking one video of the campaign (not through the API)
        conn.execute("delete from analytics.workspace_videos where video_id = %s", (videos[0],))
    kept, fast, summed = under_its_own_rights()
    assert kept is False  # row-level security hides that video's days: the figures sum only the other one's
    assert fast == summed
    assert verify_read_model(db).ok


def test_verify_finds_a_kept_day_that_differs_and_the_fast_figures_read_it(api: Api, db: Database) -> None:
    video = seed.video(db)
    campaign = seed.campaign(db, "Tampered", seed.days_ago(5, 0))
    seed.add_to_campaign(db, campaign, video, seed.days_ago(5, 0))
    history(db, [video])
    seed.refresh(db)
    defined = api.get(f"/campaigns/{campaign}/analytics", mode="totals", limit=1).body["increments"]["views"]
    with as_owner(db) as conn:
        conn.execute("update analytics.campaign_daily_growth set views = views + 1000000"
                     " where campaign_id = %s and date = %s", (campaign, seed.today() - timedelta(days=2)))
    fast = api.get(f"/campaigns/{campaign}/analytics", mode="totals", limit=0).body["increments"]["views"]
    assert fast == defined + 1_000_000  # the screen's figures come from the kept days...
    report = verify_read_model(db)
    assert not report.ok, report  # ...which verify checks
    assert report.campaign_daily_mismatches == 2, report


def test_a_share_links_figures_read_the_kept_days_and_equal_the_members(api: Api, db: Database) -> None:
    videos = [seed.video(db) for _ in range(2)]
    campaign = campaign_of(db, "Shared", videos, 6)
    history(db, videos)
    seed.refresh(db)
    link = api.call("POST", f"/campaigns/{campaign}/share-links", body={})
    assert link.status == 201, link
    anonymous = Api(None, workspace=None)
    for query in RANGES:
        member_figures = api.get(f"/campaigns/{campaign}/analytics", **query, limit=50).body
        shared = anonymous.get(f"/shared/{link.body['token']}", **query, limit=0)
        assert shared.status == 200, shared
        for key in ("increments", "series", "totals", "date_from", "date_to"):
            assert shared.body[key] == member_figures[key], (query, key)
