"""Writes tables into a Google spreadsheet with gspread, within the Sheets API's limits.

Per spreadsheet an export makes one metadata read and then only write requests of two kinds:

1. one ``spreadsheets.batchUpdate``: add missing worksheets, resize each grid to exactly its table (rows
   beyond it are deleted: a shorter export leaves no leftovers), clear the values and formats left in the
   grid, then header bold + frozen, number formats per column (numbers, dates) and column widths;
2. ``values.batchUpdate`` requests with RAW values, each packed with as many rows (of one or several
   worksheets) as fit in ``max_request_bytes`` (well under Google's recommended 2 MB), streamed: only one
   request's rows are held in memory.

Every request goes through ``ResilientHTTPClient``: at most ``writes_per_minute`` writes in any 60 s
(Google's quota is 60 per minute per user) and retries with exponential backoff on 408, 429 and 5xx.
The same data gives byte-identical requests, hence an identical sheet.
"""

from __future__ import annotations

import json
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import gspread
import requests
from google.auth.exceptions import RefreshError, TransportError
from gspread.exceptions import APIError

from vidstats.export.cells import Cell, Kind, SheetValue, kind_of, number_format, pad, to_sheet_value
from vidstats.export.tables import Table

GOOGLE_RECOMMENDED_MAX_BYTES = 2_000_000
DEFAULT_MAX_REQUEST_BYTES = 1_500_000
DEFAULT_MAX_ROWS_PER_REQUEST = 10_000
_REQUEST_OVERHEAD_BYTES = 4_096  # the body around the rows: ranges, keys, brackets


class SheetsExportError(RuntimeError):
    """An export that could not complete; the message says what to fix and what, if anything, was written."""


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    base_delay_s: float = 1.0
    max_delay_s: float = 32.0
    writes_per_minute: int = 60
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


@dataclass
class RequestLog:
    """What went over the wire (each attempt), for the report, metrics and the benchmark."""

    writes: int = 0
    reads: int = 0
    retries: int = 0
    write_bytes: list[int] = field(default_factory=list)
    waited_s: float = 0.0


class ResilientHTTPClient(gspread.HTTPClient):
    """gspread's HTTP client with a write-rate limit and retries with backoff (injectable sleep and clock)."""

    policy: RetryPolicy
    log: RequestLog

    def __init__(self, auth: Any, session: requests.Session | None = None) -> None:
        super().__init__(auth, session)
        self.policy = RetryPolicy()
        self.log = RequestLog()
        self._recent_writes: deque[float] = deque()

    def _pace_write(self) -> None:
        limit = self.policy.writes_per_minute
        while True:
            now = self.policy.clock()
            while self._recent_writes and now - self._recent_writes[0] >= 60.0:
                self._recent_writes.popleft()
            if len(self._recent_writes) < limit:
                self._recent_writes.append(now)
                return
            wait = 60.0 - (now - self._recent_writes[0])
            self.log.waited_s += wait
            self.policy.sleep(wait)

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), self.policy.max_delay_s)
        return float(min(self.policy.base_delay_s * 2 ** (attempt - 1), self.policy.max_delay_s))

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        write = method.lower() != "get"
        body = kwargs.get("json")
        for attempt in range(1, self.policy.max_attempts + 1):
            if write:
                self._pace_write()
                self.log.writes += 1
                self.log.write_bytes.append(len(json.dumps(body)) if body is not None else 0)
            else:
                self.log.reads += 1
            try:
                return super().request(method, endpoint, *args, **kwargs)
            except APIError as error:
                retryable = error.response.status_code in (HTTPStatus.REQUEST_TIMEOUT, HTTPStatus.TOO_MANY_REQUESTS) \
                    or error.response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR
                if not retryable or attempt == self.policy.max_attempts:
                    raise
                delay = self._delay(attempt, error.response)
            except (requests.ConnectionError, requests.Timeout, TransportError):
                if attempt == self.policy.max_attempts:
                    raise
                delay = self._delay(attempt, None)
            self.log.retries += 1
            self.log.waited_s += delay
            self.policy.sleep(delay)
        raise AssertionError("unreachable")


