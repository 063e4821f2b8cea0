"""Campaigns: list, one campaign, its "Totals vs Increments" analytics, and the commands that edit them.

Every campaign figure comes from one SQL definition (migration ``20261130100000_trusted_numbers``): a video's
growth in a campaign counts its snapshots taken after it entered the campaign (the later of the campaign's start
and the video's ``added_at``) and before the campaign's end, so it is measured from its last snapshot at or
before that moment (or its first one after it) to its last one before the end. ``analytics.campaign_video_days``
gives that growth per video and UTC day; the per-video growth, the campaign's growth and its daily and weekly
series are sums of those rows, here and in the export alike, so they always agree.

Totals are the latest absolute counters, whatever the window. ``from``/``to`` narrow the counted days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
from psycopg import errors, sql

from vidstats.dashboard import cursor as cursors
from vidstats.dashboard.errors import BadRequestError, ConflictError, NotFoundError
from vidstats.dashboard.freshness import data_as_of
from vidstats.dashboard.models import (
    METRICS,
    AnalyticsMode,
    Campaign,
    CampaignAnalytics,
    CampaignCreate,
    CampaignDetail,
    CampaignPage,
    CampaignSummary,
    CampaignUpdate,
    CampaignVideoBreakdown,
    CampaignVideosAdd,
    CampaignVideosAdded,
    Increments,
    SeriesPoint,
    Totals,
)
from vidstats.dashboard.videos import MAX_SERIES_DAYS, today_utc
from vidstats.db import Database, Role

COUNTING_RULE = (
    "A video's growth in the campaign counts what it gained after it entered the campaign (the later of the "
    "campaign's start and the moment the video was added) and before the campaign's end: from its last snapshot "
    "at or before entering (or its first one after) to its last snapshot before the end. Daily points are UTC "
    "days, weekly points ISO weeks (Monday start) cut to the range; they sum to the campaign's growth. Null: "
    "not measured (a counter the platform does not report)."
)

CAMPAIGN_COLUMNS = ("c.id, c.name, c.starts_at, c.ends_at, c.created_at,"
                    " (select count(*) from analytics.campaign_videos cv where cv.campaign_id = c.id)")


# The analytics route's one statement: the campaign's growth, its series and its `n` highest video rows (one more
# than asked, to tell truncation) from one read of its counted days. {figures}: the function that reads them.
# Without video rows (limit 0) the figures read the campaign's daily sums kept by the refresh when they are current
# (migration 20261203100000): a campaign of 5,000 videos over 100 days, 1.5 ms instead of 590 ms.
ANALYTICS_SQL = sql.SQL(
    "with f as (select f.*, row_number() over (partition by f.kind order by f.views desc nulls last,"
    "                                            f.video_id, f.period_start) as n"
    "             from {figures}(%(cid)s, %(first)s, %(last)s, %(bucket)s, %(videos)s) f)"
    "select f.kind, f.period_start, f.period_end, f.views, f.likes, f.comments, f.reposts, f.saves,"
    "       f.snapshots, v.id, v.platform, v.external_video_id, v.url, v.caption, cv.added_at,"
    "       greatest(c.starts_at, cv.added_at), f.counted_from, f.counted_to,"
    "       l.views, l.likes, l.comments, l.reposts, l.saves"
    "  from f"
    "  left join analytics.campaign_videos cv on cv.campaign_id = %(cid)s and cv.video_id = f.video_id"
    "  left join analytics.campaigns c on c.id = cv.campaign_id"
    "  left join analytics.videos v on v.id = f.video_id"
    "  left join analytics.video_latest_statistics l on l.video_id = f.video_id"
    " where f.kind <> 'video' or f.n <= %(n)s"
    " order by f.kind, f.period_start, f.n")
# campaign_figures() under the caller's row-level security probes the caller's access once per counted day;
# viewer_campaign_figures() (migration 20261201153000) checks it once per statement and per campaign video, and
# gives no rows when a campaign video is not one its workspace tracks: then the first is read instead.
FIGURES_CHECKED_ONCE = sql.Identifier("analytics", "viewer_campaign_figures")
FIGURES_UNDER_RLS = sql.Identifier("analytics", "campaign_figures")


def first_counted_day(starts_at: datetime) -> date:
    """The UTC day of the campaign's start: its growth from then on counts."""
    return starts_at.astimezone(UTC).date()


