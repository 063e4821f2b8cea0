"""Benchmark: the incremental refresh and the fast view against the seeds' literal design, same run.

    .venv/bin/python -m bench.read_model                 # 1M and 5M snapshots (several minutes)
    .venv/bin/python -m bench.read_model --scales 1M     # quicker
    .venv/bin/python -m bench.read_model --scales 1M --nightly-only --campaigns 300x30,5000x99   # with campaigns
    .venv/bin/python -m bench.read_model --scales 1M --nightly-only --index-floor   # the step without sort indexes

For each history size it loads N videos x 100 days of snapshots (ending yesterday) and times:
- the catch-up of that whole history from watermark 0, calling analytics.refresh_materialized_views() until
  caught up (bulk steps), against the seed's plain REFRESH MATERIALIZED VIEW of the reference definition, and
  `vidstats verify` (analytics.verify_read_model()) afterwards;
- a nightly-shaped step: 10k snapshots, one per video, on today, the UTC day video_growth's periods end on and
  which has no rows yet (the history ends yesterday), so each moves a daily row, a week, a latest row and three
  growth rows per video; the same step timed several times, each rolled back, with the refresh's own per-step
  timings, against REFRESH MATERIALIZED VIEW CONCURRENTLY of the reference definition (``--nightly-only``: just
  the catch-up and this step; ``--catch-up-only``: just the catch-up, its verify and the plain refresh);
- the refresh of 10k new snapshots (one per video, today) against the same concurrent refresh;
- a top-50-by-views page of videos_with_statistics_fast, against the same page from a latest-row view
  computed at read time (the seed's "joins videos with the latest video_statistics row per video");
- the first refresh of a new UTC day, which rebuilds video_growth for every video (no new snapshots), against
  one 7-day growth page summed from the daily increments at read time (what every growth request cost before).
Timings are medians of several runs; ratios compare with the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg
from vidstats.workspaces import DEFAULT_WORKSPACE_ID

from bench.support import SEED_LATEST_VIEW, Table, add_campaigns, bench_database, load_synthetic_history, parse_shapes

SCALES = {"1M": 10_000, "5M": 50_000}  # videos; 100 days each
DAYS = 100
NEW_SNAPSHOTS = 10_000
NIGHTLY_RUNS = 5  # timed nightly-shaped steps, after a warm-up one

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


def nightly_step(conn: psycopg.Connection, *, index_floor: bool = False) -> tuple[list[float], list[dict[str, Any]]]:
    """The nightly run's refresh: the first 10k videos get one snapshot each on today, the UTC day video_growth's
    periods end on (growth_as_of), and which has no rows yet: a daily row inserted per video, its week and latest
    row updated, its three growth rows moved. The same step is timed several times, each rolled back (so each
    finds the same state; the first warms the caches and is not counted), then once more for good.

    ``index_floor``: also the same step (the per-video relations' alone) with the sort indexes of video_growth,
    then of video_growth and video_latest_statistics, dropped in its rolled-back transaction: what keeping the
    dashboard's sorts indexed costs the step, and what the step costs without it."""
    growth_sorts = sort_indexes(conn, "video_growth")
    all_sorts = growth_sorts + sort_indexes(conn, "video_latest_statistics")
    growth_as_of = conn.execute(
        "select growth_as_of = (now() at time zone 'UTC')::date from analytics.read_model_state"
        " where name = 'video_statistics'").fetchone()
    assert growth_as_of is not None
    assert growth_as_of[0], "growth must already end on today"
    conn.execute(
        "insert into analytics.video_statistics"
        " (video_id, external_video_id, views, likes, comments, reposts, saves, created_at)"
        " select id, external_video_id, 20000000, 200000, 2000, 200, 20,"
        "        least(now(), date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' + interval '3 hours')"
        "   from analytics.videos order by id limit %s", (NEW_SNAPSHOTS,))
    elapsed: list[float] = []
    summaries: list[dict[str, Any]] = []
    for run in range(NIGHTLY_RUNS + 1):
        last = run == NIGHTLY_RUNS
        # The same step without the campaigns' kept daily growth (the per-video relations alone, the entry point
        # before migration 20261203100000), interleaved with it and rolled back: untimed in `elapsed`.
        if run > 0:
            without_campaign_days.append(_rolled_back_step(conn, "refresh_read_model_relations")[0])
        if run > 0 and index_floor:
            without_growth_sort_indexes.append(
                _rolled_back_step(conn, "refresh_read_model_relations", drop_indexes=growth_sorts))
            without_any_sort_index.append(
                _rolled_back_step(conn, "refresh_read_model_relations", drop_indexes=all_sorts))
        ms, summary = _rolled_back_step(conn, "refresh_materialized_views", commit=last)
        assert summary["rows"] == NEW_SNAPSHOTS, summary
        assert not summary["growth_rebuilt"], summary
        assert not summary.get("bulk"), summary
        if run > 0:
            elapsed.append(ms)
            summaries.append(summary)
    return elapsed, summaries


# nightly_step()'s interleaved runs of the per-video relations' step alone (refresh_read_model_relations), and
# (index_floor) of that step without the sort indexes.
without_campaign_days: list[float] = []
without_growth_sort_indexes: list[tuple[float, dict[str, Any]]] = []
without_any_sort_index: list[tuple[float, dict[str, Any]]] = []


def sort_indexes(conn: psycopg.Connection, table: str) -> list[str]:
    """The indexes of analytics.<table> other than its primary key: the ones the dashboard's sorts walk."""
    return [row[0] for row in conn.execute(
        "select format('%%I.%%I', n.nspname, c.relname) from pg_index i join pg_class c on c.oid = i.indexrelid"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where i.indrelid = format('analytics.%%I', %s::text)::regclass and not i.indisprimary order by 1",
        (table,))]


def _rolled_back_step(conn: psycopg.Connection, function: str, *, commit: bool = False,
                      drop_indexes: Sequence[str] = ()) -> tuple[float, dict[str, Any]]:
    # (the rolled-back runs' row versions cleared first, as autovacuum would between two nights; untimed)
    conn.execute("vacuum analytics.video_growth, analytics.video_latest_statistics,"
                 " analytics.mv_video_daily_increments, analytics.mv_video_weekly_increments")
    conn.execute("begin")
    for index in drop_indexes:  # (untimed; restored by the rollback)
        conn.execute(f"drop index {index}".encode())
    started = time.perf_counter()
    summary = conn.execute(f"select analytics.{function}(100000)".encode()).fetchone()
    conn.execute("commit" if commit else "rollback")
    assert summary is not None
    return (time.perf_counter() - started) * 1000, summary[0]


def run_scale(label: str, videos: int, table: Table, work_dir: Path, *, nightly_only: bool = False,
              catch_up_only: bool = False, campaigns: Sequence[tuple[int, int]] = (), index_floor: bool = False
              ) -> None:
    with bench_database(work_dir / label) as url, psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        # The history ends yesterday: today, the day growth is caught up for, is new to every video.
        load_synthetic_history(conn, videos, DAYS, end_days_ago=1)
        # Campaigns (--campaigns): their bounds and kept daily growth are part of every step.
        add_campaigns(conn, DEFAULT_WORKSPACE_ID, [(min(n, videos), min(d, DAYS - 1)) for n, d in campaigns])
        conn.execute("analyze")
        rows = conn.execute("select count(*) from analytics.video_statistics").fetchone()
        load_s = time.perf_counter() - started
        print(f"[{label}] loaded {rows[0] if rows else 0:,} snapshots in {load_s:.0f} s", flush=True)

        # Catching up the whole history from watermark 0, the way mv_refresh does (bounded steps until caught
        # up: bulk chunks for a backlog this large), against the seed's plain REFRESH MATERIALIZED VIEW.
        started = time.perf_counter()
        catch_up_steps = []
        while True:
            summary = conn.execute("select analytics.refresh_materialized_views(100000)").fetchone()
            assert summary is not None
            catch_up_steps.append(summary[0])
            if summary[0]["caught_up"]:
                break
        catch_up_ms = (time.perf_counter() - started) * 1000
        assert all(step.get("bulk") for step in catch_up_steps), catch_up_steps
        print(f"[{label}] bulk catch-up {catch_up_ms / 1000:.1f} s in {len(catch_up_steps)} steps; "
              + step_breakdown(catch_up_steps, sum), flush=True)
        if nightly_only:
            nightly_ms, nightly_steps = nightly_step(conn, index_floor=index_floor)
            table.add(label, "nightly-shaped: 10k snapshots, one per video, on today (growth's day)",
                      statistics.median(nightly_ms), f"bulk catch-up, {len(catch_up_steps)} steps", catch_up_ms)
            print(f"[{label}] nightly-shaped step, median of {len(nightly_ms)}: "
                  + step_breakdown(nightly_steps, statistics.median), flush=True)
            table.add(label, "nightly-shaped step (with the campaigns' kept daily growth)",
                      statistics.median(nightly_ms), "the per-video relations' step alone, interleaved",
                      statistics.median(without_campaign_days))
            if index_floor:
                alone = statistics.median(without_campaign_days)
                for what, runs in (("without video_growth's sort indexes", without_growth_sort_indexes),
                                   ("without any sort index (video_growth's, video_latest_statistics')",
                                    without_any_sort_index)):
                    table.add(label, f"the per-video relations' step {what}", statistics.median(ms for ms, _ in runs),
                              "the same step with them, interleaved", alone)
                    print(f"[{label}] the per-video relations' step {what}, median of {len(runs)}: "
                          + step_breakdown([summary for _, summary in runs], statistics.median), flush=True)
                without_growth_sort_indexes.clear()
                without_any_sort_index.clear()
            without_campaign_days.clear()
            assert_verified(conn, label, "after the nightly-shaped step")
            return
        verify_started = time.perf_counter()
        assert_verified(conn, label, "after the catch-up")
        verify_s = time.perf_counter() - verify_started

        # Created empty: the timed plain refresh below is its one full build (the same work as refreshing it).
        conn.execute("create materialized view public.bench_daily_reference as"
                     " select * from analytics.video_daily_increments_reference with no data")
        conn.execute("create unique index on public.bench_daily_reference (video_id, date)")
        conn.execute(SEED_LATEST_VIEW)
        plain_ms = median_ms(lambda: conn.execute("refresh materialized view public.bench_daily_reference"), 1)
        table.add(label, f"catch-up from watermark 0, {len(catch_up_steps)} bulk steps", catch_up_ms,
                  "REFRESH MATERIALIZED VIEW (reference, plain)", plain_ms)
        print(f"[{label}] vidstats verify {verify_s:.1f} s", flush=True)
        if catch_up_only:
            return

        concurrent_ms = median_ms(
            lambda: conn.execute("refresh materialized view concurrently public.bench_daily_reference"), 1)
        nightly_ms, nightly_steps = nightly_step(conn)
        table.add(label, "nightly-shaped: 10k snapshots, one per video, on today (growth's day)",
                  statistics.median(nightly_ms), "REFRESH ... CONCURRENTLY (reference)", concurrent_ms)
        print(f"[{label}] nightly-shaped step, median of {len(nightly_ms)}: "
              + step_breakdown(nightly_steps, statistics.median), flush=True)
        assert_verified(conn, label, "after the nightly-shaped step")

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
        table.add(label, "refresh after 10k new snapshots", refresh_ms, "REFRESH ... CONCURRENTLY (reference)",
                  concurrent_ms)

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

        assert_verified(conn, label, "after the benchmark")


def step_breakdown(summaries: list[dict[str, Any]], combine: Callable[[list[float]], float]) -> str:
    """The refresh's own per-step timings (its summary's steps_ms), combined over several calls."""
    steps = [s.get("steps_ms") or {} for s in summaries]
    names = list(dict.fromkeys(name for step in steps for name in step))
    return "ms per step: " + ", ".join(
        f"{name} {combine([float(step.get(name, 0.0)) for step in steps]):,.0f}" for name in names)


def assert_verified(conn: psycopg.Connection, label: str, when: str) -> None:
    report = conn.execute("select analytics.verify_read_model()").fetchone()
    assert report is not None
    mismatches = sum(value for key, value in report[0].items() if key.endswith("_mismatches"))
    print(f"[{label}] verify {when}: {mismatches} mismatches", flush=True)
    assert mismatches == 0, report[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1M,5M", help="comma-separated, from: " + ", ".join(SCALES))
    parser.add_argument("--nightly-only", action="store_true",
                        help="only the catch-up and the nightly-shaped step (no reference views, no other cases)")
    parser.add_argument("--catch-up-only", action="store_true",
                        help="only the bulk catch-up, its verify and the plain REFRESH MATERIALIZED VIEW")
    parser.add_argument("--campaigns", default="",
                        help="campaigns in the history, VIDEOSxDAYS comma-separated (e.g. 300x30,5000x99; default:"
                             " none)")
    parser.add_argument("--index-floor", action="store_true",
                        help="with --nightly-only: also the step without the sort indexes (dropped in its"
                             " rolled-back transaction), interleaved")
    args = parser.parse_args()
    table = Table()
    with tempfile.TemporaryDirectory(prefix="vidstats-bench-") as tmp:
        for label in args.scales.split(","):
            run_scale(label, SCALES[label], table, Path(tmp), nightly_only=args.nightly_only,
                      catch_up_only=args.catch_up_only, campaigns=parse_shapes(args.campaigns),
                      index_floor=args.index_floor)
    table.print()


if __name__ == "__main__":
    main()
