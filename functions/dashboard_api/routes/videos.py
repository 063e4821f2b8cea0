"""``/videos``: the dashboard list, one video and its series; tracking URLs and stopping."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from vidstats.dashboard import snapshots, videos
from vidstats.dashboard.models import (
    ApiDate,
    FetchHealthState,
    Granularity,
    Metric,
    Period,
    Platform,
    SearchText,
    TrackingState,
    TrackingStopped,
    VideoDetail,
    VideoIncrements,
    VideoPage,
    VideoQuery,
    VideoSnapshotPage,
    VideoSort,
)
from vidstats.dashboard.tracking_commands import TrackVideosAccepted, TrackVideosRequest, track_videos

from dashboard_api import dependencies
from dashboard_api.dependencies import (
    BUDGET,
    CONFLICT,
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
# The video list's parameters (also a share link's list: GET /shared/{token}/videos).
VideoSearch = Annotated[SearchText | None, Query(description="Text in the caption or the blogger's username")]
Sort = Annotated[VideoSort, Query(description="A total, `growth` (of `metric` over `period`) or `recent`")]
SortMetric = Annotated[Metric, Query(description="The counter `sort=growth` ranks by")]
GrowthPeriod = Annotated[Period, Query(description="Growth period: the rows' increments, and sort=growth")]


@router.get("/videos", summary="The dashboard list", tags=["videos"], responses=ok(ERRORS))
def list_videos(
    workspace: WorkspaceId,
    platform: Annotated[Platform | None, Query()] = None,
    campaign_id: Annotated[UUID | None, Query()] = None,
    blogger_id: Annotated[UUID | None, Query()] = None,
    tracking_state: Annotated[TrackingState | None, Query()] = None,
    health: Annotated[FetchHealthState | None, Query(
        description="Fetch health: tracking, failing (fetches failed on 2+ UTC days since the last success), "
                    "gone, stopped")] = None,
    q: VideoSearch = None,
    sort: Sort = VideoSort.views,
    metric: SortMetric = Metric.views,
    period: GrowthPeriod = Period.d7,
    until: Until = None,
    limit: PageSize = 50,
    cursor: Cursor = None,
) -> VideoPage:
    query = VideoQuery(platform=platform, campaign_id=campaign_id, blogger_id=blogger_id,
                       tracking_state=tracking_state, health=health, q=q, sort=sort, metric=metric, period=period,
                       until=until, limit=limit, cursor=cursor)
    return videos.list_videos(reading(workspace), query)


@router.get("/videos/<video_id>", summary="One video: totals, growth, tracking", tags=["videos"],
            responses=ok({**ERRORS, **NOT_FOUND}))
def get_video(workspace: WorkspaceId, video_id: Annotated[UUID, Path()]) -> VideoDetail:
    return videos.get_video(reading(workspace), video_id)


@router.get("/videos/<video_id>/increments", summary="A video's daily or weekly series", tags=["videos"],
            responses=ok({**ERRORS, **NOT_FOUND}))
def video_increments(
    workspace: WorkspaceId,
    video_id: Annotated[UUID, Path()],
    granularity: Annotated[Granularity, Query()] = Granularity.daily,
    date_from: Annotated[ApiDate | None, Query(alias="from", description="First UTC day (default: 30 days / 12 "
                                                                         "weeks before `to`)")] = None,
    date_to: Annotated[ApiDate | None, Query(alias="to", description="Last UTC day (default: today)")] = None,
) -> VideoIncrements:
    return videos.video_increments(reading(workspace), video_id, granularity, date_from, date_to)


@router.get("/videos/<video_id>/snapshots", summary="A video's raw snapshots, newest first (keyset paged)",
            tags=["videos"], responses=ok({**ERRORS, **NOT_FOUND}),
            description="Each fetch's absolute counters as stored (null: not reported by the platform).")
def video_snapshots(workspace: WorkspaceId, video_id: Annotated[UUID, Path()], limit: PageSize = 50,
                    cursor: Cursor = None) -> VideoSnapshotPage:
    return snapshots.video_snapshots(reading(workspace), video_id, limit=limit, cursor=cursor)


@router.post("/videos", summary="Track one or many video URLs (fetches are enqueued)", tags=["videos"],
             responses=ok({**WITH_BODY, **NOT_FOUND, **BUDGET}, 202, "Accepted: the first fetches are enqueued"))
def post_videos(workspace: WorkspaceId, body: Annotated[TrackVideosRequest, Body()]) -> Response[TrackVideosAccepted]:
    accepted = track_videos(scoped(workspace), dependencies.fetch_queue(), body, dependencies.resolver_client())
    return Response(status_code=202, content_type="application/json", body=accepted)


@router.delete("/videos/<video_id>/tracking", summary="Stop tracking a video (history is kept)", tags=["videos"],
               responses=ok({**ERRORS, **NOT_FOUND, **CONFLICT}))
def stop_tracking(workspace: WorkspaceId, video_id: Annotated[UUID, Path()]) -> TrackingStopped:
    return videos.stop_tracking(scoped(workspace), video_id)
