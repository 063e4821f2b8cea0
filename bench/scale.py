"""Benchmark: issue 17's "50M snapshots" run, every read-model path at one history size, one table.

    .venv/bin/python -m bench.scale --videos 10000 --days 100          # 1M snapshots: a check (minutes)
    nice -n 19 ionice -c3 .venv/bin/python -m bench.scale --videos 500000 --days 100 --stop-at 13:10
                                                                       # 50M snapshots (hours on 2 cores)

Loads ``--videos`` videos x ``--days`` days of daily snapshots (bench.support's loader, one INSERT ... SELECT
generate_series a day, ending three days ago) and bench.dashboard's 100 workspaces, then times:
- the bulk catch-up of the whole history from watermark 0 (analytics.refresh_materialized_views() until caught
  up: its number of steps, the longest, and the refresh's own per-step timings summed);
- bytes on disk per snapshot (video_statistics' partitions: heap + TOAST, and indexes) and per video of the
  read model (daily, weekly, latest and growth relations, with their indexes);
- `vidstats verify --sample 100` (the CLI's call: vidstats.read_model.verify_read_model_sample, median of 3);
- the nightly-shaped step twice: 10k snapshots, one per video, on a UTC day with no rows yet (the first after
  the catch-up, and the next day's);
- the full nightly: one snapshot for every video on today, then refresh steps until caught up (total, steps and
  the longest);
- the day rollover: the first refreshes of a new UTC day rebuilding video_growth for every video (all steps and
  the longest), as bench.read_model does;
- GET /videos p50/p95 for every sort and filter of bench.dashboard, through the real handler in-process (auth
  on, row-level security, the measured workspace tracking every video);
- the seed's plain REFRESH MATERIALIZED VIEW of the reference daily increments, the catch-up's baseline;
- the full `vidstats verify` (analytics.verify_read_model(); the CLI sets no statement timeout for it).
The last two are cut by a statement timeout at ``--stop-at`` (UTC HH:MM); any step that would start after it is
reported "not measured". Table rows: measure, figure, detail.

``--resume DIR`` goes on with an interrupted run whose history and workspaces were loaded (DIR: its
vidstats-bench-* directory, kept when the process was killed): the server restarts on that cluster, the catch-up
is finished from where it stood (reported as such: not a figure of the whole catch-up) and every later step runs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
from vidstats.db import Database
from vidstats.local.embedded import PROJECT_OWNER, start_embedded, with_login
from vidstats.read_model import verify_read_model, verify_read_model_sample

from bench.dashboard import BENCH_USER, add_workspaces, handler_client, percentiles, videos_cases
from bench.read_model import step_breakdown
from bench.support import bench_database, load_synthetic_history, print_table

NIGHTLY_SHAPED = 10_000  # snapshots, one per video
MAX_ROWS = 100_000  # the refresh's rows per incremental step, as mv_refresh calls it
READ_MODEL = ("mv_video_daily_increments", "mv_video_weekly_increments", "video_latest_statistics", "video_growth")


class Budget:
    """Time left before ``stop_at`` (UTC): steps after it are not measured; long statements are cut at it."""

    def __init__(self, stop_at: dt.datetime | None) -> None:
        self.stop_at = stop_at

    def left_s(self) -> float:
        if self.stop_at is None:
            return float("inf")
        return (self.stop_at - dt.datetime.now(dt.UTC)).total_seconds()

    def timeout_ms(self) -> int:
        """A statement_timeout ending at stop_at (0: none)."""
        left = self.left_s()
        return 0 if left == float("inf") else max(1000, int(left * 1000))


def refresh_until_caught_up(conn: psycopg.Connection) -> list[tuple[float, dict[str, Any]]]:
    """(ms, summary) of each refresh step until caught up."""
    steps = []
    while True:
        started = time.perf_counter()
        row = conn.execute("select analytics.refresh_materialized_views(%s)", (MAX_ROWS,)).fetchone()
        assert row is not None
        steps.append(((time.perf_counter() - started) * 1000, row[0]))
        if row[0]["caught_up"]:
            return steps


def insert_day(conn: psycopg.Connection, days_before_today: int, videos: int, views: int) -> float:
    """One snapshot for each of the first ``videos`` videos at 03:00 UTC ``days_before_today`` ago; its ms."""
    started = time.perf_counter()
    conn.execute(
        "insert into analytics.video_statistics"
        " (video_id, external_video_id, views, likes, comments, reposts, saves, created_at)"
        " select id, external_video_id, %s, 200000, 2000, 200, 20,"
        "        date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'"
        "        - make_interval(days => %s, hours => -3)"
        "   from analytics.videos order by id limit %s", (views, days_before_today, videos))
    return (time.perf_counter() - started) * 1000


def relation_bytes(conn: psycopg.Connection, relation: str) -> tuple[int, int]:
    """(heap + TOAST, indexes) bytes of ``relation`` and, if partitioned, of its partitions."""
    row = conn.execute(
        "select coalesce(sum(pg_table_size(r)), 0), coalesce(sum(pg_indexes_size(r)), 0)"
        "  from (select relid as r from pg_partition_tree(%(r)s::regclass) union select %(r)s::regclass) x",
        {"r": relation}).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@contextlib.contextmanager
def resumed_database(work_dir: Path) -> Iterator[str]:
    """The bench database of an interrupted run, its server restarted on the kept cluster (stopped at the end)."""
    server = start_embedded(work_dir / "pgdata", delete_on_exit=False)
    try:
        yield with_login(server.get_uri(), user=PROJECT_OWNER, dbname="bench")
    finally:
        server.cleanup()


def loaded_workspaces(conn: psycopg.Connection, videos: int) -> tuple[str, str]:
    """add_workspaces' (measured, small) workspace ids in a loaded database, checking it holds ``videos``."""
    row = conn.execute(
        "select (select count(*) from analytics.videos),"
        "       (select workspace_id from analytics.campaigns where name = 'bench'),"
        "       (select m.workspace_id from analytics.workspace_members m join analytics.campaigns c"
        "            on c.name = 'bench' and m.workspace_id <> c.workspace_id where m.user_id = %s)",
        (BENCH_USER,)).fetchone()
    assert row is not None
    if row[0] != videos or row[1] is None or row[2] is None:
        raise SystemExit(f"--resume: the database holds {row[0]:,} videos and {'no' if row[1] is None else 'its'} "
                         f"workspaces; expected {videos:,} videos loaded with their workspaces")
    return str(row[1]), str(row[2])


