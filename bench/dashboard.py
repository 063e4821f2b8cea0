"""Benchmark: the dashboard list endpoint, called in-process like Lambda (API Gateway v2 events, auth on).

    .venv/bin/python -m bench.dashboard                  # 50k videos with 1M and with 5M snapshots
    .venv/bin/python -m bench.dashboard --scales 1M      # quicker

Each scale is 50,000 videos with 20 (1M) or 100 (5M) days of daily snapshots, loaded with generate_series as
the owner, then the read model is brought up to date. There are 100 workspaces: the measured one tracks every
video (the most rows row-level security checks), the 99 others 500 videos each; a campaign of the measured
workspace holds 300 of the videos. Then, through ``dashboard_api.handler.lambda_handler`` with a verified HS256
token of the workspace's owner and its X-Workspace-Id:
- GET /videos                           (default sort: latest views, 50 rows with their 7-day increments)
- GET /videos?sort=growth&period=7d     (7-day view growth)
- GET /videos?campaign_id=...           (a campaign's page, by views)
- GET /videos?cursor=...                (the 20th page of the default sort)
- GET /videos?health=failing            (the 0.5% of videos whose fetches fail, by views; and by recency)
- GET /videos?tracking_state=stopped    (the 0.1% of its videos the workspace stopped tracking, by views)
- GET /videos?q=clip 4242               (a search 11 captions match, by views)
each against the same page computed in SQL from the seed's latest-row view (videos joined with the latest
video_statistics row per video, at read time); and every other sort:
- GET /videos?sort=likes, ?sort=recent  (against the seed's view too)
- GET /videos?sort=growth&period=1d, &period=30d&metric=likes, and the 20th page of the 7-day growth sort
                                        (against the same page summed from the daily increments at read time,
                                        the growth sort's path before video_growth)
- GET /videos in a small workspace     (500 videos, by views; against the seed's view filtered by its tracking)
- GET /campaigns/{id}/analytics?mode=daily for the 300-video campaign and for one of 5,000 videos added
  mid-history (against the same daily series computed at read time from the campaign's raw snapshots, a window
  over each video's snapshots: what a reader would scan without campaign_video_bounds)
- the same two campaigns' analytics in-process (as the caller, without the HTTP layer) against the route before
  migration 20261201130000 (two reads of the campaign's days, every per-video row to Python), in the same run
- GET /shared/{token}?mode=daily, the same two campaigns through a share link (no account: the share role's
  policies), against the member's route above (the same body)
- GET /campaigns, the page with every campaign's totals and growth, against the list plus one analytics call
  per campaign (what the web's campaigns list did before)
p50 / p95 over many calls; the baseline's over fewer.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import psycopg

from bench.support import SEED_LATEST_VIEW, bench_database, catch_up, load_synthetic_history

SCALES = {"1M": 20, "5M": 100}  # days of history for 50k videos
VIDEOS = 50_000
CAMPAIGN_VIDEOS = 300
WORKSPACES = 100
SMALL_WORKSPACE_VIDEOS = 500
BENCH_USER = "bbbbbbbb-0000-4000-8000-00000000be00"
BIG_CAMPAIGN_VIDEOS = 5_000
ISSUER = "https://bench.supabase.co/auth/v1"
SECRET = "bench-secret-bench-secret-bench-secret-0123"  # noqa: S105 (a throwaway local signing key)

PERIOD_SUMS = ("(select coalesce(sum(d.views_delta), 0) from analytics.mv_video_daily_increments d"
               " where d.video_id = p.id and d.date > current_date - 7)")

def read_time_growth(metric: str, days: int, offset: int = 0) -> str:
    return (f"select v.id from analytics.videos v left join (select video_id, sum({metric}_delta) k"
            f" from analytics.mv_video_daily_increments where date > current_date - {days} group by video_id) g"
            f" on g.video_id = v.id order by coalesce(g.k, 0) desc, v.id offset {offset} limit 50")


SEED_VIEW, READ_TIME_SUM = "seed view", "read-time sum"
BASELINES = {
    "default": f"select p.*, {PERIOD_SUMS} from (select * from public.bench_seed_latest"
               " order by views desc nulls last, id limit 50) p",
    "growth": "select p.* from public.bench_seed_latest p left join (select video_id, sum(views_delta) g"
              " from analytics.mv_video_daily_increments where date > current_date - 7 group by video_id) g"
              " on g.video_id = p.id order by coalesce(g.g, 0) desc, p.id limit 50",
    "campaign": f"select p.*, {PERIOD_SUMS} from (select * from public.bench_seed_latest v where exists ("
                " select 1 from analytics.campaign_videos cv where cv.campaign_id = %(campaign)s"
                " and cv.video_id = v.id) order by views desc nulls last, id limit 50) p",
    "page 20": f"select p.*, {PERIOD_SUMS} from (select * from public.bench_seed_latest"
               " order by views desc nulls last, id offset 950 limit 50) p",
    "failing": f"select p.*, {PERIOD_SUMS} from (select * from public.bench_seed_latest"
               " where fetch_health = 'failing' order by views desc nulls last, id limit 50) p",
    "likes": f"select p.*, {PERIOD_SUMS} from (select * from public.bench_seed_latest"
             " order by likes desc nulls last, id limit 50) p",
    "recent": f"select p.*, {PERIOD_SUMS} from (select * from public.bench_seed_latest"
              " order by tracking_started_at desc, id limit 50) p",
    "growth 1d": read_time_growth("views", 1),
    "growth 30d likes": read_time_growth("likes", 30),
    "growth page 20": read_time_growth("views", 7, offset=950),
    "failing recent": f"select p.*, {PERIOD_SUMS} from (select * from public.bench_seed_latest"
                      " where fetch_health = 'failing' order by tracking_started_at desc, id limit 50) p",
    "search": f"select p.*, {PERIOD_SUMS} from (select * from public.bench_seed_latest"
              " where caption ilike '%%clip 4242%%' order by views desc nulls last, id limit 50) p",
    "stopped": f"select p.*, {PERIOD_SUMS} from (select v.* from public.bench_seed_latest v"
               " join analytics.workspace_videos wv on wv.video_id = v.id and wv.workspace_id = %(workspace)s"
               " where wv.stopped_at is not null order by views desc nulls last, id limit 50) p",
    "small workspace": f"select p.*, {PERIOD_SUMS} from (select * from public.bench_seed_latest v where exists ("
                       " select 1 from analytics.workspace_videos wv where wv.workspace_id = %(small)s"
                       " and wv.video_id = v.id) order by views desc nulls last, id limit 50) p",
}
BASELINE_KINDS = {name: READ_TIME_SUM if name.startswith("growth ") else SEED_VIEW for name in BASELINES}
RAW_SNAPSHOTS = "raw snapshots"
# A campaign's daily views growth, from the raw snapshots: each member's snapshots after its entry (and the last
# one at or before it, its baseline), each minus the previous one, summed per UTC day.
RAW_CAMPAIGN_SERIES = """
select (x.created_at at time zone 'UTC')::date as day, sum(x.views - x.previous)
  from (select s.created_at, s.views,
               coalesce(lag(s.views) over (partition by s.video_id order by s.created_at, s.id), s.views)
                   as previous,  -- a video's first value: no growth yet
               s.created_at > m.entry_at as counted
          from (select cv.video_id, greatest(c.starts_at, cv.added_at) as entry_at
                  from analytics.campaign_videos cv join analytics.campaigns c on c.id = cv.campaign_id
                 where cv.campaign_id = %(campaign)s) m
          join analytics.video_statistics s on s.video_id = m.video_id and s.views is not null
           and s.created_at >= coalesce((select max(b.created_at) from analytics.video_statistics b
                                          where b.video_id = m.video_id and b.created_at <= m.entry_at
                                            and b.views is not null), m.entry_at)
       ) x
 where x.counted
 group by 1 having sum(x.views - x.previous) is not null order by 1