def make_client(credentials: Any, policy: RetryPolicy | None = None,
                timeout_s: tuple[float, float] = (10.0, 170.0)) -> gspread.Client:
    """A gspread client whose every request is paced and retried (``credentials``: google-auth credentials)."""
    client = gspread.Client(auth=credentials, http_client=ResilientHTTPClient)
    http = client.http_client
    assert isinstance(http, ResilientHTTPClient)
    if policy is not None:
        http.policy = policy
    client.set_timeout(timeout_s)  # Google stops processing a request after 180 s
    return client


def quote_title(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def column_letter(index: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def a1_range(title: str, first_row: int, last_row: int, columns: int) -> str:
    return f"{quote_title(title)}!A{first_row}:{column_letter(columns)}{last_row}"


def stable_sheet_id(title: str, taken: set[int]) -> int:
    """A sheet id derived from the title, so a recreated worksheet gets the same requests (and id) again."""
    sheet_id = zlib.crc32(title.encode()) & 0x3FFFFFFF
    while sheet_id in taken or sheet_id == 0:
        sheet_id = (sheet_id + 1) & 0x3FFFFFFF
    return sheet_id


@dataclass
class WorksheetReport:
    title: str
    sheet_id: int
    rows: int  # data rows (header and summary excluded)
    grid_rows: int
    columns: int
    created: bool


@dataclass
class SpreadsheetReport:
    spreadsheet_id: str
    worksheets: list[WorksheetReport]
    write_requests: int
    bytes_per_request: list[int]
    retries: int


def _format_requests(sheet_id: int, table: Table) -> list[dict[str, Any]]:
    width = len(table.columns)
    header = table.header_row - 1  # 0-based
    grid = {"sheetId": sheet_id}
    requests_: list[dict[str, Any]] = [
        {"updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": {
                "rowCount": table.total_rows, "columnCount": width, "frozenRowCount": table.header_row}},
            "fields": "gridProperties(rowCount,columnCount,frozenRowCount)"}},
        # Whatever the grid still holds (values, formats of an older layout) goes: rows are rewritten below.
        {"updateCells": {"range": grid, "fields": "userEnteredValue,userEnteredFormat"}},
        {"repeatCell": {
            "range": {**grid, "startRowIndex": header, "endRowIndex": header + 1},
            "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
            "fields": "userEnteredFormat.textFormat.bold"}},
    ]
    for index, column in enumerate(table.columns):
        fmt = number_format(column.kind)
        if fmt is not None and table.row_count:
            requests_.append({"repeatCell": {
                "range": {**grid, "startRowIndex": header + 1, "endRowIndex": table.total_rows,
                          "startColumnIndex": index, "endColumnIndex": index + 1},
                "cell": {"userEnteredFormat": {"numberFormat": fmt}},
                "fields": "userEnteredFormat.numberFormat"}})
    for row_index, line in enumerate(table.preamble):
        for col_index, value in enumerate(line):
            fmt = number_format(kind_of(value))
            if col_index == 0 and value is not None:
                fmt_cell: dict[str, Any] = {"textFormat": {"bold": True}}
                fields = "userEnteredFormat.textFormat.bold"
            elif fmt is not None:
                fmt_cell, fields = {"numberFormat": fmt}, "userEnteredFormat.numberFormat"
            else:
                continue
            requests_.append({"repeatCell": {
                "range": {**grid, "startRowIndex": row_index, "endRowIndex": row_index + 1,
                          "startColumnIndex": col_index, "endColumnIndex": col_index + 1},
                "cell": {"userEnteredFormat": fmt_cell}, "fields": fields}})
    for index, column in enumerate(table.columns):
        requests_.append({"updateDimensionProperties": {
            "range": {**grid, "dimension": "COLUMNS", "startIndex": index, "endIndex": index + 1},
            "properties": {"pixelSize": column.width_px}, "fields": "pixelSize"}})
    return requests_


