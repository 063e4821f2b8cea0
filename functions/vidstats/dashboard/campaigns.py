"""Campaigns: list, one campaign, its "Totals vs Increments" analytics, and the commands that edit them.

The counting rule (the read model is per UTC day, so the rule is per UTC day too):

    A video's daily increment of UTC day D counts for a campaign when the whole day D lies inside the time
    the video was in the campaign: D starts at or after max(campaign.starts_at, the video's added_at), and D
    ends at or before campaign.ends_at (open-ended campaigns: up to today, today's partial day included).

So a video added at 14:30 counts from the next day on; a campaign starting at midnight counts that day; a
campaign whose ``ends_at`` is midnight counts up to the day before. A snapshot taken before a video's
``added_at`` (earlier days, or earlier the same day) never contributes. What the first counted day does
include is the growth since the video's previous snapshot, which may have been taken before ``added_at``: a
per-day read model cannot split growth finer than the snapshots that measured it.

Totals are the latest absolute counters, whatever the window. ``from``/``to`` narrow the counted days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
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
    "Daily increments count for UTC days lying wholly inside the time each video was in the campaign: from the "
    "first midnight (UTC) at or after max(starts_at, added_at) up to the last midnight at or before ends_at "
    "(open-ended: through today). Weekly points sum those counted days per ISO week (Monday start)."
)

CAMPAIGN_COLUMNS = ("c.id, c.name, c.starts_at, c.ends_at, c.created_at,"
                    " (select count(*) from analytics.campaign_videos cv where cv.campaign_id = c.id)")


def first_whole_day(instant: datetime) -> date:
    """The first UTC day that starts at or after ``instant``."""
    utc = instant.astimezone(UTC)
    return utc.date() if utc.time() == time(0) else utc.date() + timedelta(days=1)


def last_whole_day(instant: datetime) -> date:
    """The last UTC day that ends at or before ``instant``."""
    return instant.astimezone(UTC).date() - timedelta(days=1)


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
    row = conn.execute(
        "select sum(l.views), sum(l.likes), sum(l.comments), sum(l.reposts), sum(l.saves)"
        "  from analytics.campaign_videos cv join analytics.video_latest_statistics l on l.video_id = cv.video_id"
        " where cv.campaign_id = %s", (campaign_id,)).fetchone()
    assert row is not None
    return Totals(**dict(zip(METRICS, row, strict=True)))


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
    first = first_whole_day(campaign.starts_at)
    last = today_utc() if campaign.ends_at is None else min(last_whole_day(campaign.ends_at), today_utc())
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
        members = conn.execute(
            "select cv.video_id, cv.added_at from analytics.campaign_videos cv where cv.campaign_id = %s",
            (campaign_id,)).fetchall()
        counted: dict[UUID, date] = {}
        if window is not None:
            for video_id, added_at in members:
                start = max(window[0], first_whole_day(added_at))
                if start <= window[1]:
                    counted[video_id] = start
        ids, starts = list(counted), list(counted.values())
        params = {"ids": ids, "starts": starts, "last": window[1] if window else None, "cid": campaign_id}
        counted_cte = (
            "with m as (select * from unnest(%(ids)s::uuid[], %(starts)s::date[]) as m(video_id, first_day)),"
            " counted as (select d.* from m join analytics.mv_video_daily_increments d"
            "   on d.video_id = m.video_id and d.date between m.first_day and %(last)s)")
        sums = ", ".join(f"coalesce(sum({m}_delta), 0)" for m in METRICS)
        per_video: dict[UUID, Increments] = {}
        if ids:
            for r in conn.execute(f"{counted_cte} select video_id, {sums} from counted group by video_id",
                                  params).fetchall():
                per_video[r[0]] = Increments(**dict(zip(METRICS, r[1:], strict=True)))
        series: list[SeriesPoint] = []
        if window is not None and mode is not AnalyticsMode.totals:
            if mode is AnalyticsMode.daily:
                points = ("select s.p::date as p from generate_series(%(first)s::date, %(last)s::date,"
                          " interval '1 day') s(p)")
                bucket = "date"
            else:
                points = ("select s.p::date as p from generate_series(date_trunc('week', %(first)s::date),"
                          " %(last)s::date, interval '1 week') s(p)")
                bucket = "date_trunc('week', date)::date"
            psums = ", ".join(f"coalesce(sum(c.{m}), 0)" for m in METRICS)
            rows = conn.execute(
                f"{counted_cte}, buckets as (select {bucket} as p, {', '.join(f'{m}_delta as {m}' for m in METRICS)},"
                f"   snapshots from counted)"
                f" select pts.p, {psums}, coalesce(sum(c.snapshots), 0) from ({points}) pts"
                " left join buckets c on c.p = pts.p group by pts.p order by pts.p",
                {**params, "first": window[0]}).fetchall()
            series = [SeriesPoint(period_start=r[0], views=r[1], likes=r[2], comments=r[3], reposts=r[4],
                                  saves=r[5], snapshots=r[6]) for r in rows]
        breakdown_rows = conn.execute(
            "select v.id, v.platform, v.external_video_id, v.url, v.caption, cv.added_at,"
            "       l.views, l.likes, l.comments, l.reposts, l.saves"
            "  from analytics.campaign_videos cv join analytics.videos v on v.id = cv.video_id"
            "  left join analytics.video_latest_statistics l on l.video_id = v.id"
            " where cv.campaign_id = %(cid)s", params).fetchall()
        totals = _totals(conn, campaign_id)
        as_of = data_as_of(conn)
    zero = Increments()
    breakdown = [
        CampaignVideoBreakdown(
            video_id=r[0], platform=r[1], external_video_id=r[2], url=r[3], caption=r[4], added_at=r[5],
            counted_from=counted.get(r[0]), counted_to=window[1] if r[0] in counted and window else None,
            totals=Totals(**dict(zip(METRICS, r[6:11], strict=True))), increments=per_video.get(r[0], zero))
        for r in breakdown_rows
    ]
    breakdown.sort(key=lambda b: (-b.increments.views, b.video_id))
    total_increments = Increments(**{m: sum(getattr(i, m) for i in per_video.values()) for m in METRICS})
    return CampaignAnalytics(
        campaign=campaign, mode=mode, date_from=window[0] if window else None,
        date_to=window[1] if window else None, counting_rule=COUNTING_RULE, totals=totals,
        increments=total_increments, series=series, videos=breakdown[:limit],
        videos_truncated=len(breakdown) > limit, data_as_of=as_of)


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
