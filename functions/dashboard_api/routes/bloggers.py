"""``/bloggers``: creators with their videos' totals and growth, and blogger batches (a creator's latest videos
tracked at once) with their outcome."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from vidstats.dashboard import bloggers
from vidstats.dashboard.models import BloggerDetail, BloggerPage, Period, Platform, SearchText
from vidstats.dashboard.tracking_commands import (
    BloggerBatchAccepted,
    BloggerBatchOutcome,
    BloggerBatchRequest,
    blogger_batch,
    blogger_batch_outcome,
)

from dashboard_api import dependencies
from dashboard_api.dependencies import (
    BUDGET,
    ERRORS,
    NOT_FOUND,
    WITH_BODY,
    Cursor,
    PageSize,
    Until,
    WorkspaceId,
    ok,
    reading,
    scoped,
)

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.get("/bloggers", summary="Bloggers, newest first, with totals and growth", tags=["bloggers"],
            responses=ok(ERRORS))
def list_bloggers(
    workspace: WorkspaceId,
    platform: Annotated[Platform | None, Query()] = None,
    q: Annotated[SearchText | None, Query(description="Text in the handle, display name or platform user id")] = None,
    period: Annotated[Period, Query()] = Period.d7,
    until: Until = None,
    limit: PageSize = 50,
    cursor: Cursor = None,
) -> BloggerPage:
    return bloggers.list_bloggers(reading(workspace), platform=platform, q=q, period=period, until=until, limit=limit,
                                  cursor=cursor)


@router.get("/bloggers/<blogger_id>", summary="One blogger with its videos", tags=["bloggers"],
            responses=ok({**ERRORS, **NOT_FOUND}))
def get_blogger(
    workspace: WorkspaceId,
    blogger_id: Annotated[UUID, Path()],
    period: Annotated[Period, Query()] = Period.d7,
    until: Until = None,
) -> BloggerDetail:
    return bloggers.get_blogger(reading(workspace), blogger_id, period=period, until=until)


BATCH_EXAMPLES: dict[str, Any] = {
    "pending": {"summary": "Not run yet (or being retried)", "value": {
        "id": "0b0f6c9e-5d1a-4c55-9d0e-3f1f2b7a8c01", "status": "pending", "platform": "tiktok",
        "creator": "mineodesu69", "limit": 30, "campaign_id": None, "requested_at": "2026-11-30T09:00:00Z",
        "finished_at": None, "blogger_id": None, "counts": None, "failure_reason": None, "failed_attempts": 1,
        "error": "tiktok: GET tiktok-scraper7.p.rapidapi.com/user/posts: 502 Oops, an error in the gateway"}},
    "done": {"summary": "Done: the creator's videos are tracked", "value": {
        "id": "0b0f6c9e-5d1a-4c55-9d0e-3f1f2b7a8c01", "status": "done", "platform": "tiktok",
        "creator": "mineodesu69", "limit": 30, "campaign_id": None, "requested_at": "2026-11-30T09:00:00Z",
        "finished_at": "2026-11-30T09:00:04Z", "blogger_id": "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
        "counts": {"videos_found": 30, "videos_new": 27, "snapshots_written": 29, "videos_without_snapshot": 1},
        "failure_reason": None, "failed_attempts": 0, "error": None}},
    "failed": {"summary": "Failed: no such creator", "value": {
        "id": "0b0f6c9e-5d1a-4c55-9d0e-3f1f2b7a8c01", "status": "failed", "platform": "instagram",
        "creator": "no.such.user", "limit": 30, "campaign_id": None, "requested_at": "2026-11-30T09:00:00Z",
        "finished_at": "2026-11-30T09:00:02Z", "blogger_id": None, "counts": None,
        "failure_reason": "creator_not_found", "failed_attempts": 0,
        "error": "instagram: no.such.user: no user id (status false)"}},
}


@router.get("/bloggers/batches/<batch_id>",
            summary="A blogger batch's outcome: pending, done (counts) or failed (why)",
            tags=["bloggers"], description=BloggerBatchOutcome.__doc__,
            responses={200: {"description": "The batch's outcome",
                             "content": {"application/json": {"model": BloggerBatchOutcome,
                                                               "examples": BATCH_EXAMPLES}}},
                       **ERRORS, **NOT_FOUND})
def get_blogger_batch(workspace: WorkspaceId,
                      batch_id: Annotated[UUID, Path(description="The `request_id` POST /bloggers returned")]
                      ) -> BloggerBatchOutcome:
    return blogger_batch_outcome(scoped(workspace), batch_id)  # the writer: sees the batch's own outcome at once


@router.post("/bloggers", summary="Fetch a creator's latest videos and track them (a blogger batch)",
             tags=["bloggers"],
             responses=ok({**WITH_BODY, **NOT_FOUND, **BUDGET}, 202, "Accepted: the creator's videos are being listed"),
             description="Answers 202 with the batch's `request_id` at once; the queue processor lists the creator's "
                         "videos later. `GET /bloggers/batches/{request_id}` tells when it is done, with what counts, "
                         "or why it failed.")
def post_bloggers(workspace: WorkspaceId,
                  body: Annotated[BloggerBatchRequest, Body()]) -> Response[BloggerBatchAccepted]:
    accepted = blogger_batch(scoped(workspace), dependencies.fetch_queue(), body)
    return Response(status_code=202, content_type="application/json", body=accepted)
