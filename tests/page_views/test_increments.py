"""The increments writer: batches are aggregated, added all or nothing, and concurrent writers on the same hot
pages and hours lose nothing and never deadlock."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from pydantic import ValidationError
from vidstats.db import Database, Role
from vidstats.page_views.increments import aggregate, record_increments
from vidstats.page_views.models import PageViewBatch, PageViewIncrement
from vidstats.page_views.refresh import (
    refresh_page_views_report,
    refresh_page_views_step,
    verify_page_views_report,
)

from tests.conftest import IsolatedDatabase
from tests.page_views.support import report_rows

D1, D2 = date(2026, 11, 1), date(2026, 11, 2)


def inc(name: str, day: date, hour: int, count: int) -> PageViewIncrement:
    return PageViewIncrement(name=name, date=day, hour=hour, count=count)


def test_a_batch_is_aggregated_per_page_and_utc_hour_whatever_form_its_items_take() -> None:
    items = [
        inc("/a", D1, 10, 2),
        PageViewIncrement(name="/a", timestamp=datetime(2026, 11, 1, 10, 59, 59, tzinfo=UTC), count=3),
        # 12:30 at UTC+02:00 is 10:30 UTC
        PageViewIncrement.model_validate({"name": "/a", "timestamp": "2026-11-01T12:30:00+02:00", "count": 4}),
        PageViewIncrement(name="/a", timestamp=datetime(2026, 11, 1, 11, 0, tzinfo=UTC), count=1),
        inc("/b", D1, 10, 5),
    ]
    assert aggregate(items) == {("/a", D1, 10): 9, ("/a", D1, 11): 1, ("/b", D1, 10): 5}


def test_recorded_views_add_up_per_page_and_hour_and_new_pages_are_created_once(db: Database) -> None:
    first = record_increments(db, [inc("/a", D1, 10, 2), inc("/a", D1, 10, 3), inc("/b", D1, 23, 1)])
    assert (first.accepted, first.views, first.buckets, first.new_pages) == (3, 6, 2, 2)
    second = record_increments(db, [inc("/a", D1, 10, 4), inc("/c", D2, 0, 7)])
    assert (second.buckets, second.new_pages) == (2, 1)
    assert refresh_page_views_report(db).status == "caught_up"
    assert report_rows(db) == {("/a", D1, 10): 9, ("/b", D1, 23): 1, ("/c", D2, 0): 7}


def test_page_names_are_kept_exactly_as_sent(db: Database) -> None:
    record_increments(db, [inc("/Home", D1, 1, 1), inc("/home", D1, 1, 2), inc(" /home", D1, 1, 4),
                           inc("/страница?q=ü", D1, 1, 8)])
    refresh_page_views_report(db)
    assert report_rows(db) == {("/Home", D1, 1): 1, ("/home", D1, 1): 2, (" /home", D1, 1): 4,
                               ("/страница?q=ü", D1, 1): 8}


@pytest.mark.parametrize(("item", "problem"), [
    ({"name": "", "date": "2026-11-01", "hour": 1, "count": 1}, "name"),
    ({"name": "   ", "date": "2026-11-01", "hour": 1, "count": 1}, "name"),
    ({"name": "x" * 513, "date": "2026-11-01", "hour": 1, "count": 1}, "name"),
    ({"name": "a\x00b", "date": "2026-11-01", "hour": 1, "count": 1}, "name"),
    ({"name": "/a", "date": "2026-11-01", "hour": 1, "count": 0}, "count"),
    ({"name": "/a", "date": "2026-11-01", "hour": 1, "count": -3}, "count"),
    ({"name": "/a", "date": "2026-11-01", "hour": 24, "count": 1}, "hour"),
    ({"name": "/a", "date": "2026-11-01", "count": 1}, "both date and hour"),
    ({"name": "/a", "timestamp": "2026-11-01T10:00:00+00:00", "hour": 3, "count": 1}, "not both"),
    ({"name": "/a", "timestamp": "2026-11-01T10:00:00", "count": 1}, "timezone info"),
    ({"name": "/a", "timestamp": "2999-01-01T00:00:00+00:00", "count": 1}, "in the future"),
    ({"name": "/a", "date": "1999-12-31", "hour": 0, "count": 1}, "before 2000-01-01"),
])
def test_a_bad_item_is_refused_with_the_problem_named(item: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        PageViewBatch.model_validate({"increments": [{"name": "/ok", "date": "2026-11-01", "hour": 0, "count": 1},
                                                     item]})
    (error,) = caught.value.errors()
    assert error["loc"][:2] == ("increments", 1)  # the second item, and only it
    assert problem in ".".join(map(str, error["loc"])) + " " + error["msg"]


def test_an_hour_later_than_the_allowed_clock_skew_is_in_the_future(monkeypatch: pytest.MonkeyPatch) -> None:
    from vidstats.page_views.models import page_view_settings

    now = datetime.now(UTC)
    soon = now + timedelta(minutes=10)
    PageViewIncrement(name="/a", timestamp=soon, count=1)  # within the default 15 minutes
    monkeypatch.setenv("PAGE_VIEWS_MAX_FUTURE_S", "60")
    page_view_settings.cache_clear()
    try:
        with pytest.raises(ValidationError, match="in the future"):
            PageViewIncrement(name="/a", timestamp=soon, count=1)
    finally:
        page_view_settings.cache_clear()


def test_a_failing_batch_adds_nothing_not_even_its_pages(database: IsolatedDatabase, db: Database) -> None:
    record_increments(db, [inc("/a", D1, 1, 1)])
    # An item the database refuses (it re-checks counts) after others were already added in the same call.
    with pytest.raises(psycopg.errors.InvalidParameterValue), db.transaction(Role.PAGE_VIEWS) as conn:
        conn.execute("select analytics.add_page_views(%s::text[], %s::date[], %s::smallint[], %s::bigint[])",
                     (["/a", "/new"], [D1, D1], [1, 1], [5, 0]))
    with database.connect_owner() as conn:
        assert conn.execute("select name from analytics.pages order by name").fetchall() == [("/a",)]
        assert conn.execute("select views from analytics.page_views").fetchall() == [(1,)]


def test_the_increments_role_only_adds_views_it_reads_and_changes_nothing(db: Database) -> None:
    record_increments(db, [inc("/a", D1, 1, 1)])
    for statement in ("select * from analytics.pages", "select * from analytics.page_views",
                      "select * from analytics.page_views_report",
                      "update analytics.page_views set views = 0", "delete from analytics.page_views",
                      "insert into analytics.pages (name) values ('/x')",
                      "select analytics.refresh_page_views_report()", "select * from analytics.video_statistics"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction(Role.PAGE_VIEWS) as conn:
            conn.execute(statement.encode())


WRITERS, BATCHES = 8, 500
PAGES = [f"/hot/{i}" for i in range(5)]
HOURS = [(D1, 22), (D1, 23), (D2, 0)]


def test_concurrent_writers_on_hot_pages_lose_no_view_and_never_deadlock_while_the_wolf_refreshes(
    database: IsolatedDatabase, db: Database
) -> None:
    expected: Counter[tuple[str, date, int]] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()
    writers_done = threading.Event()
    start = threading.Barrier(WRITERS + 1)

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        mine: Counter[tuple[str, date, int]] = Counter()
        handle = Database(database.owner_url, statement_timeout_ms=10_000)
        try:
            start.wait()
            for _ in range(BATCHES):
                # Several items per batch over overlapping pages and hours, in a random order each time.
                batch = [inc(rng.choice(PAGES), *rng.choice(HOURS), rng.randint(1, 5))
                         for _ in range(rng.randint(1, 6))]
                record_increments(handle, batch)
                for item in batch:
                    mine[(item.name, *item.bucket)] += item.count
        except BaseException as exc:
            errors.append(exc)
        finally:
            handle.close()
            with lock:
                expected.update(mine)

    refresh_steps: list[str] = []

    def wolf() -> None:
        handle = Database(database.owner_url)
        try:
            start.wait()
            while not writers_done.is_set():
                refresh_steps.append(refresh_page_views_step(handle, max_rows=7).status)
        except BaseException as exc:
            errors.append(exc)
        finally:
            handle.close()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(WRITERS)]
    refresher = threading.Thread(target=wolf)
    for thread in [*threads, refresher]:
        thread.start()
    for thread in threads:
        thread.join(120)
    writers_done.set()
    refresher.join(30)

    assert errors == []
    assert "ok" in refresh_steps  # the Wolf really ran while writers were writing
    assert refresh_page_views_report(db, max_rows_per_step=7).status == "caught_up"
    assert report_rows(db) == dict(expected)
    assert sum(expected.values()) > WRITERS * BATCHES
    assert verify_page_views_report(db)[1] == 0
