"""Shared helpers of the page-view tests: HTTP API v2 events, and reading the report as the reader does."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import urlencode

from vidstats.db import Database, Role


def http_event(method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None,
               raw_body: str | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the $default stage sends it."""
    params = {k: str(v) for k, v in (query or {}).items() if v is not None}
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(params),
        "headers": {"content-type": "application/json"},
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


def reply(result: dict[str, Any]) -> tuple[int, Any]:
    text = result.get("body") or ""
    return result["statusCode"], json.loads(text) if text else None


def report_rows(db: Database) -> dict[tuple[str, date, int], int]:
    """Everything in page_views_report, read under the analytics service's role."""
    with db.transaction(Role.READER) as conn:
        rows = conn.execute("select name, date, hour, views from analytics.page_views_report").fetchall()
    return {(name, day, hour): views for name, day, hour, views in rows}
