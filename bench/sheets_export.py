"""Benchmark: the Sheets export of 100k videos, from a real (embedded) PostgreSQL to a mocked Sheets API.

    .venv/bin/python -m bench.sheets_export [--videos 100000]

Seeds the videos through the ingest role and refreshes the read model, then runs the export with gspread
answered by `responses` (no network): requests made, bytes per request, peak Python memory (tracemalloc, the
export only) and time excluding the network. Targets: at most 1 write request per 5,000 rows, peak < 200 MB.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import psycopg
import responses
from vidstats.db import Database
from vidstats.export.run import ExportOutcome, ServiceAccount, export_to_sheets
from vidstats.export.tables import ExportTarget, SpooledRows, snapshot, table_for
from vidstats.local.embedded import PROJECT_OWNER, apply_supabase_roles, start_embedded, tune_for_tests, with_login
from vidstats.migrations import migrate

from tests.sheets_export.bulk import BULK_AS_OF, bulk_catalogue
from tests.sheets_export.conftest import dummy_credentials

SPREADSHEET_ID = "1BenchmarkSpreadsheet0000000000000000000000"
BASE = "https://sheets.googleapis.com/v4/spreadsheets"


def _mock_api(mock: responses.RequestsMock, sizes: list[tuple[str, int]]) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        body = request.body or b""
        sizes.append((request.method, len(body)))
        if request.method == "GET":
            payload: dict[str, Any] = {"spreadsheetId": SPREADSHEET_ID, "sheets": [
                {"properties": {"sheetId": 0, "title": "Sheet1", "gridProperties": {"rowCount": 1000,
                                                                                    "columnCount": 26}}}]}
        elif request.url.endswith("values:batchUpdate"):
            payload = {"spreadsheetId": SPREADSHEET_ID}
        else:
            payload = {"spreadsheetId": SPREADSHEET_ID, "replies": []}
        return 200, {"Content-Type": "application/json"}, json.dumps(payload)

    for method in ("GET", "POST"):
        mock.add_callback(method, re.compile(re.escape(BASE) + r"/.*"), callback=answer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--videos", type=int, default=100_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server = start_embedded(Path(tmp) / "data", delete_on_exit=True)
        superuser = server.get_uri()
        tune_for_tests(superuser)
        apply_supabase_roles(superuser)
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(superuser, autocommit=True) as conn:
            conn.execute(f"create database {name} owner {PROJECT_OWNER}".encode())
        url = with_login(superuser, user=PROJECT_OWNER, dbname=name)
        migrate(url)
        db = Database(url)
        started = time.perf_counter()
        bulk_catalogue(db, args.videos)
        seed_s = time.perf_counter() - started

        def export() -> ExportOutcome:
            return export_to_sheets(db, [ExportTarget(spreadsheet_id=SPREADSHEET_ID)],
                                    ServiceAccount(dummy_credentials(), None, None), as_of=BULK_AS_OF)

        sizes: list[tuple[str, int]] = []
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            _mock_api(mock, [])
            started = time.perf_counter()  # timed without tracemalloc, which slows Python down
            export()
            export_s = time.perf_counter() - started
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            _mock_api(mock, sizes)
            tracemalloc.start()
            outcome = export()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        # What the export read before writing (its transaction ends before the first request to Google).
        started = time.perf_counter()
        with snapshot(db) as conn:
            table = table_for(conn, ExportTarget(spreadsheet_id=SPREADSHEET_ID), BULK_AS_OF)
        read_s = time.perf_counter() - started
        assert isinstance(table.rows, SpooledRows)
        spooled_bytes = table.rows.size_bytes
        table.close()
        db.close()
        server.cleanup()

    assert not outcome.errors, outcome.errors
    writes = [size for method, size in sizes if method == "POST"]
    rows = outcome.rows
    per_request_rows = rows / len(writes)
    lines = [
        ("videos (rows exported)", f"{rows:,}"),
        ("seed + read model refresh (s)", f"{seed_s:.1f}"),
        ("requests: reads", f"{len(sizes) - len(writes)}"),
        ("requests: writes", f"{len(writes)}  (target <= {rows / 5000:.0f}: 1 per 5,000 rows)"),
        ("rows per write request", f"{per_request_rows:,.0f}"),
        ("bytes per write request: max", f"{max(writes):,}  (Google recommends <= 2,000,000)"),
        ("bytes per write request: mean", f"{sum(writes) / len(writes):,.0f}"),
        ("bytes written in total", f"{sum(writes):,}"),
        ("peak Python memory (MB, tracemalloc)", f"{peak / 1e6:.1f}  (target < 200)"),
        ("export time excluding network (s)", f"{export_s:.2f}"),
        ("of which reading (transaction open) (s)", f"{read_s:.2f}"),
        ("rows spooled (MB, compressed; /tmp)", f"{spooled_bytes / 1e6:.1f}  ({spooled_bytes / rows:.0f} bytes a row)"),
    ]
    width = max(len(k) for k, _ in lines)
    print(f"{'metric'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for key, value in lines:
        print(f"{key.ljust(width)}  {value}")
    print()
    print("write request sizes (bytes):", ", ".join(f"{s:,}" for s in writes))
    ok = len(writes) <= rows / 5000 and peak < 200e6
    print("targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    main()
