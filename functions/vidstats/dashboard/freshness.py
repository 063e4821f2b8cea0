"""How fresh the read model is: `/status`, and the `data_as_of` every analytics response carries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from vidstats.dashboard.models import ReadModelFreshness
from vidstats.db import Database, Role
from vidstats.read_model import read_model_status

# On a standby (a read replica): when the last transaction it replayed committed on the primary, while WAL it
# has received still waits to be replayed; NULL when it has replayed all it received, or on a primary. (An idle
# primary sends nothing, so "now minus the last replay" alone would grow forever on a replica that is current.)
REPLAYED_AT_SQL = ("case when pg_is_in_recovery()"
                   "           and pg_last_wal_receive_lsn() is distinct from pg_last_wal_replay_lsn()"
                   "      then pg_last_xact_replay_timestamp() end")


# data_as_of's three instants, for a statement that reads them beside something else (one round trip).
DATA_AS_OF_SQL = f"select last_success_at, oldest_pending_at, {REPLAYED_AT_SQL} from analytics.refresh_status()"


def data_as_of_from(row: Sequence[Any] | None) -> datetime | None:
    """``data_as_of`` from the three instants ``DATA_AS_OF_SQL`` reads."""
    if row is None or row[0] is None:
        return None
    instants: list[datetime] = [value for value in row if value is not None]
    return min(instants)


def data_as_of(conn: psycopg.Connection) -> datetime | None:
    """The instant the numbers are as of: the last successful refresh when nothing is pending; otherwise the
    earlier of that and the oldest snapshot still waiting to be reflected; on a read replica still replaying,
    no later than the last transaction it replayed. None before the first refresh."""
    return data_as_of_from(conn.execute(DATA_AS_OF_SQL).fetchone())


def replica_lag_seconds(conn: psycopg.Connection) -> float | None:
    """How far a read replica's replay is behind the primary (0 when it has replayed all it received); None
    when ``conn`` is on the primary."""
    row = conn.execute(
        f"select case when pg_is_in_recovery()"
        f"            then coalesce(extract(epoch from now() - {REPLAYED_AT_SQL}), 0) end").fetchone()
    return None if row is None or row[0] is None else max(float(row[0]), 0.0)


def failing_video_count(conn: psycopg.Connection, *, per_workspace: bool = True) -> int:
    """Videos whose fetch health is failing (``videos.fetch_health``; read off the partial index of the rare
    states, so it costs the failing rows, not the table); ``per_workspace``: those the caller's workspace still
    tracks (a video it stopped is not failing for it)."""
    mine = (" and (select t.fetch_health from analytics.workspace_video_tracking t where t.video_id = v.id)"
            " = 'failing'") if per_workspace else ""
    row = conn.execute("select count(*) from analytics.videos v where v.fetch_health = 'failing'" + mine).fetchone()
    return int(row[0]) if row is not None else 0


def freshness(db: Database, role: Role = Role.READER) -> ReadModelFreshness:
    """How stale what ``db`` serves is: the read model's lag, plus, on a read replica, its replay lag. Failing
    videos: the caller's workspace's, or with ``Role.EXPORT`` every workspace's."""
    status = read_model_status(db, role)
    with db.transaction(role) as conn:
        failing = failing_video_count(conn, per_workspace=role is not Role.EXPORT)
        replica_lag = replica_lag_seconds(conn)
    as_of = status.last_success_at
    if as_of is not None and status.oldest_pending_at is not None:
        as_of = min(as_of, status.oldest_pending_at)
    if as_of is not None and replica_lag:
        as_of = min(as_of, datetime.now(UTC) - timedelta(seconds=replica_lag))
    return ReadModelFreshness(
        data_as_of=as_of,
        last_refresh_at=status.last_run_at,
        last_success_at=status.last_success_at,
        oldest_pending_at=status.oldest_pending_at,
        lag_seconds=status.lag_seconds + (replica_lag or 0.0),
        replica_lag_seconds=replica_lag,
        last_rows=status.last_rows,
        last_duration_ms=status.last_duration_ms,
        failing_videos=failing,
    )