def load_average() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def load(conn: psycopg.Connection, videos: int, days: int, add: Callable[[str, str, str], None]
         ) -> tuple[str, str]:
    """The history and bench.dashboard's workspaces, then VACUUM ANALYZE; the (measured, small) workspaces."""
    snapshots = videos * days
    started = time.perf_counter()

    def progress(day: int) -> None:
        if day % 10 == 0 or day == days:
            print(f"  loaded {day}/{days} days ({time.perf_counter() - started:,.0f} s, {load_average()})",
                  flush=True)

    # The history ends three days ago: the nightly-shaped days (today - 2, today - 1) and today are new.
    load_synthetic_history(conn, videos, days, end_days_ago=3, progress=progress)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    workspace, small = add_workspaces(conn, videos)
    workspaces_s = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute("vacuum analyze")
    vacuum_s = time.perf_counter() - started
    add("load: history", f"{load_s:,.0f} s", f"{snapshots:,} snapshots, {snapshots / load_s:,.0f} rows/s "
        f"(one INSERT ... SELECT a day, indexes and triggers on); {load_average()}")
    add("load: 100 workspaces, 2 campaigns", f"{workspaces_s:,.0f} s", f"then VACUUM ANALYZE {vacuum_s:,.0f} s")
    return workspace, small


