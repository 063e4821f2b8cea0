"""The Sheets export, from a real database through real gspread to recorded Google Sheets API v4 answers:
exact requests, ranges and values, what the worksheets end up showing, and the failures users will meet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from vidstats.db import Database
from vidstats.export.run import ExportOutcome, ServiceAccount, export_to_sheets
from vidstats.export.sheets import RetryPolicy, SheetsExporter, make_client
from vidstats.export.tables import ExportTarget, snapshot, tables_for

from tests.sheets_export.conftest import ACCOUNT, SPREADSHEET_ID, FakeClock, dummy_credentials
from tests.sheets_export.seed import AS_OF, LONG_CAPTION, remove_from_campaign, small_catalogue, t
from tests.sheets_export.sheets_api import SheetsApi

EPOCH = datetime(1899, 12, 30, tzinfo=UTC)


def serial(value: datetime) -> float:
    """Sheets' serial number of an instant (days since 1899-12-30, UTC), computed independently of the code."""
    return (value - EPOCH) / timedelta(days=1)


def rounded(rows: Any) -> list[list[Any]]:
    """Floats (date serials) to 1e-9 day (under a millisecond), so independently computed serials compare."""
    return [[round(v, 9) if isinstance(v, float) else v for v in row] for row in rows]


ALL_HEADER = ["Platform", "URL", "Blogger", "Caption / title", "Tracking since (UTC)", "Fetch health", "Views",
              "Likes", "Comments",
              "Reposts", "Saves", "Views +1d", "Likes +1d", "Comments +1d", "Views +7d", "Likes +7d", "Comments +7d",
              "Views +30d", "Likes +30d", "Comments +30d", "Data as of (UTC)"]
CAMPAIGN_HEADER = ["Platform", "URL", "Blogger", "Caption / title", "Tracking since (UTC)", "Fetch health",
                   "Added to campaign (UTC)", "Views", "Likes", "Comments", "Reposts", "Saves",
                   "Views growth in campaign", "Likes growth in campaign", "Comments growth in campaign",
                   "Reposts growth in campaign", "Saves growth in campaign", "Data as of (UTC)"]
URL_A = "https://www.tiktok.com/@anna.cooks/video/7301000000000000001"
URL_B = "https://www.youtube.com/shorts/dQw4w9WgXcQ"
URL_C = "https://www.instagram.com/reel/C1a2B3c4D5e/"
CAPTION_A = "Morning routine ☀️ \"quoted\", =SUM(A1)"

ALL_VIDEOS_LINES = [
    ALL_HEADER,
    ["instagram", URL_C, "", "", serial(t(21, 11, 59)), "tracking", 1600, 130, 15, 6, 4,
     100, 10, 3, 600, 30, 5, 600, 30, 5, serial(t(25, 12))],
    ["tiktok", URL_A, "anna.cooks", CAPTION_A, serial(t(1, 8)), "tracking", 400, 25, 4, 1, 2,
     150, 5, 1, 300, 15, 3, 300, 15, 3, serial(t(25, 9, 30))],
    ["youtube", URL_B, "", LONG_CAPTION[:99] + "…", serial(t(25, 19)), "tracking", *[""] * 14, ""],
]


def pad18(row: list[Any]) -> list[Any]:
    return [*row, *[""] * (18 - len(row))]


CAMPAIGN_LINES = [
    pad18(["Campaign", "Autumn launch", "Starts (UTC)", serial(t(22, 0)), "Ends (UTC)", "open", "Videos", 2,
           "Data as of (UTC)", serial(t(25, 12))]),
    pad18(["Totals vs increments", "Views", "Likes", "Comments", "Reposts", "Saves"]),
    pad18(["Totals (latest fetch)", 2000, 155, 19, 7, 6]),
    pad18(["Growth in campaign", 900, 45, 8, 2, 3]),
    pad18(["Growth counts what each video gained after it entered the campaign (the later of the campaign start "
           "and the moment it was added) and before the campaign end; totals include everything before. "
           "Empty: not measured."]),
    pad18([]),
    CAMPAIGN_HEADER,
    ["instagram", URL_C, "", "", serial(t(21, 11, 59)), "tracking", serial(t(20, 0)), 1600, 130, 15, 6, 4,
     600, 30, 5, 1, 3, serial(t(25, 12))],
    ["tiktok", URL_A, "anna.cooks", CAPTION_A, serial(t(1, 8)), "tracking", serial(t(23, 12)), 400, 25, 4, 1, 2,
     300, 15, 3, 1, 0, serial(t(25, 9, 30))],
]


