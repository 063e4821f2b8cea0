"""What every benchmark needs: a tuned throwaway PostgreSQL, migrated, and a table printer with ratios."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from vidstats.local.embedded import PROJECT_OWNER, apply_supabase_roles, start_embedded, tune_for_tests, with_login
from vidstats.migrations import migrate

# The seeds' dashboard source, computed at read time: videos joined with their latest snapshot (the baseline).
SEED_LATEST_VIEW = """
create view public.bench_seed_latest as
    select v.*, s.views, s.likes, s.comments, s.reposts, s.saves, s.created_at as stats_created_at
      from analytics.videos v
      left join (select distinct on (video_id) * from analytics.video_statistics
                  order by video_id, created_at desc, id desc) s on s.video_id = v.id
"""

BENCH_SERVER_SETTINGS = {"shared_buffers": "1GB", "work_mem": "64MB", "maintenance_work_mem": "512MB",
                         "max_wal_size": "8GB"}


@contextlib.contextmanager
def bench_database(work_dir: Path) -> Iterator[str]:
    """A migrated database on a fresh embedded server; yields a URL as the (non-superuser) project owner."""
    # Stopped, not deleted, between the two starts: the settings (shared_buffers needs a restart) live in the
    # cluster. (Until 2026-12 the first server deleted its cluster on stopping: every bench ran on a fresh
    # cluster with PostgreSQL's defaults, 128 MB of shared buffers, fsync on.)
    server = start_embedded(work_dir / "pgdata", delete_on_exit=False)
    superuser_url = server.get_uri()
    tune_for_tests(superuser_url)
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        for name, value in BENCH_SERVER_SETTINGS.items():
            conn.execute(f"alter system set {name} = '{value}'".encode())
    server.cleanup()
    server = start_embedded(work_dir / "pgdata", delete_on_exit=True)
    superuser_url = server.get_uri()
    apply_supabase_roles(superuser_url)
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        conn.execute(f"create database bench owner {PROJECT_OWNER}".encode())
    url = with_login(superuser_url, user=PROJECT_OWNER, dbname="bench")
    migrate(url)
    try:
        yield url
    finally:
        server.cleanup()


@dataclass
class Table:
    """Rows of (scale, measure, ms, baseline, baseline ms), printed with the ratio baseline / measure."""

    rows: list[tuple[str, str, float, str, float]] = field(default_factory=list)

    def add(self, scale: str, measure: str, ms: float, baseline: str, baseline_ms: float) -> None:
        self.rows.append((scale, measure, ms, baseline, baseline_ms))

    def print(self) -> None:
        header = ("scale", "measure", "ms", "baseline (same run)", "baseline ms", "speed-up")
        lines = [header] + [(s, m, f"{ms:,.1f}", b, f"{bms:,.1f}", _ratio(bms / ms)) for s, m, ms, b, bms in
                            self.rows]
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
        for index, line in enumerate(lines):
            print(" | ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)))
            if index == 0:
                print("-+-".join("-" * width for width in widths))


def _ratio(ratio: float) -> str:
    return f"{ratio:,.2f}x" if ratio < 10 else f"{ratio:,.0f}x"


def load_synthetic_history(conn: psycopg.Connection, videos: int, days: int, *, end_days_ago: int = 0,
                           progress: Callable[[int], object] | None = None) -> None:
    """``videos`` videos (platforms in turn) with one snapshot a day for ``days`` days up to now (or up to
    ``end_days_ago`` days ago), inserted day by day so ids grow with time as in production; counters with many
    ties and some NULLs. ``progress(days_loaded)`` is called after each day."""
    conn.execute("select analytics.create_video_statistics_partitions(3, (now() - interval '5 months')::date)")
    conn.execute(
        "insert into analytics.videos (platform, external_video_id, url, caption, tracking_started_at)"
        " select (array['tiktok', 'instagram', 'youtube'])[1 + i %% 3], i::text,"
        "        'https://www.tiktok.com/@bench/video/' || i, 'clip ' || i, now() - make_interval(days => %s)"
        "   from generate_series(1, %s) i", (days + 1, videos))
    # One statement a day: the same rows in the same order as one statement sorting them all, without the sort
    # of the whole history (at 50M snapshots, gigabytes spilled to disk).
    for d in range(int(days)):
        conn.execute(
            f"""
            insert into analytics.video_statistics
                   (video_id, external_video_id, views, likes, comments, reposts, saves, created_at)
            select v.id, v.external_video_id,
                   (n % 1000) * 100 + {d} * (50 + n % 37),
                   case when n % 17 = 0 then null else (n % 1000) * 10 + {d} * (5 + n % 7) end,
                   (n % 100) + {d} * (n % 3), {d} * (n % 5),
                   case when n % 3 = 0 then null else {d} * (n % 11) end,
                   now() - make_interval(days => {int(days) + int(end_days_ago) - d})
                   + make_interval(secs => n % 80000)
              from (select id, external_video_id, external_video_id::int as n from analytics.videos) v
             order by n
            """.encode())
        if progress is not None:
            progress(d + 1)


def add_campaigns(conn: psycopg.Connection, workspace_id: object, shapes: Sequence[tuple[int, int]]
                  ) -> list[tuple[str, int, int]]:
    """A campaign per (videos, days) shape in the workspace: that many videos (a fixed random choice), in the
    campaign for that many days (it started, and they were added, that many days and one ago). Returns each
    (id, videos, days)."""
    made = []
    for members, ran in shapes:
        row = conn.execute("insert into analytics.campaigns (workspace_id, name, starts_at) values (%s,"
                           " %s, now() - make_interval(days => %s)) returning id::text",
                           (workspace_id, f"Bench {members} x {ran}", ran + 1)).fetchone()
        assert row is not None
        conn.execute("insert into analytics.campaign_videos (campaign_id, video_id, added_at) "
                     "select %s, id, now() - make_interval(days => %s) from analytics.videos"
                     " order by md5(%s || id::text) limit %s", (row[0], ran + 1, row[0], members))
        made.append((str(row[0]), members, ran))
    return made


def parse_shapes(text: str) -> list[tuple[int, int]]:
    """``--campaigns 300x30,5000x100``: (videos, days) per campaign."""
    return [(int(n), int(d)) for n, d in (c.split("x") for c in text.split(",") if c)]


def catch_up(conn: psycopg.Connection, max_rows: int = 10_000_000) -> None:
    """Refreshes the read model until it is caught up (as the connection's role: the benches' owner, without the
    functions' statement timeout, so a large history's steps may take minutes)."""
    while True:
        step = conn.execute("select analytics.refresh_materialized_views(%s)", (max_rows,)).fetchone()
        assert step is not None
        if step[0]["caught_up"]:
            return


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Rows of text cells, the first being the header, in aligned columns."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("-+-".join("-" * w for w in widths))
