"""Small builders for test data, written through the ingest role like the real writers."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime

import psycopg
from vidstats.db import Database, Role

_counter = itertools.count(1)


def make_video(db: Database, *, platform: str = "tiktok", external_video_id: str | None = None) -> str:
    external_video_id = external_video_id or f"7{next(_counter):018d}"
    with db.transaction(Role.INGEST) as conn:
        row = conn.execute(
            "insert into analytics.videos (platform, external_video_id, url) values (%s, %s, %s) returning id::text",
            (platform, external_video_id, f"https://www.tiktok.com/@someone/video/{external_video_id}"),
        ).fetchone()
    assert row is not None
    return str(row[0])


def insert_snapshots(
    conn: psycopg.Connection,
    rows: Iterable[tuple[str, datetime, Sequence[int | None]] | tuple[str, datetime, Sequence[int | None], str]],
) -> None:
    """Inserts (video_id, created_at, (views, likes, comments, reposts, saves)[, views_kind]) rows, as ingest
    would (views_kind 'views' unless given)."""
    for video_id, created_at, values, *kind in rows:
        conn.execute(
            "insert into analytics.video_statistics"
            " (video_id, external_video_id, views, likes, comments, reposts, saves, created_at, views_kind)"
            " values (%s, (select external_video_id from analytics.videos where id = %s), %s, %s, %s, %s, %s, %s,"
            " %s)",
            (video_id, video_id, *values, created_at, kind[0] if kind else "views"),
        )
