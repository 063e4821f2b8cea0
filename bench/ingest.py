"""Ingest benchmark: ``.venv/bin/python -m bench.ingest [--videos N] [--skip-pacing]``.

(a) Throughput: the queue processor's code path (parse SQS bodies, claim idempotency keys, real provider
    classes parsing recorded RapidAPI responses served instantly by an in-process transport, one write
    transaction per SQS batch) against a raw COPY of the same rows into the same database, same run.
(b) The write path alone, what the processor controls (issue 17: >= 0.5x a raw COPY): answers already parsed,
    stating what real ones do (counters, caption, publish time, the video's creator: one per 5 videos), each
    SQS batch (10 messages of 50 videos: 500 rows, as the nightly run sends them) through the processor
    (claims, then the write: snapshots, last-fetch bookkeeping, creators, completion), each followed by a raw
    COPY of the same 500 rows in one transaction of its own on the same connection; medians over the batches
    after a warm-up. Two ratios to the COPY: the write path as issue 17 words it (the claim transaction plus
    the write transaction, each timed from BEGIN to its commit, the Python that builds their parameters
    included), and the whole processor call (also parsing the 10 bodies, building the work items and the rows,
    handing the fetches to the thread pool). Four cases: the nightly re-fetch (every video fetched the night
    before, untimed, by the same processor) in the nightly's order (by id: a batch's videos lie on scattered heap
    pages) and in insertion order (a batch's videos share pages), a first fetch in insertion order (a new
    campaign's: captions and creators are written then), and the nightly re-fetch by id in a new processor (a new
    night's Lambda: it knows none of the creators yet).
(c) Pacing: the processor fetching from a local HTTP server on 127.0.0.1 that answers after 300 ms and
    enforces 20 req/s (token bucket, burst 20, 429 beyond), with RAPIDAPI_RPS = 20.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg.rows import TupleRow
from vidstats.db import Caller, Database, Role
from vidstats.ingestion.idempotency import IdempotencyStore
from vidstats.ingestion.messages import FetchVideosMessage, VideoRef
from vidstats.ingestion.processor import IngestProcessor, Record
from vidstats.ingestion.snapshots_repository import SnapshotRow, copy_snapshots
from vidstats.local.embedded import PROJECT_OWNER, apply_supabase_roles, start_embedded, tune_for_tests, with_login
from vidstats.migrations import migrate
from vidstats.platforms import Platform
from vidstats.providers.base import CreatorVideo, FetchResult, VideoCounters, VideoProvider
from vidstats.providers.catalogue import PROVIDERS
from vidstats.providers.config import DEFAULT_HOSTS, DEFAULT_PATHS, ProviderConfig
from vidstats.providers.ratelimit import RateLimiter

from bench.support import print_table

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "rapidapi"
VIDEOS_PER_MESSAGE = 100
RECORDS_PER_BATCH = 10  # the SQS event's BatchSize


def config(platform: Platform, **overrides: Any) -> ProviderConfig:
    values: dict[str, Any] = {"platform": platform, "host": DEFAULT_HOSTS[platform], "key": "bench-key",
                              "paths": dict(DEFAULT_PATHS[platform]), "backoff_s": 0.0,
                              "requests_per_second": 1e9}
    values.update(overrides)
    return ProviderConfig.model_validate(values)


def database() -> tuple[Any, str, str]:
    server = start_embedded(Path(tempfile.mkdtemp(prefix="bench-ingest-")) / "pgdata", delete_on_exit=True)
    superuser = server.get_uri()
    tune_for_tests(superuser)
    apply_supabase_roles(superuser)
    with psycopg.connect(superuser, autocommit=True) as conn:
        conn.execute(f"create database bench_ingest owner {PROJECT_OWNER}".encode())
    owner = with_login(superuser, user=PROJECT_OWNER, dbname="bench_ingest")
    migrate(owner)
    return server, owner, with_login(superuser, dbname="bench_ingest")


def make_videos(db: Database, platform: Platform, count: int, prefix: str) -> list[tuple[uuid.UUID, str]]:
    with db.transaction(Role.INGEST) as conn:
        rows = conn.execute(
            "insert into analytics.videos (platform, external_video_id, url)"
            " select %s, %s || lpad(g::text, 8, '0'), 'https://example.invalid/' || g"
            " from generate_series(1, %s) g returning id, external_video_id",
            (platform.value, prefix, count)).fetchall()
    return [(uuid.UUID(str(r[0])), r[1]) for r in rows]


def batches(platform: Platform, videos: list[tuple[uuid.UUID, str]], per_message: int = VIDEOS_PER_MESSAGE
            ) -> list[list[Record]]:
    bodies = [
        FetchVideosMessage(version=1, kind="fetch_videos", request_id=uuid.uuid4(), videos=[
            VideoRef(video_id=v, platform=platform, external_video_id=e)
            for v, e in videos[i : i + per_message]]).model_dump_json()
        for i in range(0, len(videos), per_message)
    ]
    records = [Record(f"m{i}", body) for i, body in enumerate(bodies)]
    return [records[i : i + RECORDS_PER_BATCH] for i in range(0, len(records), RECORDS_PER_BATCH)]


def youtube_transport() -> httpx.MockTransport:
    """videos.list answered instantly: the recorded item, with each requested id, rendered from a template.

    The answer is built by string formatting, not by copying and encoding JSON per request, so the time
    measured is the processor's (and the provider's parsing), not the stand-in server's.
    """
    item = json.loads((FIXTURES / "youtube" / "videos.json").read_text())["items"][0]
    item["id"], item["statistics"]["viewCount"] = "@ID@", "@VIEWS@"
    template = json.dumps(item)
    head, tail = '{"kind": "youtube#videoListResponse", "items": [', "]}"

    def handle(request: httpx.Request) -> httpx.Response:
        items = ",".join(template.replace("@ID@", video_id).replace("@VIEWS@", str(1000 + index))
                         for index, video_id in enumerate(request.url.params["id"].split(",")))
        return httpx.Response(200, content=(head + items + tail).encode(),
                              headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handle)


def tiktok_transport() -> httpx.MockTransport:
    """The recorded video answer with the requested id, rendered from a template (see youtube_transport)."""
    body = json.loads((FIXTURES / "tiktok" / "video.json").read_text())
    body["data"]["id"] = "@ID@"
    template = json.dumps(body)

    def handle(request: httpx.Request) -> httpx.Response:
        content = template.replace("@ID@", request.url.params["url"]).encode()
        return httpx.Response(200, content=content, headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handle)


def processor(db: Database, platform: Platform, client: httpx.Client, concurrency: int = 8,
              **overrides: Any) -> IngestProcessor:
    limiter = RateLimiter(overrides.get("requests_per_second", 1e9))
    provider = PROVIDERS[platform](config(platform, **overrides), client, limiter=limiter)
    return IngestProcessor(db, lambda _p: provider, idempotency=IdempotencyStore(db, window_s=3600),
                           concurrency=concurrency)


VIDEOS_PER_CREATOR = 5  # a batch's 500 videos name 100 creators


class ParsedCounters:
    """A provider that has already parsed its answers: isolates the processor's own work and its writes. Each
    answer states what a real one does: counters, caption, publish time and the video's creator."""

    platform = Platform.YOUTUBE

    def __init__(self, external_ids: list[str]) -> None:
        published = datetime(2026, 11, 1, tzinfo=UTC)
        self.counters = {
            e: VideoCounters(platform=Platform.YOUTUBE, external_id=e, views=1000 + i, likes=10, comments=1,
                             caption=f"video {i}", published_at=published,
                             author_id=f"UC{i // VIDEOS_PER_CREATOR:022d}",
                             author_username=f"@creator{i // VIDEOS_PER_CREATOR}",
                             author_name=f"Creator {i // VIDEOS_PER_CREATOR}")
            for i, e in enumerate(external_ids)}

    def fetch_videos(self, external_ids: Sequence[str]) -> FetchResult:
        return {e: self.counters[e] for e in external_ids}

    def list_creator_videos(self, creator: str, limit: int) -> list[CreatorVideo]:
        raise NotImplementedError


