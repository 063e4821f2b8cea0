"""Builders shared by the ingestion tests: providers on a respx-mocked client, recorded bodies, SQS events."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import httpx
from vidstats.db import Database, Role
from vidstats.ingestion.idempotency import IdempotencyStore
from vidstats.ingestion.messages import FetchVideosMessage, VideoRef
from vidstats.ingestion.processor import IngestProcessor, Record
from vidstats.ingestion.provider_registry import ProviderRegistry
from vidstats.platforms import Platform
from vidstats.providers.catalogue import PROVIDERS
from vidstats.providers.ratelimit import RateLimiter
from vidstats.workspaces import DEFAULT_WORKSPACE_ID, track_in_workspace

from tests.providers.conftest import load, make_config, url

TIKTOK_VIDEO_URL = url(Platform.TIKTOK, "video")
INSTAGRAM_POST_URL = url(Platform.INSTAGRAM, "post")
YOUTUBE_VIDEOS_URL = url(Platform.YOUTUBE, "videos")


def no_sleep(_seconds: float) -> None:
    return None


def registry(client: httpx.Client, **overrides: Any) -> ProviderRegistry:
    """Providers with the test key, no pacing and no real sleeps (tests replay responses with respx)."""

    def factory(platform: Platform) -> Any:
        return PROVIDERS[platform](make_config(platform, **overrides), client, limiter=RateLimiter(1e9),
                                   sleep=no_sleep)

    return ProviderRegistry(factory)


def processor(db: Database, client: httpx.Client, **kwargs: Any) -> IngestProcessor:
    return IngestProcessor(db, registry(client, max_attempts=2),
                           idempotency=IdempotencyStore(db, window_s=3600), **kwargs)


def tiktok_body(video_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(load("tiktok/video.json"))
    body["data"]["id"] = video_id
    body["data"].update(changes)
    return body


def instagram_body(shortcode: str) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(load("instagram/post.json"))
    body["shortcode"] = shortcode
    return body


def youtube_body(ids: Sequence[str]) -> dict[str, Any]:
    """A videos.list answer for ``ids``, items cloned from the recorded first video."""
    recorded = load("youtube/videos.json")
    items = []
    for index, video_id in enumerate(ids):
        item = copy.deepcopy(recorded["items"][0])
        item["id"] = video_id
        item["statistics"]["viewCount"] = str(1000 + index)
        items.append(item)
    return {**recorded, "items": items}


def insert_videos(db: Database, platform: Platform, external_ids: Sequence[str]) -> list[UUID]:
    with db.transaction(Role.INGEST) as conn:
        rows = conn.execute(
            "insert into analytics.videos (platform, external_video_id, url)"
            " select %s, e, 'https://example.invalid/' || e from unnest(%s::text[]) e returning id",
            (platform.value, list(external_ids)),
        ).fetchall()
        track_in_workspace(conn, DEFAULT_WORKSPACE_ID, [r[0] for r in rows])
    return [UUID(str(r[0])) for r in rows]


def fetch_body(videos: Sequence[tuple[UUID, Platform, str]], request_id: UUID | None = None) -> str:
    return FetchVideosMessage(
        version=1, kind="fetch_videos", request_id=request_id or uuid.uuid4(),
        videos=[VideoRef(video_id=v, platform=p, external_video_id=e) for v, p, e in videos],
    ).model_dump_json()


def records(bodies: Sequence[str]) -> list[Record]:
    return [Record(message_id=f"msg-{i}", body=body) for i, body in enumerate(bodies)]


def sqs_event(bodies: Sequence[str], message_ids: Sequence[str] | None = None,
              receipt_handles: Sequence[str] | None = None) -> dict[str, Any]:
    ids = list(message_ids) if message_ids else [str(uuid.uuid4()) for _ in bodies]
    handles = list(receipt_handles) if receipt_handles else [f"rh-{message_id}" for message_id in ids]
    return {"Records": [
        {
            "messageId": message_id, "receiptHandle": handle, "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764230400000",
                           "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1764230400000"},
            "messageAttributes": {}, "md5OfBody": "0" * 32, "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:FetchQueue", "awsRegion": "eu-west-1",
        }
        for message_id, handle, body in zip(ids, handles, bodies, strict=True)
    ]}


def snapshot_rows(superuser_url: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(superuser_url) as conn:
        return conn.execute(
            "select video_id, external_video_id, views, likes, comments, reposts, saves"
            " from analytics.video_statistics order by external_video_id"
        ).fetchall()


def dumps(value: Any) -> str:
    return json.dumps(value)
