"""The Wolf keeps page_views_report equal to page_views joined with pages, touching only changed rows, never
skipping a change still in flight, never blocking readers and never running twice at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from vidstats.db import Database, Role
from vidstats.page_views.increments import record_increments
from vidstats.page_views.models import PageViewIncrement, PageViewsRefreshStep
from vidstats.page_views.refresh import (
    page_views_report_status,
    refresh_page_views_report,
    refresh_page_views_step,
    verify_page_views_report,
)

from tests.conftest import IsolatedDatabase, handler_connected_to
from tests.lambda_context import FakeLambdaContext
from tests.page_views.support import report_rows

D1 = date(2026, 11, 1)
ADD = "select analytics.add_page_views(%s::text[], %s::date[], %s::smallint[], %s::bigint[])"


def inc(name: str, hour: int, count: int, day: date = D1) -> PageViewIncrement:
    return PageViewIncrement(name=name, date=day, hour=hour, count=count)


def test_a_refresh_copies_only_the_rows_changed_since_the_last_one(db: Database) -> None:
    record_increments(db, [inc(f"/p{p}", h, 1) for p in range(20) for h in range(24)])  # 480 rows
    first = refresh_page_views_report(db)
    assert (first.status, first.rows) == ("caught_up", 480)

    record_increments(db, [inc("/p3", 5, 2), inc("/p3", 5, 1), inc("/p7", 23, 4), inc("/new", 0, 1)])
    second = refresh_page_views_report(db)
    assert (second.status, second.steps, second.rows) == ("caught_up", 1, 3)
    assert refresh_page_views_report(db).rows == 0  # nothing changed: nothing to do
    rows = report_rows(db)
    assert (rows[("/p3", D1, 5)], rows[("/p7", D1, 23)], rows[("/new", D1, 0)], rows[("/p0", D1, 0)]) == (4, 5, 1, 1)
    assert len(rows) == 481
    assert verify_page_views_report(db) == (481, 0)


def test_bounded_steps_catch_up_and_a_row_changed_between_steps_ends_with_its_latest_count(db: Database) -> None:
    record_increments(db, [inc("/a", h, 1) for h in range(10)])
    step = refresh_page_views_step(db, max_rows=4)
    assert (step.status, step.rows, step.caught_up) == ("ok", 4, False)
    record_increments(db, [inc("/a", 0, 10), inc("/a", 9, 10)])  # one reflected row, one not yet
    outcome = refresh_page_views_report(db, max_rows_per_step=4)
    assert (outcome.status, outcome.rows) == ("caught_up", 7)  # h4..h9 and h0 again, each once
    rows = report_rows(db)
    assert (rows[("/a", D1, 0)], rows[("/a", D1, 9)], rows[("/a", D1, 5)]) == (11, 11, 1)
    assert verify_page_views_report(db) == (10, 0)


def test_a_change_still_in_flight_during_a_refresh_is_reflected_not_skipped(
    database: IsolatedDatabase, db: Database
) -> None:
    with psycopg.connect(database.owner_url) as slow_writer:
        # Draws the lower change_id, then stays uncommitted while a faster writer commits a higher one.
        slow_writer.execute("set local role vidstats_page_views")
        slow_writer.execute(ADD, (["/slow"], [D1], [1], [5]))
        record_increments(db, [inc("/fast", 1, 7)])

        # The refresh waits for in-flight writers only briefly; while one stays open it reports busy.
        step = refresh_page_views_step(db, max_rows=1000)
        assert (step.status, step.message) == ("busy", "page view writers stayed in flight; try again")
        assert page_views_report_status(db).watermark == 0

        # A refresh started now waits for the in-flight writer, which commits while it waits.
        result: list[PageViewsRefreshStep] = []
        refresher = threading.Thread(target=lambda: result.append(
            refresh_page_views_step(Database(database.owner_url), max_rows=1000)))
        refresher.start()
        time.sleep(0.3)
        slow_writer.commit()
        refresher.join(10)
    (step,) = result
    assert (step.status, step.rows, step.caught_up) == ("ok", 2, True)
    assert report_rows(db) == {("/slow", D1, 1): 5, ("/fast", D1, 1): 7}


def test_change_ids_of_rolled_back_batches_do_not_stall_the_refresh(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction(Role.PAGE_VIEWS) as conn:
        conn.execute(ADD, (["/a", "/b"], [D1, D1], [0, 0], [1, 1]))  # draws two change_ids, then rolls back
        raise RuntimeError("the batch failed")
    outcome = refresh_page_views_report(db, max_rows_per_step=1)
    assert (outcome.status, outcome.rows, outcome.watermark) == ("caught_up", 0, 2)
    record_increments(db, [inc("/a", 0, 1)])
    outcome = refresh_page_views_report(db, max_rows_per_step=1)
    assert (outcome.status, outcome.rows, outcome.watermark) == ("caught_up", 1, 3)
    assert report_rows(db) == {("/a", D1, 0): 1}


def test_reads_and_writes_go_on_and_a_second_refresh_returns_at_once_while_a_refresh_is_in_progress(
    database: IsolatedDatabase, db: Database
) -> None:
    record_increments(db, [inc("/a", 0, 1)])
    refresh_page_views_report(db)
    record_increments(db, [inc("/a", 0, 1), inc("/b", 0, 1)])

    refreshing = Database(database.owner_url)
    with refreshing.transaction(Role.REFRESH) as conn:
        # The refresh has written its changes and still holds its transaction open.
        first = conn.execute("select analytics.refresh_page_views_report()").fetchone()
        assert first is not None
        assert first[0]["status"] == "ok"

        second = refresh_page_views_step(db, max_rows=1000)
        assert (second.status, second.message) == ("busy", "another refresh is running; this call did nothing")

        with db.transaction(Role.READER) as reader:
            reader.execute("set local statement_timeout = '2s'")
            # readers see the last committed state, not the refresh in progress
            assert reader.execute("select name, views from analytics.page_views_report").fetchall() == [("/a", 1)]
            assert reader.execute("select watermark from analytics.page_views_report_status()").fetchone() == (1,)
        writer = Database(database.owner_url, statement_timeout_ms=2_000)
        record_increments(writer, [inc("/a", 0, 1), inc("/c", 0, 1)])  # writers are not held up either
        writer.close()
    refreshing.close()
    assert report_rows(db) == {("/a", D1, 0): 2, ("/b", D1, 0): 1}
    refresh_page_views_report(db)
    assert report_rows(db) == {("/a", D1, 0): 3, ("/b", D1, 0): 1, ("/c", D1, 0): 1}


def test_status_reports_the_lag_of_the_oldest_change_not_reflected(database: IsolatedDatabase, db: Database) -> None:
    status = page_views_report_status(db)
    assert (status.watermark, status.oldest_pending_at, status.lag_seconds, status.last_success_at) == (
        0, None, 0, None)

    record_increments(db, [inc("/a", 0, 1)])
    with database.connect_owner() as conn:  # as if the change had been written ten minutes ago
        conn.execute("update analytics.page_views set changed_at = now() - interval '10 minutes'")
    status = page_views_report_status(db)
    assert status.oldest_pending_at is not None
    assert 590 <= status.lag_seconds <= 700

    refresh_page_views_report(db)
    status = page_views_report_status(db)
    assert (status.watermark, status.oldest_pending_at, status.lag_seconds, status.last_rows) == (1, None, 0, 1)
    assert status.last_success_at is not None


def test_refresh_stops_when_out_of_time_and_keeps_what_it_did(db: Database) -> None:
    record_increments(db, [inc("/a", h, 1) for h in range(10)])
    clock = iter([100.0, 100.0, 0.0])  # time for two steps, then none
    outcome = refresh_page_views_report(db, max_rows_per_step=3, time_left_s=lambda: next(clock))
    assert (outcome.status, outcome.steps, outcome.rows, outcome.watermark) == ("out_of_time", 2, 6, 6)
    assert len(report_rows(db)) == 6
    assert refresh_page_views_report(db, max_rows_per_step=3).status == "caught_up"
    assert verify_page_views_report(db) == (10, 0)


def test_verify_catches_a_report_row_that_disagrees_with_page_views(database: IsolatedDatabase, db: Database) -> None:
    record_increments(db, [inc("/a", 0, 1), inc("/b", 0, 1)])
    refresh_page_views_report(db)
    with database.connect_owner() as conn:
        conn.execute("update analytics.page_views_report set views = views + 1 where name = '/a'")
    assert verify_page_views_report(db) == (2, 2)


def test_only_the_wolf_refreshes_and_it_cannot_write_the_base_tables(db: Database) -> None:
    record_increments(db, [inc("/a", 0, 1)])
    for role in (Role.READER, Role.INGEST, Role.PAGE_VIEWS):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction(role) as conn:
            conn.execute("select analytics.refresh_page_views_report()")
    for statement in ("update analytics.page_views set views = 0", "insert into analytics.pages (name) values ('x')",
                      "delete from analytics.page_views_report", "select analytics.add_page_views("
                      "array['/x'], array[current_date], array[0::smallint], array[1::bigint])"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction(Role.REFRESH) as conn:
            conn.execute(statement.encode())


@pytest.fixture
def mv_refresh_env(monkeypatch: pytest.MonkeyPatch, database: IsolatedDatabase) -> Iterator[None]:
    from mv_refresh import handler

    with handler_connected_to(handler, database, monkeypatch):
        yield


@pytest.mark.usefixtures("mv_refresh_env")
def test_the_wolfs_scheduled_run_also_refreshes_the_page_view_report(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    from mv_refresh.handler import lambda_handler

    record_increments(db, [PageViewIncrement(name="/a", timestamp=datetime.now(UTC) - timedelta(hours=1), count=3),
                           inc("/b", 4, 2)])
    result = lambda_handler({"reason": "schedule"}, FakeLambdaContext())
    assert result["page_views"]["refresh"]["status"] == "caught_up"
    assert result["page_views"]["refresh"]["rows"] == 2
    assert result["page_views"]["lag_seconds"] == 0
    assert result["refresh"]["status"] == "caught_up"  # the video read model too
    assert sum(report_rows(db).values()) == 5
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    metric_names = {m["Name"] for doc in emitted for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"PageViewsRefreshedRows", "PageViewsRefreshDuration", "PageViewsReportLag"} <= metric_names


@pytest.mark.usefixtures("mv_refresh_env")
def test_the_wolf_without_time_left_leaves_the_page_view_report_alone(db: Database) -> None:
    from mv_refresh.handler import lambda_handler

    record_increments(db, [inc("/a", 4, 2)])
    result = lambda_handler({}, FakeLambdaContext(timeout_s=5))
    assert (result["page_views"]["refresh"]["status"], result["page_views"]["refresh"]["rows"]) == ("out_of_time", 0)
    assert report_rows(db) == {}