def last_counted_day(ends_at: datetime) -> date:
    """The UTC day holding the last instant before the (exclusive) end."""
    return (ends_at.astimezone(UTC) - timedelta(microseconds=1)).date()


def _campaign(row: Any) -> Campaign:
    return Campaign(id=row[0], name=row[1], starts_at=row[2], ends_at=row[3], created_at=row[4],
                    video_count=row[5])


def _fetch(conn: psycopg.Connection, campaign_id: UUID, *, lock: bool = False) -> Campaign:
    row = conn.execute(f"select {CAMPAIGN_COLUMNS} from analytics.campaigns c where c.id = %s"
                       + (" for update" if lock else ""), (campaign_id,)).fetchone()
    if row is None:
        raise NotFoundError("path.campaign_id", "no such campaign")
    return _campaign(row)


def list_campaigns(db: Database, *, limit: int, cursor: str | None, date_from: date | None = None,
                   date_to: date | None = None) -> CampaignPage:
    """Newest first (created_at desc, then id), each with its totals and its growth over [from, to]: for the
    whole page in one statement, from the figure the analytics route reads (``analytics.campaign_figures``)."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise BadRequestError("query.from", "must not be after `to`")
    after = sql.SQL("true")
    params: dict[str, Any] = {"n": limit + 1}
    if cursor is not None:
        decoded = cursors.decode(cursor, sort="campaigns")
        try:
            key = datetime.fromisoformat(str(decoded.k))
        except ValueError as exc:
            raise BadRequestError("query.cursor", "not a cursor returned by this endpoint") from exc
        if key.tzinfo is None:
            raise BadRequestError("query.cursor", "not a cursor returned by this endpoint")
        params.update(ck=key, cid=decoded.id)
        after = sql.SQL("c.created_at <= %(ck)s and (c.created_at < %(ck)s or c.id > %(cid)s)")
    with db.transaction(Role.READER) as conn:
        rows = conn.execute(sql.SQL(
            f"select {CAMPAIGN_COLUMNS} from analytics.campaigns c where {{after}}"
            " order by c.created_at desc, c.id limit %(n)s").format(after=after), params).fetchall()
        page = [_campaign(r) for r in rows[:limit]]
        windows = [counted_days(c, date_from, date_to) for c in page]
        figures = _page_figures(conn, page, windows)
    items = [CampaignSummary(**c.model_dump(), date_from=w[0] if w else None, date_to=w[1] if w else None,
                             totals=figures[c.id][0], increments=figures[c.id][1])
             for c, w in zip(page, windows, strict=True)]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = cursors.encode(cursors.Cursor(s="campaigns", k=items[-1].created_at.isoformat(),
                                                    id=items[-1].id))
    return CampaignPage(items=items, next_cursor=next_cursor)


def _page_figures(conn: psycopg.Connection, page: list[Campaign], windows: list[tuple[date, date] | None]
                  ) -> dict[UUID, tuple[Totals, Increments]]:
    """Each campaign's totals (as ``CampaignDetail.totals``) and growth over its window (as the analytics
    route's ``increments``), one statement for the page."""
    if not page:
        return {}
    bounds = {c.id: w or NOTHING_COUNTED for c, w in zip(page, windows, strict=True)}
    figures: dict[UUID, tuple[Totals, Increments]] = {}
    for function in (FIGURES_CHECKED_ONCE, FIGURES_UNDER_RLS):  # the second: campaigns the first gave no row
        wanted = [c for c in bounds if c not in figures]
        if not wanted:
            break
        rows = conn.execute(sql.SQL(
            "select p.id, t.views, t.likes, t.comments, t.reposts, t.saves,"
            "       f.views, f.likes, f.comments, f.reposts, f.saves"
            "  from unnest(%s::uuid[], %s::date[], %s::date[]) p(id, first_day, last_day)"
            "  left join lateral (select * from analytics.campaign_totals t where t.campaign_id = p.id) t on true"
            " cross join lateral {figures}(p.id, p.first_day, p.last_day, null, false) f"
            " where f.kind = 'campaign'").format(figures=function),
            (wanted, [bounds[c][0] for c in wanted], [bounds[c][1] for c in wanted])).fetchall()
        figures.update({r[0]: (Totals(**dict(zip(METRICS, r[1:6], strict=True))),
                               Increments(**dict(zip(METRICS, r[6:11], strict=True)))) for r in rows})
    return figures


