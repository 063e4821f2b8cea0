"""Shared helpers of the page-view tests: HTTP API v2 events, and reading the report as the reader does."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from vidstats.db import Database, Role

from tests.dashboard_api.conftest import http_event

__all__ = ["http_event", "reply", "report_rows"]


def reply(result: dict[str, Any]) -> tuple[int, Any]:
    text = result.get("body") or ""
    return result["statusCode"], json.loads(text) if text else None


def report_rows(db: Database) -> dict[tuple[str, date, int], int]:
    """Everything in page_views_report, read under the analytics service's role."""
    with db.transaction(Role.READER) as conn:
        rows = conn.execute("select name, date, hour, views from analytics.page_views_report").fetchall()
    return {(name, day, hour): views for name, day, hour, views in rows}
