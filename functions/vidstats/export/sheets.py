"""Writes tables into a Google spreadsheet with gspread, within the Sheets API's rules and limits.

Each table has a tab found by the table's key ("all-videos", "campaign:<id>") kept in the tab's developer
metadata, never by its title: a renamed campaign renames its tab, and a title differing only in case or cut at
100 characters cannot make an export fail. Titles are made unique ignoring case (as Google requires) with a
" (2)" suffix within 100 characters.

A tab is never cleared in place. Per spreadsheet an export makes one metadata read and then writes:

1. one ``spreadsheets.batchUpdate`` building a hidden staging tab per table, sized exactly to it (the header
   frozen, number formats per column, column widths), and deleting staging tabs a failed run left behind;
2. ``values.batchUpdate`` requests with RAW values into the staging tabs, each packed with as many rows as
   fit in ``max_request_bytes`` (well under Google's recommended 2 MB), streamed: only one request's rows are
   held in memory;
3. one ``spreadsheets.batchUpdate`` swapping them in: a table's existing tab is resized to the new content,
   the staging tab pasted over it and deleted (the tab keeps its id, place and visibility, so formulas, charts
   and filters pointing at it keep working); a new table's staging tab is shown, named and keyed. Google
   applies a batchUpdate atomically, so readers see the previous export until this request and the new one
   after it; a run failing anywhere before leaves the previous export as it was.

Before writing, the spreadsheet's cell budget is checked (Google's 10 million cells, all tabs counted, while a
staging tab exists beside the tab it replaces); a table that does not fit is reported and left out, the others
are written. Text longer than Google's 50,000 characters per cell is cut, and reported.

Every request goes through ``ResilientHTTPClient``: at most ``writes_per_minute`` writes in any 60 s (Google's
quota is 60 per minute per user) and retries following Google's guidance for 408, 429 and 5xx (truncated
exponential backoff with jitter, long enough to outlast a quota minute another client of the same service
account has spent; a 429 carries no Retry-After).
"""

from __future__ import annotations

import json
import zlib
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import gspread
import requests
from google.auth.exceptions import RefreshError, TransportError
from gspread.exceptions import APIError

from vidstats.export.cells import Cell, Kind, SheetValue, kind_of, number_format, pad, to_sheet_value
from vidstats.export.policy import DEFAULT_MAX_REQUEST_BYTES as DEFAULT_MAX_REQUEST_BYTES
from vidstats.export.policy import GOOGLE_RECOMMENDED_MAX_BYTES as GOOGLE_RECOMMENDED_MAX_BYTES
from vidstats.export.policy import RetryPolicy as RetryPolicy
from vidstats.export.policy import SheetsExportError as SheetsExportError
from vidstats.export.tables import Table

DEFAULT_MAX_ROWS_PER_REQUEST = 10_000
_REQUEST_OVERHEAD_BYTES = 4_096  # the body around the rows: ranges, keys, brackets
MAX_CELLS_PER_SPREADSHEET = 10_000_000  # all tabs of a spreadsheet together, hidden ones included
MAX_CELL_CHARS = 50_000
MAX_TITLE_CHARS = 100
TAB_KEY = "vidstats.export.tab"  # developer metadata of a tab the export owns; value: the table's key
STAGING_KEY = "vidstats.export.staging"  # ... of a tab being built; value: the table's key
STAGING_SUFFIX = " (updating)"


