"""GET /page-views/report through the dashboard API: seed 003's analytics service, behind the same auth."""

from __future__ import annotations

from datetime import date

from vidstats.db import Database
from vidstats.page_views.increments import record_increments
from vidstats.page_views.models import PageViewIncrement
from vidstats.page_views.refresh import refresh_page_views_report

from tests.dashboard_api.conftest import Api, hs256_token

DAY = date(2026, 11, 20)


ADMIN = Api(hs256_token(sub="d0000000-0000-4000-8000-0000000000ad", app_metadata={"role": "admin"}), workspace=None)


def test_the_report_route_serves_the_refreshed_report_with_its_filters(api_env: None, db: Database) -> None:
    record_increments(db, [
        PageViewIncrement(name="/blog/a", date=DAY, hour=9, count=3),
        PageViewIncrement(name="/blog/a", date=DAY, hour=10, count=2),
        PageViewIncrement(name="/blog/b", date=DAY, hour=9, count=7),
        PageViewIncrement(name="/pricing", date=DAY, hour=9, count=11),
    ])
    refresh_page_views_report(db)
    body = ADMIN.ok("/page-views/report", prefix="/blog", date_from=DAY.isoformat(), date_to=DAY.isoformat(),
                  granularity="day")
    assert sorted((r["name"], r["views"]) for r in body["rows"]) == [("/blog/a", 5), ("/blog/b", 7)]


def test_the_report_needs_a_token_like_every_analytics_route(api: Api) -> None:
    assert Api(None).get("/page-views/report").status == 401


def test_the_report_is_for_instance_administrators_only(api: Api) -> None:
    refused = api.get("/page-views/report")  # a workspace owner, not an operator
    assert refused.status == 403
    assert "instance administrators" in refused.body["errors"][0]["message"]
    # user_metadata is the user's own to set; app_metadata only the service role's.
    assert Api(hs256_token(user_metadata={"role": "admin"})).get("/page-views/report").status == 403
    assert Api(hs256_token(app_metadata={"role": "editor"})).get("/page-views/report").status == 403
    assert ADMIN.get("/page-views/report").status == 200
