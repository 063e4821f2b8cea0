"""Lambda entry point of the dashboard API (API Gateway HTTP API, payload 2.0): routing, auth, errors.

Thin on purpose: each route validates its input (Powertools + pydantic), calls one function of
``vidstats.dashboard`` and returns its pydantic model. Every route but ``/health``, ``/openapi.json`` and
``/docs`` needs a Supabase Auth access token (``Authorization: Bearer``), checked before anything else.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from psycopg import errors as pg_errors
from vidstats.auth import AuthError, authenticator
from vidstats.budgets import BudgetExceededError
from vidstats.dashboard import access, bloggers, campaigns, share_links, snapshots, videos, workspace_admin
from vidstats.dashboard.errors import ApiError
from vidstats.dashboard.exports import ExportAccepted, ExportRequest, LambdaInvoker, campaign_csv, start_export
from vidstats.dashboard.freshness import freshness
from vidstats.dashboard.models import (
    AnalyticsMode,
    ApiDate,
    BloggerDetail,
    BloggerPage,
    Campaign,
    CampaignAnalytics,
    CampaignCreate,
    CampaignDetail,
    CampaignPage,
    CampaignUpdate,
    CampaignVideosAdd,
    CampaignVideosAdded,
    FetchHealthState,
    Granularity,
    Health,
    MeOut,
    Metric,
    Period,
    Platform,
    ReadModelFreshness,
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
from vidstats.dashboard.tracking_commands import (
    BloggerBatchAccepted,
    BloggerBatchOutcome,
    BloggerBatchRequest,
    TrackVideosAccepted,
    TrackVideosRequest,
    blogger_batch,
    blogger_batch_outcome,
    track_videos,
)
from vidstats.db import Caller, Database
from vidstats.error_body import ErrorBody
from vidstats.http_api import (
    BODY_ERRORS,
    FieldProblem,
    error_doc,
    error_response,
    gate,
    install_error_handlers,
    plain_error,
    problems_of,
    strict_json_loads,
)
from vidstats.ingestion.fetch_queue import FetchQueue, SqsFetchQueue
from vidstats.page_views.routes import page_views_router
from vidstats.settings import ingest_settings
from vidstats.web_assets import WebAssets

if TYPE_CHECKING:
    import httpx
    from vidstats.auth_admin import AuthAdmin

logger = Logger(service="dashboard_api")

TITLE = "vidstats dashboard API"
VERSION = "1.0.0"
DESCRIPTION = """Views, likes, comments, reposts and saves of the TikTok, Instagram and YouTube videos of your
influencer campaigns, and how much each grew per day and per week.

- **Read**: `GET /videos` (filter, sort by totals or growth, page with `next_cursor`), one video and its daily or
  weekly series, campaigns with their totals and their growth inside the campaign window, creators
  (`/bloggers`), the page-view report.
- **Track**: `POST /videos` with video URLs, `POST /bloggers` for a creator's latest videos, campaigns
  (`POST /campaigns`, `POST /campaigns/{id}/videos`). Counters arrive within a minute and every night after.
- **Export**: `POST /exports` writes the workspace's Google Sheets (or, locally, CSV files) now; its spreadsheets:
  `/workspace/export-targets` (owners and editors).
- **Manage the workspace**: members and invitations by e-mail (`/workspace/members`, owners), the budget
  (`/workspace/budget`: caps on tracked videos and on-demand fetches per day; a command over a cap is 429).

Numbers come from a read model refreshed every 5 minutes: every analytics answer carries `data_as_of`, and
`GET /status` tells how fresh it is. Authenticate with a Supabase Auth access token:
`Authorization: Bearer <token>`.

**Share links**: an owner or editor makes a campaign's read-only link (`POST /campaigns/{id}/share-links`); whoever
holds its token reads that campaign's analytics and videos without an account (`GET /shared/{token}`,
`GET /shared/{token}/videos`), until it is revoked or expires (then 404, as for an unknown token).

**Page views** (`/page-views/report`) are an operator feature: readable only with an instance administrator's token
(`app_metadata.role` = `admin`, which only the Supabase service role can set); anyone else gets 403.

