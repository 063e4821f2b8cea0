"""Provider answers classified by meaning, end to end: for every platform and every class (gone, transient, quota,
configuration, bad input), a response shaped like the real API's goes through the queue processor's Lambda handler
on a real database and a moto SQS queue. Each test checks the stored snapshot, the video's state and fetch health,
the number of provider calls, and what SQS sees: done, retry (a batch item failure, visible again at once) or hold
(a batch item failure kept invisible until the quota resets)."""

from __future__ import annotations

import copy
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest
import respx
from vidstats.dashboard.freshness import freshness
from vidstats.dashboard.models import FetchHealthState, VideoQuery
from vidstats.dashboard.videos import get_video, list_videos
from vidstats.db import Database
from vidstats.platforms import Platform
from vidstats.providers.quota_reset import next_pacific_midnight

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
    sqs_event,
    tiktok_body,
)
from tests.lambda_context import FakeLambdaContext
from tests.providers.conftest import load

TIKTOK_ID = "7367927569280240901"
REEL = "DOqjIRkAoz0"
SHORT = "EJNPYff3lxU"
EXTERNAL = {Platform.TIKTOK: TIKTOK_ID, Platform.INSTAGRAM: REEL, Platform.YOUTUBE: SHORT}
URLS = {Platform.TIKTOK: TIKTOK_VIDEO_URL, Platform.INSTAGRAM: INSTAGRAM_POST_URL,
        Platform.YOUTUBE: YOUTUBE_VIDEOS_URL}
DAILY_QUOTA = {"message": "You have exceeded the DAILY quota for Requests on your current plan, BASIC. Upgrade your "
                          "plan at https://rapidapi.com/tikwm-tikwm-default/api/tiktok-scraper7"}


def tikwm_error(msg: str) -> dict[str, Any]:
    """The recorded tikwm error envelope (HTTP 200, code != 0) with another message."""
    body: dict[str, Any] = load("tiktok/error_envelope.json")
    body["msg"] = msg
    return body


def google_error(code: int, reason: str, message: str) -> dict[str, Any]:
    """A Data API v3 error body, as youtube-v31 passes it through."""
    return {"error": {"code": code, "message": message,
                      "errors": [{"message": message, "domain": "youtube", "reason": reason}]}}


def youtube_items(*items: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = load("youtube/videos.json")
    body["items"] = list(items)
    body["pageInfo"] = {"totalResults": len(items), "resultsPerPage": len(items)}
    return body


@dataclass(frozen=True)
class Case:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] | None = None


# One answer per platform and class, shaped like the real API's (recorded fixtures, changed).
CASES: dict[tuple[Platform, str], Case] = {
    (Platform.TIKTOK, "gone"): Case(200, tikwm_error("Video not found, it may have been deleted or set to private")),
    (Platform.TIKTOK, "transient"): Case(200, tikwm_error("Too many requests, please wait a few minutes")),
    (Platform.TIKTOK, "quota"): Case(429, DAILY_QUOTA, {"x-ratelimit-requests-remaining": "0",
                                                        "x-ratelimit-requests-reset": "7200"}),
    (Platform.TIKTOK, "configuration"): Case(403, {"message": "You are not subscribed to this API."}),
    (Platform.TIKTOK, "bad_input"): Case(200, load("tiktok/error_envelope.json")),  # "Url parsing is failed!"
    (Platform.INSTAGRAM, "gone"): Case(200, {"status": False, "message": "Media not found or unavailable"}),
    (Platform.INSTAGRAM, "transient"): Case(200, {"status": False, "message": "Something went wrong, please try "
                                                                                "again later"}),
    (Platform.INSTAGRAM, "quota"): Case(429, {"message": "You have exceeded the MONTHLY quota for Requests on your "
                                                         "current plan, PRO."},
                                        {"x-ratelimit-requests-reset": "86400"}),
    (Platform.INSTAGRAM, "configuration"): Case(401, {"message": "Blocked User. Please contact your API provider."}),
    (Platform.INSTAGRAM, "bad_input"): Case(200, {"status": False, "message": "Invalid URL or ID"}),
    (Platform.YOUTUBE, "gone"): Case(200, youtube_items()),  # a deleted or private video: left out, items: []
    (Platform.YOUTUBE, "transient"): Case(503, google_error(503, "backendError", "Backend Error")),
    (Platform.YOUTUBE, "quota"): Case(403, google_error(
        403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.")),
    (Platform.YOUTUBE, "configuration"): Case(400, google_error(
        400, "keyInvalid", "API key not valid. Please pass a valid API key.")),
    (Platform.YOUTUBE, "bad_input"): Case(400, google_error(
        400, "invalidParameter", "The request specifies an invalid value for the id parameter.")),
}
# What SQS sees, the calls made (max attempts 2: a transient answer is tried twice), the state afterwards.
EXPECTED = {
    "gone": ("done", 1, "active", "tracking"),  # gone on one day only: still tracked
    "transient": ("retry", 2, "active", "tracking"),
    "quota": ("hold", 1, "active", "tracking"),
    "configuration": ("done", 1, "active", "tracking"),
    "bad_input": ("done", 1, "active", "tracking"),
}


@pytest.fixture
def handler(queue_processor: Any, sqs: tuple[Any, str]) -> Any:
    """The queue processor's handler, with the moto fetch queue it holds records back on."""
    return queue_processor


def deliver(handler: Any, sqs: tuple[Any, str], bodies: list[str]) -> tuple[dict[str, Any], list[str], list[str]]:
    """Sends the bodies to the queue, receives them, runs the handler; returns its response, the received message
    ids and the ids SQS shows again at once (a failed record not held)."""
    client, queue_url = sqs
    client.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "0"})  # failures: back now
    for body in bodies:
        client.send_message(QueueUrl=queue_url, MessageBody=body)
    received = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    event = sqs_event([m["Body"] for m in received], [m["MessageId"] for m in received],
                      receipt_handles=[m["ReceiptHandle"] for m in received])
    response = handler.lambda_handler(event, FakeLambdaContext(timeout_s=60))
    visible = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    for message in visible:  # as Lambda's event source mapping would after the batch
        client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return response, [m["MessageId"] for m in received], [m["MessageId"] for m in visible]


