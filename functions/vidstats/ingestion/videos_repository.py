"""Database access for tracked videos and campaign membership (the ingest role's metadata writes; creators are
``bloggers_repository``).

Functions take an open connection inside ``Database.transaction(Role.INGEST)``: the caller owns the
transaction, so a flow can combine several of them atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

import psycopg

from vidstats.ingestion.binary_arrays import text_array, timestamptz_array, uuid_array
from vidstats.platforms import Platform


@dataclass(frozen=True)
class VideoRow:
    id: UUID
    platform: Platform
    external_video_id: str
    url: str
    tracking_state: str
    tracking_started_at: datetime
    created: bool  # inserted by this call (False: an existing video was reused)


@dataclass(frozen=True)
class NewVideo:
    platform: Platform
    external_video_id: str
    url: str
    blogger_id: UUID | None = None
    caption: str | None = None
    published_at: datetime | None = None


class FetchOutcome(NamedTuple):
    """What one fetch did to a video's tracking fields (a named tuple: built per video, see ``SnapshotRow``)."""

    video_id: UUID
    ok: bool  # counters fetched (a snapshot is written with it)
    error: str | None = None  # last_error (cleared on success)
    gone: bool = False  # the platform says the video no longer exists (gone once said on enough days)
    error_class: str | None = None  # last_error_class: what the failure means (providers.errors.ErrorClass)
    caption: str | None = None
    published_at: datetime | None = None
    # The creator the answer names (its row: bloggers_repository.creator_ids). Last: the processor sets it last.
    blogger_id: UUID | None = None


