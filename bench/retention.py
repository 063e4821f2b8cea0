"""Benchmark: `vidstats verify --sample N` and snapshot retention on a 1M-snapshot history.

    .venv/bin/python -m bench.retention                  # 5k videos x 100 days x 2 snapshots a day
    .venv/bin/python -m bench.retention --videos 50000   # 10M snapshots (long)

Loads the history (two snapshots per video and UTC day, with NULL counters, up to now), brings the read model
up to date, then times:
- verify_read_model_sample() of 10, 100 and 1,000 random videos against the full verify_read_model() (same run);
- retention of every month partition wholly older than 29 days: each partition's build (the compacted copy,
  writers go on) and swap (one short transaction), rows before and after; then the full verify again (it must
  find 0 mismatches: the read model gives the same answers before and after).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import psycopg
from vidstats.db import Database
from vidstats.retention import run_retention

from bench.support import bench_database, catch_up, print_table

DAYS = 100


def load(conn: psycopg.Connection, videos: int) -> None:
    conn.execute("select analytics.create_video_statistics_partitions(3, (now() - interval '5 months')::date)")
    conn.execute(
        "insert into analytics.videos (platform, external_video_id, url, tracking_started_at)"
        " select (array['tiktok', 'instagram', 'youtube'])[1 + i %% 3], i::text,"
        "        'https://www.tiktok.com/@bench/video/' || i, now() - make_interval(days => %s)"
        "   from generate_series(1, %s) i", (DAYS + 1, videos))
    # Day by day, two fetches a day (ids grow with time as in production); some counters NULL.
    conn.execute(
        f"""
        insert into analytics.video_statistics
               (video_id, external_video_id, views, likes, comments, reposts, saves, created_at)
        select v.id, v.external_video_id,
               (n % 1000) * 100 + (2 * d + f) * (50 + n % 37),
               case when (n + f) % 17 = 0 then null else (n % 1000) * 10 + (2 * d + f) * (5 + n % 7) end,
               (n % 100) + d * (n % 3), d * (n % 5),
               case when n % 3 = 0 then null else d * (n % 11) end,
               now() - make_interval(days => {DAYS} - d) + make_interval(secs => n % 40000 + f * 40000)
          from generate_series(0, {DAYS - 1}) d, generate_series(0, 1) f,
               (select id, external_video_id, external_video_id::int as n from analytics.videos) v
         order by d, f, n
        """.encode())


def timed(run: object) -> float:
    started = time.perf_counter()
    assert callable(run)
    run()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=5_000)
    args = parser.parse_args()
    rows_out: list[list[str]] = [["measure", "ms", "baseline (same run)", "baseline ms", "detail"]]
    with tempfile.TemporaryDirectory(prefix="vidstats-bench-") as work, bench_database(Path(work)) as url, \
            psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        load(conn, args.videos)
        conn.execute("analyze")
        count = conn.execute("select count(*) from analytics.video_statistics").fetchone()
        print(f"loaded {count[0] if count else 0:,} snapshots in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        catch_up(conn)
        print(f"read model caught up in {time.perf_counter() - started:.0f} s", flush=True)
        conn.execute("analyze")

        full_report: list[dict[str, int]] = []
        full_ms = timed(lambda: full_report.append(conn.execute("select analytics.verify_read_model()").fetchone()[0]))  # type: ignore[index]
        for sample in (10, 100, 1_000):
            samples: list[float] = []
            reports: list[dict[str, int]] = []
            for _ in range(3):
                started = time.perf_counter()
                row = conn.execute("select analytics.verify_read_model_sample(%s)", (sample,)).fetchone()
                samples.append((time.perf_counter() - started) * 1000)
                assert row is not None
                reports.append(row[0])
            assert all(r["daily_mismatches"] == 0 and r["campaign_bounds_mismatches"] == 0 for r in reports)
            rows_out.append([f"verify --sample {sample:,}", f"{statistics.median(samples):,.1f}",
                             "full verify", f"{full_ms:,.1f}",
                             f"{reports[0]['sampled_videos']:,} videos, {reports[0]['daily_rows']:,} daily rows"])

        db = Database(url, statement_timeout_ms=3_600_000)
        retention_days = 29
        outcome = run_retention(db, days=retention_days)
        for partition in outcome.partitions:
            rows_out.append([f"retention: {partition.partition} ({partition.status})",
                             f"{(partition.build_ms or 0) + (partition.swap_ms or 0):,.1f}", "", "",
                             f"build {partition.build_ms or 0:,.0f} ms + swap {partition.swap_ms or 0:,.0f} ms "
                             f"(table locked {partition.exclusive_ms or 0:,.0f} ms); "
                             f"{partition.rows_before or 0:,} -> {partition.rows_after or 0:,} rows"])
        db.close()
        after_ms = timed(lambda: full_report.append(conn.execute("select analytics.verify_read_model()").fetchone()[0]))  # type: ignore[index]
        mismatches = {k: v for k, v in full_report[-1].items() if k.endswith("mismatches") and v}
        print(f"full verify after retention: {after_ms:,.0f} ms, mismatches: {mismatches or 'none'}", flush=True)
        assert not mismatches
        count = conn.execute("select count(*) from analytics.video_statistics").fetchone()
        print(f"{count[0] if count else 0:,} snapshots kept", flush=True)
        samples = [timed(lambda: conn.execute("select analytics.verify_read_model_sample(100)").fetchone())
                   for _ in range(3)]
        rows_out.append(["verify --sample 100, after retention", f"{statistics.median(samples):,.1f}",
                         "full verify, after retention", f"{after_ms:,.1f}", ""])
    print_table(rows_out)


if __name__ == "__main__":
    main()