class GaveUp(Exception):  # noqa: N818 - raised to say so, not a programming error
    """A request still failing after the retries: the last error, how many attempts, how long they waited."""

    def __init__(self, error: Exception, attempts: int, waited_s: float, out_of_time: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts
        self.waited_s = waited_s
        self.out_of_time = out_of_time


@dataclass
class RequestLog:
    """What went over the wire (each attempt), for the report, metrics and the benchmark."""

    writes: int = 0
    reads: int = 0
    retries: int = 0
    write_bytes: list[int] = field(default_factory=list)
    waited_s: float = 0.0


def _retryable(error: Exception) -> bool:
    if isinstance(error, APIError):
        status = error.response.status_code
        return status in (HTTPStatus.REQUEST_TIMEOUT, HTTPStatus.TOO_MANY_REQUESTS) \
            or status >= HTTPStatus.INTERNAL_SERVER_ERROR
    return isinstance(error, requests.ConnectionError | requests.Timeout | TransportError)


class ResilientHTTPClient(gspread.HTTPClient):
    """gspread's HTTP client with a write-rate limit and retries with backoff (injectable sleep, clock, jitter)."""

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

    def delay(self, attempt: int, response: requests.Response | None) -> float:
        """The wait before attempt ``attempt + 1``: the server's Retry-After if any, else backoff with jitter."""
        policy = self.policy
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and retry_after.isdigit():
            return min(float(retry_after), policy.max_delay_s)
        backoff = policy.base_delay_s * 2 ** (attempt - 1) + policy.jitter() * policy.max_jitter_s
        return float(min(backoff, policy.max_delay_s))

    def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> requests.Response:
        write = method.lower() != "get"
        body = kwargs.get("json")
        waited = 0.0
        for attempt in range(1, self.policy.max_attempts + 1):
            if write:
                self._pace_write()
                self.log.writes += 1
                self.log.write_bytes.append(len(json.dumps(body)) if body is not None else 0)
            else:
                self.log.reads += 1
            try:
                return super().request(method, endpoint, *args, **kwargs)
            except (APIError, requests.ConnectionError, requests.Timeout, TransportError) as error:
                if not _retryable(error):
                    raise
                if attempt == self.policy.max_attempts:
                    raise GaveUp(error, attempt, waited, out_of_time=False) from error
                delay = self.delay(attempt, error.response if isinstance(error, APIError) else None)
                deadline = self.policy.deadline
                if deadline is not None and self.policy.clock() + delay > deadline:
                    raise GaveUp(error, attempt, waited, out_of_time=True) from error
            self.log.retries += 1
            self.log.waited_s += delay
            waited += delay
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


def stable_sheet_id(key: str, taken: set[int]) -> int:
    """A sheet id derived from the table's key: the same tabs get the same requests again (a staging tab
    alternates between two ids, its predecessor holding the other)."""
    sheet_id = zlib.crc32(key.encode()) & 0x3FFFFFFF
    while sheet_id in taken or sheet_id == 0:
        sheet_id = (sheet_id + 1) & 0x3FFFFFFF
    return sheet_id


def unique_title(wanted: str, taken: set[str]) -> str:
    """``wanted`` cut to 100 characters, or with " (2)", " (3)"... if a title in ``taken`` (casefolded) equals it
    ignoring case, as Google compares tab names."""
    base = wanted.strip()[:MAX_TITLE_CHARS] or "Untitled"
    candidate, n = base, 1
    while candidate.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        candidate = base[:MAX_TITLE_CHARS - len(suffix)].rstrip() + suffix
    return candidate


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def fit_cell(text: str) -> str | None:
    """``text`` cut to Google's 50,000 characters per cell (counted as UTF-16 units, the stricter reading),
    ending with "…"; None if it fits as it is."""
    if len(text) <= MAX_CELL_CHARS // 2 or utf16_length(text) <= MAX_CELL_CHARS:
        return None
    cut = text.encode("utf-16-le")[:2 * (MAX_CELL_CHARS - 1)].decode("utf-16-le", errors="ignore")
    return cut + "…"


@dataclass
class WorksheetReport:
    title: str
    sheet_id: int
    rows: int  # data rows (header and summary excluded)
    grid_rows: int
    columns: int
    created: bool  # no previous tab of this table
    previous_title: str | None = None  # the title of the tab it replaced, when that differed


@dataclass
class SpreadsheetReport:
    spreadsheet_id: str
    worksheets: list[WorksheetReport]
    write_requests: int
    bytes_per_request: list[int]
    retries: int
    problems: list[str] = field(default_factory=list)  # tables left out (they did not fit), said in full
    warnings: list[str] = field(default_factory=list)  # written, but not all of it (cut cells)


@dataclass
class _Tab:
    """A tab of the spreadsheet as read at the start of the export."""

    sheet_id: int
    title: str
    index: int
    rows: int
    cols: int
    frozen: int
    live_key: str | None
    staging_key: str | None

    @property
    def cells(self) -> int:
        return self.rows * self.cols


@dataclass
class _Placement:
    """Where one table goes: its staging tab, final title, and the tab it replaces (if any)."""

    table: Table
    title: str
    staging_title: str
    staging_id: int
    grid_rows: int
    old: _Tab | None

    @property
    def cells(self) -> int:
        return self.grid_rows * len(self.table.columns)


@dataclass
class _Plan:
    placements: list[_Placement]
    leftovers: list[_Tab]  # staging tabs of a failed run: deleted first
    duplicates: list[_Tab]  # tabs carrying a key another tab owns (a user's copy): the key is taken off them
    problems: list[str]
    rename_prefix: str  # temporary titles during renames: "<prefix>0", "<prefix>1"... (used by no tab)


def _tabs(metadata: Mapping[str, Any]) -> list[_Tab]:
    tabs = []
    for index, sheet in enumerate(metadata.get("sheets", [])):
        props = sheet["properties"]
        grid = props.get("gridProperties", {})
        keys = {m.get("metadataKey"): m.get("metadataValue") for m in sheet.get("developerMetadata", [])}
        tabs.append(_Tab(int(props["sheetId"]), props["title"], index, int(grid.get("rowCount", 0)),
                         int(grid.get("columnCount", 0)), int(grid.get("frozenRowCount", 0)),
                         keys.get(TAB_KEY), keys.get(STAGING_KEY)))
    return tabs


def _looks_like_an_old_export(tab: _Tab, table: Table) -> bool:
    """A tab an export wrote before tabs carried keys: its table's title and frozen header. Not its width: the
    tables have gained columns since (fetch health), and an upgrade must take its old tabs over."""
    return (tab.live_key is None and tab.staging_key is None and tab.title.casefold() == table.title.casefold()
            and tab.frozen == table.header_row)


def plan_tabs(spreadsheet_id: str, metadata: Mapping[str, Any], tables: Sequence[Table]) -> _Plan:
    """Which tab each table replaces, the titles, the staging tabs, and what does not fit (pure: no requests)."""
    tabs = _tabs(metadata)
    leftovers = [t for t in tabs if t.staging_key is not None and t.live_key is None]
    current = [t for t in tabs if t not in leftovers]
    owner: dict[str, _Tab] = {}
    duplicates: list[_Tab] = []
    for tab in current:
        if tab.live_key is not None:
            if tab.live_key in owner:
                duplicates.append(tab)
            else:
                owner[tab.live_key] = tab
    problems: list[str] = []
    chosen: list[tuple[Table, _Tab | None]] = []
    replaced: set[int] = set()
    seen_keys: set[str] = set()
    for table in tables:
        if table.key in seen_keys:
            problems.append(f"spreadsheet {spreadsheet_id}: two export targets write {table.key}; only the "
                            f"first ({table.title!r}) is written: remove the other from SHEETS_EXPORT_TARGETS.")
            continue
        seen_keys.add(table.key)
        old = owner.get(table.key) or next(
            (t for t in current if t.sheet_id not in replaced and _looks_like_an_old_export(t, table)), None)
        if old is not None:
            replaced.add(old.sheet_id)
        chosen.append((table, old))

    # Cell budget: every current tab, plus each staging tab while it stands beside its predecessor, plus the
    # predecessor's growth when it is resized to the new content before the paste.
    used = sum(t.cells for t in current)
    fitting: list[tuple[Table, _Tab | None, int]] = []
    for table, old in chosen:
        grid_rows = max(table.total_rows, table.header_row + 1)  # Google freezes fewer rows than the sheet has
        cells = grid_rows * len(table.columns)
        needed = cells + (max(cells - old.cells, 0) if old is not None else 0)
        if used + needed > MAX_CELLS_PER_SPREADSHEET:
            keeps = f"its tab {old.title!r} keeps the previous export" if old else "it has no tab yet"
            built = "built in a hidden tab, then pasted over the current one" if old else "its new tab"
            problems.append(
                f"spreadsheet {spreadsheet_id}: {table.title!r} ({table.row_count:,} videos) did not fit and was "
                f"not written ({keeps}): it needs {needed:,} cells ({grid_rows:,} rows x {len(table.columns)} "
                f"columns, {built}) and the spreadsheet has {max(MAX_CELLS_PER_SPREADSHEET - used, 0):,} of "
                f"Google's {MAX_CELLS_PER_SPREADSHEET:,} cells left. Delete tabs or rows the spreadsheet no "
                "longer needs, or give this target its own spreadsheet.")
            if old is not None:
                replaced.discard(old.sheet_id)
            continue
        used += needed
        fitting.append((table, old, grid_rows))

    # Final titles: unique ignoring case among themselves and the tabs that stay (not the replaced ones).
    staying = [t for t in current if t.sheet_id not in replaced]
    taken_titles = {t.title.casefold() for t in staying}
    finals = []
    for table, _, _ in fitting:
        title = unique_title(table.title, taken_titles)
        taken_titles.add(title.casefold())
        finals.append(title)
    # Staging titles also avoid every current tab (they coexist with all of them) and the final titles.
    taken_titles |= {t.title.casefold() for t in tabs}
    taken_ids = {t.sheet_id for t in tabs}
    placements = []
    for (table, old, grid_rows), title in zip(fitting, finals, strict=True):
        staging_title = unique_title(title[:MAX_TITLE_CHARS - len(STAGING_SUFFIX)] + STAGING_SUFFIX, taken_titles)
        taken_titles.add(staging_title.casefold())
        staging_id = stable_sheet_id(table.key, taken_ids)
        taken_ids.add(staging_id)
        placements.append(_Placement(table, title, staging_title, staging_id, grid_rows, old))
    prefix, n = "vidstats renaming ", 1
    while any(title.startswith(prefix.casefold()) for title in taken_titles):
        n += 1
        prefix = f"vidstats renaming {n} "
    return _Plan(placements, leftovers, duplicates, problems, prefix)


def _metadata(key: str, value: str, sheet_id: int) -> dict[str, Any]:
    return {"createDeveloperMetadata": {"developerMetadata": {
        "metadataKey": key, "metadataValue": value, "location": {"sheetId": sheet_id}, "visibility": "DOCUMENT"}}}


def _drop_metadata(key: str, sheet_id: int) -> dict[str, Any]:
    return {"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": {
        "metadataKey": key, "metadataLocation": {"sheetId": sheet_id}}}}}


