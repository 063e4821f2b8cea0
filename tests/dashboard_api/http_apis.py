"""Both HTTP APIs (dashboard, page-view increments) as the hostile-input and schemathesis suites see them:
a Lambda handler called with API Gateway v2 events, its own served OpenAPI document, seeded data."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from vidstats.db import Database

from tests.dashboard_api import seed
from tests.dashboard_api.conftest import hs256_token, http_event
from tests.factories import TEST_WORKSPACE_ID, join_workspace
from tests.lambda_context import FakeLambdaContext

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class HttpApi:
    name: str
    module: str  # the handler's module
    openapi_path: str
    needs_token: bool

    def handler(self) -> LambdaHandler:
        import importlib

        function: LambdaHandler = importlib.import_module(self.module).lambda_handler
        return function

    def auth_headers(self) -> dict[str, str]:
        """The token of the test workspace's owner, naming that workspace."""
        if not self.needs_token:
            return {}
        return {"authorization": f"Bearer {hs256_token()}", "x-workspace-id": str(TEST_WORKSPACE_ID)}

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.handler()(event, FakeLambdaContext())

    def openapi(self) -> dict[str, Any]:
        result = self.invoke(http_event("GET", self.openapi_path, headers=self.auth_headers()))
        assert result["statusCode"] == 200, result
        document: dict[str, Any] = json.loads(result["body"])
        return document


DASHBOARD = HttpApi("dashboard", "dashboard_api.handler", "/openapi.json", needs_token=True)
PAGE_VIEWS = HttpApi("page_views", "page_views_increments.handler", "/page-views/openapi.json", needs_token=False)
APIS = [DASHBOARD, PAGE_VIEWS]


def seed_a_little(db: Database) -> None:
    """A blogger, videos with snapshots, a campaign: so that reads have rows to return (the test workspace's,
    owned by the default token's user)."""
    join_workspace(db)
    alice = seed.blogger(db, "alice")
    videos = [seed.video(db, caption=f"clip {i}", blogger=alice) for i in range(3)]
    seed.snapshots(db, [(v, seed.days_ago(d), seed.views(100 * d + i)) for i, v in enumerate(videos) for d in (3, 1)])
    seed.refresh(db)
    promo = seed.campaign(db, "Promo", seed.days_ago(10))
    seed.add_to_campaign(db, promo, videos[0], seed.days_ago(5))


def as_wsgi(api: HttpApi) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """A WSGI shim: each request becomes an API Gateway v2 event for the Lambda handler, as the gateway does
    (a body that is not UTF-8 arrives base64-encoded)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE") or ""
        if not headers["content-type"]:
            del headers["content-type"]
        query = {k: ",".join(v) for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
        path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
        event = http_event(environ["REQUEST_METHOD"], path, query=query)
        event["headers"] = headers
        if raw:
            try:
                event["body"] = raw.decode("utf-8")
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
        result = api.invoke(event)
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        headers_out = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
        start_response(f"{int(result['statusCode'])} X", headers_out)
        return [payload]

    return app