**Workspaces**: everything but `/me`, `/health`, `/shared/...` and the page-view report belongs to a workspace,
named by the `X-Workspace-Id` header (your workspaces and your role in each: `GET /me`). Any member reads; only
owners and editors run commands and manage share links (a viewer's is 403). Not a member of the named workspace,
or of none: 403. Another workspace's ids answer 404, as if they did not exist.

Every error has the same body: `status`, `title` and `errors`, each naming the `field` (`query.limit`,
`body.urls`, `header.content-type` ...) and what is wrong with it.
"""
PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/docs"})
# The web dashboard (vidstats.web_assets), public too: its page, sign-in configuration and hashed files.
WEB_PATHS = frozenset({"/", "/app-config.json", "/assets/{file}"})
SHARE_PREFIX = "/shared/"  # a share link's routes: the token in the path is the only credential
CURSOR_MAX = 1000


def cors_config() -> CORSConfig:
    """``DASHBOARD_CORS_ORIGINS``: comma-separated origins allowed to call the API from a browser (``*``: any;
    tokens travel in the Authorization header, never in cookies, so no credentials mode)."""
    origins = [o.strip() for o in os.environ.get("DASHBOARD_CORS_ORIGINS", "*").split(",") if o.strip()] or ["*"]
    return CORSConfig(allow_origin=origins[0], extra_origins=origins[1:], max_age=600,
                      allow_headers=["Authorization", "Content-Type", "X-Workspace-Id"])


app = APIGatewayHttpResolver(enable_validation=True, cors=cors_config(), json_body_deserializer=strict_json_loads)

BUDGET: dict[int, OpenAPIResponse] = {429: error_doc(
    "Over one of the workspace's caps (`budget.cap`: tracked_videos or fetches_per_day), with its `limit`, the "
    "`used` count, what the command `requested`, and `frees_at` (fetches: the next UTC midnight, also in "
    "Retry-After); nothing was written")}
ERRORS: dict[int, OpenAPIResponse] = {
    400: error_doc("Malformed request (bad cursor, inconsistent range, invalid JSON)"),
    401: error_doc("Missing or invalid access token"),
    403: error_doc("Not a member of the workspace (or of any), or a viewer's command"),
    422: error_doc("A parameter or body field failed validation"),
}
NOT_FOUND: dict[int, OpenAPIResponse] = {404: error_doc("No such resource")}
CONFLICT: dict[int, OpenAPIResponse] = {409: error_doc("Conflicts with the current state")}
WITH_BODY: dict[int, OpenAPIResponse] = {**ERRORS, **BODY_ERRORS}


def ok(errors: dict[int, OpenAPIResponse], status: int = 200, description: str = "OK"
       ) -> dict[int, OpenAPIResponse]:
    """A route's responses: its success (no content given: Powertools documents the return type) and errors.
    Powertools documents the success itself only when a route lists no responses at all."""
    return {status: {"description": description}, **errors}


@lru_cache(maxsize=1)
def database() -> Database:
    """The writer: commands, and reads that must see a command's own result (a blogger batch's outcome)."""
    return Database.from_settings(application_name="dashboard_api")


@lru_cache(maxsize=1)
def read_database() -> Database:
    """The read replica (DATABASE_READ_URL) when one is configured, else the writer: every read-only route."""
    return Database.read_replica_from_settings(application_name="dashboard_api") or database()


@lru_cache(maxsize=1)
def web_assets() -> WebAssets:
    """The web dashboard's built files (``make web`` writes them into ``static/`` beside this module)."""
    return WebAssets.from_env(pathlib.Path(__file__).resolve().parent / "static")


@lru_cache(maxsize=1)
def export_invoker() -> LambdaInvoker | None:
    if not os.environ.get("SHEETS_EXPORT_FUNCTION_NAME"):
        return None
    import boto3  # type: ignore[import-untyped]

    client: LambdaInvoker = boto3.client("lambda")
    return client


@lru_cache(maxsize=1)
def fetch_queue() -> FetchQueue:
    return SqsFetchQueue.from_env(ingest_settings().fetch_queue_url)


def auth_admin() -> AuthAdmin | None:
    """Supabase Auth's admin API (service-role key), or None when this deployment has none configured."""
    from vidstats.auth_admin import AuthAdminNotConfiguredError
    from vidstats.auth_admin import auth_admin as make

    try:
        return make()
    except AuthAdminNotConfiguredError:
        return None


@lru_cache(maxsize=1)
def resolver_client() -> httpx.Client:
    """Follows short links (vm.tiktok.com, youtu.be ...) on the platforms' own hosts, reused across calls."""
    import httpx  # only POST /videos needs it

    return httpx.Client(timeout=5.0)


# ---- workspaces -------------------------------------------------------------------------------------------

# The routes that belong to a workspace (X-Workspace-Id); the guard in lambda_handler authorizes each request.
WORKSPACE_PREFIXES = ("/videos", "/campaigns", "/bloggers", "/exports", "/status", "/workspace")
WorkspaceId = Annotated[UUID, Header(alias=access.WORKSPACE_HEADER, description=(
    "The workspace this request is about (`GET /me` lists yours). Reads: any member; commands: owners and "
    "editors."))]


