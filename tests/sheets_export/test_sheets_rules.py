"""The ordinary situations that used to lose exports, against a Sheets API that enforces Google's rules:
empty campaigns, renames, equal or case-different titles, a spent quota minute, failed runs, the cell budget
and the 50,000-character cell."""

from __future__ import annotations

from typing import Any

import pytest
from gspread import Client
from gspread.exceptions import APIError
from vidstats.db import Database, Role
from vidstats.export.run import export_to_sheets
from vidstats.export.sheets import (
    MAX_CELL_CHARS,
    ResilientHTTPClient,
    RetryPolicy,
    fit_cell,
    unique_title,
)
from vidstats.export.tables import ExportTarget
from vidstats.read_model import refresh_read_model

from tests.factories import member
from tests.sheets_export.conftest import SPREADSHEET_ID, FakeClock, dummy_credentials
from tests.sheets_export.seed import AS_OF, campaign, remove_from_campaign, small_catalogue, t
from tests.sheets_export.sheets_api import Sheet, SheetsApi
from tests.sheets_export.test_sheets_export import (
    ALL_HEADER,
    ALL_VIDEOS_LINES,
    CAMPAIGN_HEADER,
    CAMPAIGN_LINES,
    account,
    grid,
    pad18,
    policy,
    rounded,
    run,
    serial,
    targets,
)

OTHER_SPREADSHEET = "1OtherSpreadsheet00000000000000000000000000"


def campaign_target(campaign_id: str, spreadsheet_id: str = SPREADSHEET_ID) -> ExportTarget:
    return ExportTarget(spreadsheet_id=spreadsheet_id, campaign_id=campaign_id)  # type: ignore[arg-type]


def rename_campaign(db: Database, campaign_id: str, name: str) -> None:
    with member(db).transaction(Role.READER) as conn:
        conn.execute("update analytics.campaigns set name = %s where id = %s", (name, campaign_id))


def visible(sheets: dict[str, Sheet]) -> list[str]:
    return [title for title, s in sheets.items() if not s.hidden]


# -- empty tables ---------------------------------------------------------------------------------------------
def test_a_campaign_with_no_videos_exports_its_summary_and_header_and_says_it_has_none(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    empty = campaign(db, "Winter teaser", t(24, 0), None, [])
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)

    outcome = run(db, ids, clock, targets_=[*targets(ids), campaign_target(empty)])

    assert outcome.errors == []
    teaser = sheets["Winter teaser"]
    assert rounded(teaser.values()) == rounded(grid([
        pad18(["Campaign", "Winter teaser", "Starts (UTC)", serial(t(24, 0)), "Ends (UTC)", "open", "Videos", 0,
               "Data as of (UTC)", ""]),
        CAMPAIGN_LINES[1],
        pad18(["Totals (latest fetch)"]),  # nothing measured: empty, not 0
        pad18(["Growth in campaign"]),
        CAMPAIGN_LINES[4],
        pad18(["No videos in this campaign yet."]),
        CAMPAIGN_HEADER]))
    # Google freezes fewer rows than a sheet has: the header (line 7) stays frozen above one empty row.
    assert (teaser.rows, teaser.frozen) == (8, 7)
    assert rounded(sheets["All videos"].values()) == rounded(grid(ALL_VIDEOS_LINES))


def test_all_videos_with_no_videos_at_all_exports_its_header(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)

    outcome = run(db, {}, clock, targets_=[ExportTarget(spreadsheet_id=SPREADSHEET_ID)])

    assert outcome.errors == []
    assert sheets["All videos"].values() == [ALL_HEADER]
    assert (sheets["All videos"].rows, sheets["All videos"].frozen) == (2, 1)