"""


# The campaign analytics route before migration 20261201130000 (for a same-run comparison): the per-video growth
# and the series each read the campaign's days (campaign_video_growth's and campaign_series' former bodies,
# inline), and every per-video row came back to Python, which summed the campaign's growth.
PREVIOUS_GROWTH = """
with sums as (
    select x.video_id, sum(x.views)::bigint as views, sum(x.likes)::bigint as likes,
           sum(x.comments)::bigint as comments, sum(x.reposts)::bigint as reposts, sum(x.saves)::bigint as saves
      from analytics.campaign_video_days(%(cid)s, %(first)s, %(last)s) x group by x.video_id)
select v.id, v.platform, v.external_video_id, v.url, v.caption, cv.added_at, greatest(c.starts_at, cv.added_at),
       case when r.first_day <= r.last_day then r.first_day end,
       case when r.first_day <= r.last_day then r.last_day end,
       l.views, l.likes, l.comments, l.reposts, l.saves, g.views, g.likes, g.comments, g.reposts, g.saves
  from analytics.campaign_video_bounds b
 cross join lateral (select greatest(b.entry_day, %(first)s) as first_day, least(b.last_day, %(last)s) as last_day) r
  left join sums g on g.video_id = b.video_id
  join analytics.campaign_videos cv on cv.campaign_id = %(cid)s and cv.video_id = b.video_id
  join analytics.campaigns c on c.id = cv.campaign_id
  join analytics.videos v on v.id = b.video_id
  left join analytics.video_latest_statistics l on l.video_id = v.id
 where b.campaign_id = %(cid)s
 order by g.views desc nulls last, v.id
