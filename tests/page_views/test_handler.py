"""POST /page-views: the increments service's Lambda, called in-process like API Gateway does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from vidstats.db import Database
from vidstats.page_views.refresh import refresh_page_views_report

from tests.conftest import IsolatedDatabase, handler_connected_to
from tests.lambda_context import FakeLambdaContext
from tests.page_views.support import http_event, reply, report_rows

D1 = date(2026, 11, 1)


@pytest.fixture(autouse=True)
def handler_env(monkeypatch: pytest.MonkeyPatch, database: IsolatedDatabase) -> Iterator[None]:
    from page_views_increments import handler

    with handler_connected_to(handler, database, monkeypatch):
        yield


def post(body: Any = None, raw_body: str | None = None, path: str = "/page-views") -> tuple[int, Any]:
    from page_views_increments.handler import lambda_handler

    return reply(lambda_handler(http_event("POST", path, body=body, raw_body=raw_body),
                                FakeLambdaContext()))


def test_a_batch_is_recorded_and_reported_after_the_next_refresh(db: Database) -> None:
    status, body = post({"increments": [
        {"name": "/a", "timestamp": "2026-11-01T10:15:00Z", "count": 2},
        {"name": "/a", "date": "2026-11-01", "hour": 10, "count": 3},
        {"name": "/b", "timestamp": "2026-11-01T01:30:00+02:00", "count": 1},
    ]})
    assert status == 200, body
    assert body == {"accepted": 3, "views": 6, "buckets": 2, "new_pages": 2}
    refresh_page_views_report(db)
    assert report_rows(db) == {("/a", D1, 10): 5, ("/b", date(2026, 10, 31), 23): 1}  # 01:30+02:00 = 23:30 UTC


@pytest.mark.parametrize(("item", "field", "message"), [
    ({"name": "", "date": "2026-11-01", "hour": 1, "count": 1}, "body.increments.1.name", "at least 1 character"),
    ({"name": "x" * 513, "date": "2026-11-01", "hour": 1, "count": 1}, "body.increments.1.name", "at most 512"),
    ({"name": "/b", "date": "2026-11-01", "hour": 1, "count": 0}, "body.increments.1.count", "greater than or equal"),
    ({"name": "/b", "timestamp": "2100-01-01T00:00:00Z", "count": 1}, "body.increments.1", "'/b': 2100-01-01"),
])
def test_a_bad_item_fails_the_whole_batch_with_the_item_named(
    db: Database, item: dict[str, Any], field: str, message: str
) -> None:
    status, body = post({"increments": [{"name": "/a", "date": "2026-11-01", "hour": 1, "count": 1}, item]})
    assert status == 422, body
    assert body["title"] == "Validation failed: nothing was recorded"
    (problem,) = body["errors"]
    assert problem["field"] == field
    assert message in problem["message"]
    refresh_page_views_report(db)
    assert report_rows(db) == {}  # the good item was not recorded either


@pytest.mark.parametrize(("body", "raw_body", "status", "field"), [
    ({"increments": []}, None, 422, "body.increments"),
    ({"increments": [{"name": "/a", "date": "2026-11-01", "hour": 1, "count": 1, "extra": 1}]}, None, 422,
     "body.increments.0.extra"),
    ([{"name": "/a", "date": "2026-11-01", "hour": 1, "count": 1}], None, 422, "body"),
    (None, '{"increments": [', 400, "body"),
])
def test_a_malformed_batch_is_refused(body: Any, raw_body: str | None, status: int, field: str) -> None:
    got, reply_body = post(body, raw_body)
    assert got == status, reply_body
    assert reply_body["errors"][0]["field"].startswith(field)


def test_other_paths_are_not_found() -> None:
    status, body = post({"increments": []}, path="/page-views/report")
    assert status == 404
    assert body["errors"] == [{"field": "path", "message": "no such route"}]