# -- tabs found by key, titles made unique ----------------------------------------------------------------
def test_a_campaign_renamed_by_a_capital_letter_renames_its_tab(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    run(db, ids, clock)

    rename_campaign(db, ids["campaign"], "Autumn Launch")
    outcome = run(db, ids, clock)

    assert outcome.errors == []
    assert list(sheets) == ["Sheet1", "All videos", "Autumn Launch"]
    assert sheets["Autumn Launch"].cells[(1, 2)] == "Autumn Launch"
    assert outcome.spreadsheets[0].worksheets[1].previous_title == "Autumn launch"


def test_a_tab_a_user_renamed_and_moved_is_found_by_its_key_and_keeps_its_place(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    run(db, ids, clock)
    mine = sheets.pop("Autumn launch")
    mine.title = "My campaign"
    order = {"My campaign": mine, **sheets}
    sheets.clear()
    sheets.update(order)

    outcome = run(db, ids, clock)

    assert outcome.errors == []
    assert list(sheets) == ["Autumn launch", "Sheet1", "All videos"]
    assert rounded(sheets["Autumn launch"].values()) == rounded(grid(CAMPAIGN_LINES))


def test_two_campaign_names_equal_in_their_first_100_characters_both_export_as_do_other_spreadsheets(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    stem = "Summer launch of the new collection across every platform we track, with creators from five countrie"
    assert len(stem) == 100
    first = campaign(db, stem + " (EU)", t(22, 0), None, [(ids["a"], t(23, 0))])
    second = campaign(db, stem + " (US)", t(22, 0), None, [(ids["c"], t(23, 0))])
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    other = sheets_api.add_spreadsheet(OTHER_SPREADSHEET)

    outcome = run(db, ids, clock, targets_=[campaign_target(first), campaign_target(second),
                                            ExportTarget(spreadsheet_id=OTHER_SPREADSHEET)])

    assert outcome.errors == []
    assert list(sheets) == ["Sheet1", stem, stem[:96] + " (2)"]
    assert all(len(title) <= 100 for title in sheets)
    assert sheets[stem[:96] + " (2)"].cells[(1, 2)] == stem + " (US)"
    assert list(other) == ["Sheet1", "All videos"]


def test_a_users_own_tab_named_the_same_ignoring_case_is_left_alone(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    notes = Sheet(77, "autumn LAUNCH", cells={(1, 1): "my notes"})
    sheets[notes.title] = notes

    run(db, ids, clock)
    outcome = run(db, ids, clock)

    assert outcome.errors == []
    assert list(sheets) == ["Sheet1", "autumn LAUNCH", "All videos", "Autumn launch (2)"]
    assert sheets["autumn LAUNCH"].values() == [["my notes"]]
    assert rounded(sheets["Autumn launch (2)"].values()) == rounded(grid(CAMPAIGN_LINES))


def test_an_untagged_tab_of_an_earlier_export_is_replaced_not_duplicated(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    # What exports wrote before tabs carried a key: the title, 20 columns, the header frozen.
    sheets["All videos"] = Sheet(5, "All videos", rows=3, cols=20, frozen=1, cells={(2, 1): "stale"})

    outcome = run(db, ids, clock)

    assert outcome.errors == []
    assert list(sheets) == ["Sheet1", "All videos", "Autumn launch"]
    assert rounded(sheets["All videos"].values()) == rounded(grid(ALL_VIDEOS_LINES))


def test_a_users_copy_of_an_exported_tab_keeps_its_content_and_loses_the_key(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    run(db, ids, clock)
    original = sheets["Autumn launch"]
    sheets["Copy of Autumn launch"] = Sheet(
        99, "Copy of Autumn launch", original.rows, original.cols, original.frozen, cells=dict(original.cells),
        metadata=[{**m, "metadataId": 1, "location": {"locationType": "SHEET", "sheetId": 99}}
                  for m in original.metadata])

    run(db, ids, clock)
    outcome = run(db, ids, clock)

    assert outcome.errors == []
    assert list(sheets) == ["Sheet1", "All videos", "Autumn launch", "Copy of Autumn launch"]
    assert sheets["Copy of Autumn launch"].metadata == []
    assert sheets["Copy of Autumn launch"].cells == original.cells


# -- one problem stops nothing else ---------------------------------------------------------------------------
def test_a_deleted_campaign_fails_only_its_own_target(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    gone = "6f1c2d3e-0000-4000-8000-000000000000"

    outcome = run(db, ids, clock, targets_=[*targets(ids), campaign_target(gone)])

    (message,) = outcome.errors
    assert message.startswith(f"spreadsheet {SPREADSHEET_ID}: campaign {gone} does not exist")
    assert visible(sheets) == ["Sheet1", "All videos", "Autumn launch"]


def test_a_spreadsheet_that_fails_does_not_stop_the_next(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    other = sheets_api.add_spreadsheet(OTHER_SPREADSHEET)  # SPREADSHEET_ID does not exist

    outcome = run(db, ids, clock, targets_=[*targets(ids), ExportTarget(spreadsheet_id=OTHER_SPREADSHEET)])

    (message,) = outcome.errors
    assert f"spreadsheet {SPREADSHEET_ID} was not found" in message
    assert list(other) == ["Sheet1", "All videos"]


def test_two_targets_of_one_campaign_in_one_spreadsheet_write_it_once_and_say_so(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)

    outcome = run(db, ids, clock, targets_=[*targets(ids), campaign_target(ids["campaign"])])

    (message,) = outcome.errors
    assert f"two export targets write campaign:{ids['campaign']}" in message
    assert list(sheets) == ["Sheet1", "All videos", "Autumn launch"]


# -- quota, retries, failed runs ------------------------------------------------------------------------------
def test_a_quota_minute_spent_by_another_export_is_outlasted(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    sheets_api.spend_quota(minute=0)  # an on-demand export with the same account spent this minute and the next
    sheets_api.spend_quota(minute=1)

    outcome = run(db, ids, clock)

    assert outcome.errors == []
    assert clock.sleeps == [1.5, 2.5, 4.5, 8.5, 16.5, 32.5, 64.0]  # the first write went through at 130 s
    assert rounded(sheets["Autumn launch"].values()) == rounded(grid(CAMPAIGN_LINES))


def test_the_former_31_seconds_of_retries_did_not_outlast_it_and_left_nothing_blank(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    run(db, ids, clock)
    minute = int(clock.now // 60) + 1
    clock.now = minute * 60.0
    sheets_api.spend_quota(minute)
    sheets_api.spend_quota(minute + 1)

    outcome = export_to_sheets(db, targets(ids), account(), as_of=AS_OF,
                               policy=policy(clock, max_attempts=6, max_delay_s=32.0))

    (message,) = outcome.errors
    assert f"Google's write quota refused spreadsheet {SPREADSHEET_ID}" in message
    assert "RESOURCE_EXHAUSTED" not in message
    assert "Quota exceeded for quota metric 'Write requests'" in message
    assert "Gave up after 6 attempts" in message
    assert rounded(sheets["All videos"].values()) == rounded(grid(ALL_VIDEOS_LINES))
    assert rounded(sheets["Autumn launch"].values()) == rounded(grid(CAMPAIGN_LINES))


def test_a_failed_run_leaves_the_previous_export_visible_and_the_next_run_removes_its_hidden_tabs(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    run(db, ids, clock)
    sheets_api.fail_next(503, "error_503.json", times=8, on=":batchUpdate")  # the swap never goes through

    failed = run(db, ids, clock)

    (message,) = failed.errors
    assert message.endswith("Gave up after 8 attempts over 130 s of backoff. Nothing was written to the spreadsheet.")
    assert visible(sheets) == ["Sheet1", "All videos", "Autumn launch"]
    assert [t for t, s in sheets.items() if s.hidden] == []  # the build request failed: nothing added

    # This time the build and the rows go through, the swap (it starts by showing the new tabs) does not.
    def is_the_swap(body: Any) -> bool:
        return "updateSheetProperties" in body["requests"][0]

    sheets_api.fail_next(503, "error_503.json", times=8, on=f"{SPREADSHEET_ID}:batchUpdate", when=is_the_swap)
    failed = run(db, ids, clock)

    (message,) = failed.errors
    assert "The tabs keep the previous export, unchanged" in message
    assert "'All videos (updating)', 'Autumn launch (updating)'" in message
    assert visible(sheets) == ["Sheet1", "All videos", "Autumn launch"]
    assert [t for t, s in sheets.items() if s.hidden] == ["All videos (updating)", "Autumn launch (updating)"]
    assert rounded(sheets["Autumn launch"].values()) == rounded(grid(CAMPAIGN_LINES))

    outcome = run(db, ids, clock)

    assert outcome.errors == []
    assert list(sheets) == ["Sheet1", "All videos", "Autumn launch"]


def test_retries_stop_before_the_functions_time_runs_out(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets_api.add_spreadsheet(SPREADSHEET_ID)
    sheets_api.fail_next(503, "error_503.json", times=8, on="values:batchUpdate")

    outcome = export_to_sheets(db, targets(ids), account(), as_of=AS_OF, policy=policy(clock, deadline=20.0))

    (message,) = outcome.errors
    assert "Gave up after 5 attempts over 17 s of backoff (the function's time was running out)." in message
    assert clock.now < 20.0


def test_the_default_backoff_follows_google_exponential_with_up_to_a_second_of_jitter() -> None:
    client = ResilientHTTPClient(dummy_credentials())
    delays = [[client.delay(attempt, None) for attempt in range(1, 9)] for _ in range(20)]
    for run_delays in delays:
        for attempt, delay in enumerate(run_delays, start=1):
            assert min(2 ** (attempt - 1), 64) <= delay <= min(2 ** (attempt - 1) + 1, 64)
    assert len({d[0] for d in delays}) > 1  # jittered: two exports backing off do not retry in step
    assert RetryPolicy().max_attempts == 8
    assert sum(min(2 ** n, 64) for n in range(7)) == 127


# -- limits ---------------------------------------------------------------------------------------------------
def test_a_table_that_does_not_fit_the_cell_budget_is_named_and_the_others_are_written(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    sheets["Sheet1"].rows, sheets["Sheet1"].cols = 99_999, 100  # 9,999,900 cells of the user's own

    outcome = run(db, ids, clock)

    (message,) = outcome.errors
    assert message == (
        f"spreadsheet {SPREADSHEET_ID}: 'Autumn launch' (2 videos) did not fit and was not written (it has no tab "
        "yet): it needs 162 cells (9 rows x 18 columns, its new tab) and the spreadsheet has 16 of Google's "
        "10,000,000 cells left. Delete tabs or rows the spreadsheet no longer "
        "needs, or give this target its own spreadsheet.")
    assert list(sheets) == ["Sheet1", "All videos"]
    assert rounded(sheets["All videos"].values()) == rounded(grid(ALL_VIDEOS_LINES))


def test_a_cell_longer_than_google_allows_is_cut_and_reported_and_the_csv_keeps_it_whole(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    long_url = "https://www.tiktok.com/@anna.cooks/video/7301000000000000001?" + "utm=x&" * 10_000
    with db.transaction(Role.INGEST) as conn:
        conn.execute("update analytics.videos set url = %s where id = %s", (long_url, ids["a"]))
    refresh_read_model(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)

    outcome = run(db, ids, clock)

    assert outcome.errors == []
    (first, second) = outcome.warnings
    assert first == (f"spreadsheet {SPREADSHEET_ID}, 'All videos': 1 cell(s) held more than Google's 50,000 "
                     "characters per cell and were cut to fit (first: line 3, column 'URL').")
    assert "'Autumn launch': 1 cell(s)" in second
    assert "line 9, column 'URL'" in second
    written = sheets["All videos"].cells[(3, 2)]
    assert len(written) == MAX_CELL_CHARS
    assert written == long_url[:MAX_CELL_CHARS - 1] + "…"


def test_cells_are_measured_in_utf16_units_and_titles_cut_with_their_suffix() -> None:
    assert fit_cell("x" * MAX_CELL_CHARS) is None
    emoji = "😀" * 30_000  # 60,000 UTF-16 units
    fitted = fit_cell(emoji)
    assert fitted is not None
    assert len(fitted.encode("utf-16-le")) // 2 <= MAX_CELL_CHARS
    assert unique_title("a" * 150, set()) == "a" * 100
    assert unique_title("Launch", {"launch", "launch (2)"}) == "Launch (3)"
    assert unique_title("   ", set()) == "Untitled"


# -- the fake enforces Google's rules (so the tests above can fail) -------------------------------------------
@pytest.mark.parametrize(("requests_", "message"), [
    ([{"updateSheetProperties": {"properties": {"sheetId": 0, "gridProperties": {
        "rowCount": 7, "columnCount": 17, "frozenRowCount": 7}},
        "fields": "gridProperties(rowCount,columnCount,frozenRowCount)"}}],
     "You can't freeze all visible rows on the sheet."),
    ([{"addSheet": {"properties": {"sheetId": 5, "title": "sheet1"}}}],
     'A sheet with the name "sheet1" already exists.'),
    ([{"addSheet": {"properties": {"sheetId": 5, "title": "x" * 101}}}], "cannot be longer than 100 characters"),
    ([{"addSheet": {"properties": {"sheetId": 5, "title": "Big", "gridProperties": {
        "rowCount": 400_000, "columnCount": 25}}}}],
     "above the limit of 10000000 cells"),
    ([{"deleteSheet": {"sheetId": 0}}], "You can't remove all the visible sheets in a document."),
    ([{"addSheet": {"properties": {"sheetId": 5, "title": "Fine"}}},
      {"updateSheetProperties": {"properties": {"sheetId": 0, "title": "FINE"}, "fields": "title"}}],
     'requests[1].updateSheetProperties: A sheet with the name "FINE" already exists.'),
])
def test_the_fake_refuses_what_google_refuses_and_applies_nothing(
        sheets_api: SheetsApi, requests_: list[dict[str, Any]], message: str) -> None:
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    http = Client(auth=dummy_credentials()).http_client

    with pytest.raises(APIError) as raised:
        http.batch_update(SPREADSHEET_ID, {"requests": requests_})

    assert raised.value.response.status_code == 400
    assert message in raised.value.error["message"]
    assert list(sheets) == ["Sheet1"]
    assert (sheets["Sheet1"].rows, sheets["Sheet1"].frozen) == (1000, 0)


def test_the_fake_refuses_a_cell_over_50000_characters(sheets_api: SheetsApi) -> None:
    sheets_api.add_spreadsheet(SPREADSHEET_ID)
    http = Client(auth=dummy_credentials()).http_client

    with pytest.raises(APIError, match="more than the maximum of 50000 characters in a single cell"):
        http.values_batch_update(SPREADSHEET_ID, {"valueInputOption": "RAW", "data": [
            {"range": "'Sheet1'!A1:B1", "values": [["ok", "x" * 50_001]]}]})


def test_the_fake_answers_the_61st_write_of_a_minute_with_googles_429_and_no_retry_after(
        sheets_api: SheetsApi, clock: FakeClock) -> None:
    sheets_api.add_spreadsheet(SPREADSHEET_ID)
    http = Client(auth=dummy_credentials()).http_client
    body = {"valueInputOption": "RAW", "data": [{"range": "'Sheet1'!A1:A1", "values": [["x"]]}]}
    for _ in range(60):
        http.values_batch_update(SPREADSHEET_ID, body)

    with pytest.raises(APIError) as raised:
        http.values_batch_update(SPREADSHEET_ID, body)

    assert raised.value.response.status_code == 429
    assert raised.value.error["status"] == "RESOURCE_EXHAUSTED"
    assert "Retry-After" not in raised.value.response.headers
    clock.now = 60.0  # the quota refills each minute
    http.values_batch_update(SPREADSHEET_ID, body)


def test_an_exported_tab_keeps_its_id_and_visibility_so_references_to_it_survive(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    run(db, ids, clock)
    ids_before = {title: s.sheet_id for title, s in sheets.items()}
    sheets["All videos"].hidden = True  # the user hid it
    remove_from_campaign(db, ids["campaign"], ids["c"])

    outcome = run(db, ids, clock)

    assert outcome.errors == []
    # Formulas such as ='Autumn launch'!H8 in the user's own tabs, charts and filters point at a sheet id:
    # the content is pasted into the same tab, never a new tab in its place.
    assert {title: s.sheet_id for title, s in sheets.items()} == ids_before
    assert sheets["All videos"].hidden is True
    assert sheets["Autumn launch"].rows == 8
    assert "instagram" not in set(sheets["Autumn launch"].cells.values())
    swap = [next(iter(r)) for r in sheets_api.writes[-1].body["requests"]]
    assert swap.count("copyPaste") == 2
    assert "addSheet" not in swap


def test_two_campaigns_trading_names_trade_tab_titles(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    other = campaign(db, "Winter teaser", t(24, 0), None, [(ids["a"], t(24, 0))])
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    both = [campaign_target(ids["campaign"]), campaign_target(other)]
    run(db, ids, clock, targets_=both)
    autumn_id = sheets["Autumn launch"].sheet_id

    rename_campaign(db, ids["campaign"], "Swap")
    rename_campaign(db, other, "Autumn launch")
    rename_campaign(db, ids["campaign"], "Winter teaser")
    outcome = run(db, ids, clock, targets_=both)

    assert outcome.errors == []
    assert list(sheets) == ["Sheet1", "Winter teaser", "Autumn launch"]
    assert sheets["Winter teaser"].sheet_id == autumn_id
    assert sheets["Winter teaser"].cells[(1, 2)] == "Winter teaser"


def test_a_swap_applied_whose_answer_was_lost_is_recognised_after_the_retry(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets = sheets_api.add_spreadsheet(SPREADSHEET_ID)
    run(db, ids, clock)
    remove_from_campaign(db, ids["campaign"], ids["c"])
    sheets_api.lose_answer_next(on=":batchUpdate", when=lambda body: "copyPaste" in str(body))

    outcome = run(db, ids, clock)

    # The retry is refused (its staging tabs are gone: "No grid with id"), one read shows the swap in place.
    assert [c.status for c in sheets_api.calls[-3:]] == [200, 400, 200]
    assert outcome.errors == []
    assert list(sheets) == ["Sheet1", "All videos", "Autumn launch"]
    assert sheets["Autumn launch"].rows == 8


def test_a_swap_that_really_failed_is_still_reported(
        db: Database, sheets_api: SheetsApi, clock: FakeClock) -> None:
    ids = small_catalogue(db)
    sheets_api.add_spreadsheet(SPREADSHEET_ID)
    run(db, ids, clock)
    sheets_api.fail_next(400, "error_400_range.json", on=":batchUpdate", when=lambda body: "copyPaste" in str(body))

    outcome = run(db, ids, clock)

    (message,) = outcome.errors
    assert "The tabs keep the previous export, unchanged" in message