def sqs_outcome(response: dict[str, Any], message_id: str, visible_again: list[str]) -> str:
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    if message_id not in failed:
        return "done"
    return "retry" if message_id in visible_again else "hold"


def health(database: IsolatedDatabase, video_id: uuid.UUID) -> dict[str, Any]:
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute(
            "select tracking_state, fetch_health, last_error_class, last_error, consecutive_failures, failure_days,"
            " gone_answer_days, analytics.last_fetch_at(id) from analytics.videos where id = %s",
            (video_id,)).fetchone()
    assert row is not None
    keys = ("state", "health", "error_class", "error", "failures", "failure_days", "gone_days", "last_success")
    return dict(zip(keys, row, strict=True))


def snapshots(database: IsolatedDatabase) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute("select external_video_id, views, likes, comments, reposts, saves, views_kind"
                            " from analytics.video_statistics order by id").fetchall()


def next_day(database: IsolatedDatabase, video_id: uuid.UUID) -> None:
    """Moves the video's fetch history one UTC day back: the next fetch happens on a later day."""
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute("update analytics.videos set last_error_at = last_error_at - interval '1 day',"
                     " last_gone_answer_at = last_gone_answer_at - interval '1 day',"
                     " last_fetched_at = last_fetched_at - interval '1 day' where id = %s", (video_id,))


@pytest.mark.parametrize("error_class", ["gone", "transient", "quota", "configuration", "bad_input"])
@pytest.mark.parametrize("platform", [Platform.TIKTOK, Platform.INSTAGRAM, Platform.YOUTUBE])
def test_each_class_of_answer_is_stored_and_answered_to_sqs_by_its_meaning(
    handler: Any, db: Database, database: IsolatedDatabase, router: respx.MockRouter, sqs: tuple[Any, str],
    platform: Platform, error_class: str
) -> None:
    case = CASES[(platform, error_class)]
    route = router.get(URLS[platform]).respond(case.status, json=case.body, headers=case.headers)
    (video,) = insert_videos(db, platform, [EXTERNAL[platform]])

    response, (message_id,), visible = deliver(handler, sqs, [fetch_body([(video, platform, EXTERNAL[platform])])])

    outcome, calls, state, fetch_health = EXPECTED[error_class]
    assert sqs_outcome(response, message_id, visible) == outcome
    assert route.call_count == calls
    assert snapshots(database) == []
    stored = health(database, video)
    assert (stored["state"], stored["health"], stored["error_class"]) == (state, fetch_health, error_class)
    assert (stored["failures"], stored["failure_days"], stored["last_success"]) == (1, 1, None)
    assert stored["gone_days"] == (1 if error_class == "gone" else 0)
    provider = handler.providers().get(platform)
    if error_class == "transient":  # the provider slowed its pace for the rest of the batch
        assert provider.api.limiter.rate < 1000
    else:
        assert provider.api.limiter.rate == pytest.approx(1000)
    if error_class == "configuration":
        assert "RAPIDAPI_" in stored["error"]  # names what to fix
    if (platform, error_class) == (Platform.YOUTUBE, "quota"):
        # YouTube's own daily quota resets at midnight Pacific time, whatever RapidAPI's headers say.
        reset = next_pacific_midnight(datetime.now(UTC)).isoformat(timespec="seconds")
        assert f"until {reset}" in stored["error"]


