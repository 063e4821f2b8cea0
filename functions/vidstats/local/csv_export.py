"""The Sheets export function without Google credentials, locally: the same event, the same tables, as CSV files.

``vidstats dev`` registers this handler as ``SheetsExportFunction`` when no ``GOOGLE_SERVICE_ACCOUNT_SECRET_ID``
is set, so its schedule and ``POST /exports`` (through the local Lambda Invoke API) both run it. It takes the
real function's event (``reason``, ``request_id``, ``campaign_ids``, ``include_all_videos``) and selects the
targets with the real function's rules; without ``SHEETS_EXPORT_TARGETS`` every campaign and "All videos" are
targets (a local stack has no spreadsheets to name).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vidstats.db import Database

log = logging.getLogger(__name__)


def csv_export_handler(database_url: str, directory: Path) -> Callable[[dict[str, Any] | None, Any], dict[str, Any]]:
    def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
        from sheets_export.handler import ExportRequest, select_targets

        from vidstats.export.run import ExportSettings, default_targets, export_to_csv

        request = ExportRequest.model_validate(event or {})
        db = Database(database_url, application_name="sheets_export-csv")
        try:
            settings = ExportSettings()
            if not settings.targets:  # a local stack has no spreadsheets: its workspace's tables (or everyone's)
                settings.targets = default_targets(db, request.workspace_id)
            written = export_to_csv(db, select_targets(settings, request, db), directory)
        finally:
            db.close()
        result = {"reason": request.reason, "request_id": request.request_id, "directory": str(directory),
                  "csv": [{"path": str(path), "videos": rows} for path, rows in written]}
        log.info("sheets_export (CSV, no Google credentials) %s: %s", request.request_id or request.reason,
                 ", ".join(f"{path.name} ({rows} videos)" for path, rows in written) or "no table")
        return result

    return handler
