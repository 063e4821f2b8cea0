"""video_statistics is partitioned by month; an insert never fails for want of a partition."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
from vidstats.db import Database, Role

from tests.conftest import IsolatedDatabase


def _video(db: Database) -> str:
    with db.transaction(Role.INGEST) as conn:
        row = conn.execute(
            "insert into analytics.videos (platform, external_video_id, url)"
            " values ('youtube', 'dQw4w9WgXcQ', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ') returning id::text"
        ).fetchone()
    assert row is not None
    return str(row[0])


def _insert_at(db: Database, video_id: str, at: datetime) -> None:
    with db.transaction(Role.INGEST) as conn:
        conn.execute(
            "insert into analytics.video_statistics (video_id, external_video_id, views, created_at)"
            " values (%s, 'dQw4w9WgXcQ', 1, %s)", (video_id, at))


def _partition_of(conn: psycopg.Connection, at: datetime) -> str:
    row = conn.execute("select tableoid::regclass::text from analytics.video_statistics where created_at = %s",
                       (at,)).fetchone()
    assert row is not None
    return str(row[0])


def test_current_month_and_months_ahead_have_partitions(database: IsolatedDatabase) -> None:
    now = datetime.now(UTC)
    with database.connect_owner() as conn:
        names = {r[0] for r in conn.execute(
            "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
            " where i.inhparent = 'analytics.video_statistics'::regclass")}
    assert f"video_statistics_p{now:%Y%m}" in names
    assert "video_statistics_default" in names
    assert len(names) == 1 + 5  # default, last month, this month and three ahead


def test_inserts_far_in_the_past_or_future_land_in_the_default_partition(
    db: Database, database: IsolatedDatabase
) -> None:
    video_id = _video(db)
    past, future = datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 12, 31, 23, 59, tzinfo=UTC)
    _insert_at(db, video_id, past)
    _insert_at(db, video_id, future)
    with database.connect_owner() as conn:
        assert _partition_of(conn, past) == "analytics.video_statistics_default"
        assert _partition_of(conn, future) == "analytics.video_statistics_default"


def test_creating_a_partition_moves_its_rows_out_of_the_default_partition(
    db: Database, database: IsolatedDatabase
) -> None:
    video_id = _video(db)
    now = datetime.now(UTC)
    in_a_year = now.replace(year=now.year + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
    _insert_at(db, video_id, in_a_year)
    with database.connect_owner() as conn:
        assert _partition_of(conn, in_a_year) == "analytics.video_statistics_default"
    with db.transaction(Role.REFRESH) as conn:
        created = [r[0] for r in conn.execute("select analytics.create_video_statistics_partitions(13)")]
        again = conn.execute("select analytics.create_video_statistics_partitions(13)").fetchall()
    assert f"video_statistics_p{in_a_year:%Y%m}" in created
    assert again == []
    with database.connect_owner() as conn:
        assert _partition_of(conn, in_a_year) == f"analytics.video_statistics_p{in_a_year:%Y%m}"
        assert conn.execute("select count(*) from analytics.video_statistics").fetchone() == (1,)


def test_partition_bounds_are_utc_months_whatever_the_session_time_zone(
    db: Database, database: IsolatedDatabase
) -> None:
    video_id = _video(db)
    now = datetime.now(UTC)
    first_instant = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with db.transaction(Role.INGEST) as conn:
        conn.execute("set local time zone 'Pacific/Kiritimati'")  # UTC+14
        conn.execute("insert into analytics.video_statistics (video_id, external_video_id, views, created_at)"
                     " values (%s, 'dQw4w9WgXcQ', 1, %s)", (video_id, first_instant))
    with database.connect_owner() as conn:
        assert _partition_of(conn, first_instant) == f"analytics.video_statistics_p{now:%Y%m}"
