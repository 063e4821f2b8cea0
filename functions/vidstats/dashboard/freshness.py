"""How fresh the read model is: `/status`, and the `data_as_of` every analytics response carries."""

from __future__ import annotations

from datetime import datetime

import psycopg

from vidstats.dashboard.models import ReadModelFreshness
from vidstats.db import Database, Role
from vidstats.read_model import read_model_status


def data_as_of(conn: psycopg.Connection) -> datetime | None:
    """The instant the numbers are as of: the last successful refresh when nothing is pending; otherwise the
    earlier of that and the oldest snapshot still waiting to be reflected. None before the first refresh."""
    row = conn.execute(
        "select last_success_at, oldest_pending_at from analytics.refresh_status()").fetchone()
    if row is None or row[0] is None:
        return None
    last_success: datetime = row[0]
    oldest_pending: datetime | None = row[1]
    return last_success if oldest_pending is None else min(last_success, oldest_pending)


def failing_video_count(conn: psycopg.Connection, *, per_workspace: bool = True) -> int:
    """Videos whose fetch health is failing (``videos.fetch_health``; read off the partial index of the rare
    states, so it costs the failing rows, not the table); ``per_workspace``: those the caller's workspace still
    tracks (a video it stopped is not failing for it)."""
    mine = (" and (select t.fetch_health from analytics.workspace_video_tracking t where t.video_id = v.id)"
            " = 'failing'") if per_workspace else ""
    row = conn.execute("select count(*) from analytics.videos v where v.fetch_health = 'failing'" + mine).fetchone()
    return int(row[0]) if row is not None else 0


def freshness(db: Database, role: Role = Role.READER) -> ReadModelFreshness:
    """The dashboard's (failing videos: the caller's workspace's), or with ``Role.EXPORT`` every workspace's."""
    status = read_model_status(db, role)
    with db.transaction(role) as conn:
        failing = failing_video_count(conn, per_workspace=role is not Role.EXPORT)
    as_of = status.last_success_at
    if as_of is not None and status.oldest_pending_at is not None:
        as_of = min(as_of, status.oldest_pending_at)
    return ReadModelFreshness(
        data_as_of=as_of,
        last_refresh_at=status.last_run_at,
        last_success_at=status.last_success_at,
        oldest_pending_at=status.oldest_pending_at,
        lag_seconds=status.lag_seconds,
        last_rows=status.last_rows,
        last_duration_ms=status.last_duration_ms,
        failing_videos=failing,
    )
