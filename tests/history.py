"""A multi-month snapshot history for read-model-wide checks (sampled verify, retention): several snapshots a
day, NULL counters, Instagram answers counting plays or views, a video whose history starts late, a counter
hidden for weeks, and campaigns whose boundaries fall mid-day inside old months."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from vidstats.db import Database, Role

from tests.conftest import IsolatedDatabase
from tests.factories import make_video, member

FIRST_DAY = date(2026, 7, 1)


@dataclass(frozen=True)
class History:
    videos: list[str]
    campaigns: list[str]
    snapshots: int


def build_history(database: IsolatedDatabase, db: Database, *, last_day: date, seed: int = 17,
                  videos: int = 6) -> History:
    """Snapshots from FIRST_DAY through ``last_day`` (monthly partitions created for them), then campaigns."""
    with database.connect_owner() as conn:
        conn.execute("select analytics.create_video_statistics_partitions(0, %s)", (FIRST_DAY,))
    rng = random.Random(seed)
    ids = [make_video(db, platform="instagram" if i % 2 else "tiktok") for i in range(videos)]
    rows: list[tuple[object, ...]] = []
    for index, video in enumerate(ids):
        counters = [rng.randint(0, 1_000) for _ in range(5)]
        plays = rng.randint(0, 1_000)
        start = FIRST_DAY + timedelta(days=index * 9 if index == videos - 1 else 0)  # one starts late
        day = start
        while day <= last_day:
            for _ in range(rng.choice([1, 1, 2, 3, 5])):
                at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
                    seconds=rng.randint(0, 86_399))
                counters = [c + rng.randint(-2, 50) if c is not None else None for c in counters]
                counters = [max(c, 0) for c in counters]
                plays = max(plays + rng.randint(-2, 80), 0)
                values: list[int | None] = [v if rng.random() > 0.15 else None for v in counters]
                if index == 2:
                    values[4] = None  # a counter the platform never reports (saves)
                if index == 3 and date(2026, 8, 3) <= day <= date(2026, 8, 28):
                    values[1] = None  # likes hidden for weeks, then visible again
                kind = "views"
                if index % 2:  # Instagram: some answers count plays
                    kind = rng.choice(["views", "plays"])
                    if kind == "plays":
                        values[0] = plays if rng.random() > 0.1 else None
                rows.append((video, video, *values, at, kind))
            day += timedelta(days=1)
    with db.transaction(Role.INGEST) as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into analytics.video_statistics"
            " (video_id, external_video_id, views, likes, comments, reposts, saves, created_at, views_kind)"
            " values (%s, (select external_video_id from analytics.videos where id = %s), %s, %s, %s, %s, %s,"
            " %s, %s)", rows)
    campaigns: list[str] = []
    with member(db).transaction(Role.READER) as conn:  # an editor of the test workspace
        for name, starts, ends, members in (
            ("Summer", datetime(2026, 7, 15, 10, 30, tzinfo=UTC), datetime(2026, 9, 10, 16, 45, tzinfo=UTC),
             ids[:4]),
            ("Open", datetime(2026, 8, 2, 9, 0, tzinfo=UTC), None, ids[2:]),
            ("One day", datetime(2026, 8, 20, 6, 0, tzinfo=UTC), datetime(2026, 8, 20, 18, 0, tzinfo=UTC), ids[:2]),
        ):
            row = conn.execute("insert into analytics.campaigns (name, starts_at, ends_at) values (%s, %s, %s)"
                               " returning id::text", (name, starts, ends)).fetchone()
            assert row is not None
            campaigns.append(str(row[0]))
            for i, video in enumerate(members):
                # one video joins the open campaign mid-day, weeks after it started
                added = datetime(2026, 8, 17, 13, 0, tzinfo=UTC) if (name == "Open" and i == 1) else starts
                conn.execute("insert into analytics.campaign_videos (campaign_id, video_id, added_at)"
                             " values (%s, %s, %s)", (row[0], video, added))
    return History(videos=ids, campaigns=campaigns, snapshots=len(rows))
