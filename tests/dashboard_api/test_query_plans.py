"""The list's sorts read an index in order instead of sorting every video."""

from __future__ import annotations

from tests.conftest import IsolatedDatabase


def test_the_recent_sort_walks_the_workspaces_own_start_index(database: IsolatedDatabase) -> None:
    from psycopg import sql
    from vidstats.dashboard.videos import recency_query

    with database.connect_owner() as conn:
        conn.execute("insert into analytics.workspaces (name) select 'w' || i from generate_series(1, 20) i")
        conn.execute("insert into analytics.videos (platform, external_video_id, url)"
                     " select 'youtube', 'v' || i, 'u' || i from generate_series(1, 3000) i")
        conn.execute("insert into analytics.workspace_videos (workspace_id, video_id, added_at)"
                     " select w.id, v.id, now() - make_interval(mins => (random() * 5000)::int)"
                     "   from analytics.workspaces w cross join analytics.videos v")
        conn.execute("analyze analytics.videos, analytics.workspace_videos")
        params = {"n": 51, "ck": "2026-11-30T00:00:00Z", "cid": "00000000-0000-0000-0000-000000000000"}
        for after_cursor in (False, True):
            plan = "\n".join(r[0] for r in conn.execute(
                sql.SQL("explain ") + recency_query(sql.SQL("true"), after_cursor=after_cursor), params))
            assert "workspace_videos_workspace_id_added_at_idx" in plan, plan
            assert "Sort" not in plan, plan


def test_the_growth_sort_walks_a_video_growth_index_and_stops_after_the_page(database: IsolatedDatabase) -> None:
    from psycopg import sql
    from vidstats.dashboard.videos import growth_table_query

    with database.connect_owner() as conn:
        conn.execute("insert into analytics.videos (platform, external_video_id, url)"
                     " select 'youtube', 'v' || i, 'u' || i from generate_series(1, 3000) i")
        conn.execute("update analytics.video_growth set views = (random() * 100)::int")
        conn.execute("analyze analytics.videos, analytics.video_growth, analytics.read_model_state")
        as_of = conn.execute("select growth_as_of from analytics.read_model_state").fetchone()
        params = {"days": 7, "pt": as_of[0] if as_of else None, "n": 51, "ck": 50,
                  "cid": "00000000-0000-0000-0000-000000000000"}
        for cursor_key in ("none", "value", "null"):
            query = growth_table_query("views", sql.SQL("true"), cursor_key=cursor_key)
            plan = "\n".join(r[0] for r in conn.execute(sql.SQL("explain ") + query, params))
            assert "video_growth_views_idx" in plan, plan
            assert "Seq Scan on video_growth" not in plan, plan
            if cursor_key != "value":
                assert "Sort" not in plan, plan  # the index gives the order: no sort of every video
            else:  # each index range stops after a page; only those (at most three pages) are merged
                assert plan.count("Limit") == 4, plan


def test_a_page_by_a_total_walks_its_index_and_probes_the_workspaces_tracking_only_in_that_order(
        database: IsolatedDatabase) -> None:
    from psycopg import sql
    from vidstats.dashboard.models import FetchHealthState, TrackingState, VideoQuery
    from vidstats.dashboard.videos import total_page_query, video_filters

    with database.connect_owner() as conn:
        conn.execute("insert into analytics.videos (platform, external_video_id, url)"
                     " select 'youtube', 'v' || i, 'u' || i from generate_series(1, 3000) i")
        conn.execute("update analytics.video_latest_statistics set created_at = now(),"
                     " views = (random() * 100000)::int")
        conn.execute("analyze analytics.videos, analytics.video_latest_statistics")
        # ck: the cursor's key, in the views' upper range, so the pages after it hold most videos (below a
        # handful, a sort is the better plan and the planner rightly takes it)
        params = {"n": 51, "ck": 90_000, "cid": "00000000-0000-0000-0000-000000000000", "tracking_state": "active",
                  "health": "failing"}
        for page_range in ("first", "ties", "lower"):
            plan = "\n".join(r[0] for r in conn.execute(
                sql.SQL("explain ") + total_page_query("views", video_filters(VideoQuery()), page_range), params))
            assert "video_latest_statistics_views_idx" in plan, plan
            assert "Sort" not in plan, plan  # the index gives the order; the page stops once full
            assert " videos" not in plan, plan  # no filter reads a video's columns: no probe of videos
        # A filter on the workspace's tracking (a late one) probes above the ordered scan.
        plan = "\n".join(r[0] for r in conn.execute(sql.SQL("explain ") + total_page_query(
            "views", video_filters(VideoQuery(tracking_state=TrackingState.active)), "first"), params))
        assert plan.index("Subquery Scan") < plan.index("video_latest_statistics"), plan
        # A rare health: its candidates come off the health index and are sorted; the workspace's tracking is
        # probed above that sort, in the page's order.
        plan = "\n".join(r[0] for r in conn.execute(sql.SQL("explain ") + total_page_query(
            "views", video_filters(VideoQuery(health=FetchHealthState.failing)), "first"), params))
        assert "videos_fetch_health_idx" in plan, plan
        assert plan.index("SubPlan") < plan.index("Sort"), plan  # the late filter sits above the sort