def run(videos: int, days: int, budget: Budget, repeat: int, work_dir: Path, *, resume: bool = False
        ) -> list[list[str]]:
    snapshots = videos * days
    table: list[list[str]] = [["measure", "figure", "detail"]]

    def add(measure: str, figure: str, detail: str = "") -> None:
        table.append([measure, figure, detail])
        print(f"  {measure}: {figure}  {detail}", flush=True)

    def skipped(measure: str, reason: str) -> None:
        add(measure, "not measured", reason)

    def out_of_time(measure: str) -> bool:
        if budget.left_s() > 0:
            return False
        skipped(measure, "out of time (--stop-at)")
        return True

    database = resumed_database(work_dir) if resume else bench_database(work_dir)
    with database as url, psycopg.connect(url, autocommit=True) as conn:
        print(f"{videos:,} videos x {days} days = {snapshots:,} snapshots; {load_average()}", flush=True)
        if resume:
            workspace, small = loaded_workspaces(conn, videos)
            add("load", "resumed", f"the history and workspaces of the interrupted run in {work_dir}")
        else:
            workspace, small = load(conn, videos, days, add)

        # The bulk catch-up from watermark 0, as mv_refresh runs it.
        started = time.perf_counter()
        catch_up = refresh_until_caught_up(conn)
        catch_up_s = time.perf_counter() - started
        bulk = sum(1 for _, s in catch_up if s.get("bulk"))
        add("bulk catch-up, finished after the interruption" if resume else "bulk catch-up from watermark 0",
            f"{catch_up_s:,.1f} s",
            f"{len(catch_up)} steps ({bulk} bulk), longest {max(ms for ms, _ in catch_up) / 1000:,.1f} s; "
            + step_breakdown([s for _, s in catch_up], sum) + f"; {load_average()}")
        conn.execute("analyze")

        heap, indexes = relation_bytes(conn, "analytics.video_statistics")
        add("bytes per snapshot on disk", f"{(heap + indexes) / snapshots:,.1f} B",
            f"video_statistics {heap / 2**30:,.2f} GiB heap + {indexes / 2**30:,.2f} GiB indexes"
            f" = {heap / snapshots:,.1f} + {indexes / snapshots:,.1f} B per row")
        sizes = {name: relation_bytes(conn, f"analytics.{name}") for name in READ_MODEL}
        total = sum(h + i for h, i in sizes.values())
        add("read model bytes per video", f"{total / videos:,.0f} B",
            f"{total / 2**20:,.0f} MiB: " + ", ".join(f"{name} {(h + i) / videos:,.0f}" for name, (h, i)
                                                     in sizes.items()))

        db = Database(url, statement_timeout_ms=0)  # as the CLI runs it (unless DB_STATEMENT_TIMEOUT_MS)
        samples = []
        for _ in range(3):
            started = time.perf_counter()
            report = verify_read_model_sample(db, sample=100)
            samples.append((time.perf_counter() - started) * 1000)
            assert report.ok, report
        add("vidstats verify --sample 100", f"{statistics.median(samples):,.0f} ms",
            f"median of 3 ({', '.join(f'{s:,.0f}' for s in samples)} ms), 0 mismatches")

        # Nightly-shaped: 10k snapshots, one per video, at 03:00 of a UTC day with no rows yet.
        for days_before_today, name in ((2, "first after the catch-up"), (1, "the next day")):
            if out_of_time(f"nightly-shaped step ({name})"):
                continue
            insert_day(conn, days_before_today, NIGHTLY_SHAPED, 20_000_000 + days_before_today)
            steps = refresh_until_caught_up(conn)
            assert sum(s["rows"] for _, s in steps) == min(NIGHTLY_SHAPED, videos), steps
            add(f"nightly-shaped step: {min(NIGHTLY_SHAPED, videos):,} snapshots on a new UTC day ({name})",
                f"{sum(ms for ms, _ in steps):,.0f} ms", f"{len(steps)} step(s); "
                + step_breakdown([s for _, s in steps], sum))

        # The full nightly: every video fetched once today, then refreshed until caught up.
        if not out_of_time("full nightly"):
            insert_ms = insert_day(conn, 0, videos, 30_000_000)
            steps = refresh_until_caught_up(conn)
            assert sum(s["rows"] for _, s in steps) == videos, steps
            add(f"full nightly: {videos:,} snapshots today, refresh until caught up",
                f"{sum(ms for ms, _ in steps) / 1000:,.1f} s",
                f"{len(steps)} steps, longest {max(ms for ms, _ in steps) / 1000:,.1f} s (the INSERT itself "
                f"{insert_ms / 1000:,.1f} s); " + step_breakdown([s for _, s in steps], sum) + f"; {load_average()}")

        # The day rollover: yesterday's growth as the table stands before a day's first refresh (untimed), then
        # refresh steps until the new day's rebuild of video_growth is done.
        if not out_of_time("day rollover"):
            conn.execute("select analytics.rebuild_video_growth((now() at time zone 'UTC')::date - 1)")
            rollover: list[float] = []
            while True:
                started = time.perf_counter()
                row = conn.execute("select analytics.refresh_materialized_views(%s)", (MAX_ROWS,)).fetchone()
                rollover.append((time.perf_counter() - started) * 1000)
                assert row is not None
                assert row[0]["growth_rebuilt"], row[0]
                if not row[0]["growth_rebuild_pending"]:
                    break
            add(f"day rollover: video_growth rebuilt for {videos:,} videos", f"{sum(rollover) / 1000:,.1f} s",
                f"{len(rollover)} steps")
            add("day rollover: its longest step", f"{max(rollover):,.0f} ms", "")
        conn.execute("analyze")

        # GET /videos through the real handler, every sort.
        if not out_of_time("GET /videos"):
            campaign = conn.execute("select id from analytics.campaigns where name = 'bench'").fetchone()
            assert campaign is not None
            handler, _token, _context, call = handler_client(url, workspace, small)
            for name, query in videos_cases(call, str(campaign[0])).items():
                if out_of_time(f"GET /videos {name}"):
                    continue

                def ours(q: dict[str, str] = query) -> object:
                    return call(q)

                ours()  # warm
                p50, p95 = percentiles(ours, repeat)
                add(f"GET /videos {name}", f"p50 {p50:,.1f} ms, p95 {p95:,.1f} ms", f"{repeat} calls")
            handler.database().close()

        # The seed's plain REFRESH MATERIALIZED VIEW of the same history: the catch-up's baseline.
        if not out_of_time("plain REFRESH MATERIALIZED VIEW"):
            conn.execute("create materialized view public.bench_daily_reference as"
                         " select * from analytics.video_daily_increments_reference with no data")
            conn.execute("select set_config('statement_timeout', %s, false)", (str(budget.timeout_ms()),))
            started = time.perf_counter()
            try:
                conn.execute("refresh materialized view public.bench_daily_reference")
            except psycopg.errors.QueryCanceled:
                elapsed = time.perf_counter() - started
                skipped("seed's plain REFRESH MATERIALIZED VIEW", f"cut at --stop-at after {elapsed:,.0f} s"
                        + ("" if resume else f" (the catch-up took {catch_up_s:,.0f} s)"))
            else:
                plain_s = time.perf_counter() - started
                ratio = "" if resume else f"catch-up / plain = {catch_up_s / plain_s:,.2f}x the time; "
                add("seed's plain REFRESH MATERIALIZED VIEW (reference)", f"{plain_s:,.1f} s",
                    ratio + load_average())
            conn.execute("select set_config('statement_timeout', '0', false)")

        # The full verify: one statement over the whole history.
        if not out_of_time("vidstats verify (full)"):
            timeout_ms = budget.timeout_ms()
            started = time.perf_counter()
            try:
                full = verify_read_model(Database(url, statement_timeout_ms=timeout_ms))
            except psycopg.errors.QueryCanceled:
                skipped("vidstats verify (full)", f"cut at --stop-at after {time.perf_counter() - started:,.0f} s")
            else:
                full_s = time.perf_counter() - started
                assert full.ok, full
                add("vidstats verify (full)", f"{full_s:,.1f} s", "0 mismatches")

        print(f"done; {load_average()}", flush=True)
    return table


