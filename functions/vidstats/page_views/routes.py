"""``GET /page-views/report`` as a Powertools router the dashboard API includes with one line:

    app.include_router(page_views_router(database))

It reads only ``page_views_report`` (under the reader role, which cannot read pages or page_views). Its
query parameters are validated by the including resolver (``enable_validation=True``: 422 naming the
parameter); contradictory ones (``date_from`` after ``date_to``, ``name`` with ``prefix``) answer 400.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from vidstats.db import Database
from vidstats.page_views.models import (
    MAX_NAME_LENGTH,
    MIN_DATE,
    ErrorBody,
    FieldProblem,
    PageViewsReport,
    ReportGranularity,
    ReportQuery,
)
from vidstats.page_views.report import ReportQueryError, page_views_report

DEFAULT_DAYS = 7
MAX_DATE = date(2100, 12, 31)

NameParam = Annotated[str | None, Query(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"^[^\x00]*$",
                                        description="Exactly this page name")]
PrefixParam = Annotated[str | None, Query(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"^[^\x00]*$",
                                          description="Pages whose name starts with this (literally)")]
DateFrom = Annotated[date | None, Query(ge=MIN_DATE, le=MAX_DATE,
                                        description="First UTC day (default: 6 days before date_to)")]
DateTo = Annotated[date | None, Query(ge=MIN_DATE, le=MAX_DATE, description="Last UTC day (default: today)")]


def _error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


def page_views_router(database: Callable[[], Database]) -> APIGatewayHttpRouter:
    """The report route, reading through the including API's own (lazily opened) database connection."""
    router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]

    @router.exception_handler(ReportQueryError)  # type: ignore[untyped-decorator]
    def handle_report_query_error(exc: ReportQueryError) -> Response[str]:
        body = ErrorBody(status=400, title="Bad request", errors=[FieldProblem(field=exc.field, message=exc.message)])
        return Response(status_code=400, content_type="application/json", body=body.model_dump_json())

    @router.get("/page-views/report", summary="Page views per page and day or hour, with filters",
                tags=["page views"],
                responses={200: {"description": "OK"}, 400: _error("Contradictory parameters"),
                           401: _error("Missing or invalid access token"),
                           403: _error("Not an instance administrator (app_metadata.role admin)"),
                           422: _error("A parameter failed validation")})
    def get_page_views_report(
        name: NameParam = None,
        prefix: PrefixParam = None,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        hour_from: Annotated[int, Query(ge=0, le=23, description="First UTC hour of each day")] = 0,
        hour_to: Annotated[int, Query(ge=0, le=23, description="Last UTC hour of each day")] = 23,
        granularity: Annotated[ReportGranularity, Query()] = ReportGranularity.day,
        top: Annotated[int | None, Query(ge=1, le=100, description="Only the N pages with most views in the "
                                                                    "period")] = None,
        limit: Annotated[int, Query(ge=1, le=10_000, description="At most this many rows")] = 1_000,
    ) -> PageViewsReport:
        until = date_to or datetime.now(UTC).date()
        since = date_from or until - timedelta(days=DEFAULT_DAYS - 1)
        query = ReportQuery(name=name, prefix=prefix, date_from=since, date_to=until, hour_from=hour_from,
                            hour_to=hour_to, granularity=granularity, top=top, limit=limit)
        return page_views_report(database(), query)

    return router
