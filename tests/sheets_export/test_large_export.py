"""100,000 videos: streamed from the database, written in few requests well under 2 MB, every value exact."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from vidstats.db import Database
from vidstats.export.run import ServiceAccount, export_to_sheets
from vidstats.export.tables import ExportTarget

from tests.conftest import IsolatedDatabase
from tests.sheets_export.bulk import BULK_AS_OF, bulk_catalogue
from tests.sheets_export.conftest import SPREADSHEET_ID, dummy_credentials
from tests.sheets_export.sheets_api import SheetsApi, parse_range
from tests.sheets_export.test_sheets_export import ALL_HEADER, serial

VIDEOS = 100_000
BUDGET = 1_500_000 - 4_096  # the exporter's default request size, less room for the body around the rows


def expected_line(line: int) -> list[Any]:
    """Line 2 is the most viewed video (n = 100,000), the last line the least (n = 1); see bulk_catalogue."""
    if line == 1:
        return ALL_HEADER
    n = VIDEOS + 2 - line
    return ["tiktok", f"https://www.tiktok.com/@creator/video/7{n:018d}", "", f"clip {n}",
            serial(datetime(2026, 10, 1, tzinfo=UTC)), "tracking", 11 * n, n + 1, 1, 0, 0, n, 1, 1, n, 1, 1, n, 1, 1,
            serial(datetime(2026, 10, 25, 10, tzinfo=UTC))]


def expected_ranges() -> list[str]:
    """Whole lines packed greedily into requests of at most BUDGET bytes of JSON rows."""
    ranges, first, size = [], 1, 0
    for line in range(1, VIDEOS + 2):
        encoded = len(json.dumps(expected_line(line))) + 2
        if size + encoded > BUDGET:
            ranges.append(f"'All videos (updating)'!A{first}:U{line - 1}")
            first, size = line, 0
        size += encoded
    ranges.append(f"'All videos (updating)'!A{first}:U{VIDEOS + 1}")
    return ranges


def test_100k_videos_are_written_in_15_requests_of_exact_ranges_and_values(db: Database,
                                                                         database: IsolatedDatabase) -> None:
    # Seeding, not what is tested: the read model's catch-up of 200k snapshots may outlast the functions' 30 s
    # statement timeout on a loaded machine.
    seeding = Database(database.owner_url, statement_timeout_ms=600_000)
    try:
        bulk_catalogue(seeding, VIDEOS)
    finally:
        seeding.close()
    mismatches: list[int] = []
    seen_lines: list[int] = []

    def check(a1: str, values: list[list[Any]]) -> None:
        first = parse_range(a1)[1]
        for offset, row in enumerate(values):
            line = first + offset
            seen_lines.append(line)
            expected = expected_line(line)
            if [round(v, 9) if isinstance(v, float) else v for v in row] != \
                    [round(v, 9) if isinstance(v, float) else v for v in expected]:
                mismatches.append(line)

    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        api = SheetsApi(mock, on_values=check)
        sheets = api.add_spreadsheet(SPREADSHEET_ID)
        outcome = export_to_sheets(db, [ExportTarget(spreadsheet_id=SPREADSHEET_ID)],
                                   ServiceAccount(dummy_credentials(), None, None), as_of=BULK_AS_OF)

    assert outcome.errors == []
    assert mismatches == []
    assert seen_lines == list(range(1, VIDEOS + 2))
    ranges = [r for r, _ in api.value_ranges()]
    assert ranges == expected_ranges()
    assert ranges == [f"'All videos (updating)'!A{first}:U{last}" for first, last in [
        (1, 7631), (7632, 15294), (15295, 22965), (22966, 30636), (30637, 38307), (38308, 45978), (45979, 53649),
        (53650, 61320), (61321, 68991), (68992, 76662), (76663, 84333), (84334, 92063), (92064, 100001)]]
    # 1 read, 15 writes (build the tab, 13 x rows, swap it in): < 1 per 5,000 rows
    assert [c.method for c in api.calls] == ["GET"] + ["POST"] * 15
    assert outcome.write_requests == 15 <= VIDEOS / 5_000
    assert max(c.size for c in api.writes) <= 1_500_000
    assert (sheets["All videos"].rows, sheets["All videos"].cols, sheets["All videos"].frozen) == (100_001, 21, 1)
