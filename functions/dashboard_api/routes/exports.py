"""``POST /exports``: the workspace's Google Sheets written now, by the export function, in the background."""

from __future__ import annotations

import os
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from vidstats.dashboard.exports import ExportAccepted, ExportRequest, start_export

from dashboard_api import dependencies
from dashboard_api.dependencies import CONFLICT, NOT_FOUND, WITH_BODY, WorkspaceId, ok, scoped

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.post("/exports", summary="Export to Google Sheets now (runs in the background)", tags=["exports"],
             responses=ok({**WITH_BODY, **NOT_FOUND, **CONFLICT}, 202, "Accepted: the export runs in the background"))
def post_exports(workspace: WorkspaceId, body: Annotated[ExportRequest, Body()]) -> Response[ExportAccepted]:
    accepted = start_export(scoped(workspace), dependencies.export_invoker(),
                            os.environ.get("SHEETS_EXPORT_FUNCTION_NAME"), body,
                            destination=os.environ.get("SHEETS_EXPORT_DESTINATION"))
    return Response(status_code=202, content_type="application/json", body=accepted)
