"""POST /videos and POST /bloggers start ingestion through the tracking flows: metadata written, fetch
messages on the queue (moto SQS), nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from vidstats.db import Database

from tests.dashboard_api import seed
from tests.dashboard_api.conftest import Api

TIKTOK_URL = "https://www.tiktok.com/@islamicvibes1445/video/7367927569280240901?is_from_webapp=1"
REEL_URL = "https://www.instagram.com/reel/DOqjIRkAoz0/?igsh=xyz"


def received(sqs: tuple[Any, str]) -> list[dict[str, Any]]:
    client, url = sqs
    messages: list[dict[str, Any]] = []
    while batch := client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        messages += [json.loads(m["Body"]) for m in batch]
    return messages


@pytest.mark.usefixtures("api_env")
def test_tracking_urls_is_202_with_the_videos_and_enqueues_their_fetch(
        api: Api, db: Database, sqs: tuple[Any, str]) -> None:
    promo = seed.campaign(db, "Promo", seed.days_ago(3))
    reply = api.call("POST", "/videos", body={"urls": [TIKTOK_URL, REEL_URL, TIKTOK_URL], "campaign_id": promo})
    assert reply.status == 202, reply
    videos = reply.body["videos"]
    assert sorted(v["platform"] for v in videos) == ["instagram", "tiktok"]
    assert all(v["created"] and v["fetch_enqueued"] for v in videos)
    fetched = {ref["video_id"] for message in received(sqs) for ref in message["videos"]}
    assert fetched == {v["id"] for v in videos}
    listed = api.ok("/videos", campaign_id=promo)
    assert {i["id"] for i in listed["items"]} == {v["id"] for v in videos}

    again = api.call("POST", "/videos", body={"urls": [TIKTOK_URL]})
    assert again.status == 202
    assert again.body["videos"][0]["created"] is False


@pytest.mark.usefixtures("api_env")
def test_tracking_a_bad_url_is_422_naming_it_and_writes_nothing(api: Api, sqs: tuple[Any, str]) -> None:
    reply = api.call("POST", "/videos", body={"urls": [TIKTOK_URL, "https://example.com/watch?v=1",
                                                       "https://vimeo.com/1"]})
    assert reply.status == 422, reply
    # One problem per bad URL, named by its place in the list.
    assert [e["field"] for e in reply.body["errors"]] == ["body.urls.1", "body.urls.2"]
    assert "example.com" in reply.body["errors"][0]["message"]
    assert "vimeo.com" in reply.body["errors"][1]["message"]
    assert api.ok("/videos")["items"] == []
    assert received(sqs) == []


@pytest.mark.usefixtures("api_env")
def test_tracking_into_an_unknown_campaign_is_404(api: Api, sqs: tuple[Any, str]) -> None:
    reply = api.call("POST", "/videos", body={"urls": [TIKTOK_URL],
                                              "campaign_id": "5b3f6f2a-1111-4222-8333-944445555666"})
    assert reply.status == 404
    assert reply.body["errors"][0]["field"] == "body.campaign_id"


@pytest.mark.usefixtures("api_env")
def test_a_blogger_batch_is_202_with_a_request_id_and_one_listing_message(
        api: Api, sqs: tuple[Any, str]) -> None:
    reply = api.call("POST", "/bloggers", body={"platform": "tiktok", "username": "scout2015", "limit": 10})
    assert reply.status == 202, reply
    (message,) = received(sqs)
    assert message["request_id"] == reply.body["request_id"]
    assert message["kind"] == "fetch_creator"
    assert message["limit"] == 10


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize(("body", "status", "field"), [
    ({"username": "nobody"}, 422, "body"),
    ({"profile_url": "https://example.com/@x"}, 422, "body.profile_url"),
    ({"platform": "tiktok", "username": "x", "limit": 1000}, 422, "body.limit"),
    ({"platform": "tiktok", "username": "x", "campaign_id": "5b3f6f2a-1111-4222-8333-944445555666"}, 404,
     "body.campaign_id"),
])
def test_an_invalid_blogger_batch_names_the_field(api: Api, sqs: tuple[Any, str], body: dict[str, Any],
                                                  status: int, field: str) -> None:
    reply = api.call("POST", "/bloggers", body=body)
    assert reply.status == status, reply
    assert field in [e["field"] for e in reply.body["errors"]]
    assert received(sqs) == []
