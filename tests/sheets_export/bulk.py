"""Many videos at once through the ingest role (one statement each), for the 100k-row export and benchmark."""

from __future__ import annotations

from datetime import UTC, datetime

from vidstats.db import Database, Role
from vidstats.read_model import refresh_read_model

BULK_AS_OF = datetime(2026, 10, 25, 20, 0, tzinfo=UTC)


def bulk_catalogue(db: Database, count: int) -> None:
    """Video n (1..count): tiktok, id 7 + n on 18 digits, caption "clip n", tracking since 2026-10-01 00:00,
    snapshots on Oct 24 10:00 (views 10n, likes n, 0, 0, 0) and Oct 25 10:00 (views 11n, likes n + 1, comments 1,
    0, 0): totals (11n, n + 1, 1, 0, 0), growth over 1, 7 and 30 days (n, 1, 1)."""
    with db.transaction(Role.INGEST) as conn:
        # Seeding, not what is measured: on a loaded 2-core machine the read-model triggers of 100k new
        # videos can outlast the functions' 30 s statement timeout.
        conn.execute("set local statement_timeout = '10min'")
        conn.execute(
            "insert into analytics.videos (platform, external_video_id, url, caption, tracking_started_at)"
            " select 'tiktok', '7' || lpad(i::text, 18, '0'),"
            "        'https://www.tiktok.com/@creator/video/7' || lpad(i::text, 18, '0'),"
            "        'clip ' || i, timestamptz '2026-10-01 00:00+00'"
            "   from generate_series(1, %s) i", (count,))
        conn.execute(
            "insert into analytics.video_statistics"
            " (video_id, external_video_id, views, likes, comments, reposts, saves, created_at)"
            " select v.id, v.external_video_id, 10 * n + d * n, n + d, d, 0, 0,"
            "        timestamptz '2026-10-24 10:00+00' + d * interval '1 day'"
            "   from (select id, external_video_id, substr(external_video_id, 2)::bigint as n"
            "           from analytics.videos) v,"
            "        generate_series(0, 1) d")
    assert refresh_read_model(db).status == "caught_up"
