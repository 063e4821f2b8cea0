"""video_growth (the growth sort's precomputed sums) equals a full recompute after every refresh, whatever order
snapshots arrive in; every video has its rows from insertion; a new UTC day rebuilds every video's growth."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vidstats.db import Database, Role
from vidstats.read_model import refresh_read_model, refresh_step, verify_read_model

from tests.conftest import IsolatedDatabase
from tests.factories import insert_snapshots, make_video
from tests.increments_oracle import METRICS, Row, daily_increments, stored_snapshots, total

PERIODS = (1, 7, 30)
Growth = dict[tuple[str, int], tuple[int | None, ...]]  # (video, period days) -> the five metrics' sums


def today_utc() -> date:
    return datetime.now(UTC).date()


def expected_growth(daily: dict[tuple[str, date], Row], videos: list[str], as_of: date) -> Growth:
    """The definition: per video and period, each metric's daily increments summed over the period's days."""
    growth: Growth = {}
    for video in videos:
        for days in PERIODS:
            first = as_of - timedelta(days=days - 1)
            rows = [row for (v, day), row in daily.items() if v == video and first <= day <= as_of]
            growth[(video, days)] = tuple(total(row[i] for row in rows) for i in range(len(METRICS)))
    return growth


def maintained_growth(conn: psycopg.Connection) -> Growth:
    rows = conn.execute("select video_id::text, period_days, views, likes, comments, reposts, saves"
                        " from analytics.video_growth").fetchall()
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def growth_as_of(conn: psycopg.Connection) -> date:
    row = conn.execute("select growth_as_of from analytics.read_model_state where name = 'video_statistics'"
                       ).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def check_against_the_definition(database: IsolatedDatabase, videos: list[str], as_of: date) -> None:
    with database.connect_owner() as conn:
        assert growth_as_of(conn) == as_of
        assert maintained_growth(conn) == expected_growth(daily_increments(stored_snapshots(conn)), videos, as_of)


def _reset(database: IsolatedDatabase) -> None:
    """Empties the history and the read model (the videos stay, their growth rows back to zeros)."""
    with database.connect_owner() as conn:
        conn.execute("truncate analytics.video_statistics, analytics.mv_video_daily_increments,"
                     " analytics.mv_video_weekly_increments")
        conn.execute("update analytics.video_latest_statistics set statistics_id = null, created_at = null,"
                     " views = null, likes = null, comments = null, reposts = null, saves = null,"
                     " views_carry = null, likes_carry = null, comments_carry = null, reposts_carry = null,"
                     " saves_carry = null")
        conn.execute("update analytics.read_model_state set watermark = 0")
        conn.execute("select analytics.rebuild_video_growth((now() at time zone 'UTC')::date)")


counter = st.one_of(st.none(), st.integers(min_value=0, max_value=1_000))
# Days relative to today (UTC), weighted to the periods' edges: 30 days ago is just outside the 30-day period,
# 29 days ago its first day; tomorrow (a clock ahead) is outside every period.
day = st.one_of(st.sampled_from([-31, -30, -29, -8, -7, -6, -1, 0, 1]), st.integers(min_value=-40, max_value=1))
snapshot = st.tuples(
    st.integers(min_value=0, max_value=2),  # which video
    day,
    st.integers(min_value=0, max_value=24 * 60 - 1),  # minute of that day
    st.tuples(counter, counter, counter, counter, counter),
)
# Batches of inserts, each followed by a refresh in steps of a given size: later batches hold late snapshots.
history = st.lists(
    st.tuples(st.lists(snapshot, min_size=0, max_size=8), st.sampled_from([1, 2, 3, 1000])),
    min_size=1, max_size=5,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=history)
def test_growth_equals_the_sums_of_a_full_recompute_after_every_refresh(
    database: IsolatedDatabase, db: Database,
    history: list[tuple[list[tuple[int, int, int, tuple[int | None, ...]]], int]],
) -> None:
    _reset(database)
    videos = [make_video(db) for _ in range(3)]
    midnight = datetime.combine(today_utc(), time(0), tzinfo=UTC)
    for batch, step_rows in history:
        with db.transaction(Role.INGEST) as conn:
            insert_snapshots(conn, [(videos[v], midnight + timedelta(days=d, minutes=m), values)
                                    for v, d, m, values in batch])
        outcome = refresh_read_model(db, max_rows_per_step=step_rows)
        assert outcome.status == "caught_up"

        report = verify_read_model(db)
        assert report.ok, report
        with database.connect_owner() as conn:
            as_of = growth_as_of(conn)  # today, unless the clock passed midnight meanwhile
            every_video = [r[0] for r in conn.execute("select id::text from analytics.videos")]
        assert report.growth_rows == 3 * len(every_video)
        check_against_the_definition(database, every_video, as_of)


BOUNDARY_DAYS = (-31, -30, -29, -8, -7, -6, -1, 0)  # relative to today: each period's first day and the one before


@pytest.mark.parametrize("arrival", ["in_order", "latest_first"])
def test_each_period_counts_exactly_its_days_for_every_metric(
    database: IsolatedDatabase, db: Database, arrival: str
) -> None:
    # Day i's snapshot adds 2**i, times 1..5 for the five metrics: each sum names the days it counted. One refresh
    # per snapshot: in order, each adds to the sums; latest first, every later one is late and rewrites days.
    video = make_video(db)
    noon = datetime.combine(today_utc(), time(12), tzinfo=UTC)
    snapshots = [(video, noon - timedelta(days=40), (0, 0, 0, 0, 0))]  # the first: contributes nothing
    for i, d in enumerate(BOUNDARY_DAYS):
        total = 2 ** (i + 1) - 1
        snapshots.append((video, noon + timedelta(days=d), tuple(total * m for m in range(1, 6))))
    refresh_step(db, max_rows=10)  # on the day of the template database's migration, or rolls over to today
    for row in snapshots if arrival == "in_order" else reversed(snapshots):
        with db.transaction(Role.INGEST) as conn:
            insert_snapshots(conn, [row])
        step = refresh_step(db, max_rows=10)
        assert (step.rows, step.growth_rebuilt) == (1, False)  # maintained incrementally, not rebuilt
    check_against_the_definition(database, [video], today_utc())

    def days_sum(days: int) -> tuple[int, ...]:
        value = sum(2**i for i, d in enumerate(BOUNDARY_DAYS) if d > -days)
        return tuple(value * m for m in range(1, 6))

    with database.connect_owner() as conn:
        growth = maintained_growth(conn)
    assert {days: growth[(video, days)] for days in PERIODS} == {days: days_sum(days) for days in PERIODS}
    assert verify_read_model(db).ok


def test_a_new_video_has_unknown_growth_for_every_period_at_once(database: IsolatedDatabase, db: Database) -> None:
    video = make_video(db)
    with database.connect_owner() as conn:
        assert {k: v for k, v in maintained_growth(conn).items() if k[0] == video} == {
            (video, days): (None,) * 5 for days in PERIODS}


def test_videos_inserted_in_one_statement_each_get_their_read_model_rows_once(
    database: IsolatedDatabase, db: Database
) -> None:
    existing = make_video(db)
    upsert = ("insert into analytics.videos (platform, external_video_id, url)"
              " select 'tiktok', e, 'https://www.tiktok.com/@a/video/' || e from unnest(%s::text[]) e"
              " on conflict (platform, external_video_id) do nothing returning id::text")
    with db.transaction(Role.INGEST) as conn:
        known = conn.execute("select external_video_id from analytics.videos where id = %s", (existing,)).fetchone()
        assert known is not None
        added = [r[0] for r in conn.execute(upsert, (["7000000000000000001", "7000000000000000002", known[0]],))]
        assert conn.execute(upsert, ([known[0]],)).fetchall() == []  # inserts nothing: the trigger adds nothing

    with database.connect_owner() as conn:
        latest = [r[0] for r in conn.execute("select video_id::text from analytics.video_latest_statistics")]
        growth = maintained_growth(conn)
    assert sorted(latest) == sorted([existing, *added])
    assert sorted(growth) == sorted((v, days) for v in [existing, *added] for days in PERIODS)


def test_a_new_day_rebuilds_every_videos_growth_for_that_day(database: IsolatedDatabase, db: Database) -> None:
    today = today_utc()
    noon = datetime.combine(today, time(12), tzinfo=UTC)
    grew_yesterday, grows_today, quiet = make_video(db), make_video(db), make_video(db)
    refresh_step(db, max_rows=1000)  # on the day of the template database's migration, or rolls over to today
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [
            (grew_yesterday, noon - timedelta(days=8), (10, 1, 0, 0, None)),
            (grew_yesterday, noon - timedelta(days=2), (100, 10, 1, 0, None)),
            (grew_yesterday, noon - timedelta(days=1), (250, 20, 3, 1, 5)),
            (grows_today, noon - timedelta(days=3), (1000, None, 0, 0, 0)),
            (grows_today, noon - timedelta(minutes=719), (1300, 7, 0, 2, 0)),  # today, 00:01 UTC
            (quiet, noon - timedelta(days=40), (5, 5, 5, 5, 5)),
            (quiet, noon - timedelta(days=31), (9, 9, 9, 9, 9)),  # before every period
        ])
    step = refresh_step(db, max_rows=1000)
    assert (step.growth_as_of, step.growth_rebuilt) == (today, False)
    videos = [grew_yesterday, grows_today, quiet]
    check_against_the_definition(database, videos, today)

    # As the table stood at the end of yesterday: its periods ended then.
    with database.connect_owner() as conn:
        conn.execute("select analytics.rebuild_video_growth(%s)", (today - timedelta(days=1),))
        growth = maintained_growth(conn)
    check_against_the_definition(database, videos, today - timedelta(days=1))
    assert growth[(grew_yesterday, 1)] == (150, 10, 2, 1, 0)
    assert growth[(grows_today, 1)] == (None,) * 5  # nothing measured that day

    # The first refresh of the new day moves every video's periods, with no new snapshot to trigger it.
    step = refresh_step(db, max_rows=1000)
    assert (step.status, step.rows, step.growth_as_of, step.growth_rebuilt) == ("ok", 0, today, True)
    check_against_the_definition(database, videos, today)
    with database.connect_owner() as conn:
        growth = maintained_growth(conn)
    assert growth[(grew_yesterday, 1)] == (None,) * 5
    assert growth[(grew_yesterday, 7)] == (240, 19, 3, 1, 0)
    assert growth[(grows_today, 1)] == (300, 0, 0, 2, 0)
    assert growth[(quiet, 30)] == (None,) * 5
    assert verify_read_model(db).ok

    # Later the same day, only the videos with new rows are recomputed: nothing is rebuilt.
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(quiet, noon - timedelta(days=29), (20, 9, 9, 9, 9))])  # inside 30 days
    step = refresh_step(db, max_rows=1000)
    assert (step.rows, step.late_videos, step.growth_rebuilt) == (1, 0, False)
    check_against_the_definition(database, videos, today)
    with database.connect_owner() as conn:
        assert maintained_growth(conn)[(quiet, 30)] == (11, 0, 0, 0, 0)


def test_a_new_day_is_rebuilt_a_chunk_of_videos_per_step_and_moves_the_day_with_the_last(
    database: IsolatedDatabase, db: Database
) -> None:
    today = today_utc()
    noon = datetime.combine(today, time(12), tzinfo=UTC)
    videos = sorted(make_video(db) for _ in range(5))
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(v, noon - timedelta(days=d), (10 * d + i, i, 0, 0, None))
                                for i, v in enumerate(videos) for d in (9, 3, 1)])
    refresh_read_model(db)
    with database.connect_owner() as conn:  # as the table stood at the end of yesterday; chunks of 2 videos
        conn.execute("select analytics.rebuild_video_growth(%s)", (today - timedelta(days=1),))
        conn.execute("update analytics.read_model_state set growth_rebuild_batch = 2")

    first = refresh_step(db, max_rows=1000)
    assert (first.growth_rebuilt, first.growth_rebuild_pending, first.caught_up) == (True, True, False)
    assert first.growth_as_of == today - timedelta(days=1)  # readers still sum at read time
    # A snapshot of a video the rebuild already passed, between two chunks.
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(videos[0], noon, (500, 50, 5, 0, None))])
    second = refresh_step(db, max_rows=1000)
    third = refresh_step(db, max_rows=1000)

    assert [(s.growth_rebuild_pending, s.growth_as_of) for s in (second, third)] == [
        (True, today - timedelta(days=1)), (False, today)]
    assert third.caught_up
    check_against_the_definition(database, videos, today)
    assert verify_read_model(db).ok


def test_verify_catches_a_growth_row_that_disagrees_with_the_recompute(
    database: IsolatedDatabase, db: Database
) -> None:
    video = make_video(db)
    now = datetime.now(UTC)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(video, now - timedelta(days=3), (1, 1, 1, 1, 1)), (video, now, (5, 5, 5, 5, 5))])
    refresh_read_model(db)
    assert verify_read_model(db).ok
    with database.connect_owner() as conn:
        conn.execute("update analytics.video_growth set saves = saves + 1 where period_days = 30")
    report = verify_read_model(db)
    assert not report.ok
    assert (report.daily_mismatches, report.growth_rows, report.growth_mismatches) == (0, 3, 2)


def test_growth_rows_go_with_their_video(database: IsolatedDatabase, db: Database) -> None:
    video = make_video(db)
    with database.connect_owner() as conn:
        conn.execute("delete from analytics.videos where id = %s", (video,))
        assert conn.execute("select count(*) from analytics.video_growth where video_id = %s",
                            (video,)).fetchone() == (0,)
