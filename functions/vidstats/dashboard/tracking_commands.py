"""The two commands that start ingestion: track URLs (``vidstats.ingestion.tracking.start_tracking``) and request a
blogger batch (``vidstats.ingestion.blogger_batch.request_blogger_batch``). They write tracking metadata and enqueue
fetches; statistics arrive later through the queue processor. A blogger batch's outcome is read back by its id."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from vidstats.budgets import charge
from vidstats.dashboard.errors import ApiError, NotFoundError
from vidstats.dashboard.models import NO_NUL, Platform, TrackingState, _In, _Out
from vidstats.db import Database, Role, caller_workspace
from vidstats.ingestion.blogger_batches_repository import BatchRequest, FailureReason, find_batch, record_requested
from vidstats.platforms import Platform as PlatformId

if TYPE_CHECKING:
    import httpx

    from vidstats.ingestion.fetch_queue import FetchQueue

# The commands' ingestion code (URL parsing, tracking, blogger batches) is imported by the command that runs it:
# the dashboard's cold start, mostly a read, does not load it (bench.cold_start).

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
    request_id: UUID = Field(description="The batch's id: `GET /bloggers/batches/{request_id}` tells its outcome")
    status: Literal["pending"] = "pending"
    status_url: str = Field(description="Where the outcome is (relative to the API's base URL)")


class BatchStatus(StrEnum):
    pending = "pending"
    done = "done"
    failed = "failed"


class BatchFailure(StrEnum):
    creator_not_found = FailureReason.CREATOR_NOT_FOUND.value
    provider_configuration = FailureReason.PROVIDER_CONFIGURATION.value
    campaign_not_found = FailureReason.CAMPAIGN_NOT_FOUND.value
    provider_error = FailureReason.PROVIDER_ERROR.value
    budget_exceeded = FailureReason.BUDGET_EXCEEDED.value


class BloggerBatchCounts(_Out):
    videos_found: int = Field(description="Videos the creator's listing returned (at most the limit)")
    videos_new: int = Field(description="Of those, videos not tracked before")
    snapshots_written: int = Field(description="Statistics snapshots written (one per video measured)")
    videos_without_snapshot: int = Field(description="Listed videos that could not be measured this time")


class BloggerBatchOutcome(_Out):
    """A blogger batch: ``pending`` until the queue processor has run it, then ``done`` (with its counts and the
    creator) or ``failed`` (with the reason). While pending, ``failed_attempts`` and ``error`` show retries."""

    id: UUID
    status: BatchStatus
    platform: Platform
    creator: str = Field(description="The handle, username or channel as requested")
    limit: int
    campaign_id: UUID | None
    requested_at: datetime
    finished_at: datetime | None
    blogger_id: UUID | None = Field(description="The creator's row (`GET /bloggers/{blogger_id}`) once done")
    counts: BloggerBatchCounts | None = Field(description="Set when done")
    failure_reason: BatchFailure | None = Field(
        description="Set when failed: `creator_not_found` (no such or no visible creator), `provider_configuration` "
                    "(the operator's RapidAPI key or subscription), `campaign_not_found` (deleted meanwhile), "
                    "`provider_error` (the provider kept failing), `budget_exceeded` (the workspace's tracked-videos "
                    "cap filled up between the request and the run: `error` gives the figures)")
    failed_attempts: int = Field(description="Deliveries that failed in a way a retry may fix")
    error: str | None = Field(description="The last error (why it failed, or why the last attempt did)")


def track_videos(db: Database, queue: FetchQueue, body: TrackVideosRequest,
                 resolver_client: httpx.Client) -> TrackVideosAccepted:
    from vidstats.ingestion.tracking import CampaignNotFoundError, InvalidUrlsError, start_tracking

    try:
        tracked = start_tracking(db, queue, body.urls, body.campaign_id, resolver_client=resolver_client,
                                 workspace_id=caller_workspace(db))
    except InvalidUrlsError as exc:
        # One problem per URL, its field naming its place in the list (the web dashboard shows each URL's
        # reason); a URL's reason names it already (shortened) when it is a URL form we do not accept.
        problems = [(f"body.urls.{body.urls.index(url)}" if url in body.urls else "body.urls",
                     reason if reason.startswith("unsupported URL") else f"{url[:100]}: {reason}")
                    for url, reason in list(exc.problems.items())[:20]]
        raise UnprocessableError(*problems[0], more=problems[1:]) from exc
    except CampaignNotFoundError as exc:
        raise NotFoundError("body.campaign_id", "no such campaign") from exc
    return TrackVideosAccepted(videos=[
        TrackedVideoOut(id=t.video_id, platform=Platform(t.platform.value), external_video_id=t.external_video_id,
                        url=t.url, tracking_state=TrackingState(t.tracking_state),
                        tracking_started_at=t.tracking_started_at, created=t.created, fetch_enqueued=t.fetch_enqueued)
        for t in tracked])


def blogger_batch(db: Database, queue: FetchQueue, body: BloggerBatchRequest) -> BloggerBatchAccepted:
    from vidstats.ingestion.blogger_batch import creator_ref, request_blogger_batch
    from vidstats.ingestion.urls import UnsupportedUrlError

    try:
        creator = creator_ref(body.profile_url, username=body.username,
                              platform=PlatformId(body.platform.value) if body.platform else None)
    except UnsupportedUrlError as exc:
        raise UnprocessableError("body.profile_url", str(exc)) from exc
    except ValueError as exc:
        raise UnprocessableError("body", str(exc)) from exc
    request_id = uuid.uuid4()
    workspace_id = caller_workspace(db)
    with db.transaction(Role.READER) as conn:
        if body.campaign_id is not None and \
                conn.execute("select 1 from analytics.campaigns where id = %s", (body.campaign_id,)).fetchone() is None:
            raise NotFoundError("body.campaign_id", "no such campaign")
        record_requested(conn, BatchRequest(request_id, creator.platform, creator.creator, body.limit,
                                            body.campaign_id, workspace_id))
        # A batch measures up to `limit` videos and tracks them: both caps are checked before it is enqueued.
        charge(conn, workspace_id, fetches=body.limit, reserve=body.limit)
        # Sent before the pending row commits: a failed send leaves no batch that never runs. (A commit lost
        # after the send is harmless: the processor writes the outcome row itself.)
        request_blogger_batch(queue, creator, limit=body.limit, campaign_id=body.campaign_id, request_id=request_id,
                              workspace_id=workspace_id)
    return BloggerBatchAccepted(request_id=request_id, status_url=f"/bloggers/batches/{request_id}")


def blogger_batch_outcome(db: Database, batch_id: UUID) -> BloggerBatchOutcome:
    with db.transaction(Role.READER) as conn:
        outcome = find_batch(conn, batch_id)
    if outcome is None:
        raise NotFoundError("path.batch_id", "no such blogger batch")
    request, counts = outcome.request, outcome.counts
    return BloggerBatchOutcome(
        id=request.id, status=BatchStatus(outcome.status), platform=Platform(request.platform.value),
        creator=request.creator, limit=request.limit, campaign_id=request.campaign_id,
        requested_at=outcome.requested_at, finished_at=outcome.finished_at, blogger_id=outcome.blogger_id,
        counts=None if counts is None else BloggerBatchCounts(
            videos_found=counts.videos_found, videos_new=counts.videos_new,
            snapshots_written=counts.snapshots_written, videos_without_snapshot=counts.videos_without_snapshot),
        failure_reason=None if outcome.failure_reason is None else BatchFailure(outcome.failure_reason.value),
        failed_attempts=outcome.failed_attempts, error=outcome.last_error)
