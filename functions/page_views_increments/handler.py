"""Lambda entry point of the page-view increments service (seed 003): ``POST /page-views``.

Thin: Powertools validates the batch against ``PageViewBatch`` (422 naming the item, e.g.
``body.increments.3.count``; malformed JSON 400), ``vidstats.page_views.increments`` writes it all or nothing.
The function's database role can only add views. ``GET /page-views/openapi.json`` describes the API.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from vidstats.db import Database
from vidstats.http_api import (
    BODY_ERRORS,
    error_doc,
    error_response,
    gate,
    install_error_handlers,
    plain_error,
    problems_of,
    strict_json_loads,
)
from vidstats.page_views.increments import record_increments
from vidstats.page_views.models import MAX_BATCH_ITEMS, PageViewBatch, PageViewsRecorded

TITLE = "vidstats page-view increments API"
VERSION = "1.0.0"
DESCRIPTION = f"""Adds page views, in batches written all together or not at all.

Send `POST /page-views` with a JSON body `{{"increments": [...]}}` of 1 to {MAX_BATCH_ITEMS:,} items. Each item names
a page and counts views either at an instant (`timestamp`, with a timezone) or in a UTC hour (`date` + `hour`).
Views of the same page and hour add up. A batch with any invalid item is refused whole (422 naming the item,
e.g. `body.increments.3.count`) and nothing is recorded, so a client can fix it and send it again.

Deployed, the API uses IAM authorization: sign requests with SigV4 (service `execute-api`). The numbers
appear in the dashboard API's `GET /page-views/report` after the next read-model refresh (at most 5 minutes).
"""
# Collectors send large batches; 5,000 items of 512-character names fit in 4 MB.
MAX_BODY_BYTES = 4_000_000

logger = Logger(service="page_views_increments")
metrics = Metrics(namespace="vidstats", service="page_views_increments")
app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=strict_json_loads)


@lru_cache(maxsize=1)
def database() -> Database:
    return Database.from_settings(application_name="page_views_increments")


def handle_validation_error(exc: RequestValidationError) -> Response[str]:
    status, problems = problems_of(exc)
    title = "Malformed JSON body" if status == 400 else "Validation failed"
    metrics.add_metric(name="PageViewBatchesRejected", unit=MetricUnit.Count, value=1)
    return error_response(status, f"{title}: nothing was recorded", problems)


install_error_handlers(app, logger, handle_validation_error)


@app.post("/page-views", summary="Add page views (a batch, all or nothing)", tags=["page views"],
          responses={200: {"description": "Recorded, all of it"},
                     400: error_doc("Malformed JSON: nothing was recorded"),
                     422: error_doc("An item failed validation: nothing was recorded"), **BODY_ERRORS})
def post_page_views(body: Annotated[PageViewBatch, Body()]) -> PageViewsRecorded:
    recorded = record_increments(database(), body.increments)
    metrics.add_metric(name="PageViewsRecorded", unit=MetricUnit.Count, value=recorded.views)
    metrics.add_metric(name="PageViewBuckets", unit=MetricUnit.Count, value=recorded.buckets)
    return recorded


@app.get("/page-views/openapi.json", include_in_schema=False)
def openapi_json() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi_document())


def openapi_document() -> str:
    return app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = gate(event, max_body_bytes=MAX_BODY_BYTES)
    if refused is not None:
        return plain_error(event, *refused)
    return app.resolve(event, context)


if __name__ == "__main__":  # `python -m page_views_increments.handler > docs/page-views-openapi.json`
    print(json.dumps(json.loads(openapi_document()), indent=2))
