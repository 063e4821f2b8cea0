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

from collections.abc import Iterable
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


def list_campaigns(db: Database, *, limit: int, cursor: str | None) -> CampaignPage:
    """Newest first (created_at desc, then id)."""
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
    items = [_campaign(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = cursors.encode(cursors.Cursor(s="campaigns", k=items[-1].created_at.isoformat(),
                                                    id=items[-1].id))
    return CampaignPage(items=items, next_cursor=next_cursor)


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
        # An empty window counts nothing: the range that ends before it starts.
        first, last = window if window is not None else (date.max, date.min)
        params = {"cid": campaign_id, "first": first, "last": last}
        breakdown_rows = conn.execute(
            "select v.id, v.platform, v.external_video_id, v.url, v.caption, cv.added_at,"
            "       greatest(c.starts_at, cv.added_at), g.counted_from, g.counted_to,"
            "       l.views, l.likes, l.comments, l.reposts, l.saves,"
            "       g.views, g.likes, g.comments, g.reposts, g.saves"
            "  from analytics.campaign_video_growth(%(cid)s, %(first)s, %(last)s) g"
            "  join analytics.campaign_videos cv on cv.campaign_id = %(cid)s and cv.video_id = g.video_id"
            "  join analytics.campaigns c on c.id = cv.campaign_id"
            "  join analytics.videos v on v.id = g.video_id"
            "  left join analytics.video_latest_statistics l on l.video_id = v.id"
            " order by g.views desc nulls last, v.id", params).fetchall()
        series: list[SeriesPoint] = []
        if window is not None and mode is not AnalyticsMode.totals:
            bucket = "day" if mode is AnalyticsMode.daily else "week"
            series = [
                SeriesPoint(period_start=r[0], period_end=r[1], views=r[2], likes=r[3], comments=r[4], reposts=r[5],
                            saves=r[6], snapshots=r[7])
                for r in conn.execute("select * from analytics.campaign_series(%(cid)s, %(first)s, %(last)s,"
                                      " %(bucket)s)", {**params, "bucket": bucket}).fetchall()]
        totals = _totals(conn, campaign_id)
        as_of = data_as_of(conn)
    breakdown = [
        CampaignVideoBreakdown(
            video_id=r[0], platform=r[1], external_video_id=r[2], url=r[3], caption=r[4], added_at=r[5],
            entered_at=r[6], counted_from=r[7], counted_to=r[8],
            totals=Totals(**dict(zip(METRICS, r[9:14], strict=True))),
            increments=Increments(**dict(zip(METRICS, r[14:19], strict=True))))
        for r in breakdown_rows
    ]
    increments = Increments(**{m: total(getattr(b.increments, m) for b in breakdown) for m in METRICS})
    return CampaignAnalytics(
        campaign=campaign, mode=mode, date_from=window[0] if window else None,
        date_to=window[1] if window else None, counting_rule=COUNTING_RULE, totals=totals,
        increments=increments, series=series, videos=breakdown[:limit],
        videos_truncated=len(breakdown) > limit, data_as_of=as_of)


def total(values: Iterable[int | None]) -> int | None:
    """The sum of the known values; None when none is known (as SQL's sum)."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None


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