"""
PREVIOUS_SERIES = """
with sums as (
    select d.date as period_start, sum(d.views)::bigint as views, sum(d.likes)::bigint as likes,
           sum(d.comments)::bigint as comments, sum(d.reposts)::bigint as reposts, sum(d.saves)::bigint as saves,
           sum(d.snapshots)::bigint as snapshots
      from analytics.campaign_video_days(%(cid)s, %(first)s, %(last)s) d group by 1)
select p.period_start, p.period_end, s.views, s.likes, s.comments, s.reposts, s.saves, coalesce(s.snapshots, 0)
  from analytics.series_periods(%(first)s, %(last)s, 'day') p left join sums s on s.period_start = p.period_start
 order by p.period_start
"""


def previous_route(db: Any, campaign_id: Any) -> tuple[dict[str, int | None], list[Any]]:
    """The former route's database work and Python, as the caller: the campaign's growth and daily series."""
    from vidstats.dashboard import campaigns
    from vidstats.dashboard.models import METRICS, CampaignVideoBreakdown, Increments, Totals
    from vidstats.db import Role

    with db.transaction(Role.READER) as conn:
        campaign = campaigns._fetch(conn, campaign_id)
        window = campaigns.counted_days(campaign, None, None)
        assert window is not None
        params = {"cid": campaign_id, "first": window[0], "last": window[1]}
        rows = conn.execute(PREVIOUS_GROWTH, params).fetchall()
        series = conn.execute(PREVIOUS_SERIES, params).fetchall()
        campaigns._totals(conn, campaign_id)
    breakdown = [CampaignVideoBreakdown(
        video_id=r[0], platform=r[1], external_video_id=r[2], url=r[3], caption=r[4], added_at=r[5], entered_at=r[6],
        counted_from=r[7], counted_to=r[8], totals=Totals(**dict(zip(METRICS, r[9:14], strict=True))),
        increments=Increments(**dict(zip(METRICS, r[14:19], strict=True)))) for r in rows]
    known = {m: [getattr(b.increments, m) for b in breakdown if getattr(b.increments, m) is not None]
             for m in METRICS}
    return {m: sum(v) if v else None for m, v in known.items()}, series


def current_route(db: Any, campaign_id: Any) -> tuple[dict[str, int | None], list[Any]]:
    from vidstats.dashboard import campaigns
    from vidstats.dashboard.models import AnalyticsMode

    result = campaigns.campaign_analytics(db, campaign_id, mode=AnalyticsMode.daily, date_from=None, date_to=None,
                                          limit=200)
    return result.increments.model_dump(), [tuple(p.model_dump().values()) for p in result.series]


def load(conn: psycopg.Connection, days: int) -> tuple[str, str]:
    """Loads the history; returns the measured (every video) and a small workspace's ids."""
    load_synthetic_history(conn, VIDEOS, days)
    workspace, small = add_workspaces(conn, VIDEOS)
    catch_up(conn)
    conn.execute("analyze")
    return workspace, small


