"""An export run: configuration, Google credentials, and the tables of one database snapshot to Sheets or CSV."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from vidstats.db import Database
from vidstats.export.csv_files import write_csv_files
from vidstats.export.policy import DEFAULT_MAX_REQUEST_BYTES, RetryPolicy, SheetsExportError
from vidstats.export.tables import (
    ExportConfigError,
    ExportTarget,
    Table,
    all_campaign_ids,
    snapshot,
    table_for,
    tables_for,
)

if TYPE_CHECKING:
    from vidstats.export.sheets import SheetsExporter, SpreadsheetReport

SHEETS_SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)  # no Drive access needed
REQUIRED_KEY_FIELDS = ("type", "client_email", "private_key", "token_uri")


class ExportSettings(BaseSettings):
    """Deployed configuration (environment): what to export where, and which secret holds the Google key."""

    model_config = SettingsConfigDict(extra="ignore")

    # Deprecated (targets belong to workspaces now: POST /workspace/export-targets); still exported, for the
    # Default workspace. JSON list, e.g. [{"spreadsheet_id": "1AbC...", "campaign_id": null}, {"spreadsheet_id":
    # "...", "campaign_id": "6f1c...", "worksheet": "Summer launch"}]; campaign_id null means "All videos".
    targets: list[ExportTarget] = Field(default_factory=list, validation_alias="SHEETS_EXPORT_TARGETS")
    google_secret_id: str | None = Field(default=None, validation_alias="GOOGLE_SERVICE_ACCOUNT_SECRET_ID")
    max_request_bytes: int = Field(default=DEFAULT_MAX_REQUEST_BYTES, ge=10_000, le=2_000_000,
                                   validation_alias="SHEETS_MAX_REQUEST_BYTES")
    writes_per_minute: int = Field(default=60, ge=1, le=60, validation_alias="SHEETS_WRITES_PER_MINUTE")


@dataclass
class ServiceAccount:
    credentials: Any  # google.oauth2.service_account.Credentials (or any google-auth credentials in tests)
    email: str | None
    secret_id: str | None


def load_service_account(secret_id: str | None) -> ServiceAccount:
    """The service-account key from Secrets Manager (cached by Powertools), checked before any request."""
    if not secret_id:
        raise SheetsExportError(
            "No Google credentials configured: set GOOGLE_SERVICE_ACCOUNT_SECRET_ID to the ARN of a Secrets Manager "
            "secret holding the service account's JSON key (without Google, `vidstats export --csv DIR` writes "
            "the same tables as CSV). Nothing was written.")
    from aws_lambda_powertools.utilities import parameters
    from google.oauth2 import service_account

    try:
        info = parameters.get_secret(secret_id, transform="json", max_age=300)
    except parameters.exceptions.TransformParameterError as error:
        raise SheetsExportError(f"secret {secret_id} is not JSON: store the service account's JSON key file in it "
                                "as is. Nothing was written.") from error
    except parameters.exceptions.GetParameterError as error:
        raise SheetsExportError(f"cannot read secret {secret_id} ({error}): check that it exists and that the "
                                "function may read it (secretsmanager:GetSecretValue). Nothing was written.") from error
    missing = [f for f in REQUIRED_KEY_FIELDS if not isinstance(info, dict) or not info.get(f)]
    if missing or info.get("type") != "service_account":
        detail = f"missing {', '.join(missing)}" if missing else f"type is {info.get('type')!r}"
        raise SheetsExportError(f"secret {secret_id} does not hold a Google service-account key ({detail}): create "
                                "a JSON key for the service account in Google Cloud and store the file's content "
                                "in the secret. Nothing was written.")
    try:
        credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=SHEETS_SCOPES)
    except (ValueError, TypeError) as error:
        raise SheetsExportError(f"the key in secret {secret_id} is unusable ({error}): create a new JSON key for "
                                f"{info['client_email']} and store it in the secret. Nothing was written.") from error
    return ServiceAccount(credentials, str(info["client_email"]), secret_id)


@dataclass
class ExportOutcome:
    spreadsheets: list[SpreadsheetReport]
    errors: list[str]  # each names its spreadsheet and says what to do
    warnings: list[str] = field(default_factory=list)  # written, but not all of it

    @property
    def rows(self) -> int:
        return sum(w.rows for s in self.spreadsheets for w in s.worksheets)

    @property
    def write_requests(self) -> int:
        return sum(s.write_requests for s in self.spreadsheets)


def export_to_sheets(db: Database, targets: Sequence[ExportTarget], account: ServiceAccount, *,
                     as_of: datetime | None = None, policy: RetryPolicy | None = None,
                     max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
                     exporter_factory: Callable[..., SheetsExporter] | None = None) -> ExportOutcome:
    """Every target from one database snapshot; a failing spreadsheet does not stop the others.

    Reads, then writes: every table is read (spooled, see ``tables``) in one transaction, which ends before the
    first request to Google, so no transaction stays open for the minutes the writes may take."""
    from vidstats.export.sheets import SheetsExporter, make_client  # gspread: only when an export runs

    as_of = as_of or datetime.now(UTC)
    by_spreadsheet: dict[str, list[ExportTarget]] = {}
    for target in targets:
        by_spreadsheet.setdefault(target.spreadsheet_id, []).append(target)
    outcome = ExportOutcome([], [])
    tables: dict[str, list[Table]] = {}
    try:
        with snapshot(db) as conn:
            for spreadsheet_id, group in by_spreadsheet.items():
                for target in group:
                    try:
                        tables.setdefault(spreadsheet_id, []).append(table_for(conn, target, as_of))
                    except ExportConfigError as error:
                        outcome.errors.append(f"spreadsheet {spreadsheet_id}: {error}; its tab was left as it was.")
        client = make_client(account.credentials, policy)
        exporter = (exporter_factory or SheetsExporter)(client, account=account.email, secret_hint=account.secret_id,
                                                        max_request_bytes=max_request_bytes)
        # Spreadsheet by spreadsheet: one's problem (a deleted campaign, a refused write) never stops the others.
        for spreadsheet_id, group_tables in tables.items():
            try:
                report = exporter.export(spreadsheet_id, group_tables)
            except SheetsExportError as error:
                outcome.errors.append(str(error))
                continue
            finally:
                for table in group_tables:
                    table.close()
            outcome.spreadsheets.append(report)
            outcome.errors.extend(report.problems)
            outcome.warnings.extend(report.warnings)
    finally:
        for group_tables in tables.values():
            for table in group_tables:
                table.close()
    return outcome


def workspace_targets(db: Database, workspace_id: UUID | None = None,
                      legacy: Sequence[ExportTarget] = ()) -> list[ExportTarget]:
    """The worksheets of every workspace's Sheets targets (or one workspace's), from the database: each target's
    "All videos" (unless left out) and its campaigns' (those listed, or every campaign of the workspace now), all
    bound to their workspace. ``legacy``: SHEETS_EXPORT_TARGETS, deprecated, exported for the Default workspace."""
    from vidstats.workspaces import DEFAULT_WORKSPACE_ID, all_export_targets

    worksheets: list[ExportTarget] = []
    with snapshot(db) as conn:
        for ws, target in all_export_targets(conn):
            if workspace_id is not None and ws != workspace_id:
                continue
            if target.include_all_videos:
                worksheets.append(ExportTarget(spreadsheet_id=target.spreadsheet_id, workspace_id=ws))
            campaigns = target.campaign_ids if target.campaign_ids is not None else all_campaign_ids(conn, ws)
            worksheets.extend(ExportTarget(spreadsheet_id=target.spreadsheet_id, campaign_id=c, workspace_id=ws)
                              for c in campaigns)
    claimed = {t.spreadsheet_id for t in worksheets}
    for t in legacy:  # bound to the Default workspace unless bound already (the local stack's defaults)
        bound = t if t.workspace_id else t.model_copy(update={"workspace_id": DEFAULT_WORKSPACE_ID})
        # A spreadsheet belongs to one workspace: a legacy target naming one that a workspace claimed is skipped.
        if (workspace_id is None or bound.workspace_id == workspace_id) and t.spreadsheet_id not in claimed:
            worksheets.append(bound)
    return worksheets


def default_targets(db: Database, workspace_id: UUID | None = None) -> list[ExportTarget]:
    """For CSV without configuration: "All videos" and every campaign (the spreadsheet id is unused); bound to
    ``workspace_id`` when given (the local stack's POST /exports), else of every workspace."""
    with snapshot(db) as conn:
        ids = all_campaign_ids(conn, workspace_id)
    placeholder = "local-csv-export"
    return [ExportTarget(spreadsheet_id=placeholder, workspace_id=workspace_id),
            *(ExportTarget(spreadsheet_id=placeholder, campaign_id=i, workspace_id=workspace_id) for i in ids)]


def export_to_csv(db: Database, targets: Sequence[ExportTarget], directory: Path, *,
                  as_of: datetime | None = None) -> list[tuple[Path, int]]:
    as_of = as_of or datetime.now(UTC)
    with snapshot(db) as conn:
        tables = tables_for(conn, targets, as_of)
    try:
        return write_csv_files(tables, directory)
    finally:
        for table in tables:
            table.close()
