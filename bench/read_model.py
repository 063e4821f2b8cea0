"""Benchmark: the incremental refresh and the fast view against the seeds' literal design, same run.

    .venv/bin/python -m bench.read_model                 # 1M and 5M snapshots (several minutes)
    .venv/bin/python -m bench.read_model --scales 1M     # quicker

For each history size it loads N videos x 100 days of snapshots, brings the read model up to date, runs one
warm-up refresh, then inserts 10k new snapshots (one per video) three times and times:
- analytics.refresh_materialized_views() on those 10k rows, against
- REFRESH MATERIALIZED VIEW CONCURRENTLY of the reference (full recompute) definition, materialized;
- a top-50-by-views page of videos_with_statistics_fast, against the same page from a latest-row view
  computed at read time (the seed's "joins videos with the latest video_statistics row per video");
- the same refresh when the 10k snapshots are one per video on a UTC day with no rows yet (nightly-shaped);
- the first refresh of a new UTC day, which rebuilds video_growth for every video (no new snapshots), against
  one 7-day growth page summed from the daily increments at read time (what every growth request cost before).
Timings are medians of several runs; ratios compare with the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from bench.support import SEED_LATEST_VIEW, Table, bench_database, load_synthetic_history

SCALES = {"1M": 10_000, "5M": 50_000}  # videos; 100 days each
DAYS = 100
NEW_SNAPSHOTS = 10_000

PAGE = "select * from {relation} order by views desc nulls last, id limit 50"
READ_TIME_GROWTH_PAGE = (
    "select v.id, coalesce(g.k, 0) as k from analytics.videos v left join (select video_id, sum(views_delta) k"
    " from analytics.mv_video_daily_increments where date > current_date - 7 group by video_id) g"
    " on g.video_id = v.id order by k desc, v.id limit 50")


def median_ms(run: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def run_scale(label: str, videos: int, table: Table, work_dir: Path) -> None:
    with bench_database(work_dir / label) as url, psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        load_synthetic_history(conn, videos, DAYS)
        conn.execute("analyze")
        rows = conn.execute("select count(*) from analytics.video_statistics").fetchone()
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        while not conn.execute("select analytics.refresh_materialized_views(10000000)").fetchone()[0][  # type: ignore[index]
                "caught_up"]:
            pass
        catch_up_s = time.perf_counter() - started
        print(f"[{label}] loaded {rows[0] if rows else 0:,} snapshots in {load_s:.0f} s; "
              f"initial refresh {catch_up_s:.0f} s", flush=True)

        conn.execute("create materialized view public.bench_daily_reference as"
                     " select * from analytics.video_daily_increments_reference")
        conn.execute("create unique index on public.bench_daily_reference (video_id, date)")
        conn.execute(SEED_LATEST_VIEW)

        def insert_new_snapshots() -> None:
            conn.execute(
                "insert into analytics.video_statistics"
                " (video_id, external_video_id, views, likes, comments, reposts, saves)"
                " select id, external_video_id, 10000000, 100000, 1000, 100, 10"
                "   from analytics.videos order by id limit %s", (NEW_SNAPSHOTS,))

        incremental = []
        insert_new_snapshots()  # warm-up: the first refresh after a bulk load pays for cold caches
        conn.execute("select analytics.refresh_materialized_views(100000)")
        for _ in range(3):
            insert_new_snapshots()
            started = time.perf_counter()
            summary = conn.execute("select analytics.refresh_materialized_views(100000)").fetchone()
            incremental.append((time.perf_counter() - started) * 1000)
            assert summary is not None
            assert summary[0]["rows"] == NEW_SNAPSHOTS, summary
        refresh_ms = statistics.median(incremental)
        concurrent_ms = median_ms(
            lambda: conn.execute("refresh materialized view concurrently public.bench_daily_reference"), 1)
        table.add(label, "refresh after 10k new snapshots", refresh_ms, "REFRESH ... CONCURRENTLY (reference)",
                  concurrent_ms)

        # Nightly-shaped: every video gets one snapshot on a UTC day that has no rows yet (the nightly refresh's
        # fetches). The days are after today, so the growth periods (ending today) take none of them: the step's
        # daily inserts, weekly and latest-row updates are measured, not a growth update.
        nightly = []
        for ahead in (1, 2, 3):
            conn.execute(
                "insert into analytics.video_statistics"
                " (video_id, external_video_id, views, likes, comments, reposts, saves, created_at)"
                " select id, external_video_id, 20000000 + %s, 200000, 2000, 200, 20,"
                "        date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'"
                "        + make_interval(days => %s, hours => 3)"
                "   from analytics.videos order by id limit %s", (ahead, ahead, NEW_SNAPSHOTS))
            started = time.perf_counter()
            summary = conn.execute("select analytics.refresh_materialized_views(100000)").fetchone()
            nightly.append((time.perf_counter() - started) * 1000)
            assert summary is not None
            assert summary[0]["rows"] == NEW_SNAPSHOTS, summary
        table.add(label, "nightly-shaped: 10k snapshots, one per video, on a new UTC day", statistics.median(nightly),
                  "REFRESH ... CONCURRENTLY (reference)", concurrent_ms)

        fast_ms = median_ms(lambda: conn.execute(PAGE.format(relation="analytics.videos_with_statistics_fast"
                                                             ).encode()).fetchall(), 20)
        seed_ms = median_ms(lambda: conn.execute(PAGE.format(relation="public.bench_seed_latest").encode()
                                                 ).fetchall(), 3)
        table.add(label, "top-50 by views, videos_with_statistics_fast", fast_ms,
                  "same page from the seed's latest-row view", seed_ms)

        def refresh_on_a_new_day() -> None:
            # Yesterday's growth, as the table stands before the day's first refresh (untimed) ...
            conn.execute("select analytics.rebuild_video_growth((now() at time zone 'UTC')::date - 1)")
            steps: list[float] = []
            while True:  # ... then refresh steps until the new day's rebuild is done, a chunk of videos each
                started = time.perf_counter()
                summary = conn.execute("select analytics.refresh_materialized_views(100000)").fetchone()
                steps.append((time.perf_counter() - started) * 1000)
                assert summary is not None
                assert summary[0]["growth_rebuilt"], summary
                if not summary[0]["growth_rebuild_pending"]:
                    break
            rollover.append(sum(steps))
            longest_step.append(max(steps))
            step_counts.append(len(steps))

        rollover: list[float] = []
        longest_step: list[float] = []
        step_counts: list[int] = []
        for _ in range(3):
            refresh_on_a_new_day()
        read_time_ms = median_ms(lambda: conn.execute(READ_TIME_GROWTH_PAGE.encode()).fetchall(), 5)
        table.add(label, f"day rollover: video_growth rebuilt for {videos:,} videos in {step_counts[0]} steps",
                  statistics.median(rollover), "one growth page summed at read time", read_time_ms)
        table.add(label, "day rollover: its longest step", statistics.median(longest_step),
                  "one growth page summed at read time", read_time_ms)

        report = conn.execute("select analytics.verify_read_model()").fetchone()
        assert report is not None
        mismatches = report[0]["daily_mismatches"] + report[0]["weekly_mismatches"] + report[0]["latest_mismatches"]
        mismatches += report[0]["growth_mismatches"]
        print(f"[{label}] verify after the benchmark: {mismatches} mismatches", flush=True)
        assert mismatches == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1M,5M", help="comma-separated, from: " + ", ".join(SCALES))
    args = parser.parse_args()
    table = Table()
    with tempfile.TemporaryDirectory(prefix="vidstats-bench-") as tmp:
        for label in args.scales.split(","):
            run_scale(label, SCALES[label], table, Path(tmp))
    table.print()


if __name__ == "__main__":
    main()