def is_workspace_route(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in WORKSPACE_PREFIXES)


# Operator features: instance administrators only (access.require_instance_admin).
ADMIN_PREFIXES = ("/page-views",)


def is_admin_route(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in ADMIN_PREFIXES)


def is_share_route(path: str) -> bool:
    return path.startswith(SHARE_PREFIX)


def editors_only(method: str, path: str) -> bool:
    """Commands, and reading a campaign's share links (their existence is for those who manage them)."""
    return method not in ("GET", "HEAD") or path.endswith("/share-links")


def scoped(workspace: UUID, *, read_only: bool = False) -> Database:
    """The database as the request's caller (the guard's ``Caller``): every query sees this workspace only.
    ``read_only``: the read replica's, when one is configured."""
    caller: Caller = app.context["caller"]
    if caller.workspace_id != workspace:  # the guard read the same header: never differs
        raise RuntimeError("the workspace header changed between the guard and the route")
    return (read_database() if read_only else database()).as_caller(caller)


def reading(workspace: UUID) -> Database:
    """``scoped`` for a read-only route: the replica when configured (staleness in GET /status)."""
    return scoped(workspace, read_only=True)


# ---- errors ----------------------------------------------------------------------------------------------


@app.exception_handler(ApiError)  # type: ignore[untyped-decorator]
def handle_api_error(exc: ApiError) -> Response[str]:
    return error_response(exc.status, exc.title, [FieldProblem(field=field, message=message)
                                                  for field, message in [(exc.field, exc.message), *exc.more]])


@app.exception_handler(pg_errors.InsufficientPrivilege)  # type: ignore[untyped-decorator]
def handle_insufficient_privilege(exc: pg_errors.InsufficientPrivilege) -> Response[str]:
    """Postgres refused a write for the caller (e.g. their role changed since the guard checked)."""
    logger.warning("refused by Postgres for the caller", extra={"error": str(exc).splitlines()[0]})
    return error_response(403, "Forbidden", [FieldProblem(field=access.HEADER_FIELD,
                                                          message="you may not change this workspace")])


@app.exception_handler(BudgetExceededError)  # type: ignore[untyped-decorator]
def handle_budget_exceeded(exc: BudgetExceededError) -> Response[str]:
    """A command over one of the workspace's caps: which cap, its limit, the use, and when it frees up."""
    body = ErrorBody(status=429, title="Budget exceeded",
                     errors=[FieldProblem(field=f"budget.{exc.cap}", message=exc.message)]).model_dump(mode="json")
    body["budget"] = {"cap": exc.cap, "limit": exc.limit, "used": exc.used, "requested": exc.requested,
                      "frees_at": exc.frees_at.isoformat().replace("+00:00", "Z") if exc.frees_at else None}
    headers: dict[str, str] = {}
    if exc.frees_at is not None:
        headers["Retry-After"] = str(max(1, math.ceil((exc.frees_at - datetime.now(UTC)).total_seconds())))
    return Response(status_code=429, content_type="application/json", body=json.dumps(body), headers=headers)


def handle_validation_error(exc: RequestValidationError) -> Response[str]:
    status, problems = problems_of(exc)
    return error_response(status, "Malformed JSON body" if status == 400 else "Validation failed", problems)


install_error_handlers(app, logger, handle_validation_error)


# ---- public ----------------------------------------------------------------------------------------------


@app.get("/health", summary="Liveness (no auth, no database)", tags=["meta"])
def health() -> Health:
    return Health(status="ok")


@app.get("/openapi.json", include_in_schema=False)
def openapi_json() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi_document())


def openapi_document() -> str:
    document = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION,
                                                      **_security()))
    # A share link's routes need no token (Powertools drops an empty per-route security list: set it here).
    for path, item in document.get("paths", {}).items():
        if path.startswith(SHARE_PREFIX):
            for operation in item.values():
                operation["security"] = []
    return json.dumps(document)


def _security() -> dict[str, Any]:
    # Powertools' OpenAPI models take ~0.35 s to import: only the documentation routes pay for them, on use.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {"security_schemes": {"bearerAuth": HTTPBearer(bearerFormat="JWT")}, "security": [{"bearerAuth": []}]}


# Seed 003's analytics service: the page-view report, read through this API's own (read) connection.
app.include_router(page_views_router(read_database))