@dataclass
class Throughput:
    rows: int
    processor_rows_s: float
    copy_rows_s: float  # one COPY of all rows, one transaction
    batched_copy_rows_s: float  # one COPY and one transaction per SQS batch, as the processor writes


def throughput(db: Database, superuser: str, platform: Platform, count: int,
               provider: Callable[[list[str]], VideoProvider], prefix: str,
               per_message: int = VIDEOS_PER_MESSAGE) -> Throughput:
    videos = make_videos(db, platform, count, prefix=prefix)
    answering = provider([e for _, e in videos])
    ingest = IngestProcessor(db, lambda _p: answering,
                             idempotency=IdempotencyStore(db, window_s=3600), concurrency=8)
    ingest.process(batches(platform, videos[:200], per_message)[0])  # warm-up (connection, imports)
    work = batches(platform, videos[200:], per_message)
    started = time.perf_counter()
    written = 0
    for batch in work:
        report = ingest.process(batch)
        assert not report.failures, report.failures
        written += report.snapshots_written
    processor_s = time.perf_counter() - started
    with psycopg.connect(superuser) as conn:
        copied = conn.execute("select video_id, external_video_id, views, likes, comments, reposts, saves"
                              " from analytics.video_statistics where external_video_id like %s",
                              (f"{prefix}%",)).fetchall()
    rows = [SnapshotRow(*r) for r in copied][:written]
    started = time.perf_counter()
    with db.transaction(Role.INGEST) as conn:
        copy_snapshots(conn, rows)
    copy_s = time.perf_counter() - started
    per_batch = per_message * RECORDS_PER_BATCH
    started = time.perf_counter()
    for i in range(0, len(rows), per_batch):
        with db.transaction(Role.INGEST) as conn:
            copy_snapshots(conn, rows[i : i + per_batch])
    batched_s = time.perf_counter() - started
    return Throughput(written, written / processor_s, len(rows) / copy_s, len(rows) / batched_s)


