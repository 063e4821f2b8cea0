"""The Google Sheets API v4, as far as the export uses it, answered through `responses` from recorded bodies.

gspread runs unmodified over requests; this module answers its HTTP calls the way the API does (the response
bodies are the recorded ones in ``recorded/`` or built in their exact shape, as in gspread's own cassettes)
and keeps each worksheet's grid, so tests can check what a user would see: cell values, grid size, frozen
rows, formats, hidden tabs, developer metadata. It enforces the rules Google enforces, with Google's messages:

- a ``spreadsheets.batchUpdate`` is atomic: one invalid subrequest and nothing applies;
- tab titles are unique ignoring case, not empty, at most 100 characters;
- frozen rows must be fewer than the sheet's rows ("You can't freeze all visible rows on the sheet");
- at least one tab stays visible;
- at most 10,000,000 cells per spreadsheet, all tabs counted (hidden ones too);
- at most 50,000 characters in a cell; values outside the grid are refused ("exceeds grid limits");
- 60 write and 60 read requests per minute per user: beyond that, a 429 ``RESOURCE_EXHAUSTED`` body and no
  ``Retry-After`` header. Minutes are counted on an injectable clock (the tests' fake one), so a test can
  make "another writer" spend the quota (``spend_quota``) and check that the export outlasts it.

Queued failures (``fail_next``: 429, 503, ...) are answered before the next requests.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import responses

RECORDED = Path(__file__).parent / "recorded"
BASE = "https://sheets.googleapis.com/v4/spreadsheets"
MAX_CELLS = 10_000_000
MAX_CELL_CHARS = 50_000
MAX_TITLE_CHARS = 100
REQUESTS_PER_MINUTE = 60  # per user per project, reads and writes each


def recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text())


def column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - ord("A") + 1
    return index


def parse_range(a1: str) -> tuple[str, int, int, int, int]:
    """'Title'!A2:R10 -> (title, first_row, last_row, first_col, last_col), 1-based."""
    match = re.fullmatch(r"'((?:[^']|'')+)'!([A-Z]+)(\d+):([A-Z]+)(\d+)", a1)
    assert match, a1
    title = match.group(1).replace("''", "'")
    return (title, int(match.group(3)), int(match.group(5)), column_index(match.group(2)),
            column_index(match.group(4)))


def field_paths(mask: str) -> set[str]:
    """'title,gridProperties(rowCount,frozenRowCount)' -> {'title', 'gridProperties.rowCount', ...}."""
    paths: set[str] = set()
    for match in re.finditer(r"(\w+)(?:\(([^)]*)\))?", mask):
        if match.group(2) is None:
            paths.add(match.group(1))
        else:
            paths.update(f"{match.group(1)}.{inner.strip()}" for inner in match.group(2).split(","))
    return paths


@dataclass
class Sheet:
    sheet_id: int
    title: str
    rows: int = 1000
    cols: int = 26
    frozen: int = 0
    hidden: bool = False
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)  # (row, col) 1-based -> value
    formats: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    widths: dict[int, int] = field(default_factory=dict)
    metadata: list[dict[str, Any]] = field(default_factory=list)  # developerMetadata located on the sheet

    def values(self) -> list[list[Any]]:
        """The grid as the values.get API returns it: trailing empty cells and rows omitted."""
        grid = [[self.cells.get((r, c), "") for c in range(1, self.cols + 1)] for r in range(1, self.rows + 1)]
        trimmed = []
        for row in grid:
            while row and row[-1] == "":
                row.pop()
            trimmed.append(row)
        while trimmed and not trimmed[-1]:
            trimmed.pop()
        return trimmed

    def properties(self, index: int) -> dict[str, Any]:
        return {"sheetId": self.sheet_id, "title": self.title, "index": index, "sheetType": "GRID",
                "gridProperties": {"rowCount": self.rows, "columnCount": self.cols,
                                   **({"frozenRowCount": self.frozen} if self.frozen else {})},
                **({"hidden": True} if self.hidden else {})}


@dataclass
class Call:
    method: str
    url: str
    body: Any
    size: int
    status: int


class Invalid(Exception):  # noqa: N818 - Google's own word for a refused request
    """A 400 INVALID_ARGUMENT with Google's message."""