def _totals(conn: psycopg.Connection, campaign_id: UUID) -> Totals:
    row = conn.execute("select views, likes, comments, reposts, saves from analytics.campaign_totals"
                       " where campaign_id = %s", (campaign_id,)).fetchone()
    return Totals(**dict(zip(METRICS, row, strict=True))) if row is not None else Totals()


def get_campaign(db: Database, campaign_id: UUID) -> CampaignDetail:
    with db.transaction(Role.READER) as conn:
        campaign = _fetch(conn, campaign_id)
        totals = _totals(conn, campaign_id)
        as_of = data_as_of(conn)
    return CampaignDetail(**campaign.model_dump(), totals=totals, data_as_of=as_of)


# What an empty window is given to the figures' SQL: a range that ends before it starts, so nothing is counted.
NOTHING_COUNTED = (date.max, date.min)


def counted_days(campaign: Campaign, date_from: date | None, date_to: date | None) -> tuple[date, date] | None:
    """The campaign-wide range of counted days (before each video's own added_at is applied); None: empty."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise BadRequestError("query.from", "must not be after `to`")
    first = first_counted_day(campaign.starts_at)
    last = today_utc() if campaign.ends_at is None else min(last_counted_day(campaign.ends_at), today_utc())
    if date_from is not None:
        first = max(first, date_from)
    if date_to is not None:
        last = min(last, date_to)
    return (first, last) if first <= last else None


def campaign_analytics(db: Database, campaign_id: UUID, *, mode: AnalyticsMode, date_from: date | None,
                       date_to: date | None, limit: int) -> CampaignAnalytics:
    with db.transaction(Role.READER) as conn:
        campaign = _fetch(conn, campaign_id)
        window = counted_days(campaign, date_from, date_to)
        if window is not None and mode is not AnalyticsMode.totals and \
                (window[1] - window[0]).days >= MAX_SERIES_DAYS:
            raise BadRequestError("query.from", f"a series spans at most {MAX_SERIES_DAYS} days; narrow from/to")
        first, last = window or NOTHING_COUNTED
        bucket = None if window is None or mode is AnalyticsMode.totals else \
            "day" if mode is AnalyticsMode.daily else "week"
        # One read of the campaign's days gives its growth, the series and the per-video rows.
        params = {"cid": campaign_id, "first": first, "last": last, "bucket": bucket, "videos": limit > 0,
                  "n": limit + 1}
        rows = conn.execute(ANALYTICS_SQL.format(figures=FIGURES_CHECKED_ONCE), params).fetchall()
        if not rows:  # a campaign video its workspace does not track: the figures row-level security shows
            rows = conn.execute(ANALYTICS_SQL.format(figures=FIGURES_UNDER_RLS), params).fetchall()
        totals = _totals(conn, campaign_id)
        as_of = data_as_of(conn)
    increments = Increments()
    series: list[SeriesPoint] = []
    breakdown: list[CampaignVideoBreakdown] = []
    for r in rows:
        if r[0] == "campaign":
            increments = Increments(**dict(zip(METRICS, r[3:8], strict=True)))
        elif r[0] == "point":
            series.append(SeriesPoint(period_start=r[1], period_end=r[2], views=r[3], likes=r[4], comments=r[5],
                                      reposts=r[6], saves=r[7], snapshots=r[8]))
        elif r[9] is not None:  # (None: under row-level security, a video its workspace does not track)
            breakdown.append(CampaignVideoBreakdown(
                video_id=r[9], platform=r[10], external_video_id=r[11], url=r[12], caption=r[13], added_at=r[14],
                entered_at=r[15], counted_from=r[16], counted_to=r[17],
                totals=Totals(**dict(zip(METRICS, r[18:23], strict=True))),
                increments=Increments(**dict(zip(METRICS, r[3:8], strict=True)))))
    return CampaignAnalytics(
        campaign=campaign, mode=mode, date_from=window[0] if window else None,
        date_to=window[1] if window else None, counting_rule=COUNTING_RULE, totals=totals,
        increments=increments, series=series, videos=breakdown[:limit],
        videos_truncated=len(breakdown) > limit or (limit == 0 and campaign.video_count > 0), data_as_of=as_of)


# ---- commands ----------------------------------------------------------------------------------------------


def create_campaign(db: Database, body: CampaignCreate) -> Campaign:
    with db.transaction(Role.READER) as conn:
        row = conn.execute(
            "insert into analytics.campaigns (name, starts_at, ends_at) values (%s, %s, %s) returning id",
            (body.name.strip(), body.starts_at, body.ends_at)).fetchone()
        assert row is not None
        return _fetch(conn, row[0])


def update_campaign(db: Database, campaign_id: UUID, body: CampaignUpdate) -> Campaign:
    given = body.model_fields_set
    with db.transaction(Role.READER) as conn:
        current = _fetch(conn, campaign_id, lock=True)
        name = body.name.strip() if "name" in given and body.name is not None else current.name
        if "name" in given and body.name is None:
            raise BadRequestError("body.name", "a campaign needs a name; it cannot be null")
        if "starts_at" in given and body.starts_at is None:
            raise BadRequestError("body.starts_at", "a campaign needs a start; it cannot be null")
        starts_at = body.starts_at if body.starts_at is not None else current.starts_at
        ends_at = body.ends_at if "ends_at" in given else current.ends_at
        if ends_at is not None and ends_at <= starts_at:
            field = "body.ends_at" if "ends_at" in given else "body.starts_at"
            raise ConflictError(field, f"the campaign would end ({ends_at.isoformat()}) before it starts"
                                  f" ({starts_at.isoformat()})")
        conn.execute("update analytics.campaigns set name = %s, starts_at = %s, ends_at = %s where id = %s",
                     (name, starts_at, ends_at, campaign_id))
        return _fetch(conn, campaign_id)


def add_videos(db: Database, campaign_id: UUID, body: CampaignVideosAdd) -> CampaignVideosAdded:
    wanted = list(dict.fromkeys(body.video_ids))
    with db.transaction(Role.READER) as conn:
        _fetch(conn, campaign_id)
        known = {r[0] for r in conn.execute("select id from analytics.videos where id = any(%s)",
                                             (wanted,)).fetchall()}
        missing = [str(v) for v in wanted if v not in known]
        if missing:
            raise NotFoundError("body.video_ids", f"no such videos: {', '.join(missing[:20])}")
        try:
            inserted = {r[0] for r in conn.execute(
                "insert into analytics.campaign_videos (campaign_id, video_id, added_at)"
                " select %s, v, coalesce(%s, now()) from unnest(%s::uuid[]) v"
                " on conflict (campaign_id, video_id) do nothing returning video_id",
                (campaign_id, body.added_at, wanted)).fetchall()}
        except errors.ForeignKeyViolation as exc:  # deleted meanwhile
            raise ConflictError("body.video_ids", "a video or the campaign was deleted meanwhile") from exc
    return CampaignVideosAdded(campaign_id=campaign_id, added=[v for v in wanted if v in inserted],
                               already_present=[v for v in wanted if v not in inserted])
