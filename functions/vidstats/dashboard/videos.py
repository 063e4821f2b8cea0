"""Videos: the dashboard list (filters, sorts, keyset pages), one video, its series, stopping its tracking.

Reads touch only the read model (``video_latest_statistics``, ``video_growth``, ``mv_video_daily_increments``,
``mv_video_weekly_increments``) and tracking metadata, under ``vidstats_reader``; never the snapshots.

Sorting and paging: every sort is "key descending, NULLs last, then id ascending", so ties are ordered and
a cursor (last key, last id) continues exactly after the last row: no row repeated, none skipped.

- totals (views, likes, ...): the key is the latest counter. A page is read as up to three index range scans
  of ``video_latest_statistics_<metric>_idx`` in order (rows tied with the cursor's key, then lower keys,
  then videos without that counter), each stopping as soon as the page is full;
- growth: the key is the metric's growth over the period (``analytics.video_period_growth``: NULL when nothing
  was measured), read off ``video_growth_<metric>_idx`` in order when the period ends on ``video_growth``'s
  as-of day, else summed at read time;
- recent: the key is the workspace's own ``added_at`` (newest first), walked in
  ``workspace_videos_workspace_id_added_at_idx`` order.

Tracking (state, start, stop) and fetch health are the caller's workspace's own
(``analytics.workspace_video_tracking``): another workspace's start, or its still tracking a video this one
stopped, never shows. Filtered by a rare state (failing, gone, stopped), a list whose workspace has few videos
in it starts from them (``analytics.videos_in_state``) instead of walking the sort's order for them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import psycopg
from psycopg import sql

from vidstats.dashboard import cursor as cursors
from vidstats.dashboard.errors import BadRequestError, ConflictError, NotFoundError
from vidstats.dashboard.freshness import DATA_AS_OF_SQL, data_as_of, data_as_of_from
from vidstats.dashboard.models import (
    METRICS,
    BloggerRef,
    CampaignMembership,
    FetchHealth,
    FetchHealthState,
    Granularity,
    Increments,
    PeriodInfo,
    SeriesPoint,
    Totals,
    TrackingInfo,
    TrackingState,
    TrackingStopped,
    VideoDetail,
    VideoIncrements,
    VideoPage,
    VideoQuery,
    VideoRow,
    VideoSort,
)
from vidstats.db import Database, Role

BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
MAX_SERIES_DAYS = 3660
TOTAL_SORTS = frozenset(METRICS)


def today_utc() -> date:
    return datetime.now(UTC).date()


def period_bounds(days: int, until: date | None) -> tuple[date, date]:
    last = until or today_utc()
    return last - timedelta(days=days - 1), last


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_pattern(text: str) -> str:
    """The ILIKE pattern of ``q``: contains the text, literally."""
    return f"%{escape_like(text)}%"


# ---- the list --------------------------------------------------------------------------------------------


# A column of the video's tracking by the caller's workspace (a probe of workspace_videos' primary key).
WORKSPACE_TRACKING = "select t.{} from analytics.workspace_video_tracking t where t.video_id = v.id"


@dataclass(frozen=True)
class VideoFilters:
    """The list's filters over ``videos v``: ``early`` ones, cheap or index-friendly, narrow the candidates;
    ``late`` ones probe the workspace's tracking per row (the costliest), so a page by a total applies them in the
    page's order to only as many candidates as fill it. ``reads_video_columns``: whether a filter reads a column
    of ``v`` other than its id (a campaign's filter and the workspace-tracking ones read only the id)."""

    early: sql.Composable
    late: sql.Composable
    params: dict[str, Any]
    reads_video_columns: bool

    @property
    def where(self) -> sql.Composable:
        return sql.SQL("{} and {}").format(self.early, self.late)

    def narrowed(self, condition: sql.Composable, **params: Any) -> VideoFilters:
        """These filters and ``condition`` on ``v.id`` (an early one, with its ``params``)."""
        return replace(self, early=sql.SQL("{} and {}").format(self.early, condition),
                       params={**self.params, **params})


def video_filters(query: VideoQuery) -> VideoFilters:
    early: list[sql.Composable] = [sql.SQL("true")]
    late: list[sql.Composable] = [sql.SQL("true")]
    params: dict[str, Any] = {}
    reads_columns = False  # set by each filter that reads a column of v other than its id

    def on_video(condition: str) -> None:
        nonlocal reads_columns
        early.append(sql.SQL(condition))
        reads_columns = True

    if query.platform is not None:
        on_video("v.platform = %(platform)s")
        params["platform"] = query.platform.value
    if query.tracking_state is not None:
        late.append(sql.SQL(f"({WORKSPACE_TRACKING.format('tracking_state')}) = %(tracking_state)s"))
        params["tracking_state"] = query.tracking_state.value
    if query.health is not None:
        late.append(sql.SQL(f"({WORKSPACE_TRACKING.format('fetch_health')}) = %(health)s"))
        if query.health.value in ("failing", "gone"):
            # The same for every workspace: the rare rows come off videos_fetch_health_idx first.
            on_video("v.fetch_health = %(health)s")
        params["health"] = query.health.value
    if query.blogger_id is not None:
        on_video("v.blogger_id = %(blogger_id)s")
        params["blogger_id"] = query.blogger_id
    if query.campaign_id is not None:
        early.append(sql.SQL(
            "exists (select 1 from analytics.campaign_videos cv"
            " where cv.campaign_id = %(campaign_id)s and cv.video_id = v.id)"))
        params["campaign_id"] = query.campaign_id
    if query.q is not None:
        on_video("(v.caption ilike %(q)s or exists (select 1 from analytics.bloggers b"
                 " where b.id = v.blogger_id and (b.username ilike %(q)s or b.display_name ilike %(q)s)))")
        params["q"] = search_pattern(query.q)
    return VideoFilters(sql.SQL(" and ").join(early), sql.SQL(" and ").join(late), params, reads_columns)


# A workspace's pages walk the shared sort indexes, which row-level security filters to the workspace's videos:
# a page of a workspace tracking a share k of the N videos scans about 50 * N / k index rows, each probed
# against workspace_videos. Starting from the workspace's own videos instead costs about k probes and a sort of
# k rows; the two meet near k = sqrt(32 N) (1,300 videos of 50,000; 12,600 of 5 million). Row-level security
# decides what is visible either way: this only chooses the faster plan.
SMALL_WORKSPACE_SCOPE = sql.SQL(
    "v.id = any(array(select wv.video_id from analytics.workspace_videos wv"
    " where wv.workspace_id = (select analytics.current_workspace_id())))")


# Whether the caller's workspace tracks so few of all videos that its pages start from its own videos: its
# tracked videos are counted only up to that threshold (an index-only scan of at most sqrt(32 N) entries).
SMALL_WORKSPACE_PROBE = (
    "(with threshold as (select floor(sqrt(32 * greatest(reltuples, 0)))::bigint as k"
    "                      from pg_class where oid = 'analytics.videos'::regclass)"
    "  select (select count(*) from (select 1 from analytics.workspace_videos"
    "                                 where workspace_id = (select analytics.current_workspace_id())"
    # In key order: an index-only scan that stops at the limit (a bitmap scan would read every entry).
    "                                 order by video_id limit (select k + 1 from threshold)) w)"
    "  <= (select k from threshold))"
)


def starts_from_workspace_videos(conn: psycopg.Connection) -> bool:
    """Whether the caller's workspace's pages start from its own videos (``SMALL_WORKSPACE_PROBE``)."""
    row = conn.execute(f"select {SMALL_WORKSPACE_PROBE}").fetchone()
    return bool(row is not None and row[0])


# The most videos a list starts from when its filters keep few (a rare state's, a search's matches); more: the
# filters are common, the list walks its sort's order. Each costs about a dozen buffer reads (its state or match,
# its workspace's tracking, its latest row), about what walking the sort's order costs per page row found when
# the filters keep 1 in 50 of the videos.
MOST_CANDIDATES = 1000


# The states few of a workspace's videos are usually in (videos_in_state serves them).
RARE_HEALTH = frozenset({FetchHealthState.failing, FetchHealthState.gone, FetchHealthState.stopped})
RARE_TRACKING_STATES = frozenset({TrackingState.stopped, TrackingState.gone})


@dataclass(frozen=True)
class RareState:
    """A filter by a state few videos are usually in: the list may start from the videos in it."""

    health: FetchHealthState | None
    tracking_state: TrackingState | None

    @classmethod
    def of(cls, query: VideoQuery) -> RareState | None:
        if query.health not in RARE_HEALTH and query.tracking_state not in RARE_TRACKING_STATES:
            return None
        return cls(query.health, query.tracking_state)

    @property
    def params(self) -> dict[str, Any]:
        """The parameters of ``IN_STATE`` (the most videos it returns: ``MOST_CANDIDATES`` + 1)."""
        return {"health": self.health.value if self.health else None, "most": MOST_CANDIDATES,
                "tracking_state": self.tracking_state.value if self.tracking_state else None}


IN_STATE = "analytics.videos_in_state(%(health)s, %(tracking_state)s, %(most)s)"


def other_filters(query: VideoQuery) -> VideoFilters:
    """The list's filters but the states (which ``IN_STATE`` applies)."""
    return video_filters(query.model_copy(update={"health": None, "tracking_state": None}))


# The videos whose caption, or whose creator's username or display name, contains the search, that the caller
# may see (trigram indexes, searched as the owner: migration 20261204090100).
SEARCH_MATCHES = "select s.id from analytics.videos_matching(%(q)s, %(most)s) s(id)"


def candidate_source(query: VideoQuery, rare: RareState | None) -> tuple[str, dict[str, Any]] | None:
    """A query of the ids of the only videos the list's filters can keep, when a filter finds them directly (a
    rare state, a search), and its parameters; else None."""
    if rare is not None:
        return f"select s.video_id as id from {IN_STATE} s", rare.params
    if query.q is not None:
        return SEARCH_MATCHES, {"q": search_pattern(query.q), "most": MOST_CANDIDATES}
    return None


@dataclass(frozen=True)
class ListPreamble:
    small_workspace: bool  # its pages start from its own videos (SMALL_WORKSPACE_PROBE)
    data_as_of: datetime | None
    candidates: list[UUID] | None  # the only videos the filters can keep, if at most MOST_CANDIDATES


def list_preamble(conn: psycopg.Connection, *, probe: bool,
                  candidates: tuple[str, dict[str, Any]] | None) -> ListPreamble:
    """In one round trip: whether the pages start from the workspace's own videos (when ``probe``; else False),
    the ids ``candidates`` finds if at most ``MOST_CANDIDATES`` (when given) and the data's as-of instant. Read
    before the page, the as-of instant is never later than the numbers."""
    found = "null::uuid[]"
    if candidates is not None:
        found = (f"(select case when count(*) <= %(most)s then coalesce(array_agg(distinct c.id), '{{}}') end"
                 f"   from ({candidates[0]} limit %(most)s + 1) c)")
    row = conn.execute(f"select {SMALL_WORKSPACE_PROBE if probe else 'false'}, {found}, f.*"
                       f"  from (select) one left join lateral ({DATA_AS_OF_SQL}) f on true",
                       candidates[1] if candidates else {}).fetchone()
    assert row is not None  # one row, whatever refresh_status() holds
    return ListPreamble(bool(row[0]), data_as_of_from(row[2:]), row[1])


def _recency_key(cursor: cursors.Cursor) -> datetime:
    """A recency cursor's key: the workspace's start of its video (an ISO instant with its zone)."""
    if not isinstance(cursor.k, str):
        raise BadRequestError("query.cursor", "not a cursor returned by this endpoint")
    try:
        key = datetime.fromisoformat(cursor.k)
    except ValueError as exc:
        raise BadRequestError("query.cursor", "not a cursor returned by this endpoint") from exc
    if key.tzinfo is None:
        raise BadRequestError("query.cursor", "not a cursor returned by this endpoint")
    return key


def _int_key(cursor: cursors.Cursor) -> int | None:
    if cursor.k is None:
        return None
    if isinstance(cursor.k, bool) or not isinstance(cursor.k, int) or not BIGINT_MIN <= cursor.k <= BIGINT_MAX:
        raise BadRequestError("query.cursor", "not a cursor returned by this endpoint")
    return cursor.k


# The latest rows' video, for filters that read only its id: no probe of videos (and of its row-level security,
# which admits the same videos as the latest rows' own) per row walked.
VIDEO_ID_ONLY = sql.SQL("cross join lateral (select l.video_id as id) v")
VIDEO_ROW = sql.SQL("join analytics.videos v on v.id = l.video_id")


TotalPageRange = Literal["first", "ties", "lower"]


def total_page_query(metric: str, filters: VideoFilters, page_range: TotalPageRange) -> sql.Composed:
    """A page by a total: the latest rows in ``video_latest_statistics_<metric>_idx`` order (key desc, NULLs last,
    id), from the start (``first``), or after a cursor (%(ck)s, %(cid)s): the rows tied with its key past its id
    (``ties``, in id order), then the lower keys (``lower``); each stops once the page (%(n)s) is full.

    The candidates come in the page's order; "offset 0" keeps the late filters out of that ordered scan, so they
    run on the ordered candidates until the page is full (for 250 failing videos of 50,000, on about 50 of them
    instead of all 250 before the sort). The outer query only filters and stops: it returns the candidates in
    their order, and with no ORDER BY of its own it lets the planner plan the inner scan for the few rows the
    limit takes (an outer ORDER BY would have it plan for every row: a sort of the whole table)."""
    col = sql.Identifier(metric)
    cond, order = {
        "first": (sql.SQL("l.{col} is not null").format(col=col), "l.{col} desc nulls last, l.video_id"),
        "ties": (sql.SQL("l.{col} = %(ck)s and l.video_id > %(cid)s").format(col=col), "l.video_id"),
        "lower": (sql.SQL("l.{col} < %(ck)s").format(col=col), "l.{col} desc nulls last, l.video_id"),
    }[page_range]
    return sql.SQL(
        "select v.video_id, v.k from (select l.video_id, l.{col} as k, l.video_id as id"
        "   from analytics.video_latest_statistics l {video}"
        "  where {cond} and {early} order by {inner} offset 0) v"
        " where {late} limit %(n)s"
    ).format(col=col, video=VIDEO_ROW if filters.reads_video_columns else VIDEO_ID_ONLY, cond=cond,
             early=filters.early, late=filters.late, inner=sql.SQL(order).format(col=col))


def page_by_total(conn: psycopg.Connection, metric: str, filters: VideoFilters, cursor: cursors.Cursor | None,
                  n: int) -> list[tuple[UUID, Any]]:
    params = filters.params
    ranges: list[TotalPageRange] = []
    null_after: UUID | None = None
    if cursor is None:
        ranges.append("first")
    else:
        key = _int_key(cursor)
        if key is None:
            null_after = cursor.id
        else:
            params = {**params, "ck": key, "cid": cursor.id}
            ranges += ["ties", "lower"]
    rows: list[tuple[UUID, Any]] = []
    for page_range in ranges:
        query = total_page_query(metric, filters, page_range)
        rows += conn.execute(query, {**params, "n": n - len(rows)}).fetchall()
        if len(rows) >= n:
            return rows
    # Videos without that counter (never fetched, or not reported by the platform), by id.
    null_query = sql.SQL(
        "select v.id, null::bigint from analytics.videos v where {where} and {after} and not exists ("
        " select 1 from analytics.video_latest_statistics l where l.video_id = v.id and l.{col} is not null)"
        " order by v.id limit %(n)s"
    ).format(where=filters.where, col=sql.Identifier(metric),
             after=sql.SQL("v.id > %(nid)s") if null_after is not None else sql.SQL("true"))
    rows += conn.execute(null_query, {**params, "n": n - len(rows), "nid": null_after}).fetchall()
    return rows


@dataclass(frozen=True)
class PageInState:
    keyed: list[tuple[UUID, Any]] | None  # None: more than MOST_CANDIDATES videos are in the state
    data_as_of: datetime | None


# What a page in a rare state is ordered by, from videos_in_state()'s columns: a total, or the workspace's start.
IN_STATE_KEYS = TOTAL_SORTS | {"started_at"}


def page_in_state(conn: psycopg.Connection, key: str, rare: RareState, filters: VideoFilters,
                  cursor: cursors.Cursor | None, n: int) -> PageInState:
    """The page ``page_by_total`` (``key``: a total) or ``_page_by_recency`` (``key``: "started_at") gives with the
    rare state among the filters (``filters``: the others), from the workspace's videos in that state, their totals
    and starts (``IN_STATE``), sorted whole, unless more than ``MOST_CANDIDATES`` are in it (then walking the
    sort's order is quicker). Same order, same cursors. One statement, so one round trip: the data's as-of instant
    is read with the page (the same snapshot)."""
    assert key in IN_STATE_KEYS
    key_of = _recency_key if key == "started_at" else _int_key
    after, params = _after_cursor(cursor, {**filters.params, **rare.params, "n": n}, key_of)
    video = "join analytics.videos v on v.id = g.video_id" if filters.reads_video_columns \
        else "cross join lateral (select g.video_id as id) v"
    query = sql.SQL(
        "with s as (select * from {in_state})"
        " select (select count(*) from s), p.video_id, p.k, f.*"
        "   from (select) one left join lateral ({as_of}) f on true left join lateral ("
        "     select g.video_id, g.k from (select s.video_id, s.{col} as k from s) g {video}"
        "      where {where} and {after} order by g.k desc nulls last, v.id limit %(n)s) p on true"
    ).format(in_state=sql.SQL(IN_STATE), as_of=sql.SQL(DATA_AS_OF_SQL), col=sql.Identifier(key),
             video=sql.SQL(video), where=filters.where, after=after)
    rows = conn.execute(query, params).fetchall()
    as_of = data_as_of_from(rows[0][3:])
    if rows[0][0] > MOST_CANDIDATES:
        return PageInState(None, as_of)
    return PageInState([(video_id, key) for _, video_id, key, *_ in rows if video_id is not None], as_of)


def page_by_total_among(conn: psycopg.Connection, metric: str, ids: list[UUID], filters: VideoFilters,
                        cursor: cursors.Cursor | None, n: int) -> list[tuple[UUID, Any]]:
    """The page ``page_by_total`` gives, among a few given videos: each one's latest row (none: never fetched, no
    key) read by its key, and all of them sorted. Same order, same cursors."""
    after, params = _after_cursor(cursor, {**filters.params, "ids": ids, "n": n})
    video = "join analytics.videos v on v.id = g.video_id" if filters.reads_video_columns \
        else "cross join lateral (select g.video_id as id) v"
    query = sql.SQL(
        "select g.video_id, g.k from (select i.id as video_id, l.{col} as k from unnest(%(ids)s::uuid[]) i(id)"
        "  left join analytics.video_latest_statistics l on l.video_id = i.id) g {video}"
        " where {where} and {after} order by g.k desc nulls last, v.id limit %(n)s"
    ).format(col=sql.Identifier(metric), video=sql.SQL(video), where=filters.where, after=after)
    return conn.execute(query, params).fetchall()


def _after_cursor(cursor: cursors.Cursor | None, params: dict[str, Any],
                  key_of: Callable[[cursors.Cursor], Any] = _int_key) -> tuple[sql.Composable, dict[str, Any]]:
    """The keyset condition "after the cursor's (key, id)" for a page ordered "g.k desc nulls last, v.id" (the
    cursor's key read by ``key_of``)."""
    if cursor is None:
        return sql.SQL("true"), params
    key = key_of(cursor)
    if key is None:
        return sql.SQL("(g.k is null and v.id > %(cid)s)"), {**params, "cid": cursor.id}
    condition = sql.SQL("(g.k < %(ck)s or (g.k = %(ck)s and v.id > %(cid)s) or g.k is null)")
    return condition, {**params, "ck": key, "cid": cursor.id}


def _page_by_growth_sums(conn: psycopg.Connection, metric: str, where: sql.Composable, params: dict[str, Any],
                         cursor: cursors.Cursor | None, n: int, first: date, last: date,
                         selective: bool) -> list[tuple[UUID, Any]]:
    """Growth summed from the daily increments at read time: any period, but for all videos a pass over all of
    the period's daily rows and a sort of every video."""
    after, params = _after_cursor(cursor, {**params, "pf": first, "pt": last, "n": n})
    # Few videos (one campaign, one blogger): their own days, through the primary key; all videos: one pass
    # over the period's days.
    ids = sql.SQL("array(select v.id from analytics.videos v where {where})").format(where=where) if selective \
        else sql.SQL("null")
    query = sql.SQL("select v.id, g.k from analytics.videos v"
                    " left join (select p.video_id, p.{col} as k"
                    "              from analytics.video_period_growth({ids}, %(pf)s, %(pt)s) p) g on g.video_id = v.id"
                    " where {where} and {after} order by g.k desc nulls last, v.id limit %(n)s")
    return conn.execute(query.format(col=sql.Identifier(metric), ids=ids, where=where, after=after),
                        params).fetchall()


# The page query checks the as-of day itself (an InitPlan: evaluated once, then the scan runs or not), so the
# rows it returns always end on the requested day even if a refresh moves video_growth to a new day meanwhile.
GROWTH_AS_OF_IS_LAST = sql.SQL(
    "(select st.growth_as_of from analytics.read_model_state st where st.name = 'video_statistics') = %(pt)s")


def growth_table_query(metric: str, where: sql.Composable, *, cursor_key: Literal["none", "value", "null"]
                       ) -> sql.Composed:
    """A growth page from ``video_growth``: rows of one period walked in ``video_growth_<metric>_idx`` order
    (sum desc, NULLs last, id asc), stopping once the page is full. After a cursor with a key, three index ranges
    (rows tied with the cursor's key past its id, lower keys, unknown growth), each limited to the page, merged:
    at most three pages sorted. After a cursor in the unknown-growth rows, one range of those past its id."""
    col = sql.Identifier(metric)
    base = sql.SQL("select g.video_id, g.{col} as k from analytics.video_growth g"
                   " join analytics.videos v on v.id = g.video_id"
                   " where g.period_days = %(days)s and {cond} and {where} and {as_of} order by {order}"
                   " limit %(n)s")

    def branch(cond: str, order: str) -> sql.Composed:
        return base.format(col=col, cond=sql.SQL(cond).format(col=col), where=where, as_of=GROWTH_AS_OF_IS_LAST,
                           order=sql.SQL(order).format(col=col))

    if cursor_key == "none":
        return branch("true", "g.{col} desc nulls last, g.video_id")
    if cursor_key == "null":
        return branch("g.{col} is null and g.video_id > %(cid)s", "g.{col} desc nulls last, g.video_id")
    ties = branch("g.{col} = %(ck)s and g.video_id > %(cid)s", "g.{col} desc nulls last, g.video_id")
    lower = branch("g.{col} < %(ck)s", "g.{col} desc nulls last, g.video_id")
    unknown = branch("g.{col} is null", "g.{col} desc nulls last, g.video_id")
    return sql.SQL("select video_id, k from (({ties}) union all ({lower}) union all ({unknown})) page"
                   " order by k desc nulls last, video_id limit %(n)s").format(ties=ties, lower=lower, unknown=unknown)


def growth_as_of(conn: psycopg.Connection) -> date | None:
    """The UTC day ``video_growth``'s periods end on (the refresh moves it to each new day)."""
    row = conn.execute(
        "select growth_as_of from analytics.read_model_state where name = 'video_statistics'").fetchone()
    return None if row is None else row[0]


def _page_by_growth_table(conn: psycopg.Connection, metric: str, where: sql.Composable, params: dict[str, Any],
                          cursor: cursors.Cursor | None, n: int, days: int, last: date) -> list[tuple[UUID, Any]]:
    params = {**params, "days": days, "pt": last, "n": n}
    cursor_key: Literal["none", "value", "null"] = "none"
    if cursor is not None:
        key = _int_key(cursor)
        cursor_key = "null" if key is None else "value"
        params.update(ck=key, cid=cursor.id)
    query = growth_table_query(metric, where, cursor_key=cursor_key)
    return conn.execute(query, params).fetchall()


def _page_by_growth(conn: psycopg.Connection, metric: str, where: sql.Composable, params: dict[str, Any],
                    cursor: cursors.Cursor | None, n: int, first: date, last: date,
                    selective: bool) -> list[tuple[UUID, Any]]:
    """Growth pages come from ``video_growth`` when the period ends on its as-of day (the usual case: ``until``
    not given, the refresh has run today); otherwise, or for few videos (summing their days is as quick), from
    the daily increments at read time. Both give the same keys, so the same order and cursors."""
    if not selective:
        rows = _page_by_growth_table(conn, metric, where, params, cursor, n, (last - first).days + 1, last)
        # A short page is the list's end, unless the table does not end on that day (then it returned nothing).
        if len(rows) == n or growth_as_of(conn) == last:
            return rows
    return _page_by_growth_sums(conn, metric, where, params, cursor, n, first, last, selective)


def _page_by_recency(conn: psycopg.Connection, where: sql.Composable, params: dict[str, Any],
                     cursor: cursors.Cursor | None, n: int, among: list[UUID] | None = None
                     ) -> list[tuple[UUID, Any]]:
    params = {**params, "n": n}
    if cursor is not None:
        params.update(ck=_recency_key(cursor), cid=cursor.id)
    if among is not None:
        params["among"] = among
    return conn.execute(recency_query(where, after_cursor=cursor is not None, among=among is not None),
                        params).fetchall()


def recency_query(where: sql.Composable, *, after_cursor: bool, among: bool = False) -> sql.Composed:
    """The workspace's own start, newest first: an index range of workspace_videos_workspace_id_added_at_idx
    (after a cursor, from its key on), stopping once the page is full; ``among`` a few given videos
    (%(among)s), their entries read by key and sorted."""
    after = sql.SQL("wv.added_at <= %(ck)s and (wv.added_at < %(ck)s or wv.video_id > %(cid)s)") if after_cursor \
        else sql.SQL("true")
    entries = sql.SQL("unnest(%(among)s::uuid[]) a(id) join analytics.workspace_videos wv on wv.video_id = a.id"
                      if among else "analytics.workspace_videos wv")
    return sql.SQL("select wv.video_id, wv.added_at from {entries}"
                   " join analytics.videos v on v.id = wv.video_id"
                   " where wv.workspace_id = (select analytics.viewing_workspace_id()) and {where} and {after}"
                   " order by wv.added_at desc, wv.video_id limit %(n)s").format(entries=entries, where=where,
                                                                                after=after)


def _row(r: Sequence[Any]) -> VideoRow:
    """A row of ``analytics.video_list_rows`` (after its position)."""
    return VideoRow(
        id=r[1], platform=r[2], external_video_id=r[3], url=r[4], caption=r[5], published_at=r[6],
        blogger=BloggerRef(id=r[7], username=r[8], display_name=r[9]) if r[7] is not None else None,
        tracking_state=r[10], tracking_started_at=r[11],
        totals=Totals(views=r[12], likes=r[13], comments=r[14], reposts=r[15], saves=r[16]), stats_at=r[17],
        views_kind=r[18], increments=Increments(views=r[19], likes=r[20], comments=r[21], reposts=r[22], saves=r[23]),
    )


def video_rows(conn: psycopg.Connection, ids: Sequence[UUID], first: date, last: date) -> list[VideoRow]:
    """The rows of the given videos, in the given order: totals and the period's increments
    (``analytics.video_list_rows``: its statements are planned once per session, behind any pooler)."""
    if not ids:
        return []
    rows = conn.execute("select * from analytics.video_list_rows(%s, %s, %s) r order by r.ord",
                        (list(ids), first, last)).fetchall()
    return [_row(r) for r in rows]


def _page(conn: psycopg.Connection, query: VideoQuery, filters: VideoFilters, cursor: cursors.Cursor | None,
          n: int, first: date, last: date, selective: bool, among: list[UUID] | None) -> list[tuple[UUID, Any]]:
    """The page's videos and keys: read in the sort's order, or ``among`` the only videos the filters can keep
    (then each one's key is read and they are sorted)."""
    if query.sort.value in TOTAL_SORTS:
        if among is not None:
            return page_by_total_among(conn, query.sort.value, among, filters, cursor, n)
        return page_by_total(conn, query.sort.value, filters, cursor, n)
    if query.sort is VideoSort.growth:
        if among is not None:  # their growth summed for them alone (the page starts from their ids)
            filters = filters.narrowed(sql.SQL("v.id = any(%(among)s)"), among=among)
        return _page_by_growth(conn, query.metric.value, filters.where, filters.params, cursor, n, first, last,
                               selective or among is not None)
    return _page_by_recency(conn, filters.where, filters.params, cursor, n, among)


def list_videos(db: Database, query: VideoQuery) -> VideoPage:
    signature = f"{query.sort.value}:{query.metric.value}:{query.period.value}"
    filters = query.model_dump(mode="json", exclude={"cursor", "limit"})  # a cursor is bound to these
    cursor = cursors.decode(query.cursor, sort=signature, query=filters) if query.cursor is not None else None
    until = cursor.u if cursor is not None and cursor.u is not None else query.until
    first, last = period_bounds(query.period.days, until)
    conditions = video_filters(query)
    n = query.limit + 1  # one more than asked: tells whether there is a next page
    selective = query.campaign_id is not None or query.blogger_id is not None
    rare = RareState.of(query)
    # In a rare state, a page by a total or by recency is read with the videos in it; growth starts from their ids.
    in_state_key = "started_at" if query.sort is VideoSort.recent else query.sort.value
    read_in_state = in_state_key in IN_STATE_KEYS
    with db.transaction(Role.READER) as conn:
        in_state = page_in_state(conn, in_state_key, rare, other_filters(query), cursor, n) \
            if rare is not None and read_in_state else PageInState(None, None)
        keyed, as_of = in_state.keyed, in_state.data_as_of
        if keyed is None:
            rare_candidates = None if read_in_state else rare  # (common, if a page read in state got here)
            preamble = list_preamble(conn, probe=not selective and query.sort is not VideoSort.recent,
                                     candidates=candidate_source(query, rare_candidates))
            as_of = preamble.data_as_of
            if preamble.candidates is not None and rare_candidates is not None:
                conditions = other_filters(query)  # videos_in_state checked the states
            elif preamble.small_workspace and preamble.candidates is None:
                conditions = conditions.narrowed(SMALL_WORKSPACE_SCOPE)
            keyed = _page(conn, query, conditions, cursor, n, first, last, selective, preamble.candidates)
        page, more = keyed[: query.limit], len(keyed) > query.limit
        items = video_rows(conn, [video_id for video_id, _ in page], first, last)
    next_cursor = None
    if more:
        last_id, last_key = page[-1]
        key = last_key.isoformat() if isinstance(last_key, datetime) else last_key
        next_cursor = cursors.encode(cursors.Cursor(s=signature, k=key, id=last_id, u=last), query=filters)
    return VideoPage(items=items, next_cursor=next_cursor, sort=query.sort, metric=query.metric,
                     period=PeriodInfo(days=query.period.days, date_from=first, date_to=last), data_as_of=as_of)


# ---- one video ---------------------------------------------------------------------------------------------


def get_video(db: Database, video_id: UUID) -> VideoDetail:
    today = today_utc()
    with db.transaction(Role.READER) as conn:
        row = conn.execute(
            "select v.id, v.platform, v.external_video_id, v.url, v.caption, v.published_at, v.blogger_id,"
            "       b.username, t.tracking_state, t.started_at, t.stopped_at, analytics.video_last_fetched_at(v.id),"
            "       v.last_error, v.last_error_at, l.views, l.likes, l.comments, l.reposts, l.saves, l.created_at,"
            "       t.fetch_health, v.last_error_class, v.consecutive_failures, v.failure_days, l.views_kind,"
            "       b.display_name"
            "  from analytics.videos v"
            "  join analytics.workspace_video_tracking t on t.video_id = v.id"
            "  left join analytics.bloggers b on b.id = v.blogger_id"
            "  left join analytics.video_latest_statistics l on l.video_id = v.id"
            " where v.id = %s", (video_id,)).fetchone()
        if row is None:
            raise NotFoundError("path.video_id", "no such video")
        growth: dict[int, Increments] = {}
        for days in (1, 7, 30):
            first, last = period_bounds(days, today)
            g = conn.execute("select views, likes, comments, reposts, saves"
                             "  from analytics.video_period_growth(array[%s]::uuid[], %s, %s)",
                             (video_id, first, last)).fetchone()
            growth[days] = Increments(**dict(zip(METRICS, g, strict=True))) if g is not None else Increments()
        campaigns = conn.execute(
            "select c.id, c.name, cv.added_at from analytics.campaign_videos cv"
            "  join analytics.campaigns c on c.id = cv.campaign_id where cv.video_id = %s"
            " order by cv.added_at, c.id", (video_id,)).fetchall()
        as_of = data_as_of(conn)
    return VideoDetail(
        id=row[0], platform=row[1], external_video_id=row[2], url=row[3], caption=row[4], published_at=row[5],
        blogger=BloggerRef(id=row[6], username=row[7], display_name=row[25]) if row[6] is not None else None,
        tracking=TrackingInfo(state=row[8], started_at=row[9], stopped_at=row[10], last_fetched_at=row[11],
                              last_error=row[12], last_error_at=row[13]),
        health=FetchHealth(state=row[20], last_success_at=row[11], last_error_class=row[21], last_error=row[12],
                           last_error_at=row[13], consecutive_failures=row[22], failure_days=row[23]),
        totals=Totals(views=row[14], likes=row[15], comments=row[16], reposts=row[17], saves=row[18]),
        views_kind=row[24], stats_at=row[19], growth_1d=growth[1], growth_7d=growth[7], growth_30d=growth[30],
        campaigns=[CampaignMembership(campaign_id=c[0], name=c[1], added_at=c[2]) for c in campaigns],
        data_as_of=as_of,
    )


def series_range(date_from: date | None, date_to: date | None, default_days: int) -> tuple[date, date]:
    last = date_to or today_utc()
    first = date_from or last - timedelta(days=default_days - 1)
    if first > last:
        raise BadRequestError("query.from", "must not be after `to`")
    if (last - first).days >= MAX_SERIES_DAYS:
        raise BadRequestError("query.from", f"a series spans at most {MAX_SERIES_DAYS} days")
    return first, last


def video_increments(db: Database, video_id: UUID, granularity: Granularity, date_from: date | None,
                     date_to: date | None) -> VideoIncrements:
    """A point per UTC day in [from, to], or per ISO week cut to [from, to] (``analytics.video_series``). Every
    day (week) is present, with null growth where nothing was measured."""
    first, last = series_range(date_from, date_to, 30 if granularity is Granularity.daily else 12 * 7)
    with db.transaction(Role.READER) as conn:
        if conn.execute("select 1 from analytics.videos where id = %s", (video_id,)).fetchone() is None:
            raise NotFoundError("path.video_id", "no such video")
        rows = conn.execute("select * from analytics.video_series(%s, %s, %s, %s)",
                            (video_id, first, last, "day" if granularity is Granularity.daily else "week")).fetchall()
        as_of = data_as_of(conn)
    return VideoIncrements(
        video_id=video_id, granularity=granularity, date_from=first, date_to=last,
        points=[SeriesPoint(period_start=r[0], period_end=r[1], views=r[2], likes=r[3], comments=r[4], reposts=r[5],
                            saves=r[6], snapshots=r[7]) for r in rows],
        data_as_of=as_of,
    )


# ---- commands ----------------------------------------------------------------------------------------------


def stop_tracking(db: Database, video_id: UUID) -> TrackingStopped:
    """Stops the nightly fetches of a video (its history and read model rows stay). Stopping a stopped video
    changes nothing; a video the platform reported gone cannot be stopped (409)."""
    # The workspace's own tracking (another workspace may still track the video), the video's fetch record.
    # The last fetch is the video's latest snapshot, or a later fetch time on its row (analytics.last_fetch_at).
    query = ("select t.tracking_state, t.started_at, t.stopped_at, analytics.video_last_fetched_at(v.id),"
             "       v.last_error, v.last_error_at"
             "  from analytics.videos v join analytics.workspace_video_tracking t on t.video_id = v.id"
             " where v.id = %s")
    with db.transaction(Role.READER) as conn:
        row = conn.execute(query, (video_id,)).fetchone()
        if row is None:
            raise NotFoundError("path.video_id", "no such video")
        if row[0] == "gone":
            raise ConflictError("path.video_id", "the platform reported this video gone; it is not tracked")
        if row[0] == "active":
            # This workspace stops; the video stops being fetched once no workspace tracks it.
            conn.execute("select analytics.stop_workspace_tracking(%s)", (video_id,))
            row = conn.execute(query, (video_id,)).fetchone()
            assert row is not None
    return TrackingStopped(video_id=video_id, tracking=TrackingInfo(
        state=row[0], started_at=row[1], stopped_at=row[2], last_fetched_at=row[3], last_error=row[4],
        last_error_at=row[5]))