class SheetsApi:
    """``on_values``: for big exports, each written range is handed to it (and not kept) instead of stored."""

    def __init__(self, mock: responses.RequestsMock,
                 on_values: Callable[[str, list[list[Any]]], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.mock = mock
        self.on_values = on_values
        self.clock = clock
        self.spreadsheets: dict[str, dict[str, Sheet]] = {}
        self.calls: list[Call] = []
        # (status, recorded file, path suffix, body test): answered instead of the next request whose path
        # ends so (and whose body passes the test)
        self.failures: list[tuple[int, str, str, Callable[[Any], bool] | None]] = []
        self.quota_spent: dict[tuple[str, int], int] = {}  # ("read"|"write", minute) -> requests accepted
        # (path suffix, body test): the next such request is applied, then its answer lost (connection reset)
        self.lost_answers: list[tuple[str, Callable[[Any], bool] | None]] = []
        self._next_metadata_id = 1000
        self.on_request: Callable[[], None] | None = None  # called as each request arrives, before answering
        for method in ("GET", "POST"):
            mock.add_callback(method, re.compile(re.escape(BASE) + r"/.*"), callback=self._answer)

    def add_spreadsheet(self, spreadsheet_id: str) -> dict[str, Sheet]:
        self.spreadsheets[spreadsheet_id] = {"Sheet1": Sheet(0, "Sheet1")}
        return self.spreadsheets[spreadsheet_id]

    def fail_next(self, status: int, recorded_file: str, times: int = 1, *, on: str = "",
                  when: Callable[[Any], bool] | None = None) -> None:
        self.failures.extend([(status, recorded_file, on, when)] * times)

    def lose_answer_next(self, *, on: str = "", when: Callable[[Any], bool] | None = None) -> None:
        self.lost_answers.append((on, when))

    def spend_quota(self, minute: int, requests: int = REQUESTS_PER_MINUTE, kind: str = "write") -> None:
        """Another client of the same service account used ``requests`` of ``minute``'s quota."""
        key = (kind, minute)
        self.quota_spent[key] = self.quota_spent.get(key, 0) + requests

    @property
    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST"]

    def value_ranges(self) -> list[tuple[str, list[list[Any]]]]:
        return [(d["range"], d.get("values", [])) for c in self.writes if c.url.endswith("values:batchUpdate")
                and c.status == 200 for d in c.body["data"]]

    # -- the API --------------------------------------------------------------------------------------
    def _answer(self, request: Any) -> tuple[int, dict[str, str], Any]:
        if self.on_request is not None:
            self.on_request()
        body = json.loads(request.body) if request.body else None
        size = len(request.body) if request.body else 0
        status, payload = self._dispatch(request.method, request.url, body)
        path = request.url.split("?")[0]
        for index, (suffix, when) in enumerate(self.lost_answers):
            if status == 200 and path.endswith(suffix) and (when is None or when(body)):
                del self.lost_answers[index]
                self.calls.append(Call(request.method, request.url, body, size, status))
                return status, {}, requests.ConnectionError("Connection reset by peer (the answer was lost)")
        if self.on_values is not None and body and "data" in body:
            body = {"valueInputOption": body["valueInputOption"], "data": [{"range": d["range"]} for d in body["data"]]}
        self.calls.append(Call(request.method, request.url, body, size, status))
        return status, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(payload)

    def _quota_exceeded(self, method: str) -> Any | None:
        kind = "read" if method == "GET" else "write"
        key = (kind, int(self.clock() // 60))
        if self.quota_spent.get(key, 0) >= REQUESTS_PER_MINUTE:
            body = recorded("error_429.json")
            if kind == "read":
                text = json.dumps(body).replace("Write requests", "Read requests") \
                    .replace("WriteRequests", "ReadRequests").replace("write_requests", "read_requests")
                body = json.loads(text)
            return body
        self.quota_spent[key] = self.quota_spent.get(key, 0) + 1
        return None

    def _dispatch(self, method: str, url: str, body: Any) -> tuple[int, Any]:
        path = url.split("?")[0][len(BASE) + 1:]
        for index, (status, name, suffix, when) in enumerate(self.failures):
            if path.endswith(suffix) and (when is None or when(body)):
                del self.failures[index]
                return status, recorded(name)
        exhausted = self._quota_exceeded(method)
        if exhausted is not None:
            return 429, exhausted
        spreadsheet_id = re.split(r"[/:]", path)[0]
        sheets = self.spreadsheets.get(spreadsheet_id)
        if sheets is None:
            return 404, recorded("error_404.json")
        try:
            if method == "GET" and path == spreadsheet_id:
                return 200, self._get(spreadsheet_id, sheets, url)
            if method == "POST" and path == f"{spreadsheet_id}:batchUpdate":
                return 200, self._batch_update(spreadsheet_id, sheets, body)
            if method == "POST" and path == f"{spreadsheet_id}/values:batchUpdate":
                return 200, self._values_batch_update(spreadsheet_id, sheets, body)
        except Invalid as error:
            return 400, {"error": {"code": 400, "message": str(error), "status": "INVALID_ARGUMENT"}}
        return 404, recorded("error_404.json")

    @staticmethod
    def _get(spreadsheet_id: str, sheets: dict[str, Sheet], url: str) -> Any:
        meta = recorded("spreadsheet_get.json")
        meta["spreadsheetId"] = spreadsheet_id
        with_metadata = "developerMetadata" in url  # asked for in ``fields``
        meta["sheets"] = [{"properties": s.properties(i),
                           **({"developerMetadata": copy.deepcopy(s.metadata)} if with_metadata and s.metadata
                              else {})}
                          for i, s in enumerate(sheets.values())]
        return meta

    # -- spreadsheets.batchUpdate ---------------------------------------------------------------------
    @staticmethod
    def _check_title(title: str, others: list[Sheet], where: str) -> None:
        if not title.strip():
            raise Invalid(f"{where}: Sheet name cannot be empty.")
        if len(title) > MAX_TITLE_CHARS:
            raise Invalid(f"{where}: Sheet name cannot be longer than {MAX_TITLE_CHARS} characters.")
        if any(s.title.casefold() == title.casefold() for s in others):
            raise Invalid(f"{where}: A sheet with the name \"{title}\" already exists. Please enter another name.")

    @staticmethod
    def _check_grid(sheet: Sheet, work: list[Sheet], where: str) -> None:
        if sheet.frozen >= sheet.rows:
            raise Invalid(f"{where}: You can't freeze all visible rows on the sheet.")
        if sum(s.rows * s.cols for s in work) > MAX_CELLS:
            raise Invalid(f"{where}: This action would increase the number of cells in the workbook above the "
                          f"limit of {MAX_CELLS} cells.")

    def _batch_update(self, spreadsheet_id: str, sheets: dict[str, Sheet], body: Any) -> Any:
        work = copy.deepcopy(list(sheets.values()))  # requests are atomic: all apply or none
        replies: list[dict[str, Any]] = []
        for index, request in enumerate(body["requests"]):
            (kind, spec), = request.items()
            where = f"Invalid requests[{index}].{kind}"
            by_id = {s.sheet_id: s for s in work}
            if kind == "addSheet":
                props = spec["properties"]
                self._check_title(props["title"], work, where)
                if props.get("sheetId") in by_id:
                    raise Invalid(f"{where}: Sheet with id {props['sheetId']} already exists.")
                grid = props.get("gridProperties", {})
                sheet = Sheet(props["sheetId"], props["title"], grid.get("rowCount", 1000),
                              grid.get("columnCount", 26), grid.get("frozenRowCount", 0), props.get("hidden", False))
                work.append(sheet)
                self._check_grid(sheet, work, where)
                self._check_visible(work, where)
                replies.append({"addSheet": {"properties": sheet.properties(len(work) - 1)}})
                continue
            if kind == "createDeveloperMetadata":
                meta = copy.deepcopy(spec["developerMetadata"])
                target = by_id.get(meta["location"]["sheetId"])
                if target is None:
                    raise Invalid(f"{where}: No grid with id: {meta['location']['sheetId']}")
                self._next_metadata_id += 1
                meta = {"metadataId": self._next_metadata_id, **meta,
                        "location": {"locationType": "SHEET", "sheetId": target.sheet_id}}
                target.metadata.append(meta)
                replies.append({"createDeveloperMetadata": {"developerMetadata": meta}})
                continue
            if kind == "deleteDeveloperMetadata":
                lookup = spec["dataFilter"]["developerMetadataLookup"]
                deleted = []
                for sheet in work:
                    kept = [m for m in sheet.metadata if not self._matches(m, lookup)]
                    deleted += [m for m in sheet.metadata if self._matches(m, lookup)]
                    sheet.metadata = kept
                replies.append({"deleteDeveloperMetadata": {"deletedDeveloperMetadata": deleted}})
                continue
            if kind == "copyPaste":
                self._copy_paste(spec, by_id, where)
                replies.append({})
                continue
            sheet_id = spec["sheetId"] if kind == "deleteSheet" else \
                (spec["range"] if "range" in spec else spec["properties"])["sheetId"]
            target = by_id.get(sheet_id)
            if target is None:
                raise Invalid(f"{where}: No grid with id: {sheet_id}")
            if kind == "deleteSheet":
                work.remove(target)
                if not work or all(s.hidden for s in work):
                    raise Invalid(f"{where}: You can't remove all the visible sheets in a document.")
            elif kind == "updateSheetProperties":
                self._update_properties(target, spec, work, where)
            elif kind == "updateCells":
                assert spec["range"] == {"sheetId": sheet_id}
                assert spec["fields"] == "userEnteredValue,userEnteredFormat"
                target.cells.clear()
                target.formats.clear()
            elif kind == "repeatCell":
                rng = spec["range"]
                for r in range(rng.get("startRowIndex", 0), rng.get("endRowIndex", target.rows)):
                    for c in range(rng.get("startColumnIndex", 0), rng.get("endColumnIndex", target.cols)):
                        cell = target.formats.setdefault((r + 1, c + 1), {})
                        fmt = spec["cell"]["userEnteredFormat"]
                        cell.update(fmt)
            elif kind == "updateDimensionProperties":
                rng = spec["range"]
                for c in range(rng["startIndex"], rng["endIndex"]):
                    target.widths[c + 1] = spec["properties"]["pixelSize"]
            else:
                raise AssertionError(f"request kind not modelled: {kind}")
            replies.append({})
        sheets.clear()
        sheets.update({s.title: s for s in work})
        return {"spreadsheetId": spreadsheet_id, "replies": replies}

    @staticmethod
    def _copy_paste(spec: dict[str, Any], by_id: dict[int, Sheet], where: str) -> None:
        """PASTE_NORMAL: values and formats of the source range replace the destination's, empty cells too."""
        assert spec["pasteType"] == "PASTE_NORMAL"
        src, dst = spec["source"], spec["destination"]
        source, target = by_id.get(src["sheetId"]), by_id.get(dst["sheetId"])
        if source is None or target is None:
            raise Invalid(f"{where}: No grid with id: {src['sheetId'] if source is None else dst['sheetId']}")
        rows, cols = src["endRowIndex"] - src["startRowIndex"], src["endColumnIndex"] - src["startColumnIndex"]
        if src["endRowIndex"] > source.rows or src["endColumnIndex"] > source.cols \
                or dst["startRowIndex"] + rows > target.rows or dst["startColumnIndex"] + cols > target.cols:
            raise Invalid(f"{where}: the range exceeds the grid limits.")
        for r in range(rows):
            for c in range(cols):
                here = (src["startRowIndex"] + r + 1, src["startColumnIndex"] + c + 1)
                there = (dst["startRowIndex"] + r + 1, dst["startColumnIndex"] + c + 1)
                for store_from, store_to in ((source.cells, target.cells), (source.formats, target.formats)):
                    if here in store_from:
                        store_to[there] = copy.deepcopy(store_from[here])
                    else:
                        store_to.pop(there, None)

    @staticmethod
    def _check_visible(work: list[Sheet], where: str) -> None:
        if all(s.hidden for s in work):
            raise Invalid(f"{where}: You can't hide all the visible sheets in a document.")

    def _update_properties(self, target: Sheet, spec: dict[str, Any], work: list[Sheet], where: str) -> None:
        props, paths = spec["properties"], field_paths(spec["fields"])
        grid = props.get("gridProperties", {})
        if "title" in paths:
            self._check_title(props["title"], [s for s in work if s is not target], where)
            target.title = props["title"]
        if "hidden" in paths:
            target.hidden = bool(props.get("hidden", False))
            self._check_visible(work, where)
        if "gridProperties.rowCount" in paths:
            target.rows = grid["rowCount"]
        if "gridProperties.columnCount" in paths:
            target.cols = grid["columnCount"]
        if "gridProperties.frozenRowCount" in paths:
            target.frozen = grid.get("frozenRowCount", 0)
        for store in (target.cells, target.formats):
            for key in [k for k in store if k[0] > target.rows or k[1] > target.cols]:
                del store[key]
        self._check_grid(target, work, where)
        if "index" in paths:
            # Google counts the new index "before the move": moving right lands one place left of it.
            old = work.index(target)
            new = props["index"]
            work.remove(target)
            work.insert(new - 1 if new > old else new, target)

    @staticmethod
    def _matches(meta: dict[str, Any], lookup: dict[str, Any]) -> bool:
        location = lookup.get("metadataLocation", {})
        return all([
            "metadataId" not in lookup or meta["metadataId"] == lookup["metadataId"],
            "metadataKey" not in lookup or meta["metadataKey"] == lookup["metadataKey"],
            "metadataValue" not in lookup or meta.get("metadataValue") == lookup["metadataValue"],
            "sheetId" not in location or meta["location"]["sheetId"] == location["sheetId"],
        ])

    # -- values.batchUpdate ---------------------------------------------------------------------------
    def _values_batch_update(self, spreadsheet_id: str, sheets: dict[str, Sheet], body: Any) -> Any:
        assert body["valueInputOption"] == "RAW"
        items = []
        for item in body["data"]:  # all checked before any is written: the request is atomic
            title, first_row, last_row, first_col, last_col = parse_range(item["range"])
            sheet = sheets.get(title)
            if sheet is None:
                raise Invalid(f"Unable to parse range: {item['range']}")
            if last_row > sheet.rows or last_col > sheet.cols:
                raise Invalid(f"Range ({item['range']}) exceeds grid limits. Max rows: {sheet.rows}, "
                              f"max columns: {sheet.cols}")
            assert len(item["values"]) == last_row - first_row + 1
            for r, row in enumerate(item["values"]):
                assert len(row) == last_col - first_col + 1
                for c, value in enumerate(row):
                    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                        raise Invalid(f"Invalid values[{r}][{c}]: Your input contains more than the maximum of "
                                      f"{MAX_CELL_CHARS} characters in a single cell.")
            items.append((item, sheet, first_row, last_row, first_col, last_col))
        results = []
        for item, sheet, first_row, last_row, first_col, last_col in items:
            if self.on_values is not None:
                self.on_values(item["range"], item["values"])
            for r, row in enumerate(item["values"] if self.on_values is None else []):
                for c, value in enumerate(row):
                    key = (first_row + r, first_col + c)
                    if value == "":
                        sheet.cells.pop(key, None)
                    else:
                        sheet.cells[key] = value
            rows, cols = last_row - first_row + 1, last_col - first_col + 1
            results.append({"spreadsheetId": spreadsheet_id, "updatedRange": item["range"], "updatedRows": rows,
                            "updatedColumns": cols, "updatedCells": rows * cols})
        return {
            "spreadsheetId": spreadsheet_id,
            "totalUpdatedRows": sum(r["updatedRows"] for r in results),
            "totalUpdatedColumns": max((r["updatedColumns"] for r in results), default=0),
            "totalUpdatedCells": sum(r["updatedCells"] for r in results),
            "totalUpdatedSheets": len({parse_range(r["updatedRange"])[0] for r in results}),
            "responses": results,
        }
