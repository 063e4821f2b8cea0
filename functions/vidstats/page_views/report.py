"""The analytics service's queries: predefined filters over page_views_report, and nothing else."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from vidstats.db import Database, Role
from vidstats.page_views.models import PageTotal, PageViewsReport, ReportGranularity, ReportQuery, ReportRow

MAX_DAYS = 366


class ReportQueryError(ValueError):
    """A report query whose parameters contradict each other; names the offending parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_query(query: ReportQuery) -> None:
    if query.name is not None and query.prefix is not None:
        raise ReportQueryError("query.prefix", "give either name or prefix, not both")
    if query.date_from > query.date_to:
        raise ReportQueryError("query.date_from", f"must not be after date_to ({query.date_to})")
    if (query.date_to - query.date_from).days + 1 > MAX_DAYS:
        raise ReportQueryError("query.date_from", f"the period may span at most {MAX_DAYS} days")
    if query.hour_from > query.hour_to:
        raise ReportQueryError("query.hour_from", f"must not be after hour_to ({query.hour_to})")


def like_prefix(prefix: str) -> str:
    """A LIKE pattern matching names that start with ``prefix`` literally."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filters(query: ReportQuery) -> tuple[str, dict[str, Any]]:
    clauses = ["r.date between %(date_from)s and %(date_to)s"]
    params: dict[str, Any] = {"date_from": query.date_from, "date_to": query.date_to}
    if (query.hour_from, query.hour_to) != (0, 23):
        clauses.append("r.hour between %(hour_from)s and %(hour_to)s")
        params.update(hour_from=query.hour_from, hour_to=query.hour_to)
    if query.name is not None:
        clauses.append("r.name = %(name)s")
        params["name"] = query.name
    elif query.prefix is not None:
        clauses.append("r.name like %(pattern)s")
        params["pattern"] = like_prefix(query.prefix)
    return " and ".join(clauses), params


def _data_as_of(conn: psycopg.Connection) -> datetime | None:
    row = conn.execute("select last_success_at, oldest_pending_at from analytics.page_views_report_status()"
                       ).fetchone()
    if row is None or row[0] is None:
        return None
    last_success: datetime = row[0]
    return last_success if row[1] is None else min(last_success, row[1])


def page_views_report(db: Database, query: ReportQuery) -> PageViewsReport:
    """Views per page and day or hour over a period, optionally only for the top-N pages of that period."""
    check_query(query)
    where, params = _filters(query)
    with db.transaction(Role.READER) as conn:
        top: list[PageTotal] | None = None
        if query.top is not None:
            ranked = conn.execute(
                f"select r.page_id, r.name, sum(r.views)::bigint as views from analytics.page_views_report r"
                f" where {where} group by r.page_id, r.name order by views desc, r.name limit %(top)s".encode(),
                {**params, "top": query.top}).fetchall()
            top = [PageTotal(rank=i, name=name, views=views) for i, (_, name, views) in enumerate(ranked, 1)]
            where += " and r.page_id = any(%(page_ids)s)"
            params["page_ids"] = [page_id for page_id, _, _ in ranked]
        params["limit"] = query.limit + 1
        if query.granularity is ReportGranularity.hour:
            statement = (f"select r.name, r.date, r.hour, r.views from analytics.page_views_report r where {where}"
                         " order by r.name, r.date, r.hour limit %(limit)s")
        else:
            statement = (f"select r.name, r.date, null::smallint, sum(r.views)::bigint"
                         f" from analytics.page_views_report r where {where}"
                         " group by r.name, r.date order by r.name, r.date limit %(limit)s")
        rows = conn.execute(statement.encode(), params).fetchall()
        as_of = _data_as_of(conn)
    return PageViewsReport(
        granularity=query.granularity, date_from=query.date_from, date_to=query.date_to,
        hour_from=query.hour_from, hour_to=query.hour_to, top=top,
        rows=[ReportRow(name=n, date=d, hour=h, views=v) for n, d, h, v in rows[:query.limit]],
        truncated=len(rows) > query.limit, data_as_of=as_of,
    )
