"""Through the API: a blogger batch's outcome (POST /bloggers → GET /bloggers/batches/{id}), and a creator's
totals that include the videos tracked by URL, attached from the platform's answers.

The real handler, moto SQS, the real queue processor on recorded-shape RapidAPI answers (respx), real Postgres.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from vidstats.db import Database
from vidstats.ingestion.processor import Record
from vidstats.platforms import Platform

from tests.dashboard_api import seed
from tests.dashboard_api.conftest import Api
from tests.factories import make_video
from tests.ingest_helpers import TIKTOK_VIDEO_URL, processor, tiktok_body
from tests.providers.conftest import load, url

MINEO = {"id": "6800000000000000000", "unique_id": "mineodesu69", "nickname": "こずりん"}


def run_queue(sqs: tuple[Any, str], db: Database, client: httpx.Client) -> dict[str, Exception]:
    """What the queue processor does with everything on the queue."""
    sqs_client, queue_url = sqs
    records = []
    while batch := sqs_client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        records += [Record(m["MessageId"], m["Body"]) for m in batch]
    return processor(db, client).process(records).failures


def listing(router: respx.MockRouter) -> None:
    router.get(url(Platform.TIKTOK, "user_posts")).mock(side_effect=lambda request: httpx.Response(
        200, json=load("tiktok/user_posts_page1.json" if request.url.params["cursor"] == "0"
                       else "tiktok/user_posts_page2.json")))


@pytest.mark.usefixtures("api_env")
def test_a_blogger_batch_is_pending_then_done_with_its_counts_and_creator(
        api: Api, db: Database, sqs: tuple[Any, str], router: respx.MockRouter, client: httpx.Client) -> None:
    accepted = api.call("POST", "/bloggers", body={"platform": "tiktok", "username": "@mineodesu69", "limit": 10})
    assert accepted.status == 202, accepted
    assert accepted.body["status"] == "pending"
    status_url = accepted.body["status_url"]
    assert status_url == f"/bloggers/batches/{accepted.body['request_id']}"

    pending = api.ok(status_url)
    assert (pending["status"], pending["counts"], pending["blogger_id"]) == ("pending", None, None)
    assert (pending["platform"], pending["creator"], pending["limit"]) == ("tiktok", "@mineodesu69", 10)

    listing(router)
    assert run_queue(sqs, db, client) == {}
    done = api.ok(status_url)
    assert done["status"] == "done"
    assert done["counts"] == {"videos_found": 3, "videos_new": 3, "snapshots_written": 3,
                              "videos_without_snapshot": 0}
    assert done["finished_at"] is not None
    creator = api.ok(f"/bloggers/{done['blogger_id']}")
    assert (creator["username"], creator["display_name"], creator["video_count"]) == ("mineodesu69", "こずりん", 3)


@pytest.mark.usefixtures("api_env")
def test_a_failed_blogger_batch_says_why(
        api: Api, db: Database, sqs: tuple[Any, str], router: respx.MockRouter, client: httpx.Client) -> None:
    accepted = api.call("POST", "/bloggers", body={"profile_url": "https://www.tiktok.com/@no.such.creator"})
    router.get(url(Platform.TIKTOK, "user_posts")).respond(404, json={"message": "user not exist"})
    assert run_queue(sqs, db, client) == {}
    failed = api.ok(accepted.body["status_url"])
    assert (failed["status"], failed["failure_reason"]) == ("failed", "creator_not_found")
    assert "user not exist" in failed["error"]


@pytest.mark.usefixtures("api_env")
def test_a_batch_that_would_pass_the_tracked_videos_cap_filled_since_its_request_fails_and_keeps_nothing(
        api: Api, db: Database, sqs: tuple[Any, str], router: respx.MockRouter, client: httpx.Client) -> None:
    assert api.call("PUT", "/workspace/budget", body={"max_tracked_videos": 4, "max_fetches_per_day": None}
                    ).status == 200
    accepted = api.call("POST", "/bloggers", body={"platform": "tiktok", "username": "@mineodesu69", "limit": 3})
    assert accepted.status == 202, accepted  # room for 3 of 4 when requested
    for _ in range(2):  # then another command tracks 2 videos: room for 2 only
        make_video(db)
    tracked_before = api.ok("/workspace/budget")["tracked_videos"]["used"]
    assert tracked_before == 2

    listing(router)
    assert run_queue(sqs, db, client) == {}  # failed for good: no retry can make room
    failed = api.ok(accepted.body["status_url"])
    assert (failed["status"], failed["failure_reason"]) == ("failed", "budget_exceeded")
    assert "tracks 2 of its 4 videos and this command would add 3" in failed["error"]
    assert api.ok("/workspace/budget")["tracked_videos"]["used"] == tracked_before
    assert api.ok("/bloggers")["items"] == []  # nothing of the batch was kept


@pytest.mark.usefixtures("api_env")
def test_an_unknown_batch_is_404_and_a_malformed_id_422(api: Api) -> None:
    assert api.get("/bloggers/batches/5b3f6f2a-1111-4222-8333-944445555666").status == 404
    assert api.get("/bloggers/batches/not-a-uuid").status == 422


@pytest.mark.usefixtures("api_env")
def test_a_creators_totals_include_the_videos_tracked_by_url(
        api: Api, db: Database, sqs: tuple[Any, str], router: respx.MockRouter, client: httpx.Client) -> None:
    tracked = api.call("POST", "/videos", body={"urls": [
        "https://www.tiktok.com/@mineodesu69/video/7099999999999999999"]})
    assert tracked.status == 202, tracked
    router.get(TIKTOK_VIDEO_URL).respond(200, json=tiktok_body("7099999999999999999", author=MINEO,
                                                               play_count=1000))
    assert run_queue(sqs, db, client) == {}
    seed.refresh(db)
    (creator,) = api.ok("/bloggers")["items"]
    assert (creator["platform_user_id"], creator["username"], creator["display_name"]) == (
        MINEO["id"], "mineodesu69", "こずりん")
    assert (creator["video_count"], creator["totals"]["views"]) == (1, 1000)
    assert api.ok("/bloggers", q="こずり")["items"][0]["id"] == creator["id"]  # found by display name

    api.call("POST", "/bloggers", body={"platform": "tiktok", "username": "mineodesu69"})
    listing(router)
    assert run_queue(sqs, db, client) == {}
    seed.refresh(db)
    (same,) = api.ok("/bloggers")["items"]
    assert same["id"] == creator["id"]
    assert (same["video_count"], same["totals"]["views"]) == (4, 1000 + 120044 + 5120 + 7064)
    video = api.ok(f"/videos/{tracked.body['videos'][0]['id']}")
    assert video["blogger"]["id"] == creator["id"]


def test_the_openapi_examples_of_a_batch_outcome_are_valid_outcomes() -> None:
    from dashboard_api.handler import openapi_document
    from dashboard_api.routes.bloggers import BATCH_EXAMPLES
    from vidstats.dashboard.tracking_commands import BloggerBatchOutcome

    for example in BATCH_EXAMPLES.values():
        BloggerBatchOutcome.model_validate(example["value"])
    document = json.loads(openapi_document())
    answer = document["paths"]["/bloggers/batches/{batch_id}"]["get"]["responses"]["200"]["content"]
    assert set(answer["application/json"]["examples"]) == {"pending", "done", "failed"}
