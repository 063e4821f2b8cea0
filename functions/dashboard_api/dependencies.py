"""What the dashboard API's routes share: connections and clients (opened once per container, on first use),
the request's caller as the guard in ``handler.lambda_handler`` authorized it, and common OpenAPI pieces."""

from __future__ import annotations

import os
from contextvars import ContextVar
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from vidstats.dashboard import access
from vidstats.dashboard.exports import LambdaInvoker
from vidstats.dashboard.models import ApiDate
from vidstats.db import Caller, Database
from vidstats.http_api import BODY_ERRORS, error_doc
from vidstats.ingestion.fetch_queue import FetchQueue, SqsFetchQueue
from vidstats.settings import ingest_settings

if TYPE_CHECKING:
    import httpx
    from vidstats.auth_admin import AuthAdmin

# ---- connections and clients ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def database() -> Database:
    """The writer: commands, and reads that must see a command's own result (a blogger batch's outcome)."""
    return Database.from_settings(application_name="dashboard_api")


@lru_cache(maxsize=1)
def read_database() -> Database:
    """The read replica (DATABASE_READ_URL) when one is configured, else the writer: every read-only route."""
    return Database.read_replica_from_settings(application_name="dashboard_api") or database()


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


# ---- the request's caller --------------------------------------------------------------------------------------

# Set by the guard (handler.lambda_handler) for the request it authorized; routes never authorize themselves.
current_claims: ContextVar[dict[str, Any] | None] = ContextVar("current_claims", default=None)
current_caller: ContextVar[Caller | None] = ContextVar("current_caller", default=None)


def claims() -> dict[str, Any]:
    """The verified token's claims (routes that need a token only: the guard has checked it)."""
    verified = current_claims.get()
    if verified is None:
        raise RuntimeError("no verified token for this request: the route must not be public")
    return verified


def scoped(workspace: UUID, *, read_only: bool = False) -> Database:
    """The database as the request's caller: every query sees this workspace only (row-level security).
    ``read_only``: the read replica's, when one is configured."""
    caller = current_caller.get()
    if caller is None or caller.workspace_id != workspace:  # the guard read the same header: never differs
        raise RuntimeError("the workspace route runs without the guard's caller for its workspace")
    return (read_database() if read_only else database()).as_caller(caller)


def reading(workspace: UUID) -> Database:
    """``scoped`` for a read-only route: the replica when configured (staleness in GET /status)."""
    return scoped(workspace, read_only=True)


# ---- OpenAPI: parameters and responses every feature uses ------------------------------------------------------

CURSOR_MAX = 1000
WorkspaceId = Annotated[UUID, Header(alias=access.WORKSPACE_HEADER, description=(
    "The workspace this request is about (`GET /me` lists yours). Reads: any member; commands: owners and "
    "editors."))]
PageSize = Annotated[int, Query(ge=1, le=200)]  # a list page's `limit`
Cursor = Annotated[str | None, Query(max_length=CURSOR_MAX, description="`next_cursor` of the previous page")]
Until = Annotated[ApiDate | None, Query(description="Last UTC day of the growth period (default: today)")]
DateFrom = Annotated[ApiDate | None, Query(alias="from", description="Count from this UTC day")]
DateTo = Annotated[ApiDate | None, Query(alias="to", description="Count up to this UTC day")]

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
