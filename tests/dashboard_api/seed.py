"""Test data for the dashboard, written through the writers' roles and the real read-model refresh."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from vidstats.db import Database, Role
from vidstats.read_model import refresh_read_model

from tests.factories import insert_snapshots, make_video, member

Counters = tuple[int | None, int | None, int | None, int | None, int | None]


def today() -> date:
    return datetime.now(UTC).date()


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def days_ago(n: int, hour: int = 12) -> datetime:
    return at(today() - timedelta(days=n), hour)


def views(v: int) -> Counters:
    return (v, v // 10, v // 100, 0, None)


def video(db: Database, *, platform: str = "tiktok", caption: str | None = None, blogger: str | None = None,
          tracking_started_at: datetime | None = None, state: str | None = None) -> str:
    video_id = make_video(db, platform=platform)
    with db.transaction(Role.INGEST) as conn:
        conn.execute(
            "update analytics.videos set caption = %s, blogger_id = %s,"
            " tracking_started_at = coalesce(%s, tracking_started_at),"
            " tracking_state = coalesce(%s, tracking_state),"
            " tracking_stopped_at = case when %s = 'stopped' then now() end where id = %s",
            (caption, blogger, tracking_started_at, state, state, video_id))
    return video_id


def blogger(db: Database, username: str, *, platform: str = "tiktok") -> str:
    with db.transaction(Role.INGEST) as conn:
        row = conn.execute(
            "insert into analytics.bloggers (platform, platform_user_id, username, profile_url)"
            " values (%s, %s, %s, %s) returning id::text",
            (platform, f"uid-{username}", username, f"https://www.tiktok.com/@{username}")).fetchone()
    assert row is not None
    return str(row[0])


def snapshots(db: Database, rows: Sequence[tuple[str, datetime, Counters]]) -> None:
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, rows)


def refresh(db: Database) -> None:
    assert refresh_read_model(db).status == "caught_up"


def campaign(db: Database, name: str, starts_at: datetime, ends_at: datetime | None = None) -> str:
    with member(db).transaction(Role.READER) as conn:
        row = conn.execute("insert into analytics.campaigns (name, starts_at, ends_at) values (%s, %s, %s)"
                           " returning id::text", (name, starts_at, ends_at)).fetchone()
    assert row is not None
    return str(row[0])


def add_to_campaign(db: Database, campaign_id: str, video_id: str, added_at: datetime) -> None:
    with member(db).transaction(Role.READER) as conn:
        conn.execute("insert into analytics.campaign_videos (campaign_id, video_id, added_at) values (%s, %s, %s)",
                     (campaign_id, video_id, added_at))
