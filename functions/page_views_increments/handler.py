"""Lambda entry point of the page-view increments service (seed 003): ``POST /page-views``.

Thin: Powertools validates the batch against ``PageViewBatch`` (422 naming the item, e.g.
``body.increments.3.count``; malformed JSON 400), ``vidstats.page_views.increments`` writes it all or nothing.
The function's database role can only add views.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from vidstats.db import Database
from vidstats.page_views.increments import record_increments
from vidstats.page_views.models import ErrorBody, FieldProblem, PageViewBatch, PageViewsRecorded

logger = Logger(service="page_views_increments")
metrics = Metrics(namespace="vidstats", service="page_views_increments")
app = APIGatewayHttpResolver(enable_validation=True)


def _error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


@lru_cache(maxsize=1)
def database() -> Database:
    return Database.from_settings(application_name="page_views_increments")


def error_response(status: int, title: str, problems: list[FieldProblem]) -> Response[str]:
    body = ErrorBody(status=status, title=title, errors=problems)
    return Response(status_code=status, content_type="application/json", body=body.model_dump_json())


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def handle_validation_error(exc: RequestValidationError) -> Response[str]:
    status, title = 422, "Validation failed: nothing was recorded"
    problems = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            status, title = 400, "Malformed JSON body: nothing was recorded"
        loc = ".".join(str(part) for part in err.get("loc", ())) or "body"
        problems.append(FieldProblem(field=loc, message=str(err.get("msg", "invalid"))))
    metrics.add_metric(name="PageViewBatchesRejected", unit=MetricUnit.Count, value=1)
    return error_response(status, title, problems or [FieldProblem(field="body", message="invalid")])


@app.not_found
def handle_not_found(_: Exception) -> Response[str]:
    return error_response(404, "Not found", [FieldProblem(field="path", message="no such route")])


@app.post("/page-views", summary="Add page views (a batch, all or nothing)",
          responses={400: _error("Malformed JSON"), 422: _error("An item failed validation")})
def post_page_views(body: Annotated[PageViewBatch, Body()]) -> PageViewsRecorded:
    recorded = record_increments(database(), body.increments)
    metrics.add_metric(name="PageViewsRecorded", unit=MetricUnit.Count, value=recorded.views)
    metrics.add_metric(name="PageViewBuckets", unit=MetricUnit.Count, value=recorded.buckets)
    return recorded


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