@pytest.mark.parametrize("platform", [Platform.TIKTOK, Platform.INSTAGRAM, Platform.YOUTUBE])
def test_a_configuration_error_is_one_call_for_the_whole_batch_and_no_retry(
    handler: Any, db: Database, database: IsolatedDatabase, router: respx.MockRouter, sqs: tuple[Any, str],
    platform: Platform
) -> None:
    case = CASES[(platform, "configuration")]
    route = router.get(URLS[platform]).respond(case.status, json=case.body)
    ids = {Platform.TIKTOK: [f"73679275692802409{i:02d}" for i in range(3)],
           Platform.INSTAGRAM: ["DOqjIRkAoz0", "DMYPhxUie5h", "DOnhiaCgj64"],
           Platform.YOUTUBE: ["EJNPYff3lxU", "dQw4w9WgXcQ", "jNQXAC9IVRw"]}[platform]
    videos = insert_videos(db, platform, ids)
    bodies = [fetch_body([(v, platform, e)]) for v, e in zip(videos, ids, strict=True)]

    response, _, _ = deliver(handler, sqs, bodies)
    again, _, _ = deliver(handler, sqs, bodies)  # the next batch of the warm container: no call either

    assert response["batchItemFailures"] == again["batchItemFailures"] == []
    assert route.call_count == 1
    assert all(health(database, v)["error_class"] == "configuration" for v in videos)


def test_a_gone_answer_on_one_day_keeps_tracking_and_on_two_separate_days_ends_it(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, [TIKTOK_ID])
    router.get(TIKTOK_VIDEO_URL).respond(200, json=CASES[(Platform.TIKTOK, "gone")].body)
    body = fetch_body([(video, Platform.TIKTOK, TIKTOK_ID)])

    processor(db, client).process(records([body]))
    processor(db, client).process(records([fetch_body([(video, Platform.TIKTOK, TIKTOK_ID)])]))  # same day
    same_day = health(database, video)
    next_day(database, video)
    processor(db, client).process(records([fetch_body([(video, Platform.TIKTOK, TIKTOK_ID)])]))
    second_day = health(database, video)

    assert (same_day["state"], same_day["health"], same_day["gone_days"], same_day["failures"]) == (
        "active", "tracking", 1, 2)
    assert (second_day["state"], second_day["health"], second_day["gone_days"]) == ("gone", "gone", 2)


def test_a_success_between_gone_answers_starts_the_count_again(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, [TIKTOK_ID])
    route = router.get(TIKTOK_VIDEO_URL).respond(200, json=CASES[(Platform.TIKTOK, "gone")].body)
    processor(db, client).process(records([fetch_body([(video, Platform.TIKTOK, TIKTOK_ID)])]))
    next_day(database, video)
    route.respond(200, json=tiktok_body(TIKTOK_ID))
    processor(db, client).process(records([fetch_body([(video, Platform.TIKTOK, TIKTOK_ID)])]))
    next_day(database, video)
    route.respond(200, json=CASES[(Platform.TIKTOK, "gone")].body)
    processor(db, client).process(records([fetch_body([(video, Platform.TIKTOK, TIKTOK_ID)])]))

    stored = health(database, video)
    assert (stored["state"], stored["gone_days"], stored["failures"]) == ("active", 1, 1)


def test_a_throttle_envelope_then_success_keeps_the_snapshot(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, [TIKTOK_ID])
    route = router.get(TIKTOK_VIDEO_URL).mock(side_effect=[
        httpx.Response(200, json=CASES[(Platform.TIKTOK, "transient")].body),
        httpx.Response(200, json=tiktok_body(TIKTOK_ID)),
    ])
    report = processor(db, client).process(records([fetch_body([(video, Platform.TIKTOK, TIKTOK_ID)])]))
    assert report.failures == {}
    assert route.call_count == 2
    assert [row[:4] for row in snapshots(database)] == [(TIKTOK_ID, 388791, 24101, 69)]
    assert health(database, video)["failures"] == 0