def next_utc_time(hh_mm: str, now: dt.datetime) -> dt.datetime:
    """The next UTC instant at HH:MM after ``now``: a run started at 23:20 with --stop-at 00:58 stops after
    midnight (taken as today's 00:58, already past, it once skipped every measured step but the catch-up)."""
    hour, minute = (int(x) for x in hh_mm.split(":"))
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at if at > now else at + dt.timedelta(days=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=500_000)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=100, help="GET /videos calls per sort (p50/p95)")
    parser.add_argument("--stop-at", metavar="HH:MM",
                        help="UTC time after which no step starts (its next occurrence: after midnight if earlier)")
    parser.add_argument("--data-dir", type=Path, help="where the throwaway server lives (deleted at the end; "
                                                      "default: a temporary directory)")
    parser.add_argument("--resume", type=Path, metavar="DIR",
                        help="go on with the interrupted run kept in DIR (deleted once this run ends)")
    args = parser.parse_args()
    stop_at = next_utc_time(args.stop_at, dt.datetime.now(dt.UTC)) if args.stop_at else None
    parent = args.data_dir
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    if args.resume is not None:
        table = run(args.videos, args.days, Budget(stop_at), args.repeat, args.resume, resume=True)
        shutil.rmtree(args.resume)
    else:
        with tempfile.TemporaryDirectory(prefix="vidstats-bench-", dir=parent) as tmp:
            table = run(args.videos, args.days, Budget(stop_at), args.repeat, Path(tmp))
    print(f"\n{args.videos:,} videos x {args.days} days ({args.videos * args.days:,} snapshots)")
    print_table(table)


if __name__ == "__main__":
    main()
