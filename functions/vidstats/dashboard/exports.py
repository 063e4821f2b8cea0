"""`POST /exports`: start a Sheets export now. The export runs in its own function (minutes at 100k rows);
the API invokes it asynchronously and answers at once with the id to look for in its logs and where it writes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from pydantic import ConfigDict, Field

from vidstats.dashboard.errors import ConflictError, NotFoundError
from vidstats.dashboard.models import _In, _Out
from vidstats.db import Database, Role, caller_workspace


class LambdaInvoker(Protocol):
    def invoke(self, **kwargs: Any) -> dict[str, Any]: ...


class ExportRequest(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"campaign_ids": ["3f2c1b9e-8d4a-4c6b-9e1f-2a7d5c8b0e41"], "include_all_videos": False}, {}]})

    campaign_ids: list[UUID] | None = Field(
        default=None, max_length=100,
        description="Only these campaigns' worksheets (they must be export targets); default: every target")
    include_all_videos: bool = Field(default=True, description="Also write the 'All videos' worksheet")


class ExportAccepted(_Out):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "export_id": "5b0f3c2e-6f1a-4d59-9a43-1c8e2f7d9b10", "status": "started",
        "destination": "Google Sheets (the workspace's export targets); its log lines: CloudWatch log group "
                       "/aws/lambda/vidstats-SheetsExportFunction-AbC123",
        "message": "The export runs in the background; its log lines carry this export_id."}]})

    export_id: str
    status: str = "started"
    destination: str = Field(description="Where the export writes, and where to follow the run")
    message: str


def start_export(db: Database, invoker: LambdaInvoker | None, function_name: str | None,
                 request: ExportRequest, destination: str | None = None) -> ExportAccepted:
    """``destination``: what the deployment says about where its export writes (the local stack: a folder of
    CSV files); by default the Google Sheets of the targets, followed in the function's CloudWatch logs."""
    if invoker is None or not function_name:
        raise ConflictError("exports", "Sheets exports are not configured for this API: set "
                                       "SHEETS_EXPORT_FUNCTION_NAME (the SheetsExportFunction's name)")
    if request.campaign_ids:
        with db.transaction(Role.READER) as conn:
            known = {row[0] for row in conn.execute("select id from analytics.campaigns where id = any(%s)",
                                                     (request.campaign_ids,))}
        missing = [str(c) for c in request.campaign_ids if c not in known]
        if missing:
            raise NotFoundError("body.campaign_ids", f"no such campaign: {', '.join(missing)}")
    export_id = str(uuid.uuid4())
    payload = {"reason": "on_demand", "request_id": export_id, "include_all_videos": request.include_all_videos,
               "workspace_id": str(caller_workspace(db)),
               "campaign_ids": [str(c) for c in request.campaign_ids] if request.campaign_ids else None}
    invoker.invoke(FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload).encode())
    return ExportAccepted(export_id=export_id,
                          destination=destination or f"Google Sheets (the workspace's export targets); its log lines: "
                                                     f"CloudWatch log group /aws/lambda/{function_name}",
                          message="The export runs in the background; its log lines carry this export_id.")


def campaign_csv(db: Database, campaign_id: UUID, as_of: datetime | None = None) -> tuple[str, str]:
    """``GET /campaigns/{id}/export.csv``: the campaign's worksheet of the export as a CSV file (its name and
    text), read as the export reads it (one snapshot, the same SQL): the download equals the export's file. Read
    as the dashboard's caller: another workspace's campaign is not found."""
    from vidstats.export.csv_files import csv_text, file_name
    from vidstats.export.tables import campaign_table, snapshot

    with snapshot(db, Role.READER) as conn:
        if conn.execute("select 1 from analytics.campaigns where id = %s", (campaign_id,)).fetchone() is None:
            raise NotFoundError("path.campaign_id", "no such campaign")
        table = campaign_table(conn, campaign_id, (as_of or datetime.now(UTC)).date())
    try:
        return file_name(table.title, set()), csv_text(table)
    finally:
        table.close()