def _format_requests(sheet_id: int, table: Table) -> list[dict[str, Any]]:
    header = table.header_row - 1  # 0-based
    grid = {"sheetId": sheet_id}
    requests_: list[dict[str, Any]] = [
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


def build_requests(plan: _Plan) -> list[dict[str, Any]]:
    """Step 1: leftovers gone, one hidden staging tab per table (sized, frozen header, formats, key)."""
    requests_: list[dict[str, Any]] = [{"deleteSheet": {"sheetId": t.sheet_id}} for t in plan.leftovers]
    for p in plan.placements:
        requests_.append({"addSheet": {"properties": {
            "sheetId": p.staging_id, "title": p.staging_title, "hidden": True,
            "gridProperties": {"rowCount": p.grid_rows, "columnCount": len(p.table.columns),
                               "frozenRowCount": p.table.header_row}}}})
        requests_.append(_metadata(STAGING_KEY, p.table.key, p.staging_id))
        requests_.extend(_format_requests(p.staging_id, p.table))
    return requests_


def swap_requests(plan: _Plan) -> list[dict[str, Any]]:
    """Step 3, one atomic request. A table with a tab already: the tab is resized to the new content, the
    staging tab pasted over it (values and formats) and deleted; the tab keeps its id, place and visibility,
    so other tabs' formulas, charts and filters pointing at it keep working. A new table: its staging tab is
    shown, named and keyed. Renames go through a temporary title first: two campaigns may trade names."""
    requests_: list[dict[str, Any]] = [
        {"updateSheetProperties": {"properties": {"sheetId": p.staging_id, "hidden": False}, "fields": "hidden"}}
        for p in plan.placements if p.old is None]
    renamed: list[tuple[int, str]] = []
    for p in plan.placements:
        if p.old is None:
            continue
        live, width = p.old.sheet_id, len(p.table.columns)
        requests_.append({"updateSheetProperties": {"properties": {"sheetId": live, "gridProperties": {
            "rowCount": p.grid_rows, "columnCount": width, "frozenRowCount": p.table.header_row}},
            "fields": "gridProperties(rowCount,columnCount,frozenRowCount)"}})
        whole = {"startRowIndex": 0, "endRowIndex": p.grid_rows, "startColumnIndex": 0, "endColumnIndex": width}
        requests_.append({"copyPaste": {"source": {"sheetId": p.staging_id, **whole},
                                        "destination": {"sheetId": live, **whole},
                                        "pasteType": "PASTE_NORMAL", "pasteOrientation": "NORMAL"}})
        requests_.extend(r for r in _format_requests(live, p.table) if "updateDimensionProperties" in r)
        requests_.append({"deleteSheet": {"sheetId": p.staging_id}})
        if p.old.live_key is None:  # a tab of an export from before keys: it gets its key now
            requests_.append(_metadata(TAB_KEY, p.table.key, live))
        if p.old.title != p.title:
            renamed.append((live, p.title))
    requests_ += [_drop_metadata(TAB_KEY, t.sheet_id) for t in plan.duplicates]
    for step, (live, _) in enumerate(renamed):
        requests_.append({"updateSheetProperties": {"properties": {
            "sheetId": live, "title": f"{plan.rename_prefix}{step}"}, "fields": "title"}})
    for live, title in renamed:
        requests_.append({"updateSheetProperties": {"properties": {"sheetId": live, "title": title},
                                                    "fields": "title"}})
    for p in plan.placements:
        if p.old is None:
            requests_.append({"updateSheetProperties": {"properties": {"sheetId": p.staging_id, "title": p.title},
                                                        "fields": "title"}})
            requests_.append(_drop_metadata(STAGING_KEY, p.staging_id))
            requests_.append(_metadata(TAB_KEY, p.table.key, p.staging_id))
    return requests_


@dataclass
class _Cut:
    title: str
    count: int = 0
    first: tuple[int, str] | None = None  # (line, column title)


def sheet_rows(table: Table, cut: _Cut | None = None) -> Iterator[list[SheetValue]]:
    """Every line of the worksheet as the Sheets API values (preamble, header, rows), all ``width`` wide,
    text cut to the 50,000 characters a cell holds (counted in ``cut``)."""
    width = len(table.columns)
    for line_number, line in enumerate(table.all_rows(), start=1):
        if len(line) > width:
            raise ValueError(f"a line of {table.title!r} has {len(line)} cells, the table {width} columns")
        values = [to_sheet_value(v) for v in pad(line, width)]
        for index, value in enumerate(values):
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS // 2:
                fitted = fit_cell(value)
                if fitted is not None:
                    values[index] = fitted
                    if cut is not None:
                        cut.count += 1
                        cut.first = cut.first or (line_number, table.columns[index].title)
        yield values


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
    def _explain(self, spreadsheet_id: str, error: Exception, plan: _Plan | None, started: bool,
                 progress: Sequence[_Progress]) -> SheetsExportError:
        gave_up = error if isinstance(error, GaveUp) else None
        if gave_up is not None:
            error = gave_up.error
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
                message = (f"a tab of spreadsheet {spreadsheet_id} was deleted during the export ({detail}), "
                           "perhaps by another export running at the same time; run the export again.")
            elif status == HTTPStatus.TOO_MANY_REQUESTS:
                message = (f"Google's write quota refused spreadsheet {spreadsheet_id} ({detail}): 60 write "
                           f"requests per minute per user, shared by every export with {self.account}.")
            else:
                message = f"Google Sheets API error {status} on spreadsheet {spreadsheet_id}: {detail}"
        else:
            message = f"export to spreadsheet {spreadsheet_id} failed: {type(error).__name__}: {error}."
        if gave_up is not None:
            message += (f" Gave up after {gave_up.attempts} attempts over {gave_up.waited_s:.0f} s of backoff"
                        + (" (the function's time was running out)." if gave_up.out_of_time else "."))
        if not started:
            message += " Nothing was written to the spreadsheet."
        else:
            staging = ", ".join(repr(p.staging_title) for p in plan.placements) if plan else ""
            written = "; ".join(f"{p.title!r}: {p.written} of {p.total} lines" for p in progress)
            message += (" The tabs keep the previous export, unchanged: the new one was being built in hidden "
                        f"tabs ({staging}{'; ' + written if written else ''}), which the next run replaces.")
        return SheetsExportError(message)

    # -- export -----------------------------------------------------------------------------------------
    def export(self, spreadsheet_id: str, tables: Sequence[Table]) -> SpreadsheetReport:
        log = self.http.log if isinstance(self.http, ResilientHTTPClient) else RequestLog()
        writes_before, bytes_before, retries_before = log.writes, len(log.write_bytes), log.retries
        plan: _Plan | None = None
        started = False
        progress: list[_Progress] = []
        cuts: list[_Cut] = []
        try:
            metadata = self.http.fetch_sheet_metadata(spreadsheet_id, params={
                "includeGridData": "false", "fields": "sheets(properties,developerMetadata)"})
            plan = plan_tabs(spreadsheet_id, metadata, tables)
            if plan.placements or plan.leftovers:
                self.http.batch_update(spreadsheet_id, {"requests": build_requests(plan)})
                started = True  # (a refused build request changed nothing: it is atomic)
            progress = [_Progress(p.title, p.table.total_rows) for p in plan.placements]
            cuts = [_Cut(p.title) for p in plan.placements]
            for body, counts in self._value_requests(plan.placements, cuts):
                self.http.values_batch_update(spreadsheet_id, body)
                for index, lines in counts.items():
                    progress[index].written += lines
            if plan.placements:
                try:
                    self.http.batch_update(spreadsheet_id, {"requests": swap_requests(plan)})
                except APIError as error:
                    # A retry of a swap whose answer was lost finds the staging tabs gone: look, don't guess.
                    if error.response.status_code != HTTPStatus.BAD_REQUEST or not self._swapped(spreadsheet_id,
                                                                                                  plan):
                        raise
        except Exception as error:  # every failure is reported with what was (not) written
            raise self._explain(spreadsheet_id, error, plan, started, progress) from error
        reports = [WorksheetReport(p.title, p.old.sheet_id if p.old else p.staging_id, p.table.row_count,
                                   p.grid_rows, len(p.table.columns), p.old is None,
                                   p.old.title if p.old and p.old.title != p.title else None)
                   for p in plan.placements]
        warnings = [f"spreadsheet {spreadsheet_id}, {c.title!r}: {c.count} cell(s) held more than Google's "
                    f"{MAX_CELL_CHARS:,} characters per cell and were cut to fit (first: line {c.first[0]}, "
                    f"column {c.first[1]!r})." for c in cuts if c.count and c.first]
        return SpreadsheetReport(spreadsheet_id, reports, log.writes - writes_before,
                                 log.write_bytes[bytes_before:], log.retries - retries_before,
                                 plan.problems, warnings)

    def _swapped(self, spreadsheet_id: str, plan: _Plan) -> bool:
        """Whether the swap is in place: every table's key on a visible tab with its title, no staging tab."""
        tabs = _tabs(self.http.fetch_sheet_metadata(spreadsheet_id, params={
            "includeGridData": "false", "fields": "sheets(properties,developerMetadata)"}))
        by_key = {t.live_key: t for t in tabs if t.live_key is not None}
        staging = {p.staging_id for p in plan.placements if p.old is not None}
        return all(p.table.key in by_key and by_key[p.table.key].title == p.title for p in plan.placements) \
            and not any(t.staging_key is not None and t.live_key is None for t in tabs) \
            and not any(t.sheet_id in staging for t in tabs)

    def _value_requests(self, placements: Sequence[_Placement], cuts: Sequence[_Cut]
                        ) -> Iterator[tuple[dict[str, Any], Mapping[int, int]]]:
        """``values.batchUpdate`` bodies, each up to the byte and row budgets, with lines written per table."""
        budget = self.max_request_bytes - _REQUEST_OVERHEAD_BYTES
        data: list[dict[str, Any]] = []
        counts: dict[int, int] = {}
        size = rows_in_request = 0

        def body() -> dict[str, Any]:
            return {"valueInputOption": "RAW", "data": data}

        for index, placement in enumerate(placements):
            table, title = placement.table, placement.staging_title
            width = len(table.columns)
            block: list[list[SheetValue]] = []
            first_line = next_line = 1
            for values in sheet_rows(table, cuts[index]):
                encoded = len(json.dumps(values)) + 2
                if block and (size + encoded > budget or rows_in_request >= self.max_rows_per_request):
                    data.append({"range": a1_range(title, first_line, next_line - 1, width), "values": block})
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
                data.append({"range": a1_range(title, first_line, next_line - 1, width), "values": block})
                counts[index] = counts.get(index, 0) + len(block)
                size += len(title) + 40
        if data:
            yield body(), counts


def cells_of(body: Mapping[str, Any]) -> Iterator[tuple[str, list[list[Cell]]]]:
    """The (range, values) pairs of a values.batchUpdate body (for reports and tests)."""
    for item in body["data"]:
        yield item["range"], item["values"]


__all__ = ["Kind", "SheetsExportError", "SheetsExporter", "make_client"]