def upsert_videos(conn: psycopg.Connection, videos: Sequence[NewVideo], *, reactivate: bool) -> list[VideoRow]:
    """Creates or reuses videos by (platform, external id); ``tracking_started_at`` is set once, at creation.

    ``reactivate``: a video a user had stopped becomes active again (an explicit request to track it).
    Gone videos stay gone. Missing caption / publish time / blogger are filled in, never overwritten.
    """
    if not videos:
        return []
    ordered = sorted(videos, key=lambda v: (v.platform.value, v.external_video_id))  # stable lock order
    rows = conn.execute(
        """
        insert into analytics.videos as v (platform, external_video_id, url, blogger_id, caption, published_at)
        select * from unnest(%s::text[], %s::text[], %s::text[], %s::uuid[], %s::text[], %s::timestamptz[])
        on conflict (platform, external_video_id) do update
           set blogger_id = coalesce(v.blogger_id, excluded.blogger_id),
               caption = coalesce(v.caption, excluded.caption),
               published_at = coalesce(v.published_at, excluded.published_at),
               tracking_state = case when %s and v.tracking_state = 'stopped' then 'active' else v.tracking_state end,
               tracking_stopped_at = case when %s and v.tracking_state = 'stopped' then null
                                          else v.tracking_stopped_at end
        returning v.id, v.platform, v.external_video_id, v.url, v.tracking_state, v.tracking_started_at,
                  (xmax = 0) as created
        """,
        (
            [v.platform.value for v in ordered],
            [v.external_video_id for v in ordered],
            [v.url for v in ordered],
            [v.blogger_id for v in ordered],
            [v.caption for v in ordered],
            [v.published_at for v in ordered],
            reactivate,
            reactivate,
        ),
    ).fetchall()
    return [VideoRow(r[0], Platform(r[1]), r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]


def add_to_campaign(conn: psycopg.Connection, campaign_id: UUID, video_ids: Sequence[UUID]) -> int:
    """Adds the videos to the campaign (already-present ones keep their ``added_at``); returns how many were new."""
    cursor = conn.execute(
        """
        insert into analytics.campaign_videos (campaign_id, video_id)
        select %s, unnest(%s::uuid[])
        on conflict (campaign_id, video_id) do nothing
        """,
        (campaign_id, sorted(set(video_ids))),
    )
    return cursor.rowcount


# The start of the current UTC day, as a timestamptz.
_TODAY = "(date_trunc('day', now() at time zone 'UTC') at time zone 'UTC')"
# gone_answer_days after a failed fetch: one more when it is a gone answer on a UTC day not counted yet.
_GONE_DAYS_AFTER = (f"(v.gone_answer_days + case when u.gone and (v.last_gone_answer_at is null"
                    f" or v.last_gone_answer_at < {_TODAY}) then 1 else 0 end)")
# Whether this answer ends tracking: gone on gone_after_days separate UTC days (the parameter).
_NOW_GONE = f"(u.gone and v.tracking_state = 'active' and {_GONE_DAYS_AFTER} >= %(gone_after_days)s)"


def record_fetch_outcomes(conn: psycopg.Connection, outcomes: Sequence[FetchOutcome], *,
                          gone_after_days: int = 2) -> int:
    """One statement for all videos of a batch: last fetch time, last error and its class, fetch health, and the
    creator an answer names (``blogger_id``: set with the rest, one write of the video, not two).

    A success leaves a video's row as it is when nothing but its fetch time would change: the last fetch is the
    later of ``last_fetched_at`` and the latest snapshot (``analytics.last_fetch_at``), and a success writes one.

    A success resets the failure counts; a failure adds one to ``consecutive_failures`` and, on a new UTC
    day, to ``failure_days`` (``fetch_health`` says failing from 2 such days). A gone answer counts its UTC
    day in ``gone_answer_days``; the video is marked gone once that reaches ``gone_after_days``, so a
    provider hiccup on one day never ends tracking.
    """
    if not outcomes:
        return 0
    # A stable lock order (uuids order as their text does). ``v.id = any(ids)`` besides the join: the videos are
    # then found by their primary key whatever the table's size (joined alone to the unnest, a table of up to
    # ~100k videos was read whole by a hash join on every batch).
    ordered = sorted(outcomes, key=lambda o: o.video_id.int)  # the uuid order; ints compare ten times faster
    if all(o.ok for o in ordered):
        # The usual batch: every fetch succeeded. The same values the general statement gives a success, from
        # three arrays instead of seven (dumping them costs the processor more than the update costs the server),
        # and only to the videos it changes: the fetch time alone is the snapshot's (``analytics.last_fetch_at``),
        # so a video fetched as usual is not written at all (writing it cost as much as the snapshot insert).
        cursor = conn.execute(
            """
            update analytics.videos v
               set last_fetched_at = now(), last_error = null, last_error_class = null,
                   consecutive_failures = 0, failure_days = 0, gone_answer_days = 0, last_gone_answer_at = null,
                   caption = coalesce(v.caption, u.caption), published_at = coalesce(v.published_at, u.published_at),
                   blogger_id = coalesce(u.blogger_id, v.blogger_id)
              from unnest(%(id)b::uuid[], %(caption)b::text[], %(published_at)b::timestamptz[],
                          %(blogger_id)b::uuid[]) as u(id, caption, published_at, blogger_id)
             where v.id = u.id and v.id = any(%(id)b::uuid[])
               and (v.last_error is not null or v.last_error_class is not null or v.consecutive_failures <> 0
                    or v.failure_days <> 0 or v.gone_answer_days <> 0 or v.last_gone_answer_at is not null
                    or (v.caption is null and u.caption is not null)
                    or (v.published_at is null and u.published_at is not null)
                    or (u.blogger_id is not null and v.blogger_id is distinct from u.blogger_id))
            """,
            {"id": uuid_array([o.video_id for o in ordered]), "caption": text_array([o.caption for o in ordered]),
             "published_at": timestamptz_array([o.published_at for o in ordered]),
             "blogger_id": uuid_array([o.blogger_id for o in ordered])},
        )
        return cursor.rowcount
    # Arrays in binary (%b): dumping 1,000 uuids as text costs more than the update itself.
    cursor = conn.execute(
        f"""
        update analytics.videos v
           set last_fetched_at = case when u.ok then now() else v.last_fetched_at end,
               last_error = case when u.ok then null else u.error end,
               last_error_at = case when u.ok then v.last_error_at else now() end,
               last_error_class = case when u.ok then null else u.error_class end,
               consecutive_failures = case when u.ok then 0 else v.consecutive_failures + 1 end,
               failure_days = case
                   when u.ok then 0
                   when v.consecutive_failures = 0 or v.last_error_at is null or v.last_error_at < {_TODAY}
                   then v.failure_days + 1
                   else v.failure_days end,
               gone_answer_days = case when u.ok then 0 else {_GONE_DAYS_AFTER} end,
               last_gone_answer_at = case when u.ok then null when u.gone then now() else v.last_gone_answer_at end,
               tracking_state = case when {_NOW_GONE} then 'gone' else v.tracking_state end,
               tracking_stopped_at = case when {_NOW_GONE} then now() else v.tracking_stopped_at end,
               caption = coalesce(v.caption, u.caption),
               published_at = coalesce(v.published_at, u.published_at),
               blogger_id = coalesce(u.blogger_id, v.blogger_id)
          from unnest(%(id)b::uuid[], %(ok)b::bool[], %(error)b::text[], %(gone)b::bool[], %(caption)b::text[],
                      %(published_at)b::timestamptz[], %(error_class)b::text[], %(blogger_id)b::uuid[])
               as u(id, ok, error, gone, caption, published_at, error_class, blogger_id)
         where v.id = u.id and v.id = any(%(id)b::uuid[])
        """,
        {
            "id": [o.video_id for o in ordered],
            "ok": [o.ok for o in ordered],
            "error": [None if o.error is None else o.error[:1000] for o in ordered],
            "gone": [o.gone for o in ordered],
            "caption": [o.caption for o in ordered],
            "published_at": [o.published_at for o in ordered],
            "error_class": [o.error_class for o in ordered],
            "blogger_id": [o.blogger_id for o in ordered],
            "gone_after_days": gone_after_days,
        },
    )
    return cursor.rowcount


@dataclass(frozen=True)
class ActiveVideo:
    id: UUID
    platform: Platform
    external_video_id: str
    campaigns_over: bool  # every campaign it belongs to ended more than the grace period ago


def active_videos_page(
    conn: psycopg.Connection, *, after: UUID | None, limit: int, grace: timedelta
) -> list[ActiveVideo]:
    """One keyset page of active videos (index ``videos_active_id_idx``), with whether tracking should stop.

    A video in no campaign keeps being tracked (it was tracked on its own); so does a video that a workspace
    tracks outside its campaigns, or in one of its campaigns still running: every workspace still tracking it
    must be done with it (another team's ended campaign never stops a video for a team still using it).
    """
    rows = conn.execute(
        """
        select v.id, v.platform, v.external_video_id,
               exists (select 1 from analytics.campaign_videos cv where cv.video_id = v.id)
               and not exists (
                   select 1 from analytics.campaign_videos cv
                     join analytics.campaigns c on c.id = cv.campaign_id
                    where cv.video_id = v.id and (c.ends_at is null or c.ends_at > now() - %s))
               and not exists (
                   select 1 from analytics.workspace_videos wv
                    where wv.video_id = v.id and wv.stopped_at is null
                      and not exists (select 1 from analytics.campaign_videos cv
                                        join analytics.campaigns c on c.id = cv.campaign_id
                                       where cv.video_id = v.id and c.workspace_id = wv.workspace_id))
          from analytics.videos v
         where v.tracking_state = 'active' and (%s::uuid is null or v.id > %s::uuid)
         order by v.id
         limit %s
        """,
        (grace, after, after, limit),
    ).fetchall()
    return [ActiveVideo(r[0], Platform(r[1]), r[2], bool(r[3])) for r in rows]


def stop_tracking(conn: psycopg.Connection, video_ids: Sequence[UUID]) -> int:
    if not video_ids:
        return 0
    cursor = conn.execute(
        """
        update analytics.videos set tracking_state = 'stopped', tracking_stopped_at = now()
         where id = any(%s::uuid[]) and tracking_state = 'active'
        """,
        (sorted(video_ids),),
    )
    return cursor.rowcount

