"""The list's sorts read an index in order instead of sorting every video."""

from __future__ import annotations

from tests.conftest import IsolatedDatabase


def test_the_recent_sort_walks_the_tracking_start_index(database: IsolatedDatabase) -> None:
    with database.connect_owner() as conn:
        conn.execute("insert into analytics.videos (platform, external_video_id, url, tracking_started_at)"
                     " select 'youtube', 'v' || i, 'u' || i, now() - make_interval(mins => i % 500)"
                     "   from generate_series(1, 3000) i")
        conn.execute("analyze analytics.videos")
        plan = "\n".join(r[0] for r in conn.execute(
            "explain select v.id, v.tracking_started_at from analytics.videos v"
            " order by v.tracking_started_at desc, v.id limit 51"))
    assert "videos_tracking_started_at_idx" in plan, plan
    assert "Sort" not in plan, plan
