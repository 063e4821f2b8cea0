"""The two commands that start ingestion: track URLs (``vidstats.ingestion.tracking.start_tracking``) and request a
blogger batch (``vidstats.ingestion.blogger_batch.request_blogger_batch``). They write tracking metadata and enqueue
fetches; statistics arrive later through the queue processor."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import httpx
from pydantic import Field

from vidstats.dashboard.errors import ApiError, NotFoundError
from vidstats.dashboard.models import NO_NUL, Platform, TrackingState, _In, _Out
from vidstats.db import Database, Role
from vidstats.ingestion.blogger_batch import creator_ref, request_blogger_batch
from vidstats.ingestion.fetch_queue import FetchQueue
from vidstats.ingestion.tracking import CampaignNotFoundError, InvalidUrlsError, start_tracking
from vidstats.ingestion.urls import UnsupportedUrlError
from vidstats.platforms import Platform as PlatformId

Url = Annotated[str, Field(min_length=1, max_length=2048, pattern=NO_NUL)]


class UnprocessableError(ApiError):
    status = 422
    title = "Validation failed"


class TrackVideosRequest(_In):
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

    profile_url: Url | None = None
    platform: Platform | None = None
    username: Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)] | None = None
    limit: int = Field(default=30, ge=1, le=100, description="How many of the creator's latest videos")
    campaign_id: UUID | None = None


class BloggerBatchAccepted(_Out):
    request_id: UUID


def track_videos(db: Database, queue: FetchQueue, body: TrackVideosRequest,
                 resolver_client: httpx.Client) -> TrackVideosAccepted:
    try:
        tracked = start_tracking(db, queue, body.urls, body.campaign_id, resolver_client=resolver_client)
    except InvalidUrlsError as exc:
        problems = "; ".join(f"{url}: {reason}" for url, reason in list(exc.problems.items())[:20])
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
