"""viewer_campaign_figures() (migration 20261201153000): a campaign's figures with the caller's access checked
once per statement. It must give exactly the rows campaign_figures() gives under the caller's row-level security,
and nothing to anyone row-level security shows nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from vidstats.dashboard import campaigns
from vidstats.dashboard.models import AnalyticsMode
from vidstats.dashboard.share_links import token_hash
from vidstats.db import Database, Role
from vidstats.read_model import refresh_read_model

from tests.factories import insert_snapshots, make_video
from tests.two_workspaces import OWNER_A, TwoWorkspaces, caller, outsiders, share, two_workspaces

WINDOW = (date.today() - timedelta(days=10), date.today())
FIGURES = "select * from analytics.{}(%s, %s, %s, %s, %s) order by kind, video_id, period_start"


@pytest.fixture
def data(db: Database) -> TwoWorkspaces:
    return two_workspaces(db)


def figures(db: Database, function: str, campaign: UUID, bucket: str | None = "day",
            videos: bool = True) -> list[tuple[Any, ...]]:
    with db.transaction(Role.READER) as conn:
        return conn.execute(FIGURES.format(function).encode(), (campaign, *WINDOW, bucket, videos)).fetchall()



@pytest.mark.parametrize(("bucket", "videos"), [("day", True), ("week", True), (None, False)])
def test_a_member_and_a_share_link_get_exactly_what_row_level_security_shows(
        db: Database, data: TwoWorkspaces, bucket: str | None, videos: bool) -> None:
    for reader in (db.as_caller(caller(OWNER_A, data.a.workspace)), share(db, data.a.share_token)):
        under_rls = figures(reader, "campaign_figures", data.a.campaign, bucket, videos)
        assert next(r for r in under_rls if r[0] == "campaign")[6] is not None  # growth was measured
        assert figures(reader, "viewer_campaign_figures", data.a.campaign, bucket, videos) == under_rls


def test_nobody_else_gets_a_row_of_the_campaign(db: Database, data: TwoWorkspaces) -> None:
    for who, reader in outsiders(db, data).items():
        assert figures(reader, "campaign_figures", data.a.campaign)[0][6] is None, who  # RLS: nothing measured
        assert figures(reader, "viewer_campaign_figures", data.a.campaign) == [], who


def test_a_reader_whose_headers_carry_a_share_links_hash_is_still_only_a_reader(
        db: Database, data: TwoWorkspaces) -> None:
    # The role decides which check applies: the reader role with A's link hash (and B's membership) opens nothing.
    with db.transaction(Role.READER) as conn:
        conn.execute("select set_config('request.headers', %s, true)",
                     (f'{{"x-share-token-hash": "{token_hash(data.a.share_token)}"}}',))
        assert conn.execute(FIGURES.format("viewer_campaign_figures").encode(),
                            (data.a.campaign, *WINDOW, "day", True)).fetchall() == []


def test_a_campaign_video_its_workspace_does_not_track_is_counted_as_row_level_security_shows_it(
        db: Database, data: TwoWorkspaces) -> None:
    # Not something the API writes: a video only B tracks, put in A's campaign by the owner (no policy applies).
    b_only = UUID(make_video(db))
    now = datetime.now(UTC)
    with db.transaction(Role.INGEST) as tx:
        insert_snapshots(tx, [(str(b_only), now - timedelta(days=1), (5000, 50, 5, 0, 0)),
                              (str(b_only), now - timedelta(hours=2), (9000, 90, 9, 0, 0))])
    conn = db.connection()
    with conn.transaction():
        conn.execute("insert into analytics.workspace_videos (workspace_id, video_id) values (%s, %s)",
                     (data.b.workspace, b_only))
        conn.execute("insert into analytics.campaign_videos (campaign_id, video_id, added_at)"
                     " values (%s, %s, now() - interval '3 days')", (data.a.campaign, b_only))
    assert refresh_read_model(db).status == "caught_up"
    as_a = db.as_caller(caller(OWNER_A, data.a.workspace))
    assert figures(as_a, "viewer_campaign_figures", data.a.campaign) == []  # the check refuses the fast path
    under_rls = figures(as_a, "campaign_figures", data.a.campaign)
    analytics = campaigns.campaign_analytics(as_a, data.a.campaign, mode=AnalyticsMode.daily, date_from=WINDOW[0],
                                             date_to=WINDOW[1], limit=100)
    campaign_row = next(r for r in under_rls if r[0] == "campaign")
    assert analytics.increments.views == campaign_row[6]  # the route fell back to what A may see
    points = {r[4]: r[6] for r in under_rls if r[0] == "point"}  # (the route's window starts with the campaign)
    assert analytics.series
    assert all(p.views == points[p.period_start] for p in analytics.series)
    assert {v.video_id for v in analytics.videos} == {data.a.video, data.shared_video}  # never B's video
    # B's video's growth is not A's to see: without it, A's campaign grows by A's videos alone.
    with db.transaction(Role.EXPORT) as tx:  # every workspace's rows
        everything = tx.execute(FIGURES.format("campaign_figures").encode(),
                                (data.a.campaign, *WINDOW, "day", True)).fetchall()
    assert next(r for r in everything if r[0] == "campaign")[6] > campaign_row[6]
    listed = campaigns.list_campaigns(as_a, limit=10, cursor=None, date_from=WINDOW[0], date_to=WINDOW[1])
    assert [c.increments.views for c in listed.items if c.id == data.a.campaign] == [campaign_row[6]]
