"""The Wolf's upkeep of page_views_report: bounded incremental steps until caught up, and its freshness."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from vidstats.db import Database, Role
from vidstats.page_views.models import PageViewsRefreshOutcome, PageViewsRefreshStep, PageViewsReportStatus
from vidstats.read_model import run_refresh_steps


def refresh_page_views_step(db: Database, *, max_rows: int) -> PageViewsRefreshStep:
    with db.transaction(Role.REFRESH) as conn:
        row = conn.execute("select analytics.refresh_page_views_report(%s)", (max_rows,)).fetchone()
    assert row is not None
    return PageViewsRefreshStep.model_validate(row[0])


def refresh_page_views_report(
    db: Database,
    *,
    max_rows_per_step: int = 100_000,
    time_left_s: Callable[[], float] | None = None,
    min_time_for_a_step_s: float = 5.0,
) -> PageViewsRefreshOutcome:
    """Refreshes step by step until caught up, busy, or out of time (as ``refresh_read_model`` does).

    Each step commits on its own, so the work done before running out of time is kept.
    """
    started = time.monotonic()
    status, steps = run_refresh_steps(lambda: refresh_page_views_step(db, max_rows=max_rows_per_step),
                                      time_left_s=time_left_s, min_time_for_a_step_s=min_time_for_a_step_s)
    return PageViewsRefreshOutcome(
        status=status,
        steps=len(steps),
        rows=sum(s.rows for s in steps),
        watermark=steps[-1].watermark if steps else None,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )


def page_views_report_status(db: Database, role: Role = Role.READER) -> PageViewsReportStatus:
    with db.transaction(role) as conn:
        row = conn.execute(
            "select watermark, last_run_at, last_success_at, last_rows, last_duration_ms, oldest_pending_at,"
            "       lag_seconds from analytics.page_views_report_status()").fetchone()
    assert row is not None
    values = dict(zip(PageViewsReportStatus.model_fields, row, strict=True))
    return PageViewsReportStatus.model_validate(
        {k: float(v) if isinstance(v, Decimal) else v for k, v in values.items()})


def verify_page_views_report(db: Database) -> tuple[int, int]:
    """(report rows, mismatches with page_views joined with pages up to the watermark): 0 mismatches = correct."""
    with db.transaction(Role.REFRESH) as conn:
        row = conn.execute("select analytics.verify_page_views_report()").fetchone()
    assert row is not None
    return int(row[0]["report_rows"]), int(row[0]["mismatches"])
