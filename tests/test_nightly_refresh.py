"""Nightly refresh: every active video enqueued once, in bounded messages, by keyset; stop-after-grace."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from vidstats.db import Database
from vidstats.ingestion.fetch_queue import ListQueue, SqsFetchQueue
from vidstats.ingestion.messages import FetchVideosMessage, parse_message
from vidstats.ingestion.nightly import enqueue_nightly_refresh
from vidstats.settings import database_settings, ingest_settings

from tests.conftest import IsolatedDatabase
from tests.lambda_context import FakeLambdaContext


def drain(client: Any, url: str) -> list[FetchVideosMessage]:
    messages: list[FetchVideosMessage] = []
    while True:
        batch = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return messages
        for m in batch:
            parsed = parse_message(m["Body"])
            assert isinstance(parsed, FetchVideosMessage)
            messages.append(parsed)
        client.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])


def videos_of(queue: ListQueue) -> list[uuid.UUID]:
    ids = []
    for message in queue.messages:
        assert isinstance(message, FetchVideosMessage)
        ids += [v.video_id for v in message.videos]
    return ids


def seed(database: IsolatedDatabase) -> dict[str, set[uuid.UUID]]:
    """2,500 videos: 2,300 active (some in a running campaign, some in none), plus 100 whose campaign ended
    10 days ago, 50 whose campaign ended 3 days ago (within the grace) and 50 gone ones."""
    with psycopg.connect(database.superuser_url, autocommit=True) as conn:
        conn.execute("""
            insert into analytics.videos (platform, external_video_id, url)
            select (array['tiktok','instagram','youtube'])[1 + g % 3], 'ext' || g, 'https://example.invalid/' || g
              from generate_series(1, 2500) g""")
        conn.execute("update analytics.videos set tracking_state = 'gone' where external_video_id in"
                     " (select 'ext' || g from generate_series(2451, 2500) g)")
        ids = {}
        for name, ends in (("running", "now() + interval '5 days'"), ("long_over", "now() - interval '10 days'"),
                           ("just_over", "now() - interval '3 days'")):
            row = conn.execute(f"insert into analytics.campaigns (workspace_id, name, starts_at, ends_at)"
                               f" values ('00000000-0000-4000-8000-000000000001', %s,"
                               f" now() - interval '60 days', {ends}) returning id", (name,)).fetchone()
            assert row is not None
            ids[name] = row[0]
        conn.execute("insert into analytics.campaign_videos (campaign_id, video_id) select %s, id"
                     " from analytics.videos where external_video_id in"
                     " (select 'ext' || g from generate_series(1, 1000) g)", (ids["running"],))
        conn.execute("insert into analytics.campaign_videos (campaign_id, video_id) select %s, id"
                     " from analytics.videos where external_video_id in"
                     " (select 'ext' || g from generate_series(2301, 2400) g)", (ids["long_over"],))
        conn.execute("insert into analytics.campaign_videos (campaign_id, video_id) select %s, id"
                     " from analytics.videos where external_video_id in"
                     " (select 'ext' || g from generate_series(2401, 2450) g)", (ids["just_over"],))
        # A video in both an ended and a running campaign keeps being tracked.
        conn.execute("insert into analytics.campaign_videos (campaign_id, video_id) select %s, id"
                     " from analytics.videos where external_video_id = 'ext1'", (ids["long_over"],))
        groups: dict[str, set[uuid.UUID]] = {}
        for name, low, high in (("expected", 1, 2300), ("stopped", 2301, 2400), ("grace", 2401, 2450),
                                ("gone", 2451, 2500)):
            rows = conn.execute("select id from analytics.videos where external_video_id in"
                                " (select 'ext' || g from generate_series(%s::int, %s::int) g)", (low, high)).fetchall()
            groups[name] = {r[0] for r in rows}
    groups["expected"] |= groups["grace"]
    return groups


def test_every_active_video_is_enqueued_once_in_bounded_batches_and_ended_campaigns_stop(
    db: Database, database: IsolatedDatabase, sqs: tuple[Any, str]
) -> None:
    groups = seed(database)
    client, url = sqs
    calls: list[int] = []
    client.meta.events.register("before-parameter-build.sqs.SendMessageBatch",
                                lambda params, **_: calls.append(len(params["Entries"])))
    report = enqueue_nightly_refresh(db, SqsFetchQueue(client, url), run_date=date(2026, 11, 27), message_size=50,
                                     page_size=1000, grace=timedelta(days=7))

    messages = drain(client, url)
    enqueued = Counter(v.video_id for m in messages for v in m.videos)
    assert set(enqueued) == groups["expected"]
    assert max(enqueued.values()) == 1
    assert report.videos_enqueued == len(groups["expected"]) == 2350
    assert report.stopped == 100
    assert report.pages == 3  # 2,450 active rows read 1,000 at a time: memory is one page
    assert all(len(m.videos) <= 50 and len({v.platform for v in m.videos}) == 1 for m in messages)
    assert all(m.reason == "nightly" for m in messages)
    assert max(calls) <= 10
    assert sum(calls) == len(messages) == report.messages_sent
    with psycopg.connect(database.superuser_url) as conn:
        stopped = {r[0] for r in conn.execute(
            "select id from analytics.videos where tracking_state = 'stopped' and tracking_stopped_at is not null")}
    assert stopped == groups["stopped"]


def test_a_rerun_the_same_night_reuses_the_request_ids(db: Database, database: IsolatedDatabase) -> None:
    seed(database)
    first, second, tomorrow = ListQueue(), ListQueue(), ListQueue()
    for queue, day in ((first, 27), (second, 27), (tomorrow, 28)):
        enqueue_nightly_refresh(db, queue, run_date=date(2026, 11, day), message_size=40, page_size=500)
    def keys(queue: ListQueue) -> set[tuple[uuid.UUID, uuid.UUID]]:
        request_ids = {m.request_id for m in queue.messages}
        return {(r, v) for r in request_ids for v in videos_of(queue)}

    assert keys(second) == keys(first)  # the processor's idempotency keys: nothing is fetched twice
    assert not keys(first) & keys(tomorrow)


def test_running_out_of_time_stops_cleanly_with_a_resume_point(db: Database, database: IsolatedDatabase) -> None:
    seed(database)
    queue = ListQueue()
    budget = iter([100.0, 100.0, 0.0])
    report = enqueue_nightly_refresh(db, queue, run_date=date(2026, 11, 27), page_size=1000,
                                     time_left_s=lambda: next(budget))
    assert (report.complete, report.pages) == (False, 2)
    rest = ListQueue()
    enqueue_nightly_refresh(db, rest, run_date=date(2026, 11, 27), page_size=1000, start_after=report.last_id)
    ids = videos_of(queue) + videos_of(rest)
    assert len(ids) == len(set(ids)) == 2350


def test_the_scheduled_handler_enqueues_on_sqs(
    db: Database, database: IsolatedDatabase, sqs: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nightly_refresh import handler

    seed(database)
    monkeypatch.setenv("DATABASE_URL", database.owner_url)
    monkeypatch.setenv("FETCH_QUEUE_URL", sqs[1])
    monkeypatch.setenv("NIGHTLY_MESSAGE_SIZE", "100")
    caches = (database_settings, ingest_settings, handler.database, handler.queue)
    for cache in caches:
        cache.cache_clear()
    try:
        result = handler.lambda_handler({"reason": "schedule"}, FakeLambdaContext(timeout_s=900))
    finally:
        handler.database().close()
        for cache in caches:
            cache.cache_clear()
    assert (result["videos_enqueued"], result["stopped"], result["complete"]) == (2350, 100, True)
    assert sum(len(m.videos) for m in drain(*sqs)) == 2350
