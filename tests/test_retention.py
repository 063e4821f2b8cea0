"""Snapshot retention: month partitions older than the retention age are compacted (built beside the live
partition, swapped in by one short transaction), and every figure the read model and `vidstats verify` give is
the same before and after."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from vidstats import cli
from vidstats.db import Database, Role
from vidstats.read_model import refresh_read_model, verify_read_model, verify_read_model_sample
from vidstats.retention import run_retention
from vidstats.settings import RetentionSettings

from tests.conftest import IsolatedDatabase, handler_connected_to
from tests.factories import insert_snapshots, make_video, member
from tests.history import History, build_history
from tests.lambda_context import FakeLambdaContext

OLD_MONTHS = ("video_statistics_p202607", "video_statistics_p202608", "video_statistics_p202609")


def _days_to(cutoff_day: date) -> int:
    """Retention days whose cutoff falls on cutoff_day (today is whatever the clock says)."""
    return (datetime.now(UTC).date() - cutoff_day).days


@pytest.fixture
def history(database: IsolatedDatabase, db: Database) -> History:
    built = build_history(database, db, last_day=date(2026, 10, 20))
    assert refresh_read_model(db).status == "caught_up"
    assert verify_read_model(db).ok
    return built


def _figures(conn: psycopg.Connection, history: History) -> dict[str, Any]:
    """Every read relation and every figure function, except the `snapshots` counts (they count what is kept)."""
    q: dict[str, str] = {
        "daily": "select video_id, external_video_id, date, views_delta, likes_delta, comments_delta, reposts_delta,"
                 " saves_delta from analytics.mv_video_daily_increments order by 1, 3",
        "weekly": "select video_id, external_video_id, week_start, views_delta, likes_delta, comments_delta,"
                  " reposts_delta, saves_delta from analytics.mv_video_weekly_increments order by 1, 3",
        "latest": "select * from analytics.video_latest_statistics order by video_id",
        "fast": "select * from analytics.videos_with_statistics_fast order by id",
        "growth": "select * from analytics.video_growth order by video_id, period_days",
        "bounds": "select * from analytics.campaign_video_bounds order by campaign_id, video_id",
        "campaign_totals": "select * from analytics.campaign_totals order by campaign_id",
        "blogger_totals": "select * from analytics.blogger_totals order by blogger_id",
        "period_growth": "select * from analytics.video_period_growth(null, '2026-07-01', '2026-10-31')"
                         " order by video_id",
        "state": "select watermark, growth_as_of from analytics.read_model_state where name = 'video_statistics'",
    }
    figures = {name: conn.execute(sql.encode()).fetchall() for name, sql in q.items()}
    for campaign in history.campaigns:
        for bucket in ("day", "week"):
            figures[f"series {campaign} {bucket}"] = conn.execute(
                "select period_start, period_end, views, likes, comments, reposts, saves"
                " from analytics.campaign_series(%s, '2026-07-01', '2026-10-31', %s)", (campaign, bucket)).fetchall()
        figures[f"growth {campaign}"] = conn.execute(
            "select video_id, counted_from, counted_to, views, likes, comments, reposts, saves"
            " from analytics.campaign_video_growth(%s, null, null) order by video_id", (campaign,)).fetchall()
        figures[f"days {campaign}"] = conn.execute(
            "select video_id, date, views, likes, comments, reposts, saves"
            " from analytics.campaign_video_days(%s, null, null) order by 1, 2", (campaign,)).fetchall()
    for video in history.videos:
        figures[f"video series {video}"] = conn.execute(
            "select period_start, views, likes, comments, reposts, saves"
            " from analytics.video_series(%s, '2026-07-01', '2026-10-31', 'week')", (video,)).fetchall()
    return figures


def _rows_per_partition(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute("select tableoid::regclass::text, count(*) from analytics.video_statistics group by 1")
    return {str(name).removeprefix("analytics."): int(n) for name, n in rows.fetchall()}


def test_compaction_keeps_every_figure_and_verify_agrees(
    database: IsolatedDatabase, db: Database, history: History
) -> None:
    with database.connect_owner() as conn:
        before = _figures(conn, history)
        rows_before = _rows_per_partition(conn)
        last_of_day = set(conn.execute(
            "select distinct on (video_id, (created_at at time zone 'UTC')::date) id from analytics.video_statistics"
            " order by video_id, (created_at at time zone 'UTC')::date, created_at desc, id desc").fetchall())

    outcome = run_retention(db, days=_days_to(date(2026, 10, 5)))

    assert [(p.partition, p.status) for p in outcome.partitions] == [(name, "compacted") for name in OLD_MONTHS]
    with database.connect_owner() as conn:
        rows_after = _rows_per_partition(conn)
        kept = set(conn.execute("select id from analytics.video_statistics").fetchall())
        after = _figures(conn, history)
        counts_match = conn.execute(
            "select count(*) from analytics.mv_video_daily_increments d"
            " full join (select video_id, (created_at at time zone 'UTC')::date as day, count(*) as n"
            "              from analytics.video_statistics group by 1, 2) s"
            "   on s.video_id = d.video_id and s.day = d.date"
            " where d.snapshots is distinct from s.n").fetchone()
        # the compacted partition is a plain partition again: indexes, foreign key, no leftovers
        leftovers = conn.execute("select count(*) from pg_class where relname ~ '_(compact|retired)(_|$)'").fetchone()
        old_days_count = conn.execute(
            "select count(distinct (video_id, (created_at at time zone 'UTC')::date)) from analytics.video_statistics"
            " where created_at < '2026-10-01'").fetchone()
        assert old_days_count is not None
        shape = {name: conn.execute(
            "select (select array_agg(contype::text || ':' || replace(conname::text, %(p)s::text, ''))"
            "          from pg_constraint where conrelid = %(t)s::text::regclass),"
            "       (select array_agg(replace(replace(pg_get_indexdef(indexrelid), %(p)s, ''), %(t)s, ''))"
            "          from pg_index where indrelid = %(t)s::text::regclass)",
            {"t": f"analytics.{name}", "p": name}).fetchone() for name in ("video_statistics_p202608",
                                                                           "video_statistics_p202610")}
    for name in OLD_MONTHS:
        assert rows_after[name] < rows_before[name], name
        assert (outcome.partitions[OLD_MONTHS.index(name)].rows_before,
                outcome.partitions[OLD_MONTHS.index(name)].rows_after) == (rows_before[name], rows_after[name])
    assert rows_after["video_statistics_p202610"] == rows_before["video_statistics_p202610"]  # newer rows: alone
    assert last_of_day <= kept  # every (video, day) keeps its last snapshot
    # about one row per video and day (plus the days' last values of counters their last answer lacked)
    old_days = sum(rows_after[name] for name in OLD_MONTHS)
    assert old_days_count[0] < old_days < 0.75 * sum(rows_before[name] for name in OLD_MONTHS)
    assert after == before
    assert counts_match == (0,)
    assert leftovers == (0,)
    compacted, untouched = ([sorted(part) for part in shape[name] or ()] for name in ("video_statistics_p202608",
                                                                                     "video_statistics_p202610"))
    assert compacted == untouched  # the same constraints and indexes as a partition never compacted
    report = verify_read_model(db)
    assert report.ok, report
    assert verify_read_model_sample(db, sample=len(history.videos)).ok
    # The campaigns' kept days count snapshots: every campaign is marked until the next refresh recomputes it.
    with database.connect_owner() as conn:
        marked = conn.execute("select count(*) from analytics.campaign_daily_growth_state where marks > 0").fetchone()
    assert marked == (len(history.campaigns),)

    # A second run finds nothing left to do; new snapshots still refresh correctly on top.
    assert run_retention(db, days=_days_to(date(2026, 10, 5))).partitions == []
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(history.videos[0], datetime(2026, 10, 21, 8, tzinfo=UTC), (10**6, 1, 1, 1, 1)),
                                (history.videos[1], datetime(2026, 9, 30, 23, tzinfo=UTC), (5, 5, 5, 5, 5))])
    assert refresh_read_model(db).status == "caught_up"
    report = verify_read_model(db)
    assert report.ok, report
    assert report.campaign_daily_campaigns == len(history.campaigns)  # all current again, and as defined


def test_a_day_keeps_its_baseline_and_each_counter_s_last_value_not_only_its_last_snapshot(
    database: IsolatedDatabase, db: Database
) -> None:
    """Keeping only each day's last snapshot would lose figures: the first day's growth (its first value is the
    baseline, contributing 0), and a counter the day's last answer did not report (NULL likes, plays instead of
    views). Those rows are kept; the rest go."""
    with database.connect_owner() as conn:
        conn.execute("select analytics.create_video_statistics_partitions(0, '2026-07-01')")
    video = make_video(db, platform="instagram")
    day1, day2 = datetime(2026, 8, 3, tzinfo=UTC), datetime(2026, 8, 4, tzinfo=UTC)
    rows = [
        (video, day1 + timedelta(hours=1), (100, 10, 1, 0, 0), "views"),   # first ever: the baseline
        (video, day1 + timedelta(hours=5), (150, 12, 1, 0, 0), "views"),   # goes
        (video, day1 + timedelta(hours=9), (180, 15, 2, 0, 0), "views"),   # the day's last
        (video, day2 + timedelta(hours=1), (200, 20, 3, 0, 0), "views"),   # goes
        (video, day2 + timedelta(hours=4), (260, 24, 3, 1, 0), "views"),   # last views and likes of the day
        (video, day2 + timedelta(hours=8), (900, None, 4, 1, 0), "plays"),  # the day's last: plays, no likes
    ]
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, rows)
    refresh_read_model(db)
    with database.connect_owner() as conn:
        daily_before = conn.execute("select date, views_delta, likes_delta, comments_delta, reposts_delta"
                                    " from analytics.mv_video_daily_increments order by date").fetchall()
        ids = [r[0] for r in conn.execute("select id from analytics.video_statistics order by created_at")]
    # day 1: views 180 - 100, likes 15 - 10; day 2: views 260 - 180 (+ the first plays value: 0), likes 24 - 15
    assert daily_before == [(date(2026, 8, 3), 80, 5, 1, 0), (date(2026, 8, 4), 80, 9, 2, 1)]

    outcome = run_retention(db, days=_days_to(date(2026, 9, 1)))

    assert [p.status for p in outcome.partitions] == ["nothing_to_remove", "compacted"]  # July: empty
    with database.connect_owner() as conn:
        kept = [r[0] for r in conn.execute("select id from analytics.video_statistics order by created_at")]
        daily_after = conn.execute("select date, views_delta, likes_delta, comments_delta, reposts_delta, snapshots"
                                   " from analytics.mv_video_daily_increments order by date").fetchall()
    assert kept == [ids[0], ids[2], ids[4], ids[5]]
    assert daily_after == [(*daily_before[0], 2), (*daily_before[1], 2)]
    assert verify_read_model(db).ok


def test_a_campaign_boundary_day_keeps_every_snapshot(database: IsolatedDatabase, db: Database) -> None:
    with database.connect_owner() as conn:
        conn.execute("select analytics.create_video_statistics_partitions(0, '2026-07-01')")
    video = make_video(db)
    day = datetime(2026, 8, 10, tzinfo=UTC)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(video, day + timedelta(hours=h), (100 + h, h, h, h, h)) for h in range(0, 24, 4)]
                         + [(video, day + timedelta(days=1, hours=h), (200 + h, h, h, h, h)) for h in range(0, 24, 4)])
    with member(db).transaction(Role.READER) as conn:
        row = conn.execute("insert into analytics.campaigns (name, starts_at) values ('Mid-day', %s) returning id",
                           (day + timedelta(hours=10),)).fetchone()
        assert row is not None
        conn.execute("insert into analytics.campaign_videos (campaign_id, video_id, added_at) values (%s, %s, %s)",
                     (row[0], video, day))
    refresh_read_model(db)
    with database.connect_owner() as conn:
        bounds_before = conn.execute("select * from analytics.campaign_video_bounds").fetchall()
    run_retention(db, days=_days_to(date(2026, 9, 1)))
    with database.connect_owner() as conn:
        per_day = conn.execute("select (created_at at time zone 'UTC')::date, count(*) from analytics.video_statistics"
                               " group by 1 order by 1").fetchall()
        assert conn.execute("select * from analytics.campaign_video_bounds").fetchall() == bounds_before
    assert per_day == [(date(2026, 8, 10), 6), (date(2026, 8, 11), 1)]
    assert verify_read_model(db).ok


def test_dry_run_reports_what_a_run_would_keep_and_changes_nothing(
    database: IsolatedDatabase, db: Database, history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    days = str(_days_to(date(2026, 10, 5)))
    with database.connect_owner() as conn:
        rows_before = _rows_per_partition(conn)
    assert cli.main(["retention", "run", "--dry-run", "--days", days, "--database-url", database.owner_url]) == 0
    planned = capsys.readouterr().out
    with database.connect_owner() as conn:
        assert _rows_per_partition(conn) == rows_before
    assert cli.main(["retention", "run", "--days", days, "--database-url", database.owner_url]) == 0
    done = capsys.readouterr().out
    with database.connect_owner() as conn:
        rows_after = _rows_per_partition(conn)
    assert planned.count('"status": "planned"') == 3
    assert done.count('"status": "compacted"') == 3
    for name in OLD_MONTHS:
        assert f'"rows_after": {rows_after[name]}' in planned


def test_retention_is_off_by_default_and_says_how_to_turn_it_on(
    database: IsolatedDatabase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SNAPSHOT_RETENTION_DAYS", raising=False)
    assert RetentionSettings().snapshot_retention_days is None
    monkeypatch.setenv("SNAPSHOT_RETENTION_DAYS", "off")
    assert RetentionSettings().snapshot_retention_days is None
    assert cli.main(["retention", "run", "--database-url", database.owner_url]) == 2
    assert "SNAPSHOT_RETENTION_DAYS" in capsys.readouterr().err
    monkeypatch.setenv("SNAPSHOT_RETENTION_DAYS", "0")
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        RetentionSettings()


def test_a_partition_is_not_compacted_before_the_read_model_reflects_it(
    database: IsolatedDatabase, db: Database
) -> None:
    with database.connect_owner() as conn:
        conn.execute("select analytics.create_video_statistics_partitions(0, '2026-07-01')")
    video = make_video(db)
    with db.transaction(Role.INGEST) as conn:
        insert_snapshots(conn, [(video, datetime(2026, 8, 1, h, tzinfo=UTC), (h, h, h, h, h)) for h in range(5)])
    outcome = run_retention(db, days=_days_to(date(2026, 9, 2)))
    assert [(p.status, p.reason) for p in outcome.partitions] == [
        ("nothing_to_remove", None), ("skipped", "the read model has not caught up with this month yet")]
    refresh_read_model(db)
    assert [(p.partition, p.status) for p in run_retention(db, days=_days_to(date(2026, 9, 2))).partitions] == [
        ("video_statistics_p202608", "compacted")]  # July is done


def test_the_swap_waits_for_a_running_refresh_and_the_next_run_finishes(
    database: IsolatedDatabase, db: Database, history: History
) -> None:
    days = _days_to(date(2026, 10, 5))
    with database.connect_owner() as holder:
        holder.execute("begin")
        holder.execute("select pg_advisory_xact_lock(hashtext('analytics.refresh_materialized_views'))")
        busy = run_retention(db, days=days)
        holder.execute("rollback")
    assert {p.status for p in busy.partitions} == {"busy"}
    with database.connect_owner() as conn:
        assert _rows_per_partition(conn)["video_statistics_p202607"] == busy.partitions[0].rows_before
    done = run_retention(db, days=days)
    assert [p.status for p in done.partitions] == ["compacted"] * 3
    assert verify_read_model(db).ok


def test_the_refresh_role_may_only_run_the_entry_points(database: IsolatedDatabase, db: Database) -> None:
    with db.transaction(Role.REFRESH) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select * from analytics.video_statistics_kept_rows(now() - interval '1 year', now())")
    for role in (Role.READER, Role.INGEST):
        with db.transaction(role) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select analytics.build_snapshot_compaction('2026-07-01', now())")
    with db.transaction(Role.REFRESH) as conn, pytest.raises(psycopg.errors.InvalidParameterValue,
                                                              match="wholly older"):
        conn.execute("select analytics.build_snapshot_compaction(current_date, now())")


@pytest.fixture
def mv_refresh_env(monkeypatch: pytest.MonkeyPatch, database: IsolatedDatabase) -> Iterator[None]:
    from mv_refresh import handler

    with handler_connected_to(handler, database, monkeypatch):
        yield


@pytest.mark.usefixtures("mv_refresh_env")
def test_mv_refresh_compacts_old_partitions_only_when_retention_is_on(
    database: IsolatedDatabase, history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mv_refresh.handler import lambda_handler

    monkeypatch.delenv("SNAPSHOT_RETENTION_DAYS", raising=False)
    assert lambda_handler({}, FakeLambdaContext())["retention"] is None
    monkeypatch.setenv("SNAPSHOT_RETENTION_DAYS", str(_days_to(date(2026, 10, 5))))
    result = lambda_handler({}, FakeLambdaContext())
    assert [p["status"] for p in result["retention"]["partitions"]] == ["compacted"] * 3
    assert lambda_handler({}, FakeLambdaContext())["retention"]["partitions"] == []


def test_a_compaction_longer_than_the_time_given_changes_nothing_and_says_so(
    database: IsolatedDatabase, db: Database, history: History
) -> None:
    with database.connect_owner() as conn:
        rows_before = _rows_per_partition(conn)
    outcome = run_retention(db, days=_days_to(date(2026, 10, 5)), statement_timeout_ms=1)
    assert [(p.partition, p.status) for p in outcome.partitions] == [("video_statistics_p202607", "timed_out")]
    assert outcome.out_of_time
    with database.connect_owner() as conn:
        assert _rows_per_partition(conn) == rows_before
        assert conn.execute("select count(*) from pg_class where relname ~ '_compact$'").fetchone() == (0,)
    assert verify_read_model(db).ok


def test_a_partition_too_large_for_the_time_given_is_left_for_the_cli(
    database: IsolatedDatabase, db: Database, history: History
) -> None:
    with database.connect_owner() as conn:
        conn.execute("analyze analytics.video_statistics")
        rows_before = _rows_per_partition(conn)
    outcome = run_retention(db, days=_days_to(date(2026, 10, 5)), max_partition_rows=300)
    assert [(p.partition, p.status) for p in outcome.partitions] == [
        ("video_statistics_p202607", "too_large"), ("video_statistics_p202608", "too_large"),
        ("video_statistics_p202609", "too_large")]
    assert "vidstats retention run" in (outcome.partitions[0].reason or "")
    with database.connect_owner() as conn:
        assert _rows_per_partition(conn) == rows_before
    assert [p.status for p in run_retention(db, days=_days_to(date(2026, 10, 5))).partitions] == ["compacted"] * 3