def sheet_rows(table: Table) -> Iterator[list[SheetValue]]:
    """Every line of the worksheet as the Sheets API values (preamble, header, rows), all ``width`` wide."""
    width = len(table.columns)
    for line in table.all_rows():
        if len(line) > width:
            raise ValueError(f"a line of {table.title!r} has {len(line)} cells, the table {width} columns")
        yield [to_sheet_value(v) for v in pad(line, width)]


@dataclass
class _Progress:
    title: str
    total: int
    written: int = 0  # lines (preamble + header + rows) confirmed written


class SheetsExporter:
    def __init__(self, client: gspread.Client, *, account: str | None = None, secret_hint: str | None = None,
                 max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
                 max_rows_per_request: int = DEFAULT_MAX_ROWS_PER_REQUEST) -> None:
        if not 10_000 <= max_request_bytes <= GOOGLE_RECOMMENDED_MAX_BYTES:
            raise ValueError("max_request_bytes must be between 10 kB and 2 MB")
        self.client = client
        self.http: gspread.HTTPClient = client.http_client
        self.account = account or "the service account"
        self.secret_hint = secret_hint
        self.max_request_bytes = max_request_bytes
        self.max_rows_per_request = max_rows_per_request

    # -- errors -----------------------------------------------------------------------------------------
    def _explain(self, spreadsheet_id: str, error: Exception, progress: Sequence[_Progress]) -> SheetsExportError:
        if isinstance(error, RefreshError):
            where = f" (secret {self.secret_hint})" if self.secret_hint else ""
            message = (f"Google rejected the credentials of {self.account}{where}: {error}. Create a new JSON key "
                       "for the service account and store it in that secret.")
        elif isinstance(error, APIError):
            status = error.response.status_code
            detail = error.error.get("message", "")
            if status == HTTPStatus.NOT_FOUND:
                message = (f"spreadsheet {spreadsheet_id} was not found ({detail}): it was deleted or the id is "
                           "wrong; fix spreadsheet_id in SHEETS_EXPORT_TARGETS or restore the spreadsheet.")
            elif status == HTTPStatus.FORBIDDEN:
                message = (f"{self.account} may not edit spreadsheet {spreadsheet_id} ({detail}): share the "
                           f"spreadsheet with {self.account} as Editor.")
            elif status == HTTPStatus.UNAUTHORIZED:
                message = (f"Google rejected the credentials of {self.account} ({detail}): check the service "
                           "account key in the secret.")
            elif status == HTTPStatus.BAD_REQUEST and any(
                    m in detail for m in ("Unable to parse range", "No grid with id")):
                message = (f"a worksheet of spreadsheet {spreadsheet_id} was deleted during the export ({detail}); "
                           "run the export again to recreate it.")
            else:
                message = f"Google Sheets API error {status} on spreadsheet {spreadsheet_id}: {detail}"
        else:
            message = f"export to spreadsheet {spreadsheet_id} failed: {type(error).__name__}: {error}."
        if progress and any(p.written < p.total for p in progress):
            partial = "; ".join(f"{p.title!r}: {p.written} of {p.total} lines" for p in progress)
            message += (" PARTIALLY WRITTEN: the worksheets were resized and cleared, then only some lines were "
                        f"written ({partial}); they stay incomplete until an export succeeds.")
        elif not progress:
            message += " Nothing was written to the spreadsheet."
        return SheetsExportError(message)

    # -- export -----------------------------------------------------------------------------------------
    def export(self, spreadsheet_id: str, tables: Sequence[Table]) -> SpreadsheetReport:
        log = self.http.log if isinstance(self.http, ResilientHTTPClient) else RequestLog()
        writes_before, bytes_before, retries_before = log.writes, len(log.write_bytes), log.retries
        progress: list[_Progress] = []
        try:
            metadata = self.http.fetch_sheet_metadata(
                spreadsheet_id, params={"includeGridData": "false", "fields": "sheets.properties"})
            existing = {s["properties"]["title"]: s["properties"] for s in metadata.get("sheets", [])}
            taken = {int(p["sheetId"]) for p in existing.values()}
            structure: list[dict[str, Any]] = []
            reports: list[WorksheetReport] = []
            for table in tables:
                properties = existing.get(table.title)
                created = properties is None
                if properties is None:
                    sheet_id = stable_sheet_id(table.title, taken)
                    taken.add(sheet_id)
                    structure.append({"addSheet": {"properties": {
                        "sheetId": sheet_id, "title": table.title,
                        "gridProperties": {"rowCount": table.total_rows, "columnCount": len(table.columns)}}}})
                else:
                    sheet_id = int(properties["sheetId"])
                structure.extend(_format_requests(sheet_id, table))
                reports.append(WorksheetReport(table.title, sheet_id, table.row_count, table.total_rows,
                                               len(table.columns), created))
            self.http.batch_update(spreadsheet_id, {"requests": structure})
            progress = [_Progress(t.title, t.total_rows) for t in tables]
            for body, counts in self._value_requests(tables):
                self.http.values_batch_update(spreadsheet_id, body)
                for index, lines in counts.items():
                    progress[index].written += lines
        except Exception as error:  # every failure is reported with what was (not) written
            raise self._explain(spreadsheet_id, error, progress) from error
        return SpreadsheetReport(spreadsheet_id, reports, log.writes - writes_before,
                                 log.write_bytes[bytes_before:], log.retries - retries_before)

    def _value_requests(self, tables: Sequence[Table]) -> Iterator[tuple[dict[str, Any], Mapping[int, int]]]:
        """``values.batchUpdate`` bodies, each up to the byte and row budgets, with lines written per table."""
        budget = self.max_request_bytes - _REQUEST_OVERHEAD_BYTES
        data: list[dict[str, Any]] = []
        counts: dict[int, int] = {}
        size = rows_in_request = 0

        def body() -> dict[str, Any]:
            return {"valueInputOption": "RAW", "data": data}

        for index, table in enumerate(tables):
            width = len(table.columns)
            block: list[list[SheetValue]] = []
            first_line = next_line = 1
            for values in sheet_rows(table):
                encoded = len(json.dumps(values)) + 2
                if block and (size + encoded > budget or rows_in_request >= self.max_rows_per_request):
                    data.append({"range": a1_range(table.title, first_line, next_line - 1, width), "values": block})
                    counts[index] = counts.get(index, 0) + len(block)
                    yield body(), counts
                    data, counts, size, rows_in_request = [], {}, 0, 0
                    block, first_line = [], next_line
                elif not block and data and (size + encoded > budget or rows_in_request >= self.max_rows_per_request):
                    yield body(), counts
                    data, counts, size, rows_in_request = [], {}, 0, 0
                block.append(values)
                size += encoded
                rows_in_request += 1
                next_line += 1
            if next_line - 1 != table.total_rows:
                raise SheetsExportError(f"{table.title!r}: expected {table.total_rows} lines, read {next_line - 1}")
            if block:
                data.append({"range": a1_range(table.title, first_line, next_line - 1, width), "values": block})
                counts[index] = counts.get(index, 0) + len(block)
                size += len(table.title) + 40
        if data:
            yield body(), counts


def cells_of(body: Mapping[str, Any]) -> Iterator[tuple[str, list[list[Cell]]]]:
    """The (range, values) pairs of a values.batchUpdate body (for reports and tests)."""
    for item in body["data"]:
        yield item["range"], item["values"]


__all__ = ["Kind", "SheetsExportError", "SheetsExporter", "make_client"]