@lru_cache(maxsize=1)
def enable_docs() -> None:
    """Swagger UI at /docs, registered by its first request (Powertools' swagger imports the OpenAPI models)."""
    app.enable_swagger(path="/docs", title=TITLE, version=VERSION, description=DESCRIPTION, **_security())


@app.get("/me", summary="You: your workspaces and your role in each (none: an empty list)", tags=["meta"],
         responses=ok(ERRORS))
def get_me() -> MeOut:
    return access.me(database(), app.context["claims"].model_dump())


# ---- reads -----------------------------------------------------------------------------------------------

Cursor = Annotated[str | None, Query(max_length=CURSOR_MAX, description="`next_cursor` of the previous page")]
Until = Annotated[ApiDate | None, Query(description="Last UTC day of the growth period (default: today)")]


@app.get("/status", summary="Read-model freshness and the count of failing videos", tags=["meta"],
         responses=ok(ERRORS))
def status(workspace: WorkspaceId) -> ReadModelFreshness:
    return freshness(reading(workspace))


@app.get("/videos", summary="The dashboard list", tags=["videos"], responses=ok(ERRORS))
def list_videos(
    workspace: WorkspaceId,
    platform: Annotated[Platform | None, Query()] = None,
    campaign_id: Annotated[UUID | None, Query()] = None,
    blogger_id: Annotated[UUID | None, Query()] = None,
    tracking_state: Annotated[TrackingState | None, Query()] = None,
    health: Annotated[FetchHealthState | None, Query(
        description="Fetch health: tracking, failing (fetches failed on 2+ UTC days since the last success), "
                    "gone, stopped")] = None,
    q: Annotated[SearchText | None, Query(description="Text in the caption or the blogger's username")] = None,
    sort: Annotated[VideoSort, Query(description="A total, `growth` (of `metric` over `period`) or `recent`")]
    = VideoSort.views,
    metric: Annotated[Metric, Query(description="The counter `sort=growth` ranks by")] = Metric.views,
    period: Annotated[Period, Query(description="Growth period: the rows' increments, and sort=growth")]
    = Period.d7,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> VideoPage:
    query = VideoQuery(platform=platform, campaign_id=campaign_id, blogger_id=blogger_id,
                       tracking_state=tracking_state, health=health, q=q, sort=sort, metric=metric, period=period,
                       until=until, limit=limit, cursor=cursor)
    return videos.list_videos(reading(workspace), query)


@app.get("/videos/<video_id>", summary="One video: totals, growth, tracking", tags=["videos"],
         responses=ok({**ERRORS, **NOT_FOUND}))
def get_video(workspace: WorkspaceId, video_id: Annotated[UUID, Path()]) -> VideoDetail:
    return videos.get_video(reading(workspace), video_id)


@app.get("/videos/<video_id>/increments", summary="A video's daily or weekly series", tags=["videos"],
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


@app.get("/videos/<video_id>/snapshots", summary="A video's raw snapshots, newest first (keyset paged)",
         tags=["videos"], responses=ok({**ERRORS, **NOT_FOUND}),
         description="Each fetch's absolute counters as stored (null: not reported by the platform).")
def video_snapshots(workspace: WorkspaceId, video_id: Annotated[UUID, Path()],
                    limit: Annotated[int, Query(ge=1, le=200)] = 50, cursor: Cursor = None) -> VideoSnapshotPage:
    return snapshots.video_snapshots(reading(workspace), video_id, limit=limit, cursor=cursor)


@app.get("/campaigns", summary="Campaigns, newest first, with their totals and growth", tags=["campaigns"],
         responses=ok(ERRORS), description="Each campaign's `totals` (as `GET /campaigns/{id}`) and `increments`, "
         "its growth in the campaign over `from`..`to` (the same figures as `GET /campaigns/{id}/analytics` "
         "for the same range).")
def list_campaigns(
    workspace: WorkspaceId,
    limit: Annotated[int, Query(ge=1, le=200)] = 50, cursor: Cursor = None,
    date_from: Annotated[ApiDate | None, Query(alias="from", description="Count from this UTC day")] = None,
    date_to: Annotated[ApiDate | None, Query(alias="to", description="Count up to this UTC day")] = None,
) -> CampaignPage:
    return campaigns.list_campaigns(reading(workspace), limit=limit, cursor=cursor, date_from=date_from,
                                    date_to=date_to)


@app.get("/campaigns/<campaign_id>", summary="One campaign with its totals", tags=["campaigns"],
         responses=ok({**ERRORS, **NOT_FOUND}))
def get_campaign(workspace: WorkspaceId, campaign_id: Annotated[UUID, Path()]) -> CampaignDetail:
    return campaigns.get_campaign(reading(workspace), campaign_id)


@app.get("/campaigns/<campaign_id>/analytics", summary="Totals vs increments of a campaign", tags=["campaigns"],
         responses=ok({**ERRORS, **NOT_FOUND}), description=campaigns.__doc__)
def campaign_analytics(
    workspace: WorkspaceId,
    campaign_id: Annotated[UUID, Path()],
    mode: Annotated[AnalyticsMode, Query()] = AnalyticsMode.daily,
    date_from: Annotated[ApiDate | None, Query(alias="from", description="Count from this UTC day")] = None,
    date_to: Annotated[ApiDate | None, Query(alias="to", description="Count up to this UTC day")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Per-video rows returned")] = 200,
) -> CampaignAnalytics:
    return campaigns.campaign_analytics(reading(workspace), campaign_id, mode=mode, date_from=date_from,
                                        date_to=date_to, limit=limit)


@app.get("/campaigns/<campaign_id>/export.csv", summary="The campaign's worksheet of the export, as a CSV file",
         tags=["campaigns", "exports"], description="The same lines and values as the campaign's worksheet (and "
         "the CSV file the export writes without Google), as of now: a download for the web dashboard.",
         responses={200: {"description": "The CSV file", "content": {"text/csv": {"schema": {"type": "string"}}}},
                    **ERRORS, **NOT_FOUND})
def campaign_export_csv(workspace: WorkspaceId, campaign_id: Annotated[UUID, Path()]) -> Response[str]:
    name, text = campaign_csv(reading(workspace), campaign_id)
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=text,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@app.get("/bloggers", summary="Bloggers, newest first, with totals and growth", tags=["bloggers"],
         responses=ok(ERRORS))
def list_bloggers(
    workspace: WorkspaceId,
    platform: Annotated[Platform | None, Query()] = None,
    q: Annotated[SearchText | None, Query(description="Text in the handle, display name or platform user id")] = None,
    period: Annotated[Period, Query()] = Period.d7,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> BloggerPage:
    return bloggers.list_bloggers(reading(workspace), platform=platform, q=q, period=period, until=until, limit=limit,
                                  cursor=cursor)


@app.get("/bloggers/<blogger_id>", summary="One blogger with its videos", tags=["bloggers"],
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


@app.get("/bloggers/batches/<batch_id>", summary="A blogger batch's outcome: pending, done (counts) or failed (why)",
         tags=["bloggers"], description=BloggerBatchOutcome.__doc__,
         responses={200: {"description": "The batch's outcome",
                          "content": {"application/json": {"model": BloggerBatchOutcome,
                                                            "examples": BATCH_EXAMPLES}}},
                    **ERRORS, **NOT_FOUND})
def get_blogger_batch(workspace: WorkspaceId,
                      batch_id: Annotated[UUID, Path(description="The `request_id` POST /bloggers returned")]
                      ) -> BloggerBatchOutcome:
    return blogger_batch_outcome(scoped(workspace), batch_id)


# ---- share links -------------------------------------------------------------------------------------------

LinkId = Annotated[UUID, Path()]
ShareToken = Annotated[str, Path(max_length=200, description="The share link's token")]
UNKNOWN_LINK: dict[int, OpenAPIResponse] = {404: error_doc("No such share link (unknown, revoked or expired)")}


@app.post("/campaigns/<campaign_id>/share-links", summary="Make a read-only share link to a campaign",
          tags=["share links"], responses=ok({**WITH_BODY, **NOT_FOUND}, 201, "Created: the token is shown this once"))
def create_share_link(workspace: WorkspaceId, campaign_id: Annotated[UUID, Path()],
                      body: Annotated[share_links.ShareLinkCreate, Body()]) -> Response[share_links.ShareLinkCreated]:
    created = share_links.create_share_link(scoped(workspace), campaign_id, body)
    return Response(status_code=201, content_type="application/json", body=created)


@app.get("/campaigns/<campaign_id>/share-links", summary="A campaign's share links (owners and editors)",
         tags=["share links"], responses=ok({**ERRORS, **NOT_FOUND}))
def list_share_links(workspace: WorkspaceId, campaign_id: Annotated[UUID, Path()]) -> share_links.ShareLinkList:
    return share_links.list_share_links(scoped(workspace), campaign_id)


@app.delete("/campaigns/<campaign_id>/share-links/<link_id>", summary="Revoke a share link (at once)",
            tags=["share links"], responses=ok({**ERRORS, **NOT_FOUND}))
def revoke_share_link(workspace: WorkspaceId, campaign_id: Annotated[UUID, Path()],
                      link_id: LinkId) -> share_links.ShareLink:
    return share_links.revoke_share_link(scoped(workspace), campaign_id, link_id)


@app.get("/shared/<token>", summary="A shared campaign's analytics (no account: the link's token)",
         tags=["share links"], responses=ok({**UNKNOWN_LINK, 422: ERRORS[422]}), description=campaigns.__doc__)
def shared_campaign(
    token: ShareToken,
    mode: Annotated[AnalyticsMode, Query()] = AnalyticsMode.daily,
    date_from: Annotated[ApiDate | None, Query(alias="from", description="Count from this UTC day")] = None,
    date_to: Annotated[ApiDate | None, Query(alias="to", description="Count up to this UTC day")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Per-video rows returned")] = 200,
) -> CampaignAnalytics:
    return share_links.shared_campaign_analytics(database(), token, mode=mode, date_from=date_from,
                                                 date_to=date_to, limit=limit)


@app.get("/shared/<token>/videos", summary="A shared campaign's videos (as GET /videos?campaign_id=)",
         tags=["share links"], responses=ok({**UNKNOWN_LINK, 400: ERRORS[400], 422: ERRORS[422]}))
def shared_campaign_videos(
    token: ShareToken,
    platform: Annotated[Platform | None, Query()] = None,
    tracking_state: Annotated[TrackingState | None, Query()] = None,
    q: Annotated[SearchText | None, Query(description="Text in the caption or the blogger's username")] = None,
    sort: Annotated[VideoSort, Query(description="A total, `growth` (of `metric` over `period`) or `recent`")]
    = VideoSort.views,
    metric: Annotated[Metric, Query(description="The counter `sort=growth` ranks by")] = Metric.views,
    period: Annotated[Period, Query(description="Growth period: the rows' increments, and sort=growth")]
    = Period.d7,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
) -> VideoPage:
    query = VideoQuery(platform=platform, tracking_state=tracking_state, q=q, sort=sort, metric=metric,
                       period=period, until=until, limit=limit, cursor=cursor)
    return share_links.shared_campaign_videos(database(), token, query)


# ---- commands (tracking metadata only) -------------------------------------------------------------------


@app.post("/campaigns", summary="Create a campaign", tags=["campaigns"], responses=ok(WITH_BODY, 201, "Created"))
def create_campaign(workspace: WorkspaceId, body: Annotated[CampaignCreate, Body()]) -> Response[Campaign]:
    created = campaigns.create_campaign(scoped(workspace), body)
    return Response(status_code=201, content_type="application/json", body=created)


@app.patch("/campaigns/<campaign_id>", summary="Rename a campaign or move its window", tags=["campaigns"],
           responses=ok({**WITH_BODY, **NOT_FOUND, **CONFLICT}))
def update_campaign(workspace: WorkspaceId,
                    campaign_id: Annotated[UUID, Path()], body: Annotated[CampaignUpdate, Body()]) -> Campaign:
    return campaigns.update_campaign(scoped(workspace), campaign_id, body)


@app.post("/campaigns/<campaign_id>/videos", summary="Add tracked videos to a campaign", tags=["campaigns"],
          responses=ok({**WITH_BODY, **NOT_FOUND, **CONFLICT}))
def add_campaign_videos(workspace: WorkspaceId, campaign_id: Annotated[UUID, Path()],
                        body: Annotated[CampaignVideosAdd, Body()]) -> CampaignVideosAdded:
    return campaigns.add_videos(scoped(workspace), campaign_id, body)


@app.post("/videos", summary="Track one or many video URLs (fetches are enqueued)", tags=["videos"],
          responses=ok({**WITH_BODY, **NOT_FOUND, **BUDGET}, 202, "Accepted: the first fetches are enqueued"))
def post_videos(workspace: WorkspaceId, body: Annotated[TrackVideosRequest, Body()]) -> Response[TrackVideosAccepted]:
    accepted = track_videos(scoped(workspace), fetch_queue(), body, resolver_client())
    return Response(status_code=202, content_type="application/json", body=accepted)


@app.post("/bloggers", summary="Fetch a creator's latest videos and track them (a blogger batch)",
          tags=["bloggers"],
          responses=ok({**WITH_BODY, **NOT_FOUND, **BUDGET}, 202, "Accepted: the creator's videos are being listed"),
          description="Answers 202 with the batch's `request_id` at once; the queue processor lists the creator's "
                      "videos later. `GET /bloggers/batches/{request_id}` tells when it is done, with what counts, "
                      "or why it failed.")
def post_bloggers(workspace: WorkspaceId,
                  body: Annotated[BloggerBatchRequest, Body()]) -> Response[BloggerBatchAccepted]:
    accepted = blogger_batch(scoped(workspace), fetch_queue(), body)
    return Response(status_code=202, content_type="application/json", body=accepted)


@app.post("/exports", summary="Export to Google Sheets now (runs in the background)", tags=["exports"],
          responses=ok({**WITH_BODY, **NOT_FOUND, **CONFLICT}, 202, "Accepted: the export runs in the background"))
def post_exports(workspace: WorkspaceId, body: Annotated[ExportRequest, Body()]) -> Response[ExportAccepted]:
    accepted = start_export(scoped(workspace), export_invoker(), os.environ.get("SHEETS_EXPORT_FUNCTION_NAME"), body,
                            destination=os.environ.get("SHEETS_EXPORT_DESTINATION"))
    return Response(status_code=202, content_type="application/json", body=accepted)


@app.delete("/videos/<video_id>/tracking", summary="Stop tracking a video (history is kept)", tags=["videos"],
            responses=ok({**ERRORS, **NOT_FOUND, **CONFLICT}))
def stop_tracking(workspace: WorkspaceId, video_id: Annotated[UUID, Path()]) -> TrackingStopped:
    return videos.stop_tracking(scoped(workspace), video_id)


# ---- the workspace: members (owners), budget, Sheets export targets ---------------------------------------------


@app.get("/workspace/members", summary="The workspace's members, their roles, and who is still pending (owners)",
         tags=["workspace"], responses=ok(ERRORS))
def get_members(workspace: WorkspaceId) -> workspace_admin.MemberList:
    return workspace_admin.list_members(scoped(workspace))


@app.post("/workspace/members", summary="Invite by e-mail (Supabase Auth) and add with a role at once (owners)",
          tags=["workspace"],
          description="A new address gets Supabase Auth's invitation e-mail and is a member at once, `pending` until "
                      "they sign in; an address that already has an account is added as is. 400: Supabase Auth "
                      "refused the address; 409: already a member, or invitations are not configured; 429: Supabase "
                      "Auth's e-mail rate limit; 502: Supabase Auth failed.",
          responses=ok({**WITH_BODY, **CONFLICT, 429: error_doc("Supabase Auth's rate limit: try again later"),
                        502: error_doc("Supabase Auth failed")}, 201, "Created: the member, and whether an "
                                                                        "invitation was sent"))
def post_member(workspace: WorkspaceId,
                body: Annotated[workspace_admin.MemberInvite, Body()]) -> Response[workspace_admin.MemberInvited]:
    invited = workspace_admin.invite_member(scoped(workspace), auth_admin(), body)
    return Response(status_code=201, content_type="application/json", body=invited)


@app.patch("/workspace/members/<user_id>", summary="Change a member's role (owners)", tags=["workspace"],
           description="409 when it would demote the workspace's last owner.",
           responses=ok({**WITH_BODY, **NOT_FOUND, **CONFLICT}))
def patch_member(workspace: WorkspaceId, user_id: Annotated[UUID, Path()],
                 body: Annotated[workspace_admin.MemberRoleChange, Body()]) -> workspace_admin.MemberOut:
    return workspace_admin.change_role(scoped(workspace), user_id, body)


@app.delete("/workspace/members/<user_id>", summary="Remove a member (owners)", tags=["workspace"],
            description="409 when they are the workspace's last owner.",
            responses=ok({**ERRORS, **NOT_FOUND, **CONFLICT}))
def delete_member(workspace: WorkspaceId, user_id: Annotated[UUID, Path()]) -> workspace_admin.Removed:
    workspace_admin.remove(scoped(workspace), user_id)
    return workspace_admin.Removed(id=user_id)


@app.get("/workspace/budget", summary="The workspace's caps and their use (any member)", tags=["workspace"],
         responses=ok(ERRORS))
def get_budget(workspace: WorkspaceId) -> workspace_admin.BudgetOut:
    return workspace_admin.get_budget(scoped(workspace))


@app.put("/workspace/budget", summary="Set the workspace's caps within the operator's maximum (owners)",
         tags=["workspace"], responses=ok(WITH_BODY))
def put_budget(workspace: WorkspaceId,
               body: Annotated[workspace_admin.BudgetUpdate, Body()]) -> workspace_admin.BudgetOut:
    return workspace_admin.put_budget(scoped(workspace), body)


@app.get("/workspace/export-targets", summary="The workspace's Google Sheets export targets (owners, editors)",
         tags=["exports"], responses=ok(ERRORS))
def get_export_targets(workspace: WorkspaceId) -> workspace_admin.ExportTargetList:
    return workspace_admin.list_export_targets(scoped(workspace))


@app.post("/workspace/export-targets", summary="Add a spreadsheet the export keeps current (owners, editors)",
          tags=["exports"],
          description="Share the spreadsheet with the export's Google service account as Editor. It gets the "
                      "workspace's 'All videos' worksheet (unless `include_all_videos` is false) and one worksheet "
                      "per campaign (`campaign_ids`, or every campaign). A spreadsheet belongs to one workspace: 409 "
                      "when it is a target already.",
          responses=ok({**WITH_BODY, **NOT_FOUND, **CONFLICT}, 201, "Created"))
def post_export_target(workspace: WorkspaceId, body: Annotated[workspace_admin.ExportTargetIn, Body()]
                       ) -> Response[workspace_admin.ExportTargetOut]:
    created = workspace_admin.create_export_target(scoped(workspace), body)
    return Response(status_code=201, content_type="application/json", body=created)


@app.delete("/workspace/export-targets/<target_id>", summary="Stop exporting to a spreadsheet (owners, editors)",
            tags=["exports"], description="The spreadsheet is left as it is.", responses=ok({**ERRORS, **NOT_FOUND}))
def delete_export_target(workspace: WorkspaceId, target_id: Annotated[UUID, Path()]) -> workspace_admin.Removed:
    workspace_admin.delete_export_target(scoped(workspace), target_id)
    return workspace_admin.Removed(id=target_id)


# ---- entry point -----------------------------------------------------------------------------------------


def _route_path(event: dict[str, Any]) -> str:
    path = str(event.get("rawPath") or "/")
    stage = (event.get("requestContext") or {}).get("stage")
    if stage and stage != "$default" and path.startswith(f"/{stage}/"):
        path = path[len(stage) + 1:]
    return path.rstrip("/") or "/"


def _cors_headers(origin: str | None) -> dict[str, str]:
    """The CORS headers Powertools would add, so a browser can read the 401 too."""
    cors = app._cors
    if cors is None or origin is None:
        return {}
    allowed = cors.allowed_origin(origin)
    return cors.to_dict(allowed) if allowed else {}


def _plain_error(event: dict[str, Any], status: int, title: str, field: str, message: str,
                 extra_headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An error answered before the resolver runs (auth, refused body), with the CORS headers a browser needs."""
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    return plain_error(event, status, title, field, message,
                       {**(extra_headers or {}), **_cors_headers(headers.get("origin"))})


def _unauthorized(event: dict[str, Any], message: str) -> dict[str, Any]:
    return _plain_error(event, 401, "Unauthorized", "header.authorization", message,
                        {"WWW-Authenticate": 'Bearer realm="vidstats"'})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    if web_assets().serves(method, _route_path(event)):  # the web dashboard's page and files: public
        return web_assets().respond(_route_path(event),
                                    {k.lower(): v for k, v in (event.get("headers") or {}).items()})
    if method != "OPTIONS" and _route_path(event) not in PUBLIC_PATHS and not is_share_route(_route_path(event)):
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        try:
            claims = authenticator().authenticate(headers.get("authorization"))
        except AuthError as exc:
            logger.info("unauthorized request", extra={"reason": str(exc), "path": event.get("rawPath")})
            return _unauthorized(event, str(exc))
        app.append_context(claims=claims)  # type: ignore[no-untyped-call]
        if is_admin_route(_route_path(event)):
            try:
                access.require_instance_admin(claims.model_dump())
            except ApiError as exc:
                return _plain_error(event, exc.status, exc.title, exc.field, exc.message)
        elif is_workspace_route(_route_path(event)):
            try:  # the one authorization point: the caller's membership and role in the named workspace
                caller = access.authorize(database(), claims.model_dump(), headers.get(access.WORKSPACE_HEADER),
                                          edits=editors_only(method, _route_path(event)),
                                          needs=access.required_role(method, _route_path(event)))
            except ApiError as exc:
                return _plain_error(event, exc.status, exc.title, exc.field, exc.message)
            app.append_context(caller=caller)  # type: ignore[no-untyped-call]
    refused = gate(event)
    if refused is not None:
        return _plain_error(event, *refused)
    if _route_path(event) == "/docs":
        enable_docs()
    return app.resolve(event, context)


if __name__ == "__main__":  # `python -m dashboard_api.handler > openapi.json`
    print(json.dumps(json.loads(openapi_document()), indent=2))