def account() -> ServiceAccount:
    return ServiceAccount(dummy_credentials(), ACCOUNT, None)


def targets(ids: dict[str, str]) -> list[ExportTarget]:
    return [ExportTarget(spreadsheet_id=SPREADSHEET_ID),
            ExportTarget(spreadsheet_id=SPREADSHEET_ID, campaign_id=ids["campaign"])]  # type: ignore[arg-type]


JITTER = 0.5  # the fraction of a second of jitter each backoff adds (random in production)


def policy(clock: FakeClock, **kwargs: Any) -> RetryPolicy:
    return RetryPolicy(sleep=clock.sleep, clock=clock, jitter=lambda: JITTER, **kwargs)


def run(db: Database, ids: dict[str, str], clock: FakeClock, *, targets_: list[ExportTarget] | None = None,
        **kwargs: Any) -> ExportOutcome:
    return export_to_sheets(db, targets_ or targets(ids), account(), as_of=AS_OF, policy=policy(clock), **kwargs)


def grid(rows: Any) -> list[list[Any]]:
    """Lines as the Sheets API reads them back: empty cells are absent at the end of a row."""
    out = []
    for row in rows:
        row = list(row)
        while row and row[-1] == "":
            row.pop()
        out.append(row)
    return out


def test_small_export_builds_hidden_tabs_writes_them_and_swaps_them_in_with_four_requests(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets_api.add_spreadsheet(SPREADSHEET_ID)

    outcome = run(db, ids, clock)

    assert outcome.errors == []
    assert [(c.method, c.url.split("/spreadsheets/")[1].split("?")[0]) for c in sheets_api.calls] == [
        ("GET", SPREADSHEET_ID),
        ("POST", f"{SPREADSHEET_ID}:batchUpdate"),
        ("POST", f"{SPREADSHEET_ID}/values:batchUpdate"),
        ("POST", f"{SPREADSHEET_ID}:batchUpdate"),
    ]
    assert "fields=sheets%28properties%2CdeveloperMetadata%29" in sheets_api.calls[0].url
    assert outcome.write_requests == 3
    build = [next(iter(r)) for r in sheets_api.writes[0].body["requests"]]
    assert build[:2] == ["addSheet", "createDeveloperMetadata"]
    assert sheets_api.writes[0].body["requests"][0]["addSheet"]["properties"]["hidden"] is True
    ranges = sheets_api.value_ranges()
    assert [r for r, _ in ranges] == ["'All videos (updating)'!A1:U4", "'Autumn launch (updating)'!A1:R9"]
    assert rounded(ranges[0][1]) == rounded(ALL_VIDEOS_LINES)
    assert rounded(ranges[1][1]) == rounded(CAMPAIGN_LINES)
    assert clock.sleeps == []


def test_no_database_transaction_is_open_while_google_is_called(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    """The export reads every table (one snapshot), ends its transaction, then writes: a transaction open for
    the minutes Google takes would hold back vacuum on the relations the refresh rewrites all day."""
    ids = small_catalogue(db)
    sheets_api.add_spreadsheet(SPREADSHEET_ID)
    seen: list[tuple[str, int]] = []

    def sessions_holding_a_snapshot() -> None:
        # Asked from another session: any session of this database in a transaction, or holding a snapshot.
        with psycopg.connect(db._url, autocommit=True) as other:
            row = other.execute(
                "select count(*) filter (where state like 'idle in transaction%%' or state = 'active'),"
                "       count(*) filter (where backend_xmin is not null)"
                "  from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
                "   and backend_type = 'client backend'").fetchone()
        assert row is not None
        seen.append((db.connection().info.transaction_status.name, int(row[0]) + int(row[1])))

    sheets_api.on_request = sessions_holding_a_snapshot
    outcome = run(db, ids, clock)

    assert outcome.errors == []
    assert len(seen) == len(sheets_api.calls) == 4
    assert seen == [("IDLE", 0)] * 4
    assert [r for r, _ in sheets_api.value_ranges()] == ["'All videos (updating)'!A1:U4",
                                                         "'Autumn launch (updating)'!A1:R9"]


def test_numbers_are_numbers_and_dates_are_date_serials_with_date_formats(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)

    run(db, ids, clock)

    body = sheets_api.writes[1].body
    row = body["data"][0]["values"][1]
    # Growth sums come from Postgres as Decimal: written as JSON integers, not "100" nor 100.0.
    assert [type(v) for v in row[6:20]] == [int] * 14
    assert isinstance(row[4], float)
    assert datetime(1899, 12, 30) + timedelta(days=row[4]) == datetime(2026, 10, 21, 11, 59)
    assert body["valueInputOption"] == "RAW"  # captions such as "=SUM(A1)" stay text
    videos = sheets["All videos"]
    date_format = {"numberFormat": {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm:ss"}}
    number_format = {"numberFormat": {"type": "NUMBER", "pattern": "#,##0"}}
    assert videos.formats[(2, 5)] == date_format
    assert videos.formats[(4, 21)] == date_format
    assert videos.formats[(3, 7)] == number_format
    assert videos.formats[(4, 20)] == number_format
    assert videos.formats[(1, 1)] == {"textFormat": {"bold": True}}
    assert (2, 1) not in videos.formats
    assert (videos.rows, videos.cols, videos.frozen) == (4, 21, 1)
    assert (videos.widths[2], videos.widths[4]) == (320, 360)
    campaign = sheets["Autumn launch"]
    assert (campaign.rows, campaign.cols, campaign.frozen) == (9, 18, 7)
    assert campaign.formats[(1, 4)] == date_format
    assert campaign.formats[(7, 1)] == {"textFormat": {"bold": True}}
    assert campaign.formats[(8, 7)] == date_format


def test_what_the_worksheets_show_after_the_export(db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    sheets["Sheet1"].cells[(1, 1)] = "left alone"

    run(db, ids, clock)

    assert list(sheets) == ["Sheet1", "All videos", "Autumn launch"]
    assert rounded(sheets["All videos"].values()) == rounded(grid(ALL_VIDEOS_LINES))
    assert rounded(sheets["Autumn launch"].values()) == rounded(grid(CAMPAIGN_LINES))
    assert sheets["Sheet1"].values() == [["left alone"]]
    assert not any(s.hidden for s in sheets.values())
    assert [(m["metadataKey"], m["metadataValue"]) for m in sheets["Autumn launch"].metadata] == [
        ("vidstats.export.tab", f"campaign:{ids['campaign']}")]
    assert [(m["metadataKey"], m["metadataValue"]) for m in sheets["All videos"].metadata] == [
        ("vidstats.export.tab", "all-videos")]


def test_a_rerun_with_unchanged_data_sends_the_same_requests_and_leaves_an_identical_sheet(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    run(db, ids, clock)
    state = {title: (s.rows, s.cols, s.frozen, dict(s.cells), dict(s.formats)) for title, s in sheets.items()}
    run(db, ids, clock)
    second = [c.body for c in sheets_api.writes[3:]]

    run(db, ids, clock)
    run(db, ids, clock)

    # A staging tab alternates between two ids (its predecessor holds the other): every other run is identical.
    assert [c.body for c in sheets_api.writes[9:]] == second
    assert {title: (s.rows, s.cols, s.frozen, dict(s.cells), dict(s.formats)) for title, s in sheets.items()} == state


def test_a_shorter_second_export_leaves_no_rows_of_the_first(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    run(db, ids, clock)
    assert sheets["Autumn launch"].rows == 9

    remove_from_campaign(db, ids["campaign"], ids["c"])
    run(db, ids, clock)

    campaign = sheets["Autumn launch"]
    assert campaign.rows == 8
    assert rounded(campaign.values()) == rounded(grid([
        pad18(["Campaign", "Autumn launch", "Starts (UTC)", serial(t(22, 0)), "Ends (UTC)", "open", "Videos", 1,
               "Data as of (UTC)", serial(t(25, 9, 30))]),
        CAMPAIGN_LINES[1],
        pad18(["Totals (latest fetch)", 400, 25, 4, 1, 2]),
        pad18(["Growth in campaign", 300, 15, 3, 1, 0]),
        CAMPAIGN_LINES[4], CAMPAIGN_LINES[5], CAMPAIGN_HEADER, CAMPAIGN_LINES[8]]))
    assert "instagram" not in set(campaign.cells.values())


def test_a_shorter_export_also_clears_cells_beyond_the_new_rows_in_an_old_grid(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    run(db, ids, clock)
    # Someone typed beside the table; the next export owns the whole worksheet again.
    sheets["All videos"].cells[(3, 7)] = "edited"

    run(db, ids, clock)

    assert rounded(sheets["All videos"].values()) == rounded(grid(ALL_VIDEOS_LINES))


def test_a_429_is_retried_after_a_backoff_and_the_export_completes(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    sheets_api.fail_next(429, "error_429.json", on="values:batchUpdate")
    sheets_api.fail_next(503, "error_503.json", on="values:batchUpdate")

    outcome = run(db, ids, clock)

    assert outcome.errors == []
    assert [c.status for c in sheets_api.calls] == [200, 200, 429, 503, 200, 200]
    assert clock.sleeps == [1 + JITTER, 2 + JITTER]
    assert outcome.spreadsheets[0].retries == 2
    assert rounded(sheets["All videos"].values()) == rounded(grid(ALL_VIDEOS_LINES))


def test_retries_that_give_up_leave_the_previous_export_readable_and_say_which_spreadsheet_and_why(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    run(db, ids, clock)
    remove_from_campaign(db, ids["campaign"], ids["c"])
    clock.sleeps.clear()
    sheets_api.fail_next(429, "error_429.json", times=8, on="values:batchUpdate")

    outcome = run(db, ids, clock)

    # Google's backoff: 2^n s plus jitter, capped at 64 s; about two minutes in all.
    assert clock.sleeps == [1.5, 2.5, 4.5, 8.5, 16.5, 32.5, 64.0]
    (message,) = outcome.errors
    assert message.startswith(f"Google's write quota refused spreadsheet {SPREADSHEET_ID} (Quota exceeded")
    assert "Gave up after 8 attempts over 130 s of backoff." in message
    assert "The tabs keep the previous export, unchanged" in message
    assert "'Autumn launch': 0 of 8 lines" in message
    assert rounded(sheets["All videos"].values()) == rounded(grid(ALL_VIDEOS_LINES))
    assert rounded(sheets["Autumn launch"].values()) == rounded(grid(CAMPAIGN_LINES))  # not blank, not half new


def test_writes_beyond_the_per_minute_quota_wait_for_the_window(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets_api.add_spreadsheet(SPREADSHEET_ID)
    client = make_client(dummy_credentials(), policy(clock, writes_per_minute=3))
    exporter = SheetsExporter(client)

    with snapshot(db) as conn:
        for _ in range(2):  # 3 writes each: the 4th write of the minute must wait
            exporter.export(SPREADSHEET_ID, tables_for(conn, targets(ids), AS_OF))

    assert clock.sleeps == [60.0]
    assert len(sheets_api.writes) == 6


def test_a_missing_spreadsheet_is_named_and_nothing_is_written(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)

    outcome = run(db, ids, clock)

    assert len(sheets_api.calls) == 1
    assert outcome.spreadsheets == []
    (message,) = outcome.errors
    assert f"spreadsheet {SPREADSHEET_ID} was not found" in message
    assert "fix spreadsheet_id in SHEETS_EXPORT_TARGETS" in message
    assert message.endswith("Nothing was written to the spreadsheet.")


def test_a_spreadsheet_not_shared_with_the_service_account_says_whom_to_share_it_with(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets_api.add_spreadsheet(SPREADSHEET_ID)
    sheets_api.fail_next(403, "error_403.json")

    outcome = run(db, ids, clock)

    (message,) = outcome.errors
    assert f"share the spreadsheet with {ACCOUNT} as Editor" in message
    assert clock.sleeps == []  # a 403 is not retried


def test_a_worksheet_deleted_during_the_export_is_reported_as_partially_written(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets_api.add_spreadsheet(SPREADSHEET_ID)
    sheets_api.fail_next(400, "error_400_range.json", on="values:batchUpdate")

    outcome = run(db, ids, clock)

    (message,) = outcome.errors
    assert "was deleted during the export" in message
    assert "The tabs keep the previous export, unchanged" in message
    assert "'Autumn launch': 0 of 9 lines" in message


def test_a_deleted_worksheet_is_recreated_by_the_next_export(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    run(db, ids, clock)
    del sheets["Autumn launch"]

    outcome = run(db, ids, clock)

    assert outcome.errors == []
    assert rounded(sheets["Autumn launch"].values()) == rounded(grid(CAMPAIGN_LINES))
