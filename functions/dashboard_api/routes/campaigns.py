"""``/campaigns``: campaigns with their totals and growth, one campaign's analytics and CSV; creating,
changing and filling campaigns."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from vidstats.dashboard import campaigns
from vidstats.dashboard.exports import campaign_csv
from vidstats.dashboard.models import (
    AnalyticsMode,
    Campaign,
    CampaignAnalytics,
    CampaignCreate,
    CampaignDetail,
    CampaignPage,
    CampaignUpdate,
    CampaignVideosAdd,
    CampaignVideosAdded,
)

from dashboard_api.dependencies import (
    CONFLICT,
    ERRORS,
    NOT_FOUND,
    WITH_BODY,
    Cursor,
    DateFrom,
    DateTo,
    PageSize,
    WorkspaceId,
    ok,
    reading,
    scoped,
)

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]
AnalyticsRows = Annotated[int, Query(ge=0, le=1000, description=(
    "Per-video rows returned (0: none, for a screen that shows only the campaign's figures: they are then read from "
    "its daily sums kept by the refresh)"))]


@router.get("/campaigns", summary="Campaigns, newest first, with their totals and growth", tags=["campaigns"],
            responses=ok(ERRORS), description="Each campaign's `totals` (as `GET /campaigns/{id}`) and `increments`, "
            "its growth in the campaign over `from`..`to` (the same figures as `GET /campaigns/{id}/analytics` "
            "for the same range).")
def list_campaigns(workspace: WorkspaceId, limit: PageSize = 50, cursor: Cursor = None,
                   date_from: DateFrom = None, date_to: DateTo = None) -> CampaignPage:
    return campaigns.list_campaigns(reading(workspace), limit=limit, cursor=cursor, date_from=date_from,
                                    date_to=date_to)


@router.get("/campaigns/<campaign_id>", summary="One campaign with its totals", tags=["campaigns"],
            responses=ok({**ERRORS, **NOT_FOUND}))
def get_campaign(workspace: WorkspaceId, campaign_id: Annotated[UUID, Path()]) -> CampaignDetail:
    return campaigns.get_campaign(reading(workspace), campaign_id)


@router.get("/campaigns/<campaign_id>/analytics", summary="Totals vs increments of a campaign", tags=["campaigns"],
            responses=ok({**ERRORS, **NOT_FOUND}), description=campaigns.__doc__)
def campaign_analytics(workspace: WorkspaceId, campaign_id: Annotated[UUID, Path()],
                       mode: Annotated[AnalyticsMode, Query()] = AnalyticsMode.daily, date_from: DateFrom = None,
                       date_to: DateTo = None, limit: AnalyticsRows = 200) -> CampaignAnalytics:
    return campaigns.campaign_analytics(reading(workspace), campaign_id, mode=mode, date_from=date_from,
                                        date_to=date_to, limit=limit)


@router.get("/campaigns/<campaign_id>/export.csv", summary="The campaign's worksheet of the export, as a CSV file",
            tags=["campaigns", "exports"], description="The same lines and values as the campaign's worksheet (and "
            "the CSV file the export writes without Google), as of now: a download for the web dashboard.",
            responses={200: {"description": "The CSV file", "content": {"text/csv": {"schema": {"type": "string"}}}},
                       **ERRORS, **NOT_FOUND})
def campaign_export_csv(workspace: WorkspaceId, campaign_id: Annotated[UUID, Path()]) -> Response[str]:
    name, text = campaign_csv(reading(workspace), campaign_id)
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=text,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.post("/campaigns", summary="Create a campaign", tags=["campaigns"], responses=ok(WITH_BODY, 201, "Created"))
def create_campaign(workspace: WorkspaceId, body: Annotated[CampaignCreate, Body()]) -> Response[Campaign]:
    created = campaigns.create_campaign(scoped(workspace), body)
    return Response(status_code=201, content_type="application/json", body=created)


@router.patch("/campaigns/<campaign_id>", summary="Rename a campaign or move its window", tags=["campaigns"],
              responses=ok({**WITH_BODY, **NOT_FOUND, **CONFLICT}))
def update_campaign(workspace: WorkspaceId,
                    campaign_id: Annotated[UUID, Path()], body: Annotated[CampaignUpdate, Body()]) -> Campaign:
    return campaigns.update_campaign(scoped(workspace), campaign_id, body)


@router.post("/campaigns/<campaign_id>/videos", summary="Add tracked videos to a campaign", tags=["campaigns"],
             responses=ok({**WITH_BODY, **NOT_FOUND, **CONFLICT}))
def add_campaign_videos(workspace: WorkspaceId, campaign_id: Annotated[UUID, Path()],
                        body: Annotated[CampaignVideosAdd, Body()]) -> CampaignVideosAdded:
    return campaigns.add_videos(scoped(workspace), campaign_id, body)
