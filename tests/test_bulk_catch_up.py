"""The bulk catch-up (a large backlog recomputed set-based, chunk by chunk of videos) gives exactly the read
model the incremental steps give, stays correct for snapshots written while it runs, and never takes a lock
that would block a reader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vidstats.db import Database, Role
from vidstats.read_model import refresh_read_model, refresh_step, verify_read_model

from tests.conftest import IsolatedDatabase
from tests.factories import TEST_WORKSPACE_ID, insert_snapshots, make_video
from tests.increments_oracle import daily_increments, stored_snapshots, weekly_increments

BASE = datetime(2026, 10, 25, 20, 0, tzinfo=UTC)  # a Sunday evening: histories cross a week and a month

counter = st.one_of(st.none(), st.integers(min_value=0, max_value=1_000))
snapshot = st.tuples(
    st.integers(min_value=0, max_value=3),  # which video
    st.one_of(st.sampled_from([0, 1, 4, 5, 29]), st.integers(min_value=0, max_value=24 * 40)),  # hour offset
    st.tuples(counter, counter, counter, counter, counter),
    st.sampled_from(["views", "views", "plays"]),
)
# Batches of inserts, each refreshed in bulk (chunks of about that many snapshots) or in incremental steps.
history = st.lists(
    st.tuples(st.lists(snapshot, min_size=0, max_size=10),
              st.sampled_from([("bulk", 1), ("bulk", 3), ("bulk", 1000), ("steps", 2), ("steps", 1000)])),
    min_size=1, max_size=4,
)

READ_MODEL = {
    "mv_video_daily_increments": "select * from analytics.mv_video_daily_increments order by 1, 3",
    "mv_video_weekly_increments": "select * from analytics.mv_video_weekly_increments order by 1, 3",
    "video_latest_statistics": "select * from analytics.video_latest_statistics order by 1",
    "video_growth": "select * from analytics.video_growth order by 1, 2",
    "campaign_video_bounds": "select * from analytics.campaign_video_bounds order by 1, 2",
    "read_model_state": "select watermark, growth_as_of, bulk_target from analytics.read_model_state",
}


def _set_path(conn: psycopg.Connection, mode: str, size: int) -> None:
    """Bulk: any backlog is caught up in bulk, in chunks of about `size` snapshots. Steps: never in bulk."""
    if mode == "bulk":
        conn.execute("update analytics.read_model_state set bulk_min_rows = 1, bulk_min_share = 0,"
                     " bulk_chunk_rows = %s", (size,))
    else:
        conn.execute("update analytics.read_model_state set bulk_min_rows = 1000000000")


def _read_model(conn: psycopg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {name: conn.execute(query.encode()).fetchall() for name, query in READ_MODEL.items()}


def _forget_read_model(conn: psycopg.Connection) -> None:
    """Back to a database whose snapshots were never refreshed (what a first migration starts from)."""
    conn.execute("delete from analytics.mv_video_daily_increments")
    conn.execute("delete from analytics.mv_video_weekly_increments")
    conn.execute("update analytics.video_latest_statistics set statistics_id = null, created_at = null,"
                 " views = null, likes = null, comments = null, reposts = null, saves = null, views_kind = null,"
                 " views_carry = null, plays_carry = null, likes_carry = null, comments_carry = null,"
                 " reposts_carry = null, saves_carry = null")
    conn.execute("update analytics.video_growth set views = null, likes = null, comments = null, reposts = null,"
                 " saves = null")
    conn.execute("update analytics.campaign_video_bounds set entry_views = null, entry_snapshots = 0,"
                 " last_views = null, last_snapshots = 0")
    conn.execute("update analytics.read_model_state set watermark = 0, growth_as_of = null,"
                 " growth_rebuild_day = null, growth_rebuild_after = null")


def _add_campaign(database: IsolatedDatabase, videos: list[str]) -> None:
    with database.connect_owner() as conn:
        campaign = conn.execute(
            "insert into analytics.campaigns (workspace_id, name, starts_at, ends_at) values (%s, 'c', %s, %s)"
            " returning id", (TEST_WORKSPACE_ID, BASE + timedelta(hours=30), BASE + timedelta(hours=300))).fetchone()
        assert campaign is not None
        for video in videos:
            conn.execute("insert into analytics.campaign_videos (campaign_id, video_id, added_at)"
                         " values (%s, %s, %s)", (campaign[0], video, BASE))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=history)
def test_bulk_and_incremental_paths_give_identical_read_models_on_random_histories(
    database: IsolatedDatabase, db: Database,
    history: list[tuple[list[tuple[int, int, tuple[int | None, ...], str]], tuple[str, int]]],
) -> None:
    with database.connect_owner() as conn:
        conn.execute("truncate analytics.video_statistics, analytics.campaigns cascade")
        _forget_read_model(conn)
    videos = [make_video(db) for _ in range(4)]
    _add_campaign(database, videos[:2])
    for batch, (mode, size) in history:
        with db.transaction(Role.INGEST) as conn:
            insert_snapshots(conn, [(videos[v], BASE + timedelta(hours=h), values, kind)
                                    for v, h, values, kind in batch])
        with database.connect_owner() as conn:
            _set_path(conn, mode, size)
        outcome = refresh_read_model(db, max_rows_per_step=size)
        assert outcome.status == "caught_up"
        report = verify_read_model(db)
        assert report.ok, report
        with database.connect_owner() as conn:
            expected_daily = daily_increments(stored_snapshots(conn))
            rows = conn.execute("select video_id::text, date, views_delta, likes_delta, comments_delta,"
                                " reposts_delta, saves_delta, snapshots from analytics.mv_video_daily_increments"
                                ).fetchall()
            daily = {(r[0], r[1]): tuple(r[2:]) for r in rows}
            assert daily == expected_daily
            rows = conn.execute("select video_id::text, week_start, views_delta, likes_delta, comments_delta,"
                                " reposts_delta, saves_delta, snapshots from analytics.mv_video_weekly_increments"
                                ).fetchall()
            assert {(r[0], r[1]): tuple(r[2:]) for r in rows} == weekly_increments(expected_daily)

    # The whole history again from nothing, once all in bulk and once all in incremental steps: the same rows.
    models = []
    for mode, size in (("bulk", 2), ("steps", 3)):
        with database.connect_owner() as conn:
            _forget_read_model(conn)
            _set_path(conn, mode, size)
        assert refresh_read_model(db, max_rows_per_step=size).status == "caught_up"
        assert verify_read_model(db).ok
        with database.connect_owner() as conn:
            models.append(_read_model(conn))
    assert models[0] == models[1]


def _bulk_settings(database: IsolatedDatabase, chunk_rows: int) -> None:
    with database.connect_owner() as conn:
        conn.execute("update analytics.read_model_state set bulk_min_rows = 10, bulk_min_share = 0.25,"
                     " bulk_chunk_rows = %s", (chunk_rows,))


def test_a_large_backlog_is_caught_up_in_bounded_bulk_chunks_and_a_small_one_incrementally(
        database: IsolatedDatabase, db: Database) -> None:
    videos = [make_video(db) for _ in range(6)]
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(v, BASE + timedelta(hours=6 * d), (100 * d, d, None, 1, 0))
                                for d in range(10) for v in videos])
    _bulk_settings(database, chunk_rows=20)  # 60 snapshots of 6 videos: 2 videos a chunk
    steps = [refresh_step(db, max_rows=1000) for _ in range(3)]
    assert [(s.bulk, s.videos, s.rows, s.caught_up) for s in steps] == [
        (True, 2, 20, False), (True, 2, 20, False), (True, 2, 20, True)]
    assert verify_read_model(db).ok

    with db.transaction(Role.INGEST) as conn:  # 6 new snapshots over a history of 60: incremental
        insert_snapshots(conn, [(v, BASE + timedelta(hours=70), (5000, 1, 1, 1, 1)) for v in videos])
    step = refresh_step(db, max_rows=1000)
    assert (step.bulk, step.rows, step.caught_up) == (False, 6, True)
    assert verify_read_model(db).ok


def test_snapshots_written_during_a_bulk_catch_up_in_order_or_late_are_reflected_after_it(
        database: IsolatedDatabase, db: Database) -> None:
    videos = sorted(make_video(db) for _ in range(4))
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(v, BASE + timedelta(hours=10 * d), (100 * d, d, d, d, d))
                                for d in range(8) for v in videos])
    _bulk_settings(database, chunk_rows=16)  # 2 videos a chunk
    first = refresh_step(db, max_rows=1000)
    assert (first.bulk, first.caught_up) == (True, False)
    # Between chunks: a later snapshot of a video already done, and a late one (older than its latest) of a
    # video not done yet, and of one done.
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(videos[0], BASE + timedelta(hours=200), (9000, 9, 9, 9, 9)),
                                (videos[1], BASE + timedelta(hours=15), (150, 1, 1, 1, 1)),
                                (videos[3], BASE + timedelta(hours=25), (250, 2, 2, 2, 2))])
    second = refresh_step(db, max_rows=1000)
    assert (second.bulk, second.caught_up) == (True, False)  # its target was fixed when it started: 3 rows are left
    assert second.watermark == 32
    report = verify_read_model(db)
    assert report.ok, report  # everything up to the watermark, nothing past it
    last = refresh_step(db, max_rows=1000)
    assert (last.bulk, last.rows, last.late_videos, last.caught_up) == (False, 3, 2, True)
    report = verify_read_model(db)
    assert report.ok, report


def test_a_bulk_chunk_takes_no_lock_that_blocks_readers(database: IsolatedDatabase, db: Database) -> None:
    videos = [make_video(db) for _ in range(3)]
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(v, BASE + timedelta(hours=7 * d), (10 * d, d, d, d, d))
                                for d in range(10) for v in videos])
    _bulk_settings(database, chunk_rows=10)
    with db.transaction(Role.REFRESH) as conn:
        summary = conn.execute("select analytics.refresh_materialized_views(1000)").fetchone()
        assert summary is not None
        assert summary[0]["bulk"]
        # Still in the chunk's transaction: the locks it holds on the read relations.
        locks = conn.execute(
            "select c.relname, l.mode from pg_locks l join pg_class c on c.oid = l.relation"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where l.pid = pg_backend_pid() and n.nspname = 'analytics' and c.relkind in ('r', 'p')"
            "   and l.granted").fetchall()
        assert locks
        assert {mode for _, mode in locks} <= {"AccessShareLock", "RowShareLock", "RowExclusiveLock"}, locks
        # A reader in another session reads every read relation meanwhile, at once.
        with database.connect_owner() as reader:
            reader.execute("set lock_timeout = '1s'")
            for relation in ("mv_video_daily_increments", "mv_video_weekly_increments", "video_latest_statistics",
                             "video_growth", "campaign_video_bounds"):
                reader.execute(f"select count(*) from analytics.{relation}".encode()).fetchone()
