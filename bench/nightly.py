"""Nightly refresh benchmark: ``.venv/bin/python -m bench.nightly [--videos N] [--sqs-videos M]``.

The issue: "1M videos enqueue in minutes with bounded memory". On a database of N actively tracked videos
(default 1,000,000; 1% of them in a campaign that ended a month ago, so the walk also stops their tracking):

- keyset walk alone (baseline, same run): the same pages of active videos read by the same query, nothing sent;
- nightly, messages serialized: ``enqueue_nightly_refresh`` into a queue that renders each message body exactly as
  SQS would receive it and drops it (walk + stop tracking + message building + JSON);
- nightly into SQS (moto, in process) for M videos: the real ``SqsFetchQueue`` and boto3 request path. moto answers
  in microseconds, so add the real SendMessageBatch latency times the calls shown.

Memory: the process's peak RSS growth during the run (a page of videos and its messages, whatever N).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import psycopg
from moto import mock_aws
from vidstats.db import Database, Role
from vidstats.ingestion.fetch_queue import Message, SqsFetchQueue
from vidstats.ingestion.messages import dump_message
from vidstats.ingestion.nightly import NightlyReport, enqueue_nightly_refresh
from vidstats.ingestion.videos_repository import active_videos_page

from bench.support import bench_database, print_table

GRACE = timedelta(days=7)


class SerializingQueue:
    """Renders every message body as it would be sent, counts it, keeps nothing."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    def send(self, messages: Sequence[Message]) -> int:
        for message in messages:
            self.bytes += len(dump_message(message))
        self.messages += len(messages)
        return len(messages)


def load(url: str, videos: int) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into analytics.videos (platform, external_video_id, url)"
            " select (array['tiktok', 'instagram', 'youtube'])[1 + g %% 3], 'n' || lpad(g::text, 9, '0'),"
            "        'https://example.invalid/' || g from generate_series(1, %s) g", (videos,))
        row = conn.execute("insert into analytics.campaigns (workspace_id, name, starts_at, ends_at)"
                           " values ('00000000-0000-4000-8000-000000000001', 'over',"
                           " now() - interval '90 days', now() - interval '30 days') returning id"
                           ).fetchone()
        assert row is not None
        conn.execute("insert into analytics.campaign_videos (campaign_id, video_id)"
                     " select %s, id from analytics.videos where md5(id::text) < '03'", (row[0],))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze analytics.videos")
        conn.execute("vacuum analyze analytics.campaign_videos")


def reset_tracking(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("update analytics.videos set tracking_state = 'active', tracking_stopped_at = null"
                     " where tracking_state <> 'active'")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze analytics.videos")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def keyset_walk(db: Database, page_size: int) -> tuple[float, int]:
    started = time.perf_counter()
    after, seen = None, 0
    while True:
        with db.transaction(Role.INGEST) as conn:
            page = active_videos_page(conn, after=after, limit=page_size, grace=GRACE)
        if not page:
            break
        seen += len(page)
        after = page[-1].id
    return time.perf_counter() - started, seen


def timed(run: Callable[[], NightlyReport]) -> tuple[float, float, NightlyReport]:
    before = peak_rss_mb()
    started = time.perf_counter()
    report = run()
    return time.perf_counter() - started, peak_rss_mb() - before, report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1_000_000)
    parser.add_argument("--sqs-videos", type=int, default=100_000, help="videos sent through moto SQS")
    parser.add_argument("--message-size", type=int, default=50)
    parser.add_argument("--page-size", type=int, default=2_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-nightly-") as work, bench_database(Path(work)) as url:
        started = time.perf_counter()
        load(url, args.videos)
        print(f"loaded {args.videos:,} videos in {time.perf_counter() - started:.1f} s")
        db = Database(url, application_name="bench-nightly")
        options: dict[str, Any] = {"message_size": args.message_size, "page_size": args.page_size, "grace": GRACE}
        try:
            keyset_walk(db, args.page_size)  # warm the cache: every run below reads warm pages
            walk_s, walked = keyset_walk(db, args.page_size)
            serializing = SerializingQueue()
            night = date(2026, 11, 27)
            nightly_s, nightly_rss, report = timed(
                lambda: enqueue_nightly_refresh(db, serializing, run_date=night, **options))
            reset_tracking(url)
            with mock_aws():
                sqs = boto3.client("sqs", region_name="eu-west-1")
                queue_url = sqs.create_queue(QueueName="fetch")["QueueUrl"]
                calls: list[int] = []
                sqs.meta.events.register("before-call.sqs.SendMessageBatch", lambda **_: calls.append(1))
                limit = Database(url, application_name="bench-nightly-sqs")
                try:
                    sqs_s, sqs_rss, sqs_report = timed(lambda: enqueue_nightly_refresh(
                        limit, SqsFetchQueue(sqs, queue_url), run_date=night,
                        time_left_s=_stop_after_pages(-(-args.sqs_videos // args.page_size)), reserve_s=0.0,
                        **options))
                finally:
                    limit.close()
        finally:
            db.close()
    print()
    rows = [("run", "videos", "messages", "seconds", "videos/s", "vs keyset walk", "peak RSS growth")]
    rows.append(("keyset walk alone (baseline)", f"{walked:,}", "-", f"{walk_s:.1f}", f"{walked / walk_s:,.0f}",
                 "1.00x", "-"))
    rows.append(("nightly, messages serialized", f"{report.videos_enqueued:,}", f"{report.messages_sent:,}",
                 f"{nightly_s:.1f}", f"{report.videos_enqueued / nightly_s:,.0f}",
                 f"{(report.videos_enqueued / nightly_s) / (walked / walk_s):.2f}x", f"{nightly_rss:.1f} MB"))
    rows.append(("nightly into SQS (moto)", f"{sqs_report.videos_enqueued:,}", f"{sqs_report.messages_sent:,}",
                 f"{sqs_s:.1f}", f"{sqs_report.videos_enqueued / sqs_s:,.0f}",
                 f"{(sqs_report.videos_enqueued / sqs_s) / (walked / walk_s):.2f}x", f"{sqs_rss:.1f} MB"))
    print_table(rows)
    per_million = 1_000_000 / args.message_size / 10
    print(f"\nstopped tracking: {report.stopped:,} videos (campaign over); message bodies: "
          f"{serializing.bytes / max(serializing.messages, 1) / 1024:.1f} KiB each; "
          f"SendMessageBatch calls: {len(calls):,} for {sqs_report.videos_enqueued:,} videos "
          f"({per_million:,.0f} per million: at 20 ms each, {per_million * 0.02:.0f} s of SQS latency per million)")


def _stop_after_pages(pages: int) -> Callable[[], float]:
    """A ``time_left_s`` that runs out after ``pages`` pages (as a real run out of time would; it resumes later)."""
    calls = iter(range(pages + 1))
    return lambda: float("inf") if next(calls, pages) < pages else -1.0


if __name__ == "__main__":
    main()
