"""`vidstats verify --sample N`: every read-model row of N videos checked against a recompute from their own
snapshots, so it takes seconds on any history, and still catches one wrong row of a sampled video."""

from __future__ import annotations

from datetime import date

import pytest
from vidstats import cli
from vidstats.db import Database, Role
from vidstats.read_model import refresh_read_model, verify_read_model, verify_read_model_sample

from tests.conftest import IsolatedDatabase
from tests.history import History, build_history


@pytest.fixture
def history(database: IsolatedDatabase, db: Database) -> History:
    built = build_history(database, db, last_day=date(2026, 9, 20))
    assert refresh_read_model(db).status == "caught_up"
    assert verify_read_model(db).ok
    return built


def test_the_per_video_reference_equals_the_full_reference_for_every_video(
    database: IsolatedDatabase, history: History
) -> None:
    with database.connect_owner() as conn:
        full = conn.execute("select * from analytics.video_daily_increments_upto(null)"
                            " order by video_id, date").fetchall()
        per_video = conn.execute("select * from analytics.video_daily_increments_of(%s::uuid[], null)"
                                 " order by video_id, date", (history.videos,)).fetchall()
        one = conn.execute("select * from analytics.video_daily_increments_of(%s::uuid[], null)",
                           ([history.videos[1]],)).fetchall()
    assert per_video == full
    assert {r[0] for r in one} == {r[0] for r in full if str(r[0]) == history.videos[1]}


def test_a_sample_of_a_correct_read_model_is_ok(db: Database, history: History) -> None:
    report = verify_read_model_sample(db, sample=3)
    assert report.ok, report
    assert report.sampled_videos == 3
    assert report.daily_rows > 0
    assert report.weekly_rows > 0
    assert report.growth_rows == 9
    assert report.mismatched_videos == []


CORRUPTIONS = {
    "daily": "update analytics.mv_video_daily_increments set views_delta = coalesce(views_delta, 0) + 1"
             " where video_id = %(video)s and date = '2026-08-11'",
    "weekly": "update analytics.mv_video_weekly_increments set snapshots = snapshots + 1"
              " where video_id = %(video)s and week_start = '2026-08-10'",
    "latest": "update analytics.video_latest_statistics set likes = coalesce(likes, 0) + 1 where video_id = %(video)s",
    "growth": "update analytics.video_growth set comments = coalesce(comments, 0) - 1"
              " where video_id = %(video)s and period_days = 30",
    "campaign_bounds": "update analytics.campaign_video_bounds set entry_views = coalesce(entry_views, 0) + 7"
                       " where video_id = %(video)s",
}


@pytest.mark.parametrize("relation", sorted(CORRUPTIONS))
def test_a_corrupted_row_of_a_sampled_video_is_caught_and_named(
    database: IsolatedDatabase, db: Database, history: History, relation: str
) -> None:
    target, other = history.videos[2], history.videos[3]  # both in campaigns
    with database.connect_owner() as conn:
        changed = conn.execute(CORRUPTIONS[relation], {"video": target}).rowcount
    assert changed >= 1
    report = verify_read_model_sample(db, video_ids=[target, other])
    assert not report.ok
    assert getattr(report, f"{relation}_mismatches") > 0
    assert report.mismatched_videos == [target]
    # A sample without that video does not see it; a random sample of every video does.
    assert verify_read_model_sample(db, video_ids=[other]).ok
    assert not verify_read_model_sample(db, sample=len(history.videos)).ok
    assert not verify_read_model(db).ok


def test_a_video_missing_from_the_fast_view_is_caught(
    database: IsolatedDatabase, db: Database, history: History
) -> None:
    with database.connect_superuser() as conn:
        conn.execute("set session_replication_role = replica")  # past the foreign key's cascade triggers
        conn.execute("delete from analytics.video_latest_statistics where video_id = %s", (history.videos[0],))
    report = verify_read_model_sample(db, video_ids=[history.videos[0]])
    assert report.fast_view_mismatches == 1
    assert report.latest_mismatches == 1


def test_a_large_table_is_sampled_by_index_probes_into_distinct_videos(
    database: IsolatedDatabase, db: Database
) -> None:
    with db.transaction(Role.INGEST) as conn:
        conn.execute("insert into analytics.videos (platform, external_video_id, url)"
                     " select 'tiktok', 'v' || i, 'https://www.tiktok.com/@a/video/' || i"
                     " from generate_series(1, 2000) i")
    with database.connect_owner() as conn:
        conn.execute("analyze analytics.videos")
        picked = conn.execute("select analytics.sample_videos(50)").fetchone()
        assert picked is not None
        assert len(picked[0]) == len(set(picked[0])) == 50
        again = conn.execute("select analytics.sample_videos(50)").fetchone()
        assert again is not None
        assert set(again[0]) != set(picked[0])
        # spread over the whole table, not the smallest ids (about half of them above the median id)
        upper_half = conn.execute(
            "select count(*) from unnest(%s::uuid[]) p(id)"
            " where p.id > (select id from analytics.videos order by id offset 1000 limit 1)",
            (picked[0],)).fetchone()
        assert upper_half is not None
        assert 10 <= upper_half[0] <= 40
    with pytest.raises(ValueError, match="at least 1"):
        verify_read_model_sample(db, sample=0)


def test_the_cli_checks_a_sample_and_exits_non_zero_on_a_mismatch(
    database: IsolatedDatabase, history: History, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["verify", "--sample", "4", "--database-url", database.owner_url]) == 0
    assert "ok: the read model equals a recompute of 4 videos up to" in capsys.readouterr().out
    with database.connect_owner() as conn:
        conn.execute(CORRUPTIONS["daily"], {"video": history.videos[1]})
    assert cli.main(["verify", "--video", history.videos[1], "--database-url", database.owner_url]) == 1
    captured = capsys.readouterr()
    assert history.videos[1] in captured.out
    assert "MISMATCH" in captured.err
    assert cli.main(["verify", "--sample", "0", "--database-url", database.owner_url]) == 2