def test_a_like_count_of_minus_one_empties_likes_and_keeps_views_and_comments(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, [TIKTOK_ID])
    router.get(TIKTOK_VIDEO_URL).respond(200, json=tiktok_body(TIKTOK_ID, digg_count=-1))
    report = processor(db, client).process(records([fetch_body([(video, Platform.TIKTOK, TIKTOK_ID)])]))
    assert report.failures == {}
    assert snapshots(database) == [(TIKTOK_ID, 388791, None, 69, 2618, 5339, "views")]
    assert health(database, video)["health"] == "tracking"


def test_an_instagram_reel_answered_with_plays_then_views_stores_both_kinds_labelled(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    (video,) = insert_videos(db, Platform.INSTAGRAM, [REEL])
    with_plays = instagram_body(REEL)  # video_play_count 10125 and video_view_count 4130: plays win
    views_only = copy.deepcopy(with_plays)
    del views_only["video_play_count"]
    route = router.get(INSTAGRAM_POST_URL).respond(200, json=with_plays)
    processor(db, client).process(records([fetch_body([(video, Platform.INSTAGRAM, REEL)])]))
    route.respond(200, json=views_only)
    processor(db, client).process(records([fetch_body([(video, Platform.INSTAGRAM, REEL)])]))

    assert [(row[1], row[6]) for row in snapshots(database)] == [(10125, "plays"), (4130, "views")]


def test_fetch_health_in_the_api_failing_after_two_days_filtered_and_counted(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    ok_id, stuck_id = "7367927569280240901", "7367927569280240902"
    ok, stuck = insert_videos(db, Platform.TIKTOK, [ok_id, stuck_id])
    router.get(TIKTOK_VIDEO_URL, params={"url": ok_id}).respond(200, json=tiktok_body(ok_id))
    router.get(TIKTOK_VIDEO_URL, params={"url": stuck_id}).respond(503, json={"message": "upstream down"})
    body = fetch_body([(ok, Platform.TIKTOK, ok_id), (stuck, Platform.TIKTOK, stuck_id)])

    processor(db, client).process(records([body]))
    assert get_video(member(db), stuck).health.state is FetchHealthState.tracking  # one bad day is a hiccup
    next_day(database, stuck)
    processor(db, client).process(records([fetch_body([(stuck, Platform.TIKTOK, stuck_id)])]))

    detail = get_video(member(db), stuck).health
    assert detail.state is FetchHealthState.failing
    assert (detail.last_error_class, detail.consecutive_failures, detail.failure_days) == ("transient", 2, 2)
    assert detail.last_error is not None
    assert "HTTP 503" in detail.last_error
    assert detail.last_success_at is None
    healthy = get_video(member(db), ok).health
    assert (healthy.state, healthy.consecutive_failures) == (FetchHealthState.tracking, 0)
    assert healthy.last_success_at is not None
    for sort in ("views", "recent", "growth"):
        page = list_videos(member(db), VideoQuery.model_validate({"health": "failing", "sort": sort}))
        assert [v.id for v in page.items] == [stuck]
    assert [v.id for v in list_videos(member(db), VideoQuery(health=FetchHealthState.tracking)).items] == [ok]
    assert freshness(member(db)).failing_videos == 1


def test_the_pace_slowed_by_a_batch_is_restored_when_the_next_batch_begins(
    db: Database, router: respx.MockRouter, client: httpx.Client
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, [TIKTOK_ID])
    route = router.get(TIKTOK_VIDEO_URL).respond(503, json={"message": "upstream down"})
    ingest = processor(db, client)
    ingest.process(records([fetch_body([(video, Platform.TIKTOK, TIKTOK_ID)])]))
    provider: Any = ingest._providers(Platform.TIKTOK)
    slowed = provider.api.limiter.rate
    route.respond(200, json=tiktok_body(TIKTOK_ID))
    started = time.monotonic()
    ingest.process(records([fetch_body([(video, Platform.TIKTOK, TIKTOK_ID)])]))
    assert slowed < 1e9
    assert provider.api.limiter.rate == pytest.approx(1e9)
    assert time.monotonic() - started < 30
