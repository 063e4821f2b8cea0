"""Schemathesis against the API's own OpenAPI document, in-process (a WSGI shim turns each request into an
API Gateway v2 event for the Lambda handler): no input produces a 5xx, every response matches its schema."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any, cast
from urllib.parse import parse_qs

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from vidstats.db import Database

from tests.dashboard_api import seed
from tests.dashboard_api.conftest import hs256_token, http_event
from tests.lambda_context import FakeLambdaContext

EXAMPLES_PER_OPERATION = 30


def lambda_as_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    from dashboard_api.handler import lambda_handler

    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    query = {k: ",".join(v) for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
    path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
    event = http_event(environ["REQUEST_METHOD"], path, query=query, headers=headers)
    if raw:
        try:
            event["body"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    else:
        event["body"] = None
    result = lambda_handler(event, FakeLambdaContext())  # type: ignore[arg-type]
    status = int(result["statusCode"])
    body = result.get("body") or ""
    payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    response_headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    start_response(f"{status} X", response_headers)
    return [payload]


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_5xx_or_an_off_schema_response(db: Database, sqs: Any, mode: Any) -> None:
    alice = seed.blogger(db, "alice")
    videos = [seed.video(db, caption=f"clip {i}", blogger=alice) for i in range(3)]
    seed.snapshots(db, [(v, seed.days_ago(d), seed.views(100 * d + i)) for i, v in enumerate(videos)
                        for d in (3, 1)])
    seed.refresh(db)
    promo = seed.campaign(db, "Promo", seed.days_ago(10))
    seed.add_to_campaign(db, promo, videos[0], seed.days_ago(5))

    schema = schemathesis.openapi.from_wsgi("/openapi.json", lambda_as_wsgi)
    token = {"Authorization": f"Bearer {hs256_token()}"}
    operations = [cast(Any, result).ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    calls = 0

    for operation in operations:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: Any) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=token, checks=[not_a_server_error, response_schema_conformance])

        fuzz()
    assert calls >= len(operations)
