"""Bloggers (creators): list and detail, with their videos' summed totals and growth over a period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from vidstats.dashboard import cursor as cursors
from vidstats.dashboard.errors import BadRequestError, NotFoundError
from vidstats.dashboard.freshness import data_as_of
from vidstats.dashboard.models import (
    METRICS,
    BloggerDetail,
    BloggerPage,
    BloggerSummary,
    Increments,
    Period,
    PeriodInfo,
    Platform,
    Totals,
    VideoQuery,
    VideoSort,
)
from vidstats.dashboard.videos import escape_like, page_by_total, period_bounds, video_filters, video_rows
from vidstats.db import Database, Role

BLOGGER_COLUMNS = "b.id, b.platform, b.platform_user_id, b.username, b.profile_url, b.created_at, b.display_name"


def _summaries(conn: psycopg.Connection, rows: Sequence[Any], first: date, last: date) -> list[BloggerSummary]:
    ids = [r[0] for r in rows]
    stats: dict[UUID, Any] = {}
    growth: dict[UUID, Any] = {}
    if ids:
        for r in conn.execute("select blogger_id, videos, views, likes, comments, reposts, saves"
                              "  from analytics.blogger_totals where blogger_id = any(%s)", (ids,)).fetchall():
            stats[r[0]] = r[1:]
        # A creator's growth: its videos' growth (analytics.video_period_growth), summed.
        sums = ", ".join(f"sum(g.{m})" for m in METRICS)
        for r in conn.execute(
                f"select v.blogger_id, {sums}"
                "  from analytics.video_period_growth("
                "         array(select id from analytics.videos where blogger_id = any(%(ids)s)), %(f)s, %(l)s) g"
                "  join analytics.videos v on v.id = g.video_id group by v.blogger_id",
                {"ids": ids, "f": first, "l": last}).fetchall():
            growth[r[0]] = r[1:]
    out = []
    for r in rows:
        s = stats.get(r[0], (0, None, None, None, None, None))
        g = growth.get(r[0], (None,) * len(METRICS))
        out.append(BloggerSummary(
            id=r[0], platform=r[1], platform_user_id=r[2], username=r[3], display_name=r[6], profile_url=r[4],
            created_at=r[5],
            video_count=s[0], totals=Totals(**dict(zip(METRICS, s[1:], strict=True))),
            increments=Increments(**dict(zip(METRICS, g, strict=True)))))
    return out


def list_bloggers(db: Database, *, platform: Platform | None, q: str | None, period: Period, until: date | None,
                  limit: int, cursor: str | None) -> BloggerPage:
    """Newest first (created_at desc, then id); totals and growth summed over each blogger's videos."""
    first, last = period_bounds(period.days, until)
    filters = {"platform": platform, "q": q, "period": period, "until": until}  # a cursor is bound to these
    where: list[sql.Composable] = [sql.SQL("true")]
    params: dict[str, Any] = {"n": limit + 1}
    if platform is not None:
        where.append(sql.SQL("b.platform = %(platform)s"))
        params["platform"] = platform.value
    if q is not None:
        where.append(sql.SQL(
            "(b.username ilike %(q)s or b.display_name ilike %(q)s or b.platform_user_id ilike %(q)s)"))
        params["q"] = f"%{escape_like(q)}%"
    if cursor is not None:
        decoded = cursors.decode(cursor, sort="bloggers", query=filters)
        try:
            key = datetime.fromisoformat(str(decoded.k))
        except ValueError as exc:
            raise BadRequestError("query.cursor", "not a cursor returned by this endpoint") from exc
        if key.tzinfo is None:
            raise BadRequestError("query.cursor", "not a cursor returned by this endpoint")
        params.update(ck=key, cid=decoded.id)
        where.append(sql.SQL("b.created_at <= %(ck)s and (b.created_at < %(ck)s or b.id > %(cid)s)"))
    with db.transaction(Role.READER) as conn:
        rows = conn.execute(sql.SQL(
            f"select {BLOGGER_COLUMNS} from analytics.bloggers b where {{where}}"
            " order by b.created_at desc, b.id limit %(n)s").format(where=sql.SQL(" and ").join(where)),
            params).fetchall()
        items = _summaries(conn, rows[:limit], first, last)
        as_of = data_as_of(conn)
    next_cursor = None
    if len(rows) > limit:
        next_cursor = cursors.encode(cursors.Cursor(s="bloggers", k=items[-1].created_at.isoformat(),
                                                    id=items[-1].id), query=filters)
    return BloggerPage(items=items, next_cursor=next_cursor,
                       period=PeriodInfo(days=period.days, date_from=first, date_to=last), data_as_of=as_of)


def get_blogger(db: Database, blogger_id: UUID, *, period: Period, until: date | None) -> BloggerDetail:
    first, last = period_bounds(period.days, until)
    with db.transaction(Role.READER) as conn:
        row = conn.execute(f"select {BLOGGER_COLUMNS} from analytics.bloggers b where b.id = %s",
                           (blogger_id,)).fetchone()
        if row is None:
            raise NotFoundError("path.blogger_id", "no such blogger")
        (summary,) = _summaries(conn, [row], first, last)
        keyed = page_by_total(conn, "views", video_filters(VideoQuery(blogger_id=blogger_id, sort=VideoSort.views)),
                              None, 200)
        videos = video_rows(conn, [video_id for video_id, _ in keyed], first, last)
        as_of = data_as_of(conn)
    return BloggerDetail(**summary.model_dump(), period=PeriodInfo(days=period.days, date_from=first, date_to=last),
                         videos=videos, data_as_of=as_of)
