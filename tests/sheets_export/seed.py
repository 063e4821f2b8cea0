"""Test data for the export, written through the real roles: ingest for videos and snapshots, reader for
campaigns (what the dashboard does), then the read model refreshed like mv_refresh does."""

from __future__ import annotations

from datetime import UTC, datetime

from vidstats.db import Database, Role
from vidstats.read_model import refresh_read_model
from vidstats.workspaces import track_in_workspace

from tests.factories import TEST_WORKSPACE_ID, insert_snapshots, member

AS_OF = datetime(2026, 10, 25, 20, 0, tzinfo=UTC)
LONG_CAPTION = "Unboxing the new phone " + "#tech " * 40


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


def blogger(db: Database, platform: str, user_id: str, username: str | None) -> str:
    with db.transaction(Role.INGEST) as conn:
        row = conn.execute("insert into analytics.bloggers (platform, platform_user_id, username)"
                           " values (%s, %s, %s) returning id::text", (platform, user_id, username)).fetchone()
    assert row is not None
    return str(row[0])


def video(db: Database, platform: str, external_id: str, url: str, *, blogger_id: str | None, caption: str | None,
          tracking_started_at: datetime) -> str:
    with db.transaction(Role.INGEST) as conn:
        row = conn.execute(
            "insert into analytics.videos (platform, external_video_id, url, blogger_id, caption, tracking_started_at)"
            " values (%s, %s, %s, %s, %s, %s) returning id::text",
            (platform, external_id, url, blogger_id, caption, tracking_started_at)).fetchone()
        assert row is not None
        track_in_workspace(conn, TEST_WORKSPACE_ID, [row[0]])
        # The workspace started tracking it then too ("Tracking since" is the workspace's own start).
        conn.execute("update analytics.workspace_videos set added_at = %s where workspace_id = %s and video_id = %s",
                     (tracking_started_at, TEST_WORKSPACE_ID, row[0]))
    return str(row[0])


def campaign(db: Database, name: str, starts_at: datetime, ends_at: datetime | None,
             videos: list[tuple[str, datetime]]) -> str:
    with member(db).transaction(Role.READER) as conn:
        row = conn.execute("insert into analytics.campaigns (name, starts_at, ends_at) values (%s, %s, %s)"
                           " returning id::text", (name, starts_at, ends_at)).fetchone()
        assert row is not None
        for video_id, added_at in videos:
            conn.execute("insert into analytics.campaign_videos (campaign_id, video_id, added_at) values (%s, %s, %s)",
                         (row[0], video_id, added_at))
    return str(row[0])


def remove_from_campaign(db: Database, campaign_id: str, video_id: str) -> None:
    with member(db).transaction(Role.READER) as conn:
        conn.execute("delete from analytics.campaign_videos where campaign_id = %s and video_id = %s",
                     (campaign_id, video_id))


def small_catalogue(db: Database) -> dict[str, str]:
    """Three videos (one never fetched), one blogger, one open campaign holding two of them."""
    anna = blogger(db, "tiktok", "6890001", "anna.cooks")
    a = video(db, "tiktok", "7301000000000000001", "https://www.tiktok.com/@anna.cooks/video/7301000000000000001",
              blogger_id=anna, caption="Morning routine ☀️ \"quoted\", =SUM(A1)", tracking_started_at=t(1, 8))
    b = video(db, "youtube", "dQw4w9WgXcQ", "https://www.youtube.com/shorts/dQw4w9WgXcQ",
              blogger_id=None, caption=LONG_CAPTION, tracking_started_at=t(25, 19))
    c = video(db, "instagram", "C1a2B3c4D5e", "https://www.instagram.com/reel/C1a2B3c4D5e/",
              blogger_id=None, caption=None, tracking_started_at=t(21, 11, 59))
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [
            (a, t(20, 10), (100, 10, 1, 0, None)),
            (a, t(24, 10), (250, 20, 3, 1, None)),
            (a, t(25, 9, 30), (400, 25, 4, 1, 2)),
            (c, t(21, 12), (1000, 100, 10, 5, 1)),
            (c, t(23, 12), (1500, 120, 12, 5, 3)),
            (c, t(25, 12), (1600, 130, 15, 6, 4)),
        ])
    assert refresh_read_model(db).status == "caught_up"
    launch = campaign(db, "Autumn launch", t(22, 0), None, [(a, t(23, 12)), (c, t(20, 0))])
    return {"a": a, "b": b, "c": c, "campaign": launch}
