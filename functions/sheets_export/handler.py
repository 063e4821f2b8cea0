"""Lambda entry point: export the configured targets (or a requested subset) to Google Sheets, report figures.

Triggered by its schedule (``{"reason": "schedule"}``) and on demand: the dashboard API's ``POST /exports``
invokes it asynchronously with ``{"reason": "on_demand", "request_id": ..., "campaign_ids": [...]}``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal
from uuid import UUID

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field
from vidstats.db import Database
from vidstats.export.policy import RetryPolicy, SheetsExportError
from vidstats.export.run import ExportSettings, export_to_sheets, load_service_account, workspace_targets
from vidstats.export.tables import ExportTarget
from vidstats.read_model import read_model_status

logger = Logger(service="sheets_export")
DEADLINE_MARGIN_S = 30.0  # stop waiting to retry this long before Lambda's timeout, to report and log
metrics = Metrics(namespace="vidstats", service="sheets_export")


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["schedule", "on_demand", "manual"] = "schedule"
    request_id: str | None = Field(default=None, max_length=200)  # the dashboard's export id, for the logs
    # On demand: one workspace's targets (POST /exports names the caller's), only these of its configured
    # campaigns (and "All videos" when include_all_videos); None = all its targets. Scheduled: every workspace.
    workspace_id: UUID | None = None
    campaign_ids: list[UUID] | None = None
    include_all_videos: bool = True


@lru_cache(maxsize=1)
def database() -> Database:
    return Database.from_settings(application_name="sheets_export")


@lru_cache(maxsize=1)
def read_database() -> Database:
    """The export only reads: from the read replica (DATABASE_READ_URL) when one is configured."""
    return Database.read_replica_from_settings(application_name="sheets_export") or database()


def select_targets(settings: ExportSettings, request: ExportRequest, db: Database | None = None
                   ) -> list[ExportTarget]:
    """The worksheets to write: the workspaces' targets from the database (one workspace's on demand), plus the
    deprecated SHEETS_EXPORT_TARGETS for the Default workspace."""
    targets = workspace_targets(db or database(), request.workspace_id, settings.targets)
    if not targets:
        raise SheetsExportError("No export targets: add a spreadsheet to the workspace (POST /workspace/export-targets"
                                ", owners and editors). Nothing was written.")
    if request.campaign_ids is None:
        return targets
    configured = {t.campaign_id for t in targets if t.campaign_id}
    unknown = [str(c) for c in request.campaign_ids if c not in configured]
    if unknown:
        raise SheetsExportError(f"campaigns {', '.join(unknown)} have no export target: add them to the workspace's "
                                "targets (POST /workspace/export-targets). Nothing was written.")
    wanted = set(request.campaign_ids)
    return [t for t in targets
            if (t.campaign_id in wanted) or (t.campaign_id is None and request.include_all_videos)]


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any] | None, context: LambdaContext) -> dict[str, Any]:
    request = ExportRequest.model_validate(event or {})
    settings = ExportSettings()
    targets = select_targets(settings, request)
    account = load_service_account(settings.google_secret_id)
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - DEADLINE_MARGIN_S
    policy = RetryPolicy(writes_per_minute=settings.writes_per_minute, deadline=deadline)
    outcome = export_to_sheets(read_database(), targets, account, as_of=datetime.now(UTC), policy=policy,
                               max_request_bytes=settings.max_request_bytes)
    lag = read_model_status(read_database()).lag_seconds

    metrics.add_metric(name="ExportedRows", unit=MetricUnit.Count, value=outcome.rows)
    metrics.add_metric(name="SheetsWriteRequests", unit=MetricUnit.Count, value=outcome.write_requests)
    metrics.add_metric(name="ExportFailures", unit=MetricUnit.Count, value=len(outcome.errors))
    result = {
        "reason": request.reason,
        "request_id": request.request_id,
        "rows": outcome.rows,
        "write_requests": outcome.write_requests,
        "read_model_lag_seconds": lag,
        "spreadsheets": [
            {"spreadsheet_id": s.spreadsheet_id, "write_requests": s.write_requests, "retries": s.retries,
             "worksheets": [{"title": w.title, "rows": w.rows} for w in s.worksheets]}
            for s in outcome.spreadsheets],
        "errors": outcome.errors,
        "warnings": outcome.warnings,
    }
    if outcome.warnings:
        logger.warning("sheets export cut cells", extra={"warnings": outcome.warnings})
    if outcome.errors:
        logger.error("sheets export failed", extra=result)
        raise SheetsExportError(" | ".join(outcome.errors))
    logger.info("sheets export", extra=result)
    return result
