"""``GET /me`` (the caller and their workspaces) and ``GET /status`` (how fresh the workspace's numbers are)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from vidstats.dashboard import access
from vidstats.dashboard.freshness import freshness
from vidstats.dashboard.models import MeOut, ReadModelFreshness

from dashboard_api.dependencies import ERRORS, WorkspaceId, claims, database, ok, reading

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.get("/me", summary="You: your workspaces and your role in each (none: an empty list)", tags=["meta"],
            responses=ok(ERRORS))
def get_me() -> MeOut:
    return access.me(database(), claims())


@router.get("/status", summary="Read-model freshness and the count of failing videos", tags=["meta"],
            responses=ok(ERRORS))
def status(workspace: WorkspaceId) -> ReadModelFreshness:
    return freshness(reading(workspace))
