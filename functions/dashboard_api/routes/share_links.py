"""A campaign's read-only share links: managed by owners and editors under ``/campaigns/{id}/share-links``,
read without an account under ``/shared/{token}`` (the token is the only credential)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from vidstats.dashboard import campaigns, share_links
from vidstats.dashboard.models import (
    AnalyticsMode,
    CampaignAnalytics,
    Metric,
    Period,
    Platform,
    TrackingState,
    VideoPage,
    VideoQuery,
    VideoSort,
)
from vidstats.http_api import error_doc

from dashboard_api.dependencies import (
    ERRORS,
    NOT_FOUND,
    WITH_BODY,
    Cursor,
    DateFrom,
    DateTo,
    PageSize,
    Until,
    WorkspaceId,
    database,
    ok,
    scoped,
)
from dashboard_api.routes.campaigns import AnalyticsRows
from dashboard_api.routes.videos import GrowthPeriod, Sort, SortMetric, VideoSearch

SHARE_PREFIX = "/shared/"  # a share link's routes: the token in the path is the only credential
router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
LinkId = Annotated[UUID, Path()]
ShareToken = Annotated[str, Path(max_length=200, description="The share link's token")]
UNKNOWN_LINK: dict[int, OpenAPIResponse] = {404: error_doc("No such share link (unknown, revoked or expired)")}


@router.post("/campaigns/<campaign_id>/share-links", summary="Make a read-only share link to a campaign",
             tags=["share links"],
             responses=ok({**WITH_BODY, **NOT_FOUND}, 201, "Created: the token is shown this once"))
def create_share_link(workspace: WorkspaceId, campaign_id: Annotated[UUID, Path()],
                      body: Annotated[share_links.ShareLinkCreate, Body()]) -> Response[share_links.ShareLinkCreated]:
    created = share_links.create_share_link(scoped(workspace), campaign_id, body)
    return Response(status_code=201, content_type="application/json", body=created)


@router.get("/campaigns/<campaign_id>/share-links", summary="A campaign's share links (owners and editors)",
            tags=["share links"], responses=ok({**ERRORS, **NOT_FOUND}))
def list_share_links(workspace: WorkspaceId, campaign_id: Annotated[UUID, Path()]) -> share_links.ShareLinkList:
    return share_links.list_share_links(scoped(workspace), campaign_id)


@router.delete("/campaigns/<campaign_id>/share-links/<link_id>", summary="Revoke a share link (at once)",
               tags=["share links"], responses=ok({**ERRORS, **NOT_FOUND}))
def revoke_share_link(workspace: WorkspaceId, campaign_id: Annotated[UUID, Path()],
                      link_id: LinkId) -> share_links.ShareLink:
    return share_links.revoke_share_link(scoped(workspace), campaign_id, link_id)


@router.get("/shared/<token>", summary="A shared campaign's analytics (no account: the link's token)",
            tags=["share links"], responses=ok({**UNKNOWN_LINK, 422: ERRORS[422]}), description=campaigns.__doc__)
def shared_campaign(token: ShareToken, mode: Annotated[AnalyticsMode, Query()] = AnalyticsMode.daily,
                    date_from: DateFrom = None, date_to: DateTo = None, limit: AnalyticsRows = 200
                    ) -> CampaignAnalytics:
    return share_links.shared_campaign_analytics(database(), token, mode=mode, date_from=date_from,
                                                 date_to=date_to, limit=limit)


@router.get("/shared/<token>/videos", summary="A shared campaign's videos (as GET /videos?campaign_id=)",
            tags=["share links"], responses=ok({**UNKNOWN_LINK, 400: ERRORS[400], 422: ERRORS[422]}))
def shared_campaign_videos(
    token: ShareToken,
    platform: Annotated[Platform | None, Query()] = None,
    tracking_state: Annotated[TrackingState | None, Query()] = None,
    q: VideoSearch = None,
    sort: Sort = VideoSort.views,
    metric: SortMetric = Metric.views,
    period: GrowthPeriod = Period.d7,
    until: Until = None,
    limit: PageSize = 50,
    cursor: Cursor = None,
) -> VideoPage:
    query = VideoQuery(platform=platform, tracking_state=tracking_state, q=q, sort=sort, metric=metric,
                       period=period, until=until, limit=limit, cursor=cursor)
    return share_links.shared_campaign_videos(database(), token, query)
