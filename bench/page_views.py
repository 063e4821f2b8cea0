"""Benchmark: the page-view increments service and the Wolf's refresh of page_views_report.

    .venv/bin/python -m bench.page_views                       # increments, then refresh at 1M and 10M rows
    .venv/bin/python -m bench.page_views --scales 1M --seconds 3   # quicker

1. Increments per second through the increments Lambda handler, in-process on a real database: 1 and 4
   writers (separate processes, as separate Lambda instances would be, each with its own connection), each
   sending batches of 20 items, on hot pages (5 pages, the current hour: every writer updates the same rows)
   and on spread pages (50k pages over the last 7 days, mostly new rows).
2. The refresh of page_views_report after 10k changed page_views rows (a mix of updated and new rows), with
   1M and 10M rows of history, against REFRESH MATERIALIZED VIEW (CONCURRENTLY) of the seed's literal design,
   a materialized view joining pages with page_views, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench.support import Table, bench_database

BATCH_ITEMS = 20
HOT_PAGES = 5
SPREAD_PAGES = 50_000
SCALES = {"1M": 2_000, "10M": 20_000}  # pages; 21 days x 24 hours each
DAYS = 21
CHANGED_ROWS = 10_000


# ---- increments -----------------------------------------------------------------------------------------


def _event(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": "/page-views", "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": "/page-views", "protocol": "HTTP/1.1",
                                    "sourceIp": "192.0.2.1", "userAgent": "bench"},
                           "requestId": "bench", "routeKey": "$default", "stage": "$default",
                           "accountId": "1", "apiId": "bench", "domainName": "bench", "domainPrefix": "bench",
                           "time": "27/Nov/2026:08:00:00 +0000", "timeEpoch": 0},
        "body": json.dumps(body), "isBase64Encoded": False,
    }


class _Context:
    function_name = "page_views_increments"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:page_views_increments"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _writer(url: str, mode: str, seconds: float, seed: int, start_at: float) -> tuple[int, int, list[float]]:
    os.environ["DATABASE_URL"] = url
    os.environ["POWERTOOLS_METRICS_NAMESPACE"] = "bench"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the handler's metric lines (EMF) are not the output
    import warnings

    warnings.simplefilter("ignore")
    from page_views_increments.handler import lambda_handler

    rng = random.Random(seed)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    context = _Context()

    def batch() -> dict[str, Any]:
        if mode == "hot":
            items = [{"name": f"/hot/{rng.randrange(HOT_PAGES)}", "date": now.date().isoformat(), "hour": now.hour,
                      "count": rng.randint(1, 3)} for _ in range(BATCH_ITEMS)]
        else:
            items = []
            for _ in range(BATCH_ITEMS):
                at = now - timedelta(hours=rng.randrange(7 * 24))
                items.append({"name": f"/spread/{rng.randrange(SPREAD_PAGES)}", "date": at.date().isoformat(),
                              "hour": at.hour, "count": rng.randint(1, 3)})
        return {"increments": items}

    lambda_handler(_event(batch()), context)  # warm: connection, imports
    while time.time() < start_at:
        time.sleep(0.001)
    batches, latencies = 0, []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        body = batch()
        started = time.perf_counter()
        result = lambda_handler(_event(body), context)
        latencies.append((time.perf_counter() - started) * 1000)
        assert result["statusCode"] == 200, result
        batches += 1
    return batches, batches * BATCH_ITEMS, latencies


def bench_increments(url: str, seconds: float) -> list[tuple[str, int, float, float, float, float]]:
    results = []
    spawn = multiprocessing.get_context("spawn")
    for mode in ("hot", "spread"):
        for writers in (1, 4):
            with spawn.Pool(writers) as pool:
                start_at = time.time() + 3.0  # every writer warmed up and connected before the clock starts
                outcomes = pool.starmap(_writer, [(url, mode, seconds, seed, start_at) for seed in range(writers)])
            batches = sum(o[0] for o in outcomes)
            items = sum(o[1] for o in outcomes)
            latencies = sorted(lat for o in outcomes for lat in o[2])
            p50 = statistics.median(latencies)
            p99 = latencies[int(len(latencies) * 0.99) - 1]
            results.append((mode, writers, batches / seconds, items / seconds, p50, p99))
            print(f"[increments] {mode:6} x{writers}: {items / seconds:,.0f} increments/s", flush=True)
    return results


# ---- refresh ----------------------------------------------------------------------------------------------


def load_history(conn: psycopg.Connection, pages: int) -> int:
    conn.execute("insert into analytics.pages (name) select '/page/' || i from generate_series(1, %s) i", (pages,))
    conn.execute(
        f"""
        insert into analytics.page_views (page_id, date, hour, views, changed_at)
        select p.id, current_date - {DAYS} + d, h, 1 + (p.id * 7 + d * 13 + h) % 500,
               now() - interval '1 day'
          from generate_series(0, {DAYS - 1}) d, generate_series(0, 23) h, analytics.pages p
         order by d, h, p.id
        """.encode())
    # The report as the Wolf leaves it when caught up (filled in one statement here: same rows, faster).
    conn.execute("insert into analytics.page_views_report (page_id, name, date, hour, views, change_id)"
                 " select pv.page_id, p.name, pv.date, pv.hour, pv.views, pv.change_id"
                 "   from analytics.page_views pv join analytics.pages p on p.id = pv.page_id")
    conn.execute("update analytics.page_views_report_state"
                 "   set watermark = (select max(change_id) from analytics.page_views)")
    conn.execute("vacuum analyze analytics.pages, analytics.page_views, analytics.page_views_report")
    row = conn.execute("select count(*) from analytics.page_views").fetchone()
    return int(row[0]) if row else 0


def change_rows(conn: psycopg.Connection, pages: int, rng: random.Random) -> None:
    """10k changed page_views rows through add_page_views: 9k existing buckets updated, 1k new (today)."""
    names, dates, hours, views = [], [], [], []
    today = datetime.now(UTC).date()
    seen: set[tuple[int, int, int]] = set()
    while len(seen) < CHANGED_ROWS - 1_000:
        seen.add((rng.randrange(1, pages + 1), rng.randrange(DAYS), rng.randrange(24)))
    for page, day, hour in seen:
        names.append(f"/page/{page}")
        dates.append(today - timedelta(days=DAYS - day))
        hours.append(hour)
        views.append(rng.randint(1, 5))
    fresh: set[tuple[int, int]] = set()
    while len(fresh) < 1_000:
        fresh.add((rng.randrange(1, pages + 1), rng.randrange(24)))
    for page, hour in fresh:
        names.append(f"/page/{page}")
        dates.append(today)
        hours.append(hour)
        views.append(1)
    for start in range(0, CHANGED_ROWS, 1_000):  # batches of 1,000 buckets, like many writers' requests
        part = slice(start, start + 1_000)
        conn.execute("select analytics.add_page_views(%s::text[], %s::date[], %s::smallint[], %s::bigint[])",
                     (names[part], dates[part], hours[part], views[part]))


def run_scale(label: str, pages: int, table: Table, work_dir: Path) -> None:
    rng = random.Random(7)
    with bench_database(work_dir / label) as url, psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        rows = load_history(conn, pages)
        print(f"[refresh {label}] loaded {rows:,} page_views rows (and the report) in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        conn.execute("create materialized view public.bench_seed_report as"
                     " select p.id as page_id, p.name, pv.date, pv.hour, pv.views"
                     "   from analytics.pages p join analytics.page_views pv on pv.page_id = p.id")
        conn.execute("create unique index on public.bench_seed_report (page_id, date, hour)")

        incremental = []
        for _ in range(3):
            change_rows(conn, pages, rng)
            started = time.perf_counter()
            summary = conn.execute("select analytics.refresh_page_views_report(100000)").fetchone()
            incremental.append((time.perf_counter() - started) * 1000)
            assert summary is not None
            assert (summary[0]["rows"], summary[0]["caught_up"]) == (CHANGED_ROWS, True), summary
        full_ms = []
        for statement in ("refresh materialized view public.bench_seed_report",
                          "refresh materialized view concurrently public.bench_seed_report"):
            started = time.perf_counter()
            conn.execute(statement.encode())
            full_ms.append((time.perf_counter() - started) * 1000)
        table.add(label, "refresh_page_views_report, 10k changed rows", statistics.median(incremental),
                  "REFRESH MATERIALIZED VIEW (seed design)", full_ms[0])
        table.add(label, "refresh_page_views_report, 10k changed rows", statistics.median(incremental),
                  "REFRESH ... CONCURRENTLY (seed design)", full_ms[1])
        verify = conn.execute("select analytics.verify_page_views_report()").fetchone()
        assert verify is not None
        print(f"[refresh {label}] verify after the benchmark: {verify[0]['mismatches']} mismatches", flush=True)
        assert verify[0]["mismatches"] == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1M,10M", help="comma-separated, from: " + ", ".join(SCALES))
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each increments run")
    parser.add_argument("--skip-increments", action="store_true")
    args = parser.parse_args()
    table = Table()
    increments: list[tuple[str, int, float, float, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="vidstats-bench-") as tmp:
        if not args.skip_increments:
            with bench_database(Path(tmp) / "increments") as url:
                increments = bench_increments(url, args.seconds)
        for label in filter(None, args.scales.split(",")):
            run_scale(label, SCALES[label], table, Path(tmp))
    if increments:
        header = ("pages", "writers", "batches/s", f"increments/s ({BATCH_ITEMS}/batch)", "p50 ms", "p99 ms")
        lines = [header] + [(m, str(w), f"{b:,.0f}", f"{i:,.0f}", f"{p50:.1f}", f"{p99:.1f}")
                            for m, w, b, i, p50, p99 in increments]
        widths = [max(len(line[c]) for line in lines) for c in range(len(header))]
        for index, line in enumerate(lines):
            print(" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
            if index == 0:
                print("-+-".join("-" * width for width in widths))
        print()
    if table.rows:
        table.print()


if __name__ == "__main__":
    main()