class TimedDatabase(Database):
    """A ``Database`` that records how long each transaction took (the processor's phases: claims, write)."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.seconds: list[float] = []

    @contextlib.contextmanager
    def transaction(self, role: Role, caller: Caller | None = None) -> Iterator[psycopg.Connection[TupleRow]]:
        started = time.perf_counter()
        with super().transaction(role, caller) as conn:
            yield conn
        self.seconds.append(time.perf_counter() - started)


@dataclass
class WritePath:
    batches: int
    rows_per_batch: int
    process_ms: float  # median per batch: the whole processor call (parse, claims, build the rows, write)
    claims_ms: float  # median of its claim transaction
    write_ms: float  # median of its write transaction
    write_path_ms: float  # median of claims + write per batch: the write path as issue 17 words it
    copy_ms: float  # median raw COPY of the same rows, one transaction


def write_path(db: TimedDatabase, platform: Platform, count: int, prefix: str, *, by_id: bool, refetch: bool,
               new_process: bool = False, per_message: int = 50, warm_up: int = 3) -> WritePath:
    """Per SQS batch: the processor with parsed answers, then a raw COPY of the same rows (interleaved, so
    both see the same machine load); medians of the batches after ``warm_up``. ``refetch``: every video was
    fetched once before, untimed (the previous night: captions known, creators attached), as in the nightly
    run; else this is the videos' first fetch (a new campaign's: captions and creators written). The re-fetch runs
    in the processor that made the previous fetch (what it learnt then, e.g. which creators are stored as the
    answers state them, is still known), or with ``new_process`` in a new one (a new night's Lambda)."""
    videos = make_videos(db, platform, count, prefix=prefix)
    if by_id:
        videos.sort(key=lambda v: v[0])
    answering = ParsedCounters([e for _, e in videos])
    ingest = IngestProcessor(db, lambda _p: answering, idempotency=IdempotencyStore(db, window_s=3600),
                             concurrency=8)
    if refetch:
        for batch in batches(platform, videos, per_message):
            assert not ingest.process(batch).failures
        # By the next night autovacuum has analyzed what the previous one added (thousands of creators): with
        # the statistics of a table still empty, the planner reads every creator of the platform per batch.
        conn = db.connection()
        with conn.transaction():
            conn.execute("analyze analytics.bloggers, analytics.videos")
        if new_process:
            ingest = IngestProcessor(db, lambda _p: answering, idempotency=IdempotencyStore(db, window_s=3600),
                                     concurrency=8)
    process_s: list[float] = []
    claims_s: list[float] = []
    write_s: list[float] = []
    copy_s: list[float] = []
    work = batches(platform, videos, per_message)
    rows_per_batch = per_message * RECORDS_PER_BATCH
    for index, batch in enumerate(work):
        rows = [SnapshotRow.from_counters(video_id, answering.counters[external])
                for video_id, external in videos[index * rows_per_batch : (index + 1) * rows_per_batch]]
        db.seconds.clear()
        started = time.perf_counter()
        report = ingest.process(batch)
        elapsed = time.perf_counter() - started
        assert not report.failures, report.failures
        assert report.snapshots_written == len(rows), (report.snapshots_written, len(rows))
        phases = list(db.seconds)
        started = time.perf_counter()
        with db.transaction(Role.INGEST) as conn:
            copy_snapshots(conn, rows)
        copied = time.perf_counter() - started
        if index >= warm_up and len(rows) == rows_per_batch:
            process_s.append(elapsed)
            claims_s.append(phases[0])
            write_s.append(phases[-1])
            copy_s.append(copied)
    return WritePath(len(process_s), rows_per_batch, _median_ms(process_s), _median_ms(claims_s),
                     _median_ms(write_s), _median_ms([c + w for c, w in zip(claims_s, write_s, strict=True)]),
                     _median_ms(copy_s))


def _median_ms(seconds: list[float]) -> float:
    return 1000 * statistics.median(seconds)


class _Bucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst, self.tokens, self.at = rate, burst, burst, time.monotonic()
        self.lock = threading.Lock()
        self.times: list[float] = []
        self.rejected = 0

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= 1:
                self.tokens -= 1
                self.times.append(now)
                return True
            self.rejected += 1
            return False


def pacing(db: Database, count: int, limit: float = 20.0, latency_s: float = 0.3) -> dict[str, float]:
    bucket = _Bucket(limit, limit)
    body = json.loads((FIXTURES / "tiktok" / "video.json").read_text())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            allowed = bucket.take()
            time.sleep(latency_s)
            video_id = httpx.URL(self.path).params.get("url", "")
            answer = copy.deepcopy(body)
            answer["data"]["id"] = video_id
            payload = json.dumps(answer if allowed else {"message": "Too many requests"}).encode()
            self.send_response(200 if allowed else 429)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()

    class ToLocal(httpx.HTTPTransport):
        """The provider builds https://<host>/...; send it to the local server over plain HTTP."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=port)
            return super().handle_request(request)

    videos = make_videos(db, Platform.TIKTOK, count, prefix="pace")
    try:
        with httpx.Client(transport=ToLocal(limits=httpx.Limits(max_connections=64))) as client:
            ingest = processor(db, Platform.TIKTOK, client, concurrency=16, requests_per_second=limit)
            started = time.perf_counter()
            for batch in batches(Platform.TIKTOK, videos):
                report = ingest.process(batch)
                assert not report.failures, list(report.failures.values())[:1]
            wall = time.perf_counter() - started
    finally:
        server.shutdown()
    times = bucket.times
    achieved = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    return {"requests": len(times), "achieved_rps": achieved, "limit": limit, "rejected_429": bucket.rejected,
            "wall_s": wall}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=20_200, help="videos per platform for the provider paths")
    parser.add_argument("--batches", type=int, default=23, help="SQS batches of 500 rows per write-path order")
    parser.add_argument("--pacing-requests", type=int, default=200)
    parser.add_argument("--skip-pacing", action="store_true")
    parser.add_argument("--skip-provider-paths", action="store_true")
    args = parser.parse_args(argv)
    server, owner, superuser = database()
    db = TimedDatabase(owner, application_name="bench-ingest")
    try:
        if not args.skip_provider_paths:
            rows: list[tuple[str, ...]] = [("provider path", "rows", "processor rows/s", "raw COPY rows/s",
                                            "ratio", "COPY per batch rows/s", "ratio")]

            def http_provider(platform: Platform, transport: httpx.BaseTransport
                              ) -> Callable[[list[str]], VideoProvider]:
                http = httpx.Client(transport=transport)
                provider = PROVIDERS[platform](config(platform), http, limiter=RateLimiter(1e9))
                return lambda _ids: provider

            runs: list[tuple[str, Platform, Callable[[list[str]], VideoProvider]]] = [
                ("youtube, recorded HTTP (50 ids per call)", Platform.YOUTUBE,
                 http_provider(Platform.YOUTUBE, youtube_transport())),
                ("tiktok, recorded HTTP (1 id per call)", Platform.TIKTOK,
                 http_provider(Platform.TIKTOK, tiktok_transport())),
            ]
            for index, (label, platform, provider) in enumerate(runs):
                result = throughput(db, superuser, platform, args.videos, provider, prefix=f"run{index}-")
                rows.append((label, f"{result.rows:,}", f"{result.processor_rows_s:,.0f}",
                             f"{result.copy_rows_s:,.0f}", f"{result.processor_rows_s / result.copy_rows_s:.2f}x",
                             f"{result.batched_copy_rows_s:,.0f}",
                             f"{result.processor_rows_s / result.batched_copy_rows_s:.2f}x"))
            print_table(rows)
            print()

        table: list[tuple[str, ...]] = [("batches of 500 rows", "batches", "claims ms", "write ms",
                                         "claims + write ms", "whole call ms", "raw COPY ms",
                                         "write path ratio (target >= 0.50x)", "whole call ratio")]
        scenarios = (("nightly re-fetch, by id", True, True, False),
                     ("re-fetch, insertion order", False, True, False),
                     ("first fetch, insertion order", False, False, False),
                     ("nightly re-fetch, by id, new process", True, True, True))
        for index, (label, by_id, refetch, new_process) in enumerate(scenarios):
            path = write_path(db, Platform.YOUTUBE, args.batches * 500, prefix=f"write-{index}-", by_id=by_id,
                              refetch=refetch, new_process=new_process)
            table.append((label, f"{path.batches}", f"{path.claims_ms:.1f}", f"{path.write_ms:.1f}",
                          f"{path.write_path_ms:.1f}", f"{path.process_ms:.1f}", f"{path.copy_ms:.1f}",
                          f"{path.copy_ms / path.write_path_ms:.2f}x", f"{path.copy_ms / path.process_ms:.2f}x"))
        print_table(table)
        if not args.skip_pacing:
            print()
            paced = pacing(db, args.pacing_requests)
            print_table([
                ("limit req/s", "requests", "achieved req/s", "% of limit", "429s", "server latency", "wall s"),
                (f"{paced['limit']:.0f}", f"{paced['requests']:.0f}", f"{paced['achieved_rps']:.2f}",
                 f"{100 * paced['achieved_rps'] / paced['limit']:.1f}%", f"{paced['rejected_429']:.0f}", "300 ms",
                 f"{paced['wall_s']:.1f}"),
            ])
    finally:
        db.close()
        server.cleanup()


if __name__ == "__main__":
    main()
