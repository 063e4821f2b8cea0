"""The Google Sheets API v4, as far as the export uses it, answered through `responses` from recorded bodies.

gspread runs unmodified over requests; this module answers its HTTP calls the way the API does (the response
bodies are the recorded ones in ``recorded/`` or built in their exact shape) and keeps each worksheet's grid,
so tests can check what a user would see: cell values, grid size, frozen rows, formats. Like the real API,
values outside the grid are refused ("exceeds grid limits"), and queued failures (429, 503, ...) can be
answered before the next requests.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import responses

RECORDED = Path(__file__).parent / "recorded"
BASE = "https://sheets.googleapis.com/v4/spreadsheets"


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


@dataclass
class Sheet:
    sheet_id: int
    title: str
    rows: int = 1000
    cols: int = 26
    frozen: int = 0
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)  # (row, col) 1-based -> value
    formats: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    widths: dict[int, int] = field(default_factory=dict)

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


@dataclass
class Call:
    method: str
    url: str
    body: Any
    size: int
    status: int


class SheetsApi:
    """``on_values``: for big exports, each written range is handed to it (and not kept) instead of stored."""

    def __init__(self, mock: responses.RequestsMock,
                 on_values: Callable[[str, list[list[Any]]], None] | None = None) -> None:
        self.mock = mock
        self.on_values = on_values
        self.spreadsheets: dict[str, dict[str, Sheet]] = {}
        self.calls: list[Call] = []
        # (status, recorded file, path suffix): answered instead of the next request whose path ends so
        self.failures: list[tuple[int, str, str]] = []
        for method in ("GET", "POST"):
            mock.add_callback(method, re.compile(re.escape(BASE) + r"/.*"), callback=self._answer)

    def add_spreadsheet(self, spreadsheet_id: str) -> dict[str, Sheet]:
        self.spreadsheets[spreadsheet_id] = {"Sheet1": Sheet(0, "Sheet1")}
        return self.spreadsheets[spreadsheet_id]

    def fail_next(self, status: int, recorded_file: str, times: int = 1, *, on: str = "") -> None:
        self.failures.extend([(status, recorded_file, on)] * times)

    @property
    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST"]

    def value_ranges(self) -> list[tuple[str, list[list[Any]]]]:
        return [(d["range"], d.get("values", [])) for c in self.writes if c.url.endswith("values:batchUpdate")
                and c.status == 200 for d in c.body["data"]]

    # -- the API --------------------------------------------------------------------------------------
    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body) if request.body else None
        size = len(request.body) if request.body else 0
        status, payload = self._dispatch(request.method, request.url, body)
        if self.on_values is not None and body and "data" in body:
            body = {"valueInputOption": body["valueInputOption"], "data": [{"range": d["range"]} for d in body["data"]]}
        self.calls.append(Call(request.method, request.url, body, size, status))
        return status, {"Content-Type": "application/json; charset=UTF-8"}, json.dumps(payload)

    def _dispatch(self, method: str, url: str, body: Any) -> tuple[int, Any]:
        path = url.split("?")[0][len(BASE) + 1:]
        for index, (status, name, suffix) in enumerate(self.failures):
            if path.endswith(suffix):
                del self.failures[index]
                return status, recorded(name)
        spreadsheet_id = re.split(r"[/:]", path)[0]
        sheets = self.spreadsheets.get(spreadsheet_id)
        if sheets is None:
            return 404, recorded("error_404.json")
        if method == "GET" and path == spreadsheet_id:
            meta = recorded("spreadsheet_get.json")
            meta["spreadsheetId"] = spreadsheet_id
            meta["sheets"] = [{"properties": {
                "sheetId": s.sheet_id, "title": s.title, "index": i, "sheetType": "GRID",
                "gridProperties": {"rowCount": s.rows, "columnCount": s.cols,
                                   **({"frozenRowCount": s.frozen} if s.frozen else {})}}}
                for i, s in enumerate(sheets.values())]
            return 200, meta
        if method == "POST" and path == f"{spreadsheet_id}:batchUpdate":
            return self._batch_update(spreadsheet_id, sheets, body)
        if method == "POST" and path == f"{spreadsheet_id}/values:batchUpdate":
            return self._values_batch_update(spreadsheet_id, sheets, body)
        return 404, recorded("error_404.json")

    @staticmethod
    def _error(status: int, message: str) -> tuple[int, Any]:
        return status, {"error": {"code": status, "message": message, "status": "INVALID_ARGUMENT"}}

    def _batch_update(self, spreadsheet_id: str, sheets: dict[str, Sheet], body: Any) -> tuple[int, Any]:
        work = copy.deepcopy(sheets)  # requests are atomic: all apply or none
        by_id = {s.sheet_id: s for s in work.values()}
        replies: list[dict[str, Any]] = []
        for index, request in enumerate(body["requests"]):
            (kind, spec), = request.items()
            if kind == "addSheet":
                props = spec["properties"]
                if props["title"] in work:
                    return self._error(400, f"Invalid requests[{index}].addSheet: A sheet with the name "
                                            f"\"{props['title']}\" already exists. Please enter another name.")
                grid = props.get("gridProperties", {})
                sheet = Sheet(props["sheetId"], props["title"], grid.get("rowCount", 1000),
                              grid.get("columnCount", 26))
                work[sheet.title] = by_id[sheet.sheet_id] = sheet
                replies.append({"addSheet": {"properties": {**props, "index": len(work) - 1, "sheetType": "GRID"}}})
                continue
            sheet_id = (spec["range"] if "range" in spec else spec["properties"])["sheetId"]
            target = by_id.get(sheet_id)
            if target is None:
                return self._error(400, f"Invalid requests[{index}].{kind}: No grid with id: {sheet_id}")
            if kind == "updateSheetProperties":
                grid = spec["properties"]["gridProperties"]
                target.rows, target.cols = grid["rowCount"], grid["columnCount"]
                target.frozen = grid.get("frozenRowCount", 0)
                for key in [k for k in target.cells if k[0] > target.rows or k[1] > target.cols]:
                    del target.cells[key]
                for key in [k for k in target.formats if k[0] > target.rows or k[1] > target.cols]:
                    del target.formats[key]
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
        sheets.update(work)
        return 200, {"spreadsheetId": spreadsheet_id, "replies": replies}

    def _values_batch_update(self, spreadsheet_id: str, sheets: dict[str, Sheet], body: Any) -> tuple[int, Any]:
        assert body["valueInputOption"] == "RAW"
        results = []
        for item in body["data"]:
            title, first_row, last_row, first_col, last_col = parse_range(item["range"])
            sheet = sheets.get(title)
            if sheet is None:
                return self._error(400, f"Unable to parse range: {item['range']}")
            if last_row > sheet.rows or last_col > sheet.cols:
                return self._error(400, f"Range ({item['range']}) exceeds grid limits. Max rows: {sheet.rows}, "
                                        f"max columns: {sheet.cols}")
            assert len(item["values"]) == last_row - first_row + 1
            if self.on_values is not None:
                assert all(len(row) == last_col - first_col + 1 for row in item["values"])
                self.on_values(item["range"], item["values"])
            for r, row in enumerate(item["values"] if self.on_values is None else []):
                assert len(row) == last_col - first_col + 1
                for c, value in enumerate(row):
                    key = (first_row + r, first_col + c)
                    if value == "":
                        sheet.cells.pop(key, None)
                    else:
                        sheet.cells[key] = value
            rows, cols = last_row - first_row + 1, last_col - first_col + 1
            results.append({"spreadsheetId": spreadsheet_id, "updatedRange": item["range"], "updatedRows": rows,
                            "updatedColumns": cols, "updatedCells": rows * cols})
        return 200, {
            "spreadsheetId": spreadsheet_id,
            "totalUpdatedRows": sum(r["updatedRows"] for r in results),
            "totalUpdatedColumns": max((r["updatedColumns"] for r in results), default=0),
            "totalUpdatedCells": sum(r["updatedCells"] for r in results),
            "totalUpdatedSheets": len({parse_range(r["updatedRange"])[0] for r in results}),
            "responses": results,
        }
