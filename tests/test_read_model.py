"""The incrementally maintained read model equals a full recompute, whatever order snapshots arrive in,
and a refresh never skips a snapshot, never blocks readers and never runs twice at once."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vidstats.db import Database, Role
from vidstats.read_model import RefreshStep, read_model_status, refresh_read_model, refresh_step, verify_read_model

from tests.conftest import IsolatedDatabase
from tests.factories import TEST_WORKSPACE_ID, insert_snapshots, make_video, member
from tests.increments_oracle import daily_increments, stored_snapshots, weekly_increments

READ_RELATIONS = (
    "analytics.mv_video_daily_increments",
    "analytics.mv_video_weekly_increments",
    "analytics.videos_with_statistics_fast",
    "analytics.video_latest_statistics",
    "analytics.video_growth",
)
# A Sunday evening at the end of October: histories cross a week and a month (partition) boundary.
BASE = datetime(2026, 10, 25, 20, 0, tzinfo=UTC)

counter = st.one_of(st.none(), st.integers(min_value=0, max_value=1_000))
snapshot = st.tuples(
    st.integers(min_value=0, max_value=2),  # which video
    st.one_of(st.sampled_from([0, 1, 4, 5, 29]), st.integers(min_value=0, max_value=24 * 12)),  # hour offset
    st.tuples(counter, counter, counter, counter, counter),
    st.sampled_from(["views", "views", "plays"]),  # Instagram answers count plays or views
)
# A history: batches of inserts, each followed by a refresh in steps of a given size.
history = st.lists(
    st.tuples(st.lists(snapshot, min_size=0, max_size=8), st.sampled_from([1, 2, 3, 1000])),
    min_size=1, max_size=5,
)


def _reset(database: IsolatedDatabase) -> None:
    with database.connect_owner() as conn:
        conn.execute("truncate analytics.video_statistics, analytics.mv_video_daily_increments,"
                     " analytics.mv_video_weekly_increments")
        conn.execute("update analytics.video_latest_statistics set statistics_id = null, created_at = null,"
                     " views = null, likes = null, comments = null, reposts = null, saves = null,"
                     " views_carry = null, likes_carry = null, comments_carry = null, reposts_carry = null,"
                     " saves_carry = null, views_kind = null, plays_carry = null")
        conn.execute("update analytics.video_growth set views = null, likes = null, comments = null,"
                     " reposts = null, saves = null")
        conn.execute("update analytics.read_model_state set watermark = 0")


def _maintained(conn: psycopg.Connection, table: str, key: str) -> dict[tuple[str, date], tuple[int | None, ...]]:
    rows = conn.execute(
        f"select video_id::text, {key}, views_delta, likes_delta, comments_delta, reposts_delta, saves_delta,"
        f" snapshots from analytics.{table}".encode()).fetchall()
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=history)
def test_maintained_relations_equal_a_full_recompute_after_every_refresh(
    database: IsolatedDatabase, db: Database,
    history: list[tuple[list[tuple[int, int, tuple[int | None, ...], str]], int]],
) -> None:
    _reset(database)
    videos = [make_video(db) for _ in range(3)]
    for batch, step_rows in history:
        with db.transaction(Role.INGEST) as conn:
            insert_snapshots(conn, [(videos[v], BASE + timedelta(hours=h), values, kind)
                                    for v, h, values, kind in batch])
        outcome = refresh_read_model(db, max_rows_per_step=step_rows)
        assert outcome.status == "caught_up"

        report = verify_read_model(db)
        assert report.ok, report
        # And against the semantics written independently in Python:
        with database.connect_owner() as conn:
            snapshots = stored_snapshots(conn)
            expected_daily = daily_increments(snapshots)
            assert _maintained(conn, "mv_video_daily_increments", "date") == expected_daily
            assert _maintained(conn, "mv_video_weekly_increments", "week_start") == weekly_increments(expected_daily)
            latest = conn.execute(
                "select video_id::text, statistics_id from analytics.video_latest_statistics"
                " where statistics_id is not null").fetchall()
            expected_latest = {}
            for s in sorted(snapshots, key=lambda s: (s.created_at, s.id)):
                expected_latest[s.video] = s.id
            assert dict(latest) == expected_latest


def test_a_worked_example_by_hand(database: IsolatedDatabase, db: Database) -> None:
    video = make_video(db)
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [
            (video, at + timedelta(hours=10), (100, 10, 1, 0, None)),
            (video, at + timedelta(hours=12), (150, None, 1, 0, None)),   # likes hidden: no contribution
            (video, at + timedelta(days=1, hours=9), (170, 20, 0, 0, 3)),  # a comment deleted: -1 kept
        ])
    refresh_read_model(db)
    with db.transaction(Role.INGEST) as conn:  # a late snapshot, between the first two
        insert_snapshots(conn, [(video, at + timedelta(hours=11), (120, 12, 1, 0, None))])
    refresh_read_model(db)
    with database.connect_owner() as conn:
        daily = _maintained(conn, "mv_video_daily_increments", "date")
        weekly = _maintained(conn, "mv_video_weekly_increments", "week_start")
        fast = conn.execute("select views, likes, comments, saves, stats_created_at"
                            " from analytics.videos_with_statistics_fast where id = %s", (video,)).fetchone()
    assert daily == {
        (video, date(2026, 11, 1)): (50, 2, 0, 0, None, 3),  # saves not reported that day: unknown
        (video, date(2026, 11, 2)): (20, 8, -1, 0, 0, 1),  # the first saves: 0
    }
    # Sunday 1 November belongs to the week of Monday 26 October.
    assert weekly == {
        (video, date(2026, 10, 26)): (50, 2, 0, 0, None, 3),
        (video, date(2026, 11, 2)): (20, 8, -1, 0, 0, 1),  # the first saves: 0
    }
    assert fast == (170, 20, 0, 3, at + timedelta(days=1, hours=9))


def test_plays_and_views_never_subtract_and_a_hidden_counter_does_not_jump(
        database: IsolatedDatabase, db: Database) -> None:
    # An Instagram reel answered with plays, then views, then plays again; its likes hidden for a day.
    video = make_video(db)
    at = datetime(2026, 11, 2, 12, tzinfo=UTC)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [
            (video, at, (1_000_000, 500, 10, None, None), "plays"),
            (video, at + timedelta(days=1), (300_000, None, 12, None, None), "views"),  # likes hidden
            (video, at + timedelta(days=2), (1_100_000, 560, 15, None, None), "plays"),
            (video, at + timedelta(days=3), (320_000, 570, 15, None, None), "views"),
        ])
    refresh_read_model(db)
    with database.connect_owner() as conn:
        daily = _maintained(conn, "mv_video_daily_increments", "date")
        latest = conn.execute("select views, views_kind from analytics.video_latest_statistics where video_id = %s",
                              (video,)).fetchone()
    assert daily == {
        (video, date(2026, 11, 2)): (0, 0, 0, None, None, 1),  # first values: no growth yet; no reposts, saves
        (video, date(2026, 11, 3)): (0, None, 2, None, None, 1),  # the first views: 0, not -700,000
        (video, date(2026, 11, 4)): (100_000, 60, 3, None, None, 1),  # plays since the last plays; likes since 500
        (video, date(2026, 11, 5)): (20_000, 10, 0, None, None, 1),  # views since the last views
    }
    assert latest == (320_000, "views")
    assert verify_read_model(db).ok


def test_one_new_snapshot_per_video_per_step_gives_what_one_step_over_all_of_them_gives(
        database: IsolatedDatabase, db: Database) -> None:
    # The nightly's shape (one new snapshot per video after its latest) skips the window computation; the same
    # history taken in one step goes through it. Plays and views in turn, a hidden counter, two snapshots on one
    # day (the second one's day already has its row), a new week (Sunday 8 to Monday 9 November).
    history = [
        (datetime(2026, 11, 6, 9, tzinfo=UTC), (1_000, 50, None, 1, 0), "plays"),
        (datetime(2026, 11, 7, 9, tzinfo=UTC), (400, None, 4, 1, None), "views"),
        (datetime(2026, 11, 7, 21, tzinfo=UTC), (1_300, 70, 5, None, 2), "plays"),
        (datetime(2026, 11, 8, 9, tzinfo=UTC), (450, 75, None, 3, 2), "views"),
        (datetime(2026, 11, 9, 9, tzinfo=UTC), (470, 80, 9, 3, 5), "views"),
    ]
    at_once, one_by_one = make_video(db), make_video(db)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(at_once, at, values, kind) for at, values, kind in history])
    for at, values, kind in history:
        with db.transaction(Role.INGEST) as conn:
            insert_snapshots(conn, [(one_by_one, at, values, kind)])
        steps = refresh_read_model(db)
        assert (steps.status, steps.late_videos) == ("caught_up", 0)

    def rows(table: str, key: str, video: str) -> dict[date, tuple[int | None, ...]]:
        with database.connect_owner() as conn:
            return {k[1]: v for k, v in _maintained(conn, table, key).items() if k[0] == video}

    assert rows("mv_video_daily_increments", "date", one_by_one) == rows("mv_video_daily_increments", "date", at_once)
    assert len(rows("mv_video_daily_increments", "date", one_by_one)) == 4
    assert rows("mv_video_weekly_increments", "week_start", one_by_one) == rows(
        "mv_video_weekly_increments", "week_start", at_once)
    with database.connect_owner() as conn:
        latest = {r[0]: r[1:] for r in conn.execute(
            "select video_id::text, views, likes, comments, reposts, saves, views_kind, views_carry, plays_carry,"
            "       likes_carry, comments_carry, reposts_carry, saves_carry from analytics.video_latest_statistics"
            " where video_id in (%s, %s)", (at_once, one_by_one))}
    assert latest[one_by_one] == latest[at_once] == (470, 80, 9, 3, 5, "views", 470, 1_300, 80, 9, 3, 5)
    assert verify_read_model(db).ok


def test_a_video_without_snapshots_shows_null_counters(database: IsolatedDatabase, db: Database) -> None:
    video = make_video(db)
    refresh_read_model(db)
    with member(db).transaction(Role.READER) as conn:
        row = conn.execute("select views, likes, comments, reposts, saves, stats_created_at"
                           " from analytics.videos_with_statistics_fast where id = %s", (video,)).fetchone()
    assert row == (None, None, None, None, None, None)


def test_a_snapshot_still_in_flight_during_a_refresh_is_reflected_not_skipped(
    database: IsolatedDatabase, db: Database
) -> None:
    video = make_video(db)
    now = datetime.now(UTC)
    with psycopg.connect(database.owner_url) as slow_writer:
        # Draws the lower id, then stays uncommitted while a faster writer commits a higher id.
        slow_writer.execute("set local role vidstats_ingest")
        insert_snapshots(slow_writer, [(video, now - timedelta(minutes=5), (100, None, None, None, None))])
        with db.transaction(Role.INGEST) as conn:
            insert_snapshots(conn, [(video, now, (130, None, None, None, None))])

        # The refresh waits for in-flight writers only briefly; while one stays open it reports busy.
        step = refresh_step(db, max_rows=1000)
        assert step.status == "busy"
        assert read_model_status(db).watermark == 0

        # A refresh started now waits for the in-flight writer, which commits while it waits.
        result: list[RefreshStep] = []
        refresher = threading.Thread(target=lambda: result.append(refresh_step(Database(database.owner_url),
                                                                                max_rows=1000)))
        refresher.start()
        time.sleep(0.3)
        slow_writer.commit()
        refresher.join(10)
    (step,) = result
    assert step.status == "ok"
    assert step.rows == 2
    with database.connect_owner() as conn:
        assert conn.execute("select views_delta from analytics.mv_video_daily_increments").fetchall() == [(30,)]
    assert verify_read_model(db).ok


def test_reads_complete_and_a_second_refresh_returns_at_once_while_a_refresh_is_in_progress(
    database: IsolatedDatabase, db: Database
) -> None:
    video = make_video(db)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(video, datetime.now(UTC) - timedelta(hours=h), (h, h, h, h, h)) for h in range(5)])
    refresh_read_model(db)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(video, datetime.now(UTC), (1, 1, 1, 1, 1))])

    refreshing = Database(database.owner_url)
    with refreshing.transaction(Role.REFRESH) as conn:
        # The refresh has written its changes and still holds its transaction open.
        first = conn.execute("select analytics.refresh_materialized_views()").fetchone()
        assert first is not None
        assert first[0]["status"] == "ok"

        second = refresh_step(db, max_rows=1000)
        assert second.status == "busy"
        assert second.message == "another refresh is running; this call did nothing"

        with member(db).transaction(Role.READER) as reader:
            reader.execute("set local statement_timeout = '2s'")
            for relation in READ_RELATIONS:
                reader.execute(f"select * from {relation}".encode()).fetchall()
            status = reader.execute("select watermark from analytics.refresh_status()").fetchone()
        assert status == (5,)  # readers see the last committed state, not the refresh in progress
    refreshing.close()
    assert read_model_status(db).watermark == 6


def test_status_reports_the_lag_of_the_oldest_snapshot_not_reflected(
    database: IsolatedDatabase, db: Database
) -> None:
    video = make_video(db)
    status = read_model_status(db)
    assert (status.oldest_pending_at, status.lag_seconds, status.last_success_at) == (None, 0, None)

    ten_minutes_ago = datetime.now(UTC) - timedelta(minutes=10)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(video, ten_minutes_ago, (1, 1, 1, 1, 1))])
    status = read_model_status(db)
    assert status.oldest_pending_at == ten_minutes_ago
    assert 590 <= status.lag_seconds <= 700

    outcome = refresh_read_model(db)
    status = read_model_status(db)
    assert (outcome.rows, status.watermark, status.oldest_pending_at, status.lag_seconds) == (1, 1, None, 0)
    assert status.last_success_at is not None
    assert status.last_rows == 1


def test_verify_catches_a_maintained_row_that_disagrees_with_the_recompute(
    database: IsolatedDatabase, db: Database
) -> None:
    video = make_video(db)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(video, BASE, (1, 1, 1, 1, 1)), (video, BASE + timedelta(days=1), (5, 5, 5, 5, 5))])
    refresh_read_model(db)
    assert verify_read_model(db).ok
    with database.connect_owner() as conn:
        conn.execute("update analytics.mv_video_daily_increments set views_delta = views_delta + 1")
    report = verify_read_model(db)
    assert not report.ok
    assert (report.daily_mismatches, report.weekly_mismatches, report.latest_mismatches) == (4, 0, 0)


def test_refresh_stops_when_out_of_time_and_keeps_what_it_did(database: IsolatedDatabase, db: Database) -> None:
    video = make_video(db)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(video, BASE + timedelta(hours=h), (h, None, None, None, None)) for h in range(10)])
    clock = iter([100.0, 100.0, 0.0])  # time for two steps, then none
    outcome = refresh_read_model(db, max_rows_per_step=3, time_left_s=lambda: next(clock))
    assert (outcome.status, outcome.steps, outcome.rows, outcome.watermark) == ("out_of_time", 2, 6, 6)
    assert refresh_read_model(db, max_rows_per_step=3).status == "caught_up"
    assert verify_read_model(db).ok


@pytest.mark.parametrize("relation", READ_RELATIONS)
def test_the_reader_role_reads_every_read_relation(db: Database, relation: str) -> None:
    with member(db).transaction(Role.READER) as conn:
        conn.execute(f"select * from {relation} limit 1".encode())


def test_ids_of_rolled_back_inserts_do_not_stall_the_refresh(database: IsolatedDatabase, db: Database) -> None:
    video = make_video(db)
    with pytest.raises(RuntimeError), db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(video, BASE, (1, 1, 1, 1, 1))])  # draws id 1, then rolls back
        raise RuntimeError("the batch failed")
    outcome = refresh_read_model(db, max_rows_per_step=1)
    assert (outcome.status, outcome.rows, outcome.watermark) == ("caught_up", 0, 1)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(video, BASE, (1, 1, 1, 1, 1)), (video, BASE + timedelta(hours=1), (3, 3, 3, 3, 3))])
    outcome = refresh_read_model(db, max_rows_per_step=1)
    assert (outcome.status, outcome.rows, outcome.watermark) == ("caught_up", 2, 3)
    assert verify_read_model(db).ok


def test_a_video_added_after_the_last_refresh_is_listed_once_before_and_after_the_next(
    database: IsolatedDatabase, db: Database
) -> None:
    older = make_video(db)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(older, BASE, (5, 5, 5, 5, 5))])
    refresh_read_model(db)
    newer = make_video(db)

    def listed() -> list[tuple[str, int | None]]:
        with member(db).transaction(Role.READER) as conn:
            rows = conn.execute("select id::text, views from analytics.videos_with_statistics_fast order by id")
            return sorted(rows.fetchall())

    assert listed() == sorted([(older, 5), (newer, None)])
    refresh_read_model(db)
    assert listed() == sorted([(older, 5), (newer, None)])
    assert verify_read_model(db).ok


def test_sorting_the_fast_view_by_a_total_reads_an_index_not_the_history(
    database: IsolatedDatabase, db: Database
) -> None:
    with database.connect_owner() as conn:
        conn.execute("insert into analytics.videos (platform, external_video_id, url)"
                     " select 'youtube', 'v' || i, 'u' || i from generate_series(1, 3000) i")
        conn.execute("insert into analytics.video_statistics (video_id, external_video_id, views)"
                     " select id, external_video_id, (random() * 1000)::int from analytics.videos")
    refresh_read_model(db)
    with database.connect_owner() as conn:
        conn.execute("analyze")
        plan = "\n".join(r[0] for r in conn.execute(
            "explain select * from analytics.videos_with_statistics_fast"
            " order by views desc nulls last, id limit 50"))
    assert not re.search(r"on video_statistics\b|on video_statistics_", plan), plan
    assert "Index Scan using video_latest_statistics_views_idx" in plan, plan
    assert "Sort" not in plan, plan  # the index gives the order: no sort of every video


def test_campaign_bounds_a_writer_computed_are_recomputed_by_the_next_refresh(
        database: IsolatedDatabase, db: Database) -> None:
    # A membership's bounds are computed in the writer's transaction from the watermark it read; if a refresh
    # moved the watermark meanwhile they are stale. They stay marked pending until a refresh recomputes them,
    # even one that brings no new snapshot for the video.
    video = make_video(db)
    at = datetime(2026, 11, 2, 8, tzinfo=UTC)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(video, at, (100, 1, 1, 1, 1)), (video, at + timedelta(hours=4), (150, 1, 1, 1, 1))])
    refresh_read_model(db)
    with database.connect_owner() as conn:
        campaign = conn.execute("insert into analytics.campaigns (workspace_id, name, starts_at)"
                                " values (%s, 'race', %s) returning id",
                                (TEST_WORKSPACE_ID, at + timedelta(hours=1))).fetchone()
        assert campaign is not None
        conn.execute("insert into analytics.campaign_videos (campaign_id, video_id, added_at) values (%s, %s, %s)",
                     (campaign[0], video, at))
        # What a writer that read an older watermark would have stored: nothing counted yet.
        conn.execute("update analytics.campaign_video_bounds set entry_views = null, entry_snapshots = 0")
        assert conn.execute("select pending from analytics.campaign_video_bounds").fetchone() == (True,)
    assert not verify_read_model(db).ok  # the stale bounds are caught ...

    assert refresh_step(db, max_rows=100).rows == 0
    with database.connect_owner() as conn:
        row = conn.execute("select entry_views, entry_snapshots, pending from analytics.campaign_video_bounds"
                           ).fetchone()
    assert row == (50, 1, False)  # ... and recomputed: +50 views after 09:00, the 12:00 snapshot
    assert verify_read_model(db).ok


def test_a_step_may_use_the_time_the_caller_has_left_not_only_the_per_statement_bound(
        database: IsolatedDatabase, db: Database) -> None:
    videos = [make_video(db) for _ in range(200)]
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(video, BASE + timedelta(hours=h), (h, h, None, None, None))
                                for video in videos for h in range(100)])
    impatient = Database(database.owner_url, statement_timeout_ms=50)  # far less than a 20k-row step needs
    try:
        with pytest.raises(psycopg.errors.QueryCanceled):
            refresh_step(impatient, max_rows=100_000)
        outcome = refresh_read_model(impatient, months_ahead=0, time_left_s=lambda: 120.0)
        assert (outcome.status, outcome.rows) == ("caught_up", 20_000)
    finally:
        impatient.close()
    assert verify_read_model(db).ok
