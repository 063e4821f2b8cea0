"""The dashboard API called in-process like Lambda does (API Gateway HTTP API v2 events), on a real database."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from vidstats.auth import authenticator
from vidstats.db import Database

from tests.conftest import IsolatedDatabase, handler_connected_to
from tests.factories import TEST_USER_ID, TEST_WORKSPACE_ID, join_workspace
from tests.lambda_context import FakeLambdaContext

ISSUER = "https://abcdefghijklmnop.supabase.co/auth/v1"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"
HS256_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"


def http_event(method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None,
               headers: dict[str, str] | None = None, raw_body: str | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the $default stage sends it."""
    params = {k: str(v) for k, v in (query or {}).items() if v is not None}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(params),
        "headers": {"content-type": "application/json", **(headers or {})},
        "queryStringParameters": params or None,
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com", "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1",
                     "userAgent": "pytest"},
            "requestId": "req", "routeKey": "$default", "stage": "$default", "time": "27/Nov/2026:08:00:00 +0000",
            "timeEpoch": 1795766400000,
        },
        "body": raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        "isBase64Encoded": False,
    }


def hs256_token(**overrides: Any) -> str:
    now = int(time.time())
    claims = {"sub": TEST_USER_ID, "aud": "authenticated", "iss": ISSUER,
              "role": "authenticated", "iat": now, "exp": now + 3600, **overrides}
    return jwt.encode(claims, HS256_SECRET, algorithm="HS256")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


class Api:
    """Calls the API with ``token`` and, unless ``workspace`` is None, names that workspace (X-Workspace-Id)."""

    def __init__(self, token: str | None, workspace: str | None = str(TEST_WORKSPACE_ID)) -> None:
        self.token = token
        self.workspace = workspace

    def call(self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None,
             headers: dict[str, str] | None = None, raw_body: str | None = None) -> Reply:
        from dashboard_api.handler import lambda_handler

        all_headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        if self.workspace:
            all_headers["x-workspace-id"] = self.workspace
        all_headers.update(headers or {})
        result = lambda_handler(http_event(method, path, query=query, body=body, headers=all_headers,
                                           raw_body=raw_body), FakeLambdaContext())  # type: ignore[arg-type]
        text = result.get("body") or ""
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return Reply(status=result["statusCode"], headers=result.get("headers") or {}, body=parsed)

    def get(self, path: str, **query: Any) -> Reply:
        return self.call("GET", path, query=query)

    def ok(self, path: str, **query: Any) -> Any:
        reply = self.get(path, **query)
        assert reply.status == 200, reply
        return reply.body

    def walk_videos(self, cursor: str | None = None, **query: Any) -> list[dict[str, Any]]:
        """Every ``GET /videos`` row from ``cursor`` (the start by default) on, page by page."""
        rows: list[dict[str, Any]] = []
        for _ in range(100):
            page = self.ok("/videos", **query, cursor=cursor)
            rows += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return rows
        raise AssertionError("pagination did not end")


@pytest.fixture
def auth_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AUTH_DISABLED", "SUPABASE_URL", "AUTH_JWT_SECRET_ID", "AUTH_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTH_ISSUER", ISSUER)
    monkeypatch.setenv("AUTH_JWKS_URL", JWKS_URL)
    monkeypatch.setenv("AUTH_JWT_SECRET", HS256_SECRET)
    authenticator.cache_clear()
    yield
    authenticator.cache_clear()


@pytest.fixture
def api_env(monkeypatch: pytest.MonkeyPatch, database: IsolatedDatabase, auth_env: None) -> Iterator[None]:
    """The API on this test's database; the default token's user owns the test workspace."""
    from dashboard_api import dependencies

    owner = Database(database.owner_url)
    join_workspace(owner)
    owner.close()
    with handler_connected_to(dependencies, database, monkeypatch):
        yield


@pytest.fixture
def api(api_env: None) -> Api:
    return Api(hs256_token())


@pytest.fixture
def sqs(sqs: tuple[Any, str]) -> Iterator[tuple[Any, str]]:
    """The shared moto fetch queue, with the API's cached queue client reset around the test."""
    from dashboard_api import dependencies

    dependencies.fetch_queue.cache_clear()
    yield sqs
    dependencies.fetch_queue.cache_clear()


def _api_params() -> list[Any]:
    from tests.dashboard_api.http_apis import APIS

    return [pytest.param(api, id=api.name) for api in APIS]


@pytest.fixture(params=_api_params())
def served(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, database: IsolatedDatabase,
           db: Database) -> Iterator[Any]:
    """Each HTTP API in turn (``http_apis.APIS``), connected to this test's database, with a little data."""
    import importlib

    from tests.dashboard_api.http_apis import DASHBOARD, seed_a_little

    api = request.param
    request.getfixturevalue("auth_env")
    if api is DASHBOARD:
        request.getfixturevalue("sqs")
    seed_a_little(db)
    with handler_connected_to(importlib.import_module(api.module), database, monkeypatch):
        yield api
