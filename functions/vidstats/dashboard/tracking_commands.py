"""The two commands that start ingestion: track URLs (``vidstats.ingestion.tracking.start_tracking``) and request a
blogger batch (``vidstats.ingestion.blogger_batch.request_blogger_batch``). They write tracking metadata and enqueue
fetches; statistics arrive later through the queue processor."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import httpx
from pydantic import ConfigDict, Field

from vidstats.dashboard.errors import ApiError, NotFoundError
from vidstats.dashboard.models import NO_NUL, Platform, TrackingState, _In, _Out
from vidstats.db import Database, Role
from vidstats.ingestion.blogger_batch import creator_ref, request_blogger_batch
from vidstats.ingestion.fetch_queue import FetchQueue
from vidstats.ingestion.tracking import CampaignNotFoundError, InvalidUrlsError, start_tracking
from vidstats.ingestion.urls import UnsupportedUrlError
from vidstats.platforms import Platform as PlatformId

Url = Annotated[str, Field(min_length=1, max_length=2048, pattern=NO_NUL)]
# TikTok, Instagram and YouTube handles: letters (any script), digits, '.', '_', '-'; an optional leading '@'.
Username = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^@?[\w.\-]+$",
                                description="The creator's handle, with or without '@'")]


class UnprocessableError(ApiError):
    status = 422
    title = "Validation failed"


class TrackVideosRequest(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "urls": ["https://www.tiktok.com/@scout2015/video/6718335390845095173",
                 "https://www.youtube.com/shorts/aqz-KE-bpKQ"],
        "campaign_id": "3f2c1b9e-8d4a-4c6b-9e1f-2a7d5c8b0e41"}]})

    urls: list[Url] = Field(min_length=1, max_length=500, description="TikTok, Instagram or YouTube video URLs")
    campaign_id: UUID | None = Field(default=None, description="Also add every video to this campaign")


class TrackedVideoOut(_Out):
    id: UUID
    platform: Platform
    external_video_id: str
    url: str
    tracking_state: TrackingState
    tracking_started_at: datetime
    created: bool = Field(description="False: the video was already tracked (reused)")
    fetch_enqueued: bool


class TrackVideosAccepted(_Out):
    videos: list[TrackedVideoOut]


class BloggerBatchRequest(_In):
    """A creator by profile URL, or by platform + username."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"profile_url": "https://www.tiktok.com/@scout2015", "limit": 20},
        {"platform": "youtube", "username": "@NASA", "limit": 10}]})

    profile_url: Url | None = None
    platform: Platform | None = None
    username: Username | None = None
    limit: int = Field(default=30, ge=1, le=100, description="How many of the creator's latest videos")
    campaign_id: UUID | None = None


class BloggerBatchAccepted(_Out):
    request_id: UUID


def track_videos(db: Database, queue: FetchQueue, body: TrackVideosRequest,
                 resolver_client: httpx.Client) -> TrackVideosAccepted:
    try:
        tracked = start_tracking(db, queue, body.urls, body.campaign_id, resolver_client=resolver_client)
    except InvalidUrlsError as exc:
        # A URL's reason names it already (shortened) when it is a URL form we do not accept.
        problems = "; ".join(reason if reason.startswith("unsupported URL") else f"{url[:100]}: {reason}"
                             for url, reason in list(exc.problems.items())[:20])
        raise UnprocessableError("body.urls", problems) from exc
    except CampaignNotFoundError as exc:
        raise NotFoundError("body.campaign_id", "no such campaign") from exc
    return TrackVideosAccepted(videos=[
        TrackedVideoOut(id=t.video_id, platform=Platform(t.platform.value), external_video_id=t.external_video_id,
                        url=t.url, tracking_state=TrackingState(t.tracking_state),
                        tracking_started_at=t.tracking_started_at, created=t.created, fetch_enqueued=t.fetch_enqueued)
        for t in tracked])


def blogger_batch(db: Database, queue: FetchQueue, body: BloggerBatchRequest) -> BloggerBatchAccepted:
    try:
        creator = creator_ref(body.profile_url, username=body.username,
                              platform=PlatformId(body.platform.value) if body.platform else None)
    except UnsupportedUrlError as exc:
        raise UnprocessableError("body.profile_url", str(exc)) from exc
    except ValueError as exc:
        raise UnprocessableError("body", str(exc)) from exc
    if body.campaign_id is not None:
        with db.transaction(Role.READER) as conn:
            if conn.execute("select 1 from analytics.campaigns where id = %s", (body.campaign_id,)).fetchone() \
                    is None:
                raise NotFoundError("body.campaign_id", "no such campaign")
    request_id = request_blogger_batch(queue, creator, limit=body.limit, campaign_id=body.campaign_id)
    return BloggerBatchAccepted(request_id=request_id)