def add_workspaces(conn: psycopg.Connection, videos: int) -> tuple[str, str]:
    """The workspaces, members, campaigns and fetch health of the bench over the loaded videos; returns the
    measured workspace's id (it tracks every video) and a small one's."""
    workspaces = [str(r[0]) for r in conn.execute(
        "insert into analytics.workspaces (name) select 'bench ' || i from generate_series(1, %s) i returning id",
        (WORKSPACES,)).fetchall()]
    # The measured workspace started tracking each video when it was first tracked (sort=recent: its own start).
    conn.execute("insert into analytics.workspace_videos (workspace_id, video_id, added_at)"
                 " select %s, id, tracking_started_at from analytics.videos", (workspaces[0],))
    conn.execute("insert into analytics.workspace_videos (workspace_id, video_id)"
                 " select w, v.id from unnest(%s::uuid[]) with ordinality as ws(w, n),"
                 " lateral (select id from analytics.videos order by md5(n::text || id::text) limit %s) v",
                 (workspaces[1:], SMALL_WORKSPACE_VIDEOS))
    conn.execute("insert into analytics.workspace_members (workspace_id, user_id, role)"
                 " select w, %s, 'owner' from unnest(%s::uuid[]) w", (BENCH_USER, workspaces[:2]))
    row = conn.execute("insert into analytics.campaigns (workspace_id, name, starts_at)"
                       " values (%s, 'bench', now() - interval '30 days') returning id", (workspaces[0],)).fetchone()
    assert row is not None
    conn.execute("insert into analytics.campaign_videos (campaign_id, video_id, added_at)"
                 " select %s, id, now() - interval '20 days' from analytics.videos order by md5(id::text) limit %s",
                 (row[0], CAMPAIGN_VIDEOS))
    big = conn.execute("insert into analytics.campaigns (workspace_id, name, starts_at)"
                       " values (%s, 'bench big', now() - interval '90 days') returning id",
                       (workspaces[0],)).fetchone()
    assert big is not None
    conn.execute("insert into analytics.campaign_videos (campaign_id, video_id, added_at)"
                 " select %s, id, now() - interval '10 days 5 hours' from analytics.videos"
                 " order by md5('big' || id::text) limit %s", (big[0], BIG_CAMPAIGN_VIDEOS))
    # Fetch health: 0.5% of the videos failing (fetches failed on two days), spread over the views order.
    conn.execute("update analytics.videos set consecutive_failures = 2, failure_days = 2,"
                 " last_error_class = 'transient', last_error = 'bench', last_error_at = now()"
                 " where id in (select id from analytics.videos order by md5('f' || id::text) limit %s)",
                 (videos // 200,))
    # The measured workspace stopped tracking 0.1% of its videos (healthy ones: a stop shows as its health).
    conn.execute("update analytics.workspace_videos set stopped_at = now() where workspace_id = %s and video_id in ("
                 " select id from analytics.videos where fetch_health = 'tracking' order by md5('s' || id::text)"
                 " limit %s)", (workspaces[0], videos // 1000))
    return workspaces[0], workspaces[1]


def event(path: str, query: dict[str, str], token: str, workspace: str) -> dict[str, Any]:
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": urlencode(query),
        "headers": {"x-workspace-id": workspace, **({"authorization": f"Bearer {token}"} if token else {})},
        "queryStringParameters": query or None,
        "requestContext": {"http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "10.0.0.1",
                                    "userAgent": "bench"}, "requestId": "bench", "routeKey": "$default",
                           "stage": "$default", "accountId": "123456789012", "apiId": "bench",
                           "domainName": "bench", "domainPrefix": "bench", "time": "", "timeEpoch": 0},
        "body": None, "isBase64Encoded": False,
    }


def percentiles(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def handler_client(url: str, workspace: str, small: str) -> tuple[Any, str, Any, Callable[[dict[str, str]], Any]]:
    """The dashboard handler in-process on ``url`` (auth on), a token of the bench's user, a Lambda context, and
    ``call(query)``: GET /videos in the measured workspace (in the small one when query's "workspace" is "small")."""
    os.environ.update(DATABASE_URL=url, AUTH_ISSUER=ISSUER, AUTH_JWT_SECRET=SECRET, POWERTOOLS_LOG_LEVEL="WARNING")
    from dashboard_api import handler
    from vidstats.auth import authenticator
    from vidstats.settings import database_settings

    database_settings.cache_clear()
    handler.database.cache_clear()
    authenticator.cache_clear()
    token = jwt.encode({"sub": BENCH_USER, "aud": "authenticated", "iss": ISSUER, "exp": int(time.time()) + 86400},
                       SECRET, algorithm="HS256")
    context = type("Ctx", (), {"function_name": "bench", "memory_limit_in_mb": 512, "aws_request_id": "b",
                               "invoked_function_arn": "arn:aws:lambda:eu-west-1:1:function:bench"})()

    def call(query: dict[str, str]) -> dict[str, Any]:
        in_workspace = small if query.get("workspace") == "small" else workspace
        query = {k: v for k, v in query.items() if k != "workspace"}
        result = handler.lambda_handler(event("/videos", query, token, in_workspace), context)
        assert result["statusCode"] == 200, result
        return json.loads(result["body"])  # type: ignore[no-any-return]

    return handler, token, context, call


def videos_cases(call: Callable[[dict[str, str]], Any], campaign_id: str) -> dict[str, dict[str, str]]:
    """Every GET /videos sort and filter the bench measures, by name (page 20's cursors walked with ``call``)."""
    def cursor_of_page_20(query: dict[str, str]) -> str:
        cursor: str | None = None
        for _ in range(19):
            page = call({**query, "cursor": cursor} if cursor else query)
            cursor = page["next_cursor"]
        assert cursor is not None
        return cursor

    growth_7d = {"sort": "growth", "period": "7d"}
    return {
        "default": {},
        "growth": growth_7d,
        "campaign": {"campaign_id": campaign_id},
        "page 20": {"cursor": cursor_of_page_20({})},
        "failing": {"health": "failing"},
        "failing recent": {"health": "failing", "sort": "recent"},
        "stopped": {"tracking_state": "stopped"},
        "search": {"q": "clip 4242"},
        "likes": {"sort": "likes"},
        "recent": {"sort": "recent"},
        "growth 1d": {"sort": "growth", "period": "1d"},
        "growth 30d likes": {"sort": "growth", "period": "30d", "metric": "likes"},
        "growth page 20": {**growth_7d, "cursor": cursor_of_page_20(growth_7d)},
        "small workspace": {"workspace": "small"},
    }


def run_scale(label: str, days: int, work_dir: Path, rows: list[tuple[str, ...]], repeat: int,
              sorts_only: bool = False) -> None:
    with bench_database(work_dir / label) as url, psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        workspace, small = load(conn, days)
        count = conn.execute("select count(*) from analytics.video_statistics").fetchone()
        print(f"[{label}] {VIDEOS:,} videos, {count[0] if count else 0:,} snapshots loaded and refreshed in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        conn.execute(SEED_LATEST_VIEW)
        campaign = conn.execute("select id from analytics.campaigns where name = 'bench'").fetchone()
        big_campaign = conn.execute("select id from analytics.campaigns where name = 'bench big'").fetchone()
        assert campaign is not None
        assert big_campaign is not None

        handler, token, context, call = handler_client(url, workspace, small)
        cases = videos_cases(call, str(campaign[0]))
        names = {"campaign": campaign[0], "small": small, "workspace": workspace}  # the baselines' parameters
        for name, query in cases.items():
            items = call(query)["items"]

            def ours(q: dict[str, str] = query) -> object:
                return call(q)

            if sorts_only:  # no baseline: its seed view takes seconds a call at 5M
                p50, p95 = percentiles(ours, repeat)
                rows.append((label, f"GET /videos {name}", f"{p50:.1f}", f"{p95:.1f}", "-", "-", "-", "-"))
                print(f"[{label}] {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms", flush=True)
                continue
            baseline_rows = conn.execute(BASELINES[name], names).fetchall()
            assert [i["id"] for i in items] == [str(r[0]) for r in baseline_rows], name  # the same page

            def baseline(n: str = name) -> object:
                return conn.execute(BASELINES[n], names).fetchall()

            p50, p95 = percentiles(ours, repeat)
            b50, b95 = percentiles(baseline, 3)
            kind = BASELINE_KINDS[name]
            rows.append((label, f"GET /videos {name}", f"{p50:.1f}", f"{p95:.1f}", kind, f"{b50:,.0f}", f"{b95:,.0f}",
                         f"{b50 / p50:,.0f}x"))
            print(f"[{label}] {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms; {kind} p50 {b50:,.0f} ms", flush=True)

        from vidstats.dashboard.share_links import new_token, token_hash

        campaign_pages = [("300 videos", campaign[0], CAMPAIGN_VIDEOS),
                          ("5,000 videos", big_campaign[0], BIG_CAMPAIGN_VIDEOS)]
        for name, campaign_id, videos in [] if sorts_only else campaign_pages:
            path = f"/campaigns/{campaign_id}/analytics"

            def analytics(p: str = path, as_token: str = token) -> dict[str, Any]:
                result = handler.lambda_handler(event(p, {"mode": "daily"}, as_token, workspace), context)
                assert result["statusCode"] == 200, result
                return json.loads(result["body"])  # type: ignore[no-any-return]

            def raw(c: Any = campaign_id) -> list[Any]:
                return conn.execute(RAW_CAMPAIGN_SERIES, {"campaign": c}).fetchall()

            ours_points = {p["period_start"]: p["views"] for p in analytics()["series"] if p["views"] is not None}
            assert ours_points == {str(day): views for day, views in raw()}, name  # the same series
            p50, p95 = percentiles(analytics, max(repeat // 4, 10))
            b50, b95 = percentiles(raw, 3)
            rows.append((label, f"GET /campaigns/{{id}}/analytics daily, {name}", f"{p50:.1f}", f"{p95:.1f}",
                         RAW_SNAPSHOTS, f"{b50:,.0f}", f"{b95:,.0f}", f"{b50 / p50:,.0f}x"))
            print(f"[{label}] campaign analytics, {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms; raw snapshots p50"
                  f" {b50:,.0f} ms ({videos} videos)", flush=True)
            # The route before one-pass campaign figures, in the same run, as the same caller (no HTTP layer).
            from uuid import UUID

            from vidstats.db import Caller
            caller_db = handler.database().as_caller(Caller(
                claims={"sub": BENCH_USER, "aud": "authenticated", "role": "authenticated"},
                workspace_id=UUID(str(workspace))))
            assert previous_route(caller_db, campaign_id) == current_route(caller_db, campaign_id), name
            def current(d: Any = caller_db, c: Any = campaign_id) -> object:
                return current_route(d, c)

            def previous(d: Any = caller_db, c: Any = campaign_id) -> object:
                return previous_route(d, c)

            c50, c95 = percentiles(current, max(repeat // 4, 10))
            o50, o95 = percentiles(previous, max(repeat // 4, 10))
            rows.append((label, f"campaign analytics daily (in-process), {name}", f"{c50:.1f}", f"{c95:.1f}",
                         "the route before 20261201130000", f"{o50:,.1f}", f"{o95:,.1f}", f"{o50 / c50:,.2f}x"))
            print(f"[{label}] campaign analytics in-process, {name}: p50 {c50:.1f} ms, p95 {c95:.1f} ms; before"
                  f" one-pass figures p50 {o50:.1f} ms, p95 {o95:.1f} ms", flush=True)
            # The same page through a share link (no account), against the member's route.
            share_token = new_token()
            conn.execute("insert into analytics.campaign_share_links (campaign_id, token_hash)"
                         " values (%s, decode(%s, 'hex'))", (campaign_id, token_hash(share_token)))
            shared_path = f"/shared/{share_token}"
            assert analytics(shared_path, "") == analytics(), name  # the same body
            def shared(p: str = shared_path) -> dict[str, Any]:
                return analytics(p, "")

            s50, s95 = percentiles(shared, max(repeat // 4, 10))
            rows.append((label, f"GET /shared/{{token}} daily, {name}", f"{s50:.1f}", f"{s95:.1f}",
                         "the member's route", f"{p50:,.1f}", f"{p95:,.1f}", f"{p50 / s50:,.2f}x"))
            print(f"[{label}] shared campaign, {name}: p50 {s50:.1f} ms, p95 {s95:.1f} ms; member's route p50"
                  f" {p50:.1f} ms", flush=True)
        # The campaigns list: one page of every campaign with its totals and growth, one request.
        def listing() -> dict[str, Any]:
            result = handler.lambda_handler(event("/campaigns", {}, token, workspace), context)
            assert result["statusCode"] == 200, result
            return json.loads(result["body"])  # type: ignore[no-any-return]

        def per_row() -> list[dict[str, Any]]:  # what the web's list did before: one analytics call per row
            return [json.loads(handler.lambda_handler(event(f"/campaigns/{c['id']}/analytics",
                                                            {"mode": "totals", "limit": "1"}, token, workspace),
                                                      context)["body"]) for c in listing()["items"]]

        if not sorts_only:  # GET /campaigns is not one of the sorts
            listed = {c["id"]: (c["totals"], c["increments"]) for c in listing()["items"]}
            assert listed == {a["campaign"]["id"]: (a["totals"], a["increments"]) for a in per_row()}  # same figures
            l50, l95 = percentiles(listing, max(repeat // 4, 10))
            r50, r95 = percentiles(per_row, max(repeat // 8, 5))
            rows.append((label, f"GET /campaigns ({len(listed)} campaigns with figures)", f"{l50:.1f}", f"{l95:.1f}",
                         "the list + an analytics call per row", f"{r50:,.1f}", f"{r95:,.1f}", f"{r50 / l50:,.2f}x"))
            print(f"[{label}] campaigns list: p50 {l50:.1f} ms, p95 {l95:.1f} ms; one call per row p50 {r50:.1f} ms",
                  flush=True)
        handler.database().close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1M,5M", help="comma-separated, from: " + ", ".join(SCALES))
    parser.add_argument("--repeat", type=int, default=200, help="calls per measure (p50/p95)")
    parser.add_argument("--sorts-only", action="store_true",
                        help="only GET /videos' sorts, without their baselines (the seed view takes seconds a call "
                             "at 5M) nor the campaign pages: a quick check of the sorts' p95")
    args = parser.parse_args()
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory(prefix="vidstats-bench-") as tmp:
        for label in args.scales.split(","):
            run_scale(label, SCALES[label], Path(tmp), rows, args.repeat, args.sorts_only)
    header = ("history", "measure (handler, in-process)", "p50 ms", "p95 ms", "baseline (SQL)", "baseline p50 ms",
              "baseline p95 ms", "p50 speed-up")
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for index, line in enumerate(lines):
        print(" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if index == 0:
            print("-+-".join("-" * width for width in widths))


if __name__ == "__main__":
    main()
