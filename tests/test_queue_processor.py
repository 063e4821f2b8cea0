"""The queue processor on a real database: partial batch failures, idempotency, atomic batch writes."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3  # type: ignore[import-untyped]
import httpx
import psycopg
import pytest
import respx
from moto import mock_aws
from vidstats.db import Caller, Database, Role
from vidstats.ingestion.idempotency import IdempotencyStore
from vidstats.ingestion.processor import (
    MAX_REDELIVERY_DELAY_S,
    BatchReport,
    IngestProcessor,
    Record,
    RetryLater,
    WriteFailed,
)
from vidstats.ingestion.refresh_signal import RefreshSignal
from vidstats.platforms import Platform
from vidstats.providers.errors import QuotaExhaustedError

from tests.conftest import IsolatedDatabase
from tests.factories import member
from tests.ingest_helpers import (
    INSTAGRAM_POST_URL,
    TIKTOK_VIDEO_URL,
    YOUTUBE_VIDEOS_URL,
    fetch_body,
    insert_videos,
    instagram_body,
    processor,
    records,
    registry,
    snapshot_rows,
    sqs_event,
    tiktok_body,
    youtube_body,
)
from tests.lambda_context import FakeLambdaContext
from tests.providers.conftest import url

TIKTOK_IDS = [f"73679275692802409{i:02d}" for i in range(10)]


def video_state(database: IsolatedDatabase, video_id: uuid.UUID) -> tuple[Any, ...]:
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute("select tracking_state, last_error, analytics.last_fetch_at(id) from analytics.videos"
                           " where id = %s", (video_id,)).fetchone()
    assert row is not None
    return tuple(row)


def test_a_batch_of_ten_with_three_different_failures_reports_exactly_those(
    queue_processor: Any, db: Database, database: IsolatedDatabase, router: respx.MockRouter
) -> None:
    tiktok = insert_videos(db, Platform.TIKTOK, TIKTOK_IDS)
    youtube_ids = ["EJNPYff3lxU", "dQw4w9WgXcQ", "jNQXAC9IVRw"]
    youtube = insert_videos(db, Platform.YOUTUBE, youtube_ids)
    (reel,) = insert_videos(db, Platform.INSTAGRAM, ["DOqjIRkAoz0"])
    for external_id in TIKTOK_IDS[:5]:
        router.get(TIKTOK_VIDEO_URL, params={"url": external_id}).respond(200, json=tiktok_body(external_id))
    router.get(TIKTOK_VIDEO_URL, params={"url": TIKTOK_IDS[8]}).respond(503, json={"message": "upstream down"})
    router.get(TIKTOK_VIDEO_URL, params={"url": TIKTOK_IDS[9]}).mock(side_effect=httpx.ReadTimeout("slow"))
    # The last YouTube video is missing from the answer: the platform says it is gone.
    youtube_route = router.get(YOUTUBE_VIDEOS_URL).respond(200, json=youtube_body(youtube_ids[:2]))
    router.get(INSTAGRAM_POST_URL, params={"id": "DOqjIRkAoz0"}).respond(200, json=instagram_body("DOqjIRkAoz0"))

    bodies = [fetch_body([(tiktok[i], Platform.TIKTOK, TIKTOK_IDS[i])]) for i in range(5)]
    bodies.append(fetch_body([(v, Platform.YOUTUBE, e) for v, e in zip(youtube, youtube_ids, strict=True)]))
    bodies.append(fetch_body([(reel, Platform.INSTAGRAM, "DOqjIRkAoz0")]))
    bodies.append('{"version": 1, "kind": "fetch_videos", "videos": [')  # malformed
    bodies.append(fetch_body([(tiktok[8], Platform.TIKTOK, TIKTOK_IDS[8])]))  # 5xx
    bodies.append(fetch_body([(tiktok[9], Platform.TIKTOK, TIKTOK_IDS[9])]))  # timeout
    event = sqs_event(bodies)
    ids = [r["messageId"] for r in event["Records"]]

    response = queue_processor.lambda_handler(event, FakeLambdaContext(timeout_s=60))

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(ids[7:])
    rows = snapshot_rows(database.superuser_url)
    assert len(rows) == 5 + 2 + 1  # the 7 successful records' videos (one YouTube video is gone)
    assert youtube_route.call_count == 1  # three ids, one videos.list call
    by_external = {r[1]: r for r in rows}
    assert by_external[TIKTOK_IDS[0]][2:] == (388791, 24101, 69, 2618, 5339)
    assert by_external["DOqjIRkAoz0"][2:4] == (10125, 948)
    state, error, _ = video_state(database, youtube[2])
    assert state == "active"  # gone on one day only: marked gone after GONE_AFTER_DAYS separate days
    assert "not returned by videos.list" in error
    assert video_state(database, tiktok[8])[1].startswith("tiktok: HTTP 503")
    assert video_state(database, tiktok[0])[2] is not None  # last_fetched_at


def test_the_same_message_delivered_three_times_means_one_call_and_one_snapshot(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, [TIKTOK_IDS[0]])
    route = router.get(TIKTOK_VIDEO_URL).respond(200, json=tiktok_body(TIKTOK_IDS[0]))
    body = fetch_body([(video, Platform.TIKTOK, TIKTOK_IDS[0])])
    ingest = processor(db, client)

    # Twice in one batch, then once more in a later invocation.
    first = ingest.process([Record("m-1", body), Record("m-1", body)])
    second = ingest.process([Record("m-1", body)])

    assert (first.failures, second.failures) == ({}, {})
    assert route.call_count == 1
    assert len(snapshot_rows(database.superuser_url)) == 1
    assert second.provider_calls_skipped == 1


def test_a_redelivered_message_refetches_only_the_videos_that_failed(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    videos = insert_videos(db, Platform.TIKTOK, TIKTOK_IDS[:3])
    ok = [router.get(TIKTOK_VIDEO_URL, params={"url": e}).respond(200, json=tiktok_body(e)) for e in TIKTOK_IDS[:2]]
    flaky = router.get(TIKTOK_VIDEO_URL, params={"url": TIKTOK_IDS[2]}).respond(503, json={"message": "down"})
    body = fetch_body([(v, Platform.TIKTOK, e) for v, e in zip(videos, TIKTOK_IDS[:3], strict=True)])
    ingest = processor(db, client, concurrency=1)

    first = ingest.process([Record("m-1", body)])
    failed_calls = flaky.call_count
    flaky.respond(200, json=tiktok_body(TIKTOK_IDS[2]))
    second = ingest.process([Record("m-1", body)])

    assert set(first.failures) == {"m-1"}
    assert second.failures == {}
    assert [r.call_count for r in ok] == [1, 1]
    assert flaky.call_count == failed_calls + 1
    assert second.provider_calls_skipped == 2
    assert sorted(r[1] for r in snapshot_rows(database.superuser_url)) == sorted(TIKTOK_IDS[:3])


def test_a_connection_dropped_between_fetch_and_insert_leaves_nothing_and_a_retry_succeeds(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    videos = insert_videos(db, Platform.TIKTOK, TIKTOK_IDS[:3])
    for external_id in TIKTOK_IDS[:3]:
        router.get(TIKTOK_VIDEO_URL, params={"url": external_id}).respond(200, json=tiktok_body(external_id))
    bodies = [fetch_body([(v, Platform.TIKTOK, e)]) for v, e in zip(videos, TIKTOK_IDS[:3], strict=True)]
    providers = registry(client)
    dropped: list[int] = []

    def dropping_providers(platform: Platform) -> Any:
        provider = providers(platform)

        class Dropping:
            def fetch_videos(self, ids: list[str]) -> Any:
                result = provider.fetch_videos(ids)
                if not dropped:  # after the first fetch: kill the processor's session from outside
                    pid = db.connection().info.backend_pid
                    with psycopg.connect(database.superuser_url, autocommit=True) as admin:
                        admin.execute("select pg_terminate_backend(%s)", (pid,))
                    dropped.append(pid)
                return result

        return Dropping()

    ingest = IngestProcessor(db, dropping_providers, idempotency=IdempotencyStore(db, window_s=3600),
                             concurrency=1)
    report = ingest.process(records(bodies))

    assert dropped
    assert set(report.failures) == {"msg-0", "msg-1", "msg-2"}
    assert all(isinstance(e, WriteFailed) for e in report.failures.values())
    assert snapshot_rows(database.superuser_url) == []

    retry = processor(db, client).process(records(bodies))
    assert retry.failures == {}
    assert len(snapshot_rows(database.superuser_url)) == 3


def test_a_write_that_committed_but_whose_reply_was_lost_is_not_fetched_or_written_again(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, TIKTOK_IDS[:1])
    route = router.get(TIKTOK_VIDEO_URL).respond(200, json=tiktok_body(TIKTOK_IDS[0]))
    body = fetch_body([(video, Platform.TIKTOK, TIKTOK_IDS[0])])

    class LostCommitReply(Database):
        """The snapshot write commits, then its connection fails before the processor hears back."""

        transactions = 0

        @contextmanager
        def transaction(self, role: Role, caller: Caller | None = None) -> Iterator[psycopg.Connection[Any]]:
            with super().transaction(role, caller) as conn:
                yield conn
            self.transactions += 1
            if self.transactions == 2:  # the claim is the first, the snapshot write the second
                raise psycopg.OperationalError("server closed the connection unexpectedly")

    lossy = LostCommitReply(database.owner_url)
    try:
        first = IngestProcessor(lossy, registry(client), idempotency=IdempotencyStore(lossy, window_s=3600),
                                concurrency=1).process(records([body]))
    finally:
        lossy.close()
    second = processor(db, client).process(records([body]))

    assert isinstance(first.failures["msg-0"], WriteFailed)  # the processor could not know it committed
    assert second.failures == {}
    assert second.provider_calls_skipped == 1
    assert route.call_count == 1
    assert len(snapshot_rows(database.superuser_url)) == 1


def test_a_failed_batch_write_fails_every_record_it_carried_and_leaves_no_partial_rows(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    (known,) = insert_videos(db, Platform.TIKTOK, [TIKTOK_IDS[0]])
    for external_id in TIKTOK_IDS[:2]:
        router.get(TIKTOK_VIDEO_URL, params={"url": external_id}).respond(200, json=tiktok_body(external_id))
    unknown = uuid.uuid4()  # deleted meanwhile: its snapshot violates the foreign key, mid-COPY
    bodies = [fetch_body([(known, Platform.TIKTOK, TIKTOK_IDS[0])]),
              fetch_body([(unknown, Platform.TIKTOK, TIKTOK_IDS[1])])]

    report = processor(db, client).process(records(bodies))

    assert set(report.failures) == {"msg-0", "msg-1"}
    assert snapshot_rows(database.superuser_url) == []
    assert video_state(database, known)[2] is None  # last_fetched_at rolled back with the rows


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("not json at all", "malformed fetch message"),
        ('{"version": 2, "kind": "fetch_videos", "request_id": "6f1c2b7e-9a53-4c1e-8f0e-2d4c7b9a1e55",'
         ' "videos": [{"video_id": "6f1c2b7e-9a53-4c1e-8f0e-2d4c7b9a1e55", "platform": "tiktok",'
         ' "external_video_id": "1"}]}', "version"),
        ('{"version": 1, "kind": "fetch_everything", "request_id": "6f1c2b7e-9a53-4c1e-8f0e-2d4c7b9a1e55"}',
         "fetch_videos, fetch_creator"),
        ('{"version": 1, "kind": "fetch_videos", "request_id": "6f1c2b7e-9a53-4c1e-8f0e-2d4c7b9a1e55",'
         ' "videos": []}', "videos"),
        ('{"version": 1, "kind": "fetch_videos", "request_id": "6f1c2b7e-9a53-4c1e-8f0e-2d4c7b9a1e55",'
         ' "videos": [{"video_id": "x", "platform": "vimeo", "external_video_id": "1"}]}', "platform"),
    ],
)
def test_a_malformed_body_fails_only_its_record_and_is_logged_with_its_message_id(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client,
    caplog: pytest.LogCaptureFixture, body: str, expected: str
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, [TIKTOK_IDS[0]])
    router.get(TIKTOK_VIDEO_URL).respond(200, json=tiktok_body(TIKTOK_IDS[0]))
    with caplog.at_level(logging.ERROR):
        report = processor(db, client).process(
            [Record("good", fetch_body([(video, Platform.TIKTOK, TIKTOK_IDS[0])])), Record("poison-42", body)])
    assert list(report.failures) == ["poison-42"]
    assert expected in str(report.failures["poison-42"])
    assert any("poison-42" in r.getMessage() for r in caplog.records)
    assert len(snapshot_rows(database.superuser_url)) == 1


@pytest.mark.parametrize(
    ("status", "message", "hint"),
    [
        (401, "Invalid API key. Go to https://docs.rapidapi.com/docs/keys for more info.", "RAPIDAPI_KEY"),
        (403, "You are not subscribed to this API.", "RAPIDAPI_TIKTOK_HOST"),
    ],
)
def test_an_auth_error_is_one_call_a_clear_error_on_every_video_and_no_retry(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client,
    caplog: pytest.LogCaptureFixture, status: int, message: str, hint: str
) -> None:
    videos = insert_videos(db, Platform.TIKTOK, TIKTOK_IDS[:4])
    route = router.get(TIKTOK_VIDEO_URL).respond(status, json={"message": message})
    bodies = [fetch_body([(v, Platform.TIKTOK, e)]) for v, e in zip(videos, TIKTOK_IDS[:4], strict=True)]
    with caplog.at_level(logging.ERROR):
        report = processor(db, client, concurrency=1).process(records(bodies))
    assert report.failures == {}  # done: retrying every few minutes into the DLQ cannot fix a setting
    assert report.configuration_errors == 4
    assert route.call_count == 1  # no retries, no further calls with a key that cannot work
    assert all(hint in video_state(database, v)[1] for v in videos)
    assert any(hint in r.getMessage() for r in caplog.records)
    assert "test-key-7f3a9c1e5b" not in caplog.text
    assert snapshot_rows(database.superuser_url) == []


def test_a_gone_video_is_marked_after_two_days_and_its_record_is_not_retried(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    (video,) = insert_videos(db, Platform.INSTAGRAM, ["DGoneGone12"])
    router.get(INSTAGRAM_POST_URL).respond(404, json={"message": "Media not found"})
    report = processor(db, client).process(records([fetch_body([(video, Platform.INSTAGRAM, "DGoneGone12")])]))
    assert report.failures == {}
    assert report.gone == 1
    assert video_state(database, video)[0] == "active"
    with psycopg.connect(database.superuser_url) as conn:  # the next UTC day
        conn.execute("update analytics.videos set last_gone_answer_at = last_gone_answer_at - interval '1 day',"
                     " last_error_at = last_error_at - interval '1 day' where id = %s", (video,))
    again = processor(db, client).process(records([fetch_body([(video, Platform.INSTAGRAM, "DGoneGone12")])]))
    assert again.failures == {}
    state, error, fetched = video_state(database, video)
    assert (state, fetched) == ("gone", None)
    assert "not found" in error


def test_invalid_counters_fail_that_video_only(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    videos = insert_videos(db, Platform.TIKTOK, TIKTOK_IDS[:2])
    router.get(TIKTOK_VIDEO_URL, params={"url": TIKTOK_IDS[0]}).respond(
        200, json=tiktok_body(TIKTOK_IDS[0], play_count="1.2M"))
    router.get(TIKTOK_VIDEO_URL, params={"url": TIKTOK_IDS[1]}).respond(200, json=tiktok_body(TIKTOK_IDS[1]))
    body = fetch_body([(v, Platform.TIKTOK, e) for v, e in zip(videos, TIKTOK_IDS[:2], strict=True)])
    report = processor(db, client).process(records([body]))
    assert report.failures == {}  # retrying cannot fix absurd data: recorded on the video instead
    assert [r[1] for r in snapshot_rows(database.superuser_url)] == [TIKTOK_IDS[1]]
    state, error, _ = video_state(database, videos[0])
    assert state == "active"
    assert "not numeric" in error


def test_a_rate_limit_slows_down_and_the_retry_succeeds(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, [TIKTOK_IDS[0]])
    route = router.get(TIKTOK_VIDEO_URL).mock(side_effect=[
        httpx.Response(429, json={"message": "Too many requests"}, headers={"Retry-After": "0"}),
        httpx.Response(200, json=tiktok_body(TIKTOK_IDS[0])),
    ])
    report = processor(db, client).process(records([fetch_body([(video, Platform.TIKTOK, TIKTOK_IDS[0])])]))
    assert report.failures == {}
    assert route.call_count == 2
    assert len(snapshot_rows(database.superuser_url)) == 1


def test_a_spent_quota_fails_the_records_and_stops_calling_until_the_reset(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    videos = insert_videos(db, Platform.TIKTOK, TIKTOK_IDS[:3])
    route = router.get(TIKTOK_VIDEO_URL).respond(
        429, json={"message": "You have exceeded the DAILY quota for Requests on your current plan, BASIC."},
        headers={"x-ratelimit-requests-remaining": "0", "x-ratelimit-requests-reset": "3600"})
    bodies = [fetch_body([(v, Platform.TIKTOK, e)]) for v, e in zip(videos, TIKTOK_IDS[:3], strict=True)]
    ingest = processor(db, client, concurrency=1)
    report = ingest.process(records(bodies))
    assert len(report.failures) == 3
    again = ingest.process(records(bodies))
    assert len(again.failures) == 3
    assert route.call_count == 1  # the quota block holds across batches of a warm container


def test_records_that_hit_a_spent_quota_stay_invisible_until_the_reset(
    queue_processor: Any, db: Database, router: respx.MockRouter, sqs: tuple[Any, str]
) -> None:
    client, queue_url = sqs
    client.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "0"})  # failures: back now
    tiktok = insert_videos(db, Platform.TIKTOK, TIKTOK_IDS[:2])
    (short,) = insert_videos(db, Platform.YOUTUBE, ["dQw4w9WgXcQ"])
    router.get(TIKTOK_VIDEO_URL).respond(
        429, json={"message": "You have exceeded the DAILY quota for Requests on your current plan, BASIC."},
        headers={"x-ratelimit-requests-remaining": "0", "x-ratelimit-requests-reset": "7200"})
    router.get(YOUTUBE_VIDEOS_URL).respond(503, json={"message": "upstream down"})
    for video, external_id in zip(tiktok, TIKTOK_IDS[:2], strict=True):
        client.send_message(QueueUrl=queue_url, MessageBody=fetch_body([(video, Platform.TIKTOK, external_id)]))
    client.send_message(QueueUrl=queue_url, MessageBody=fetch_body([(short, Platform.YOUTUBE, "dQw4w9WgXcQ")]))
    received = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    event = sqs_event([m["Body"] for m in received], [m["MessageId"] for m in received],
                      receipt_handles=[m["ReceiptHandle"] for m in received])

    response = queue_processor.lambda_handler(event, FakeLambdaContext(timeout_s=60))

    assert len(response["batchItemFailures"]) == 3  # all failed; SQS keeps them
    # Only the YouTube record (a 5xx: worth retrying now) is visible again; the quota's wait for its reset.
    again = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["videos"][0]["platform"] for m in again] == ["youtube"]


def test_without_a_queue_url_quota_records_still_fail_and_come_back_as_usual(
    queue_processor: Any, db: Database, router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("FETCH_QUEUE_URL", raising=False)
    (video,) = insert_videos(db, Platform.TIKTOK, TIKTOK_IDS[:1])
    router.get(TIKTOK_VIDEO_URL).respond(
        429, json={"message": "You have exceeded the DAILY quota for Requests on your current plan, BASIC."},
        headers={"x-ratelimit-requests-remaining": "0", "x-ratelimit-requests-reset": "7200"})
    event = sqs_event([fetch_body([(video, Platform.TIKTOK, TIKTOK_IDS[0])])], ["m-1"])

    response = queue_processor.lambda_handler(event, FakeLambdaContext(timeout_s=60))

    assert response["batchItemFailures"] == [{"itemIdentifier": "m-1"}]
    assert "cannot hold back records: FETCH_QUEUE_URL is not set" in caplog.text


def test_a_hold_lasts_until_the_latest_reset_and_never_past_what_sqs_allows() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    report = BatchReport()
    for message_id, hours in (("a", 1), ("a", 2), ("b", 30), ("c", -1)):
        report.fail(message_id, QuotaExhaustedError(Platform.TIKTOK, "spent", reset_at=now + timedelta(hours=hours)))
    report.fail("d", RetryLater("busy"))

    assert report.redelivery_delays(now) == {"a": 7200, "b": MAX_REDELIVERY_DELAY_S, "c": 0}


def test_out_of_time_records_are_left_for_the_next_delivery(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, [TIKTOK_IDS[0]])
    route = router.get(TIKTOK_VIDEO_URL).respond(200, json=tiktok_body(TIKTOK_IDS[0]))
    body = fetch_body([(video, Platform.TIKTOK, TIKTOK_IDS[0])])
    report = processor(db, client).process(records([body]), time_left_s=lambda: 2.0)
    assert set(report.failures) == {"msg-0"}
    assert route.call_count == 0
    assert processor(db, client).process(records([body])).failures == {}  # the claim was released
    assert len(snapshot_rows(database.superuser_url)) == 1


@mock_aws(config={"lambda": {"use_docker": False}})
def test_significant_writes_signal_mv_refresh_once_per_burst(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    iam = boto3.client("iam", region_name="eu-west-1")
    role = iam.create_role(RoleName="mv-refresh", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_client = boto3.client("lambda", region_name="eu-west-1")
    lambda_client.create_function(FunctionName="MvRefreshFunction", Runtime="python3.12", Role=role,
                                  Handler="mv_refresh.handler.lambda_handler", Code={"ZipFile": b"zip"})
    invocations: list[dict[str, Any]] = []
    lambda_client.meta.events.register("before-call.lambda.Invoke",
                                       lambda params, **_: invocations.append(params))
    signal = RefreshSignal(db, lambda_client, "MvRefreshFunction", min_rows=3, debounce_s=600)
    videos = insert_videos(db, Platform.TIKTOK, TIKTOK_IDS[:8])
    router.get(TIKTOK_VIDEO_URL).mock(side_effect=lambda request: httpx.Response(
        200, json=tiktok_body(request.url.params["url"])))
    ingest = processor(db, client, refresh_signal=signal)

    ingest.process(records([fetch_body([(videos[0], Platform.TIKTOK, TIKTOK_IDS[0])])]))  # 1 row: below
    assert invocations == []
    ingest.process(records([fetch_body([(v, Platform.TIKTOK, TIKTOK_IDS[i])])
                            for i, v in enumerate(videos[1:4], 1)]))
    assert len(invocations) == 1  # 4 rows since the last signal
    assert invocations[0]["headers"]["X-Amz-Invocation-Type"] == "Event"
    assert json.loads(invocations[0]["body"]) == {"reason": "writer_signal"}
    ingest.process(records([fetch_body([(v, Platform.TIKTOK, TIKTOK_IDS[i])])
                            for i, v in enumerate(videos[4:], 4)]))
    assert len(invocations) == 1  # a burst within the debounce interval: still one refresh

    with psycopg.connect(database.superuser_url, autocommit=True) as admin:
        admin.execute("update analytics.ingest_signals set last_signal_at = now() - interval '1 hour'")
    assert signal.rows_written(1) is True  # 4 pending + 1, interval passed: the next one goes
    assert len(invocations) == 2


def test_a_blogger_batch_failing_on_its_last_delivery_is_recorded_failed_and_goes_to_the_dlq(
    queue_processor: Any, db: Database, router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidstats.ingestion.blogger_batches_repository import FailureReason, find_batch
    from vidstats.ingestion.messages import FetchCreatorMessage

    monkeypatch.setenv("FETCH_MAX_RECEIVE_COUNT", "3")
    router.get(url(Platform.TIKTOK, "user_posts")).respond(502, json={"message": "Oops, an error in the gateway"})
    batch_id = uuid.uuid4()
    body = FetchCreatorMessage(version=1, kind="fetch_creator", request_id=batch_id, platform=Platform.TIKTOK,
                               creator="mineodesu69").model_dump_json()
    outcomes = []
    for delivery in ("2", "3"):
        event = sqs_event([body], message_ids=["m1"])
        event["Records"][0]["attributes"]["ApproximateReceiveCount"] = delivery
        response = queue_processor.lambda_handler(event, FakeLambdaContext(timeout_s=60))
        assert response["batchItemFailures"] == [{"itemIdentifier": "m1"}]  # retried, then into the DLQ
        with member(db).transaction(Role.READER) as conn:
            outcome = find_batch(conn, batch_id)
        assert outcome is not None
        outcomes.append(outcome)
    assert [(o.status, o.failure_reason) for o in outcomes] == [
        ("pending", None), ("failed", FailureReason.PROVIDER_ERROR)]
    assert "502" in (outcomes[1].last_error or "")
