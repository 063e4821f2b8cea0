"""GET /page-views/report: predefined filters over page_views_report only, against hand-computed figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from vidstats.db import Database, Role
from vidstats.page_views.increments import record_increments
from vidstats.page_views.models import PageViewIncrement, ReportGranularity, ReportQuery
from vidstats.page_views.refresh import refresh_page_views_report
from vidstats.page_views.report import ReportQueryError, like_prefix, page_views_report
from vidstats.page_views.routes import page_views_router

from tests.conftest import IsolatedDatabase
from tests.lambda_context import FakeLambdaContext
from tests.page_views.support import http_event, reply

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
# name, date, hour, views
DATA = [
    ("/home", D1, 0, 5), ("/home", D1, 13, 7), ("/home", D2, 13, 2), ("/home", D3, 23, 4),
    ("/home/about", D1, 13, 3), ("/home/about", D2, 5, 10),
    ("/blog/a_b", D2, 13, 20),
    ("/blog/axb", D2, 14, 1),
]


@pytest.fixture
def seeded(db: Database) -> Database:
    # Split over two batches and items so the counts are really summed.
    record_increments(db, [PageViewIncrement(name=n, date=d, hour=h, count=v - 1) for n, d, h, v in DATA if v > 1])
    record_increments(db, [PageViewIncrement(name=n, date=d, hour=h, count=1) for n, d, h, _ in DATA])
    refresh_page_views_report(db)
    return db


def rows(db: Database, **query: Any) -> list[tuple[str, date, int | None, int]]:
    report = page_views_report(db, ReportQuery(**{"date_from": D1, "date_to": D3, **query}))
    return [(r.name, r.date, r.hour, r.views) for r in report.rows]


def test_a_prefix_by_day_sums_the_hours_of_each_page_and_day(seeded: Database) -> None:
    assert rows(seeded, prefix="/home", date_to=D2) == [
        ("/home", D1, None, 12), ("/home", D2, None, 2), ("/home/about", D1, None, 3), ("/home/about", D2, None, 10)]


def test_an_exact_name_by_hour_within_an_hour_range(seeded: Database) -> None:
    assert rows(seeded, name="/home", hour_from=13, hour_to=23, granularity=ReportGranularity.hour) == [
        ("/home", D1, 13, 7), ("/home", D2, 13, 2), ("/home", D3, 23, 4)]
    assert rows(seeded, name="/hom") == []  # exact means exact


def test_a_prefix_is_literal_wildcards_in_it_match_only_themselves(seeded: Database) -> None:
    assert rows(seeded, prefix="/blog/a_") == [("/blog/a_b", D2, None, 20)]
    assert rows(seeded, prefix="/blog/a%") == []
    assert like_prefix("50%_off\\") == "50\\%\\_off\\\\%"


def test_a_date_range_is_inclusive_at_both_ends(seeded: Database) -> None:
    assert rows(seeded, date_from=D2, date_to=D2, hour_from=13, hour_to=14) == [
        ("/blog/a_b", D2, None, 20), ("/blog/axb", D2, None, 1), ("/home", D2, None, 2)]
    assert rows(seeded, date_from=D3, date_to=D3) == [("/home", D3, None, 4)]


def test_top_n_ranks_pages_by_views_in_the_period_and_limits_rows_to_them(seeded: Database) -> None:
    report = page_views_report(seeded, ReportQuery(date_from=D1, date_to=D3, top=2))
    assert [(t.rank, t.name, t.views) for t in report.top or []] == [(1, "/blog/a_b", 20), (2, "/home", 18)]
    assert [(r.name, r.date, r.views) for r in report.rows] == [
        ("/blog/a_b", D2, 20), ("/home", D1, 12), ("/home", D2, 2), ("/home", D3, 4)]
    # Within 13:00-13:59 on the first two days only: /blog/a_b 20, /home 7 + 2, /home/about 3.
    report = page_views_report(seeded, ReportQuery(date_from=D1, date_to=D2, hour_from=13, hour_to=13, top=3,
                                                   granularity=ReportGranularity.hour))
    assert [(t.name, t.views) for t in report.top or []] == [("/blog/a_b", 20), ("/home", 9), ("/home/about", 3)]
    assert len(report.rows) == 4


def test_rows_beyond_the_limit_are_cut_and_the_report_says_so(seeded: Database) -> None:
    report = page_views_report(seeded, ReportQuery(date_from=D1, date_to=D3, granularity=ReportGranularity.hour,
                                                   limit=3))
    assert ([(r.name, r.hour) for r in report.rows], report.truncated) == (
        [("/blog/a_b", 13), ("/blog/axb", 14), ("/home", 0)], True)
    full = page_views_report(seeded, ReportQuery(date_from=D1, date_to=D3, granularity=ReportGranularity.hour))
    assert (len(full.rows), full.truncated) == (len(DATA), False)


def test_the_report_shows_what_the_wolf_reflected_and_says_as_of_when(seeded: Database) -> None:
    before = page_views_report(seeded, ReportQuery(date_from=D1, date_to=D1, name="/home"))
    assert before.data_as_of is not None
    record_increments(seeded, [PageViewIncrement(name="/home", date=D1, hour=0, count=100)])
    stale = page_views_report(seeded, ReportQuery(date_from=D1, date_to=D1, name="/home"))
    assert [r.views for r in stale.rows] == [12]  # eventual consistency: not reflected yet
    assert stale.data_as_of is not None
    assert stale.data_as_of <= before.data_as_of
    refresh_page_views_report(seeded)
    fresh = page_views_report(seeded, ReportQuery(date_from=D1, date_to=D1, name="/home"))
    assert [r.views for r in fresh.rows] == [112]
    assert fresh.data_as_of is not None
    assert fresh.data_as_of > before.data_as_of


@pytest.mark.parametrize(("query", "field"), [
    ({"name": "/a", "prefix": "/a"}, "query.prefix"),
    ({"date_from": D3, "date_to": D1}, "query.date_from"),
    ({"date_from": D1, "date_to": D1 + timedelta(days=366)}, "query.date_from"),
    ({"hour_from": 14, "hour_to": 13}, "query.hour_from"),
])
def test_contradictory_filters_are_refused_with_the_parameter_named(
    db: Database, query: dict[str, Any], field: str
) -> None:
    with pytest.raises(ReportQueryError) as caught:
        page_views_report(db, ReportQuery(**{"date_from": D1, "date_to": D3, **query}))
    assert caught.value.field == field


def test_the_analytics_role_reads_the_report_but_never_the_base_tables(seeded: Database) -> None:
    for relation in ("analytics.pages", "analytics.page_views"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), seeded.transaction(Role.READER) as conn:
            conn.execute(f"select * from {relation}".encode())
    for statement in ("insert into analytics.page_views_report (page_id, name, date, hour, views, change_id)"
                      " values (1, 'x', current_date, 0, 1, 1)", "update analytics.page_views_report set views = 0",
                      "select analytics.verify_page_views_report()"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), seeded.transaction(Role.READER) as conn:
            conn.execute(statement.encode())


def test_filtered_reports_read_an_index_of_the_report(database: IsolatedDatabase, seeded: Database) -> None:
    with database.connect_owner() as conn:
        conn.execute("set enable_seqscan = off")  # a handful of rows: make the planner show what it can use
        period = "date between '2026-11-01' and '2026-11-02'"
        for where, index in ((f"name like '/home%' and {period}", "page_views_report_name_date_idx"),
                             (f"name = '/home' and {period}", "page_views_report_name_date_idx"),
                             (period, "page_views_report_date_idx")):
            plan = "\n".join(r[0] for r in conn.execute(
                f"explain select name, date, hour, views from analytics.page_views_report where {where}".encode()
            ).fetchall())
            assert index in plan, plan
            assert "Seq Scan" not in plan, plan


# ---- over HTTP, as the dashboard API serves it ---------------------------------------------------------------


@pytest.fixture
def api(seeded: Database) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    app.include_router(page_views_router(lambda: seeded))
    return app


def get(app: APIGatewayHttpResolver, **query: Any) -> tuple[int, Any]:
    return reply(app.resolve(http_event("GET", "/page-views/report", query=query), FakeLambdaContext()))  # type: ignore[arg-type]


def test_the_route_serves_the_report_with_its_filters(api: APIGatewayHttpResolver) -> None:
    status, body = get(api, prefix="/home", date_from="2026-11-01", date_to="2026-11-02", granularity="hour",
                       hour_from=13, hour_to=13)
    assert status == 200, body
    assert [(r["name"], r["date"], r["hour"], r["views"]) for r in body["rows"]] == [
        ("/home", "2026-11-01", 13, 7), ("/home", "2026-11-02", 13, 2), ("/home/about", "2026-11-01", 13, 3)]
    assert (body["granularity"], body["top"], body["truncated"]) == ("hour", None, False)
    assert body["data_as_of"] is not None

    status, body = get(api, date_from="2026-11-01", date_to="2026-11-03", top=1)
    assert status == 200
    assert body["top"] == [{"rank": 1, "name": "/blog/a_b", "views": 20}]


def test_the_route_defaults_to_the_last_seven_days(api: APIGatewayHttpResolver, seeded: Database) -> None:
    today = datetime.now(UTC).date()
    record_increments(seeded, [PageViewIncrement(name="/today", date=today, hour=0, count=1),
                               PageViewIncrement(name="/a-week-ago", date=today - timedelta(days=7), hour=0, count=1)])
    refresh_page_views_report(seeded)
    status, body = get(api)
    assert status == 200
    assert (body["date_from"], body["date_to"]) == ((today - timedelta(days=6)).isoformat(), today.isoformat())
    assert [r["name"] for r in body["rows"]] == ["/today"]


@pytest.mark.parametrize(("query", "status", "field"), [
    ({"granularity": "week"}, 422, "query.granularity"),
    ({"hour_to": 24}, 422, "query.hour_to"),
    ({"top": 0}, 422, "query.top"),
    ({"date_from": "yesterday"}, 422, "query.date_from"),
    ({"name": ""}, 422, "query.name"),
    ({"date_from": "2026-11-03", "date_to": "2026-11-01"}, 400, "query.date_from"),
    ({"name": "/a", "prefix": "/a"}, 400, "query.prefix"),
])
def test_bad_parameters_are_refused_with_the_parameter_named(
    api: APIGatewayHttpResolver, query: dict[str, Any], status: int, field: str
) -> None:
    got, body = get(api, **query)
    assert got == status, body
    if status == 400:  # ours; 422 is shaped by the including API's validation handler
        assert body["errors"] == [{"field": field, "message": body["errors"][0]["message"]}]
    else:
        assert field.split(".") == [str(p) for p in body["detail"][0]["loc"]]
