"""The queue processor's write, piece by piece: the snapshot INSERT, the all-success bookkeeping update, and the
pipelined transaction that carries them (one round trip, still all or nothing)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
import pytest
from vidstats.db import Database, Role
from vidstats.ingestion.bloggers_repository import Creator, creator_ids
from vidstats.ingestion.pipelined import pipelined_transaction
from vidstats.ingestion.snapshots_repository import SnapshotRow, copy_snapshots, insert_snapshots
from vidstats.ingestion.videos_repository import FetchOutcome, record_fetch_outcomes
from vidstats.platforms import Platform

from tests.conftest import IsolatedDatabase
from tests.ingest_helpers import insert_videos

BOOKKEEPING = ("last_fetched_at", "last_error", "last_error_at", "last_error_class", "consecutive_failures",
               "failure_days", "gone_answer_days", "last_gone_answer_at", "tracking_state", "tracking_stopped_at",
               "caption", "published_at", "fetch_health")


def bookkeeping(database: IsolatedDatabase, video_id: UUID) -> tuple[Any, ...]:
    with database.connect_owner() as conn:
        row = conn.execute(f"select {', '.join(BOOKKEEPING)} from analytics.videos where id = %s",
                           (video_id,)).fetchone()
    assert row is not None
    return tuple(row)


def snapshots(database: IsolatedDatabase, video_ids: list[UUID]) -> list[tuple[Any, ...]]:
    with database.connect_owner() as conn:
        return conn.execute(
            "select external_video_id, views, likes, comments, reposts, saves, views_kind, created_at = now()"
            " from analytics.video_statistics where video_id = any(%s) order by external_video_id",
            (video_ids,)).fetchall()


def test_the_snapshot_insert_writes_what_a_copy_writes(db: Database, database: IsolatedDatabase) -> None:
    copied, inserted = insert_videos(db, Platform.INSTAGRAM, ["a", "b"])

    def rows(video_id: UUID, external_id: str) -> list[SnapshotRow]:
        return [SnapshotRow(video_id, external_id, 10, None, 3, None, 0, "plays"),
                SnapshotRow(video_id, external_id, 2**40, 5, None, 7, None, "views")]

    with db.transaction(Role.INGEST) as conn:
        assert copy_snapshots(conn, rows(copied, "same")) == 2
    with pipelined_transaction(db, Role.INGEST) as conn:
        assert insert_snapshots(conn, rows(inserted, "same")) == 2

    assert snapshots(database, [inserted]) == snapshots(database, [copied])
    assert [r[:7] for r in snapshots(database, [inserted])] == [
        ("same", 10, None, 3, None, 0, "plays"), ("same", 2**40, 5, None, 7, None, "views")]


def test_an_all_success_batch_leaves_each_video_as_the_general_update_does(
    db: Database, database: IsolatedDatabase
) -> None:
    alone, mixed, failing = insert_videos(db, Platform.TIKTOK, ["1", "2", "3"])
    with database.connect_owner() as conn:  # both were failing, gone once, without a caption yet
        conn.execute(
            "update analytics.videos set last_error = 'tiktok: HTTP 503', last_error_at = now() - interval '1 day',"
            " last_error_class = 'transient', consecutive_failures = 3, failure_days = 2, gone_answer_days = 1,"
            " last_gone_answer_at = now() - interval '2 days' where id = any(%s)", ([alone, mixed],))
    published = datetime(2026, 11, 1, tzinfo=UTC)

    with db.transaction(Role.INGEST) as conn:  # one transaction: now() is the same for both statements
        record_fetch_outcomes(conn, [FetchOutcome(alone, ok=True, caption="hello", published_at=published)])
        record_fetch_outcomes(conn, [FetchOutcome(mixed, ok=True, caption="hello", published_at=published),
                                     FetchOutcome(failing, ok=False, error="down", error_class="transient")])

    assert bookkeeping(database, alone) == bookkeeping(database, mixed)
    fetched_at, error, error_at, error_class, failures, days, gone_days, gone_at, state, _, caption, when, health = (
        bookkeeping(database, alone))
    assert (error, error_class, failures, days, gone_days, gone_at) == (None, None, 0, 0, 0, None)
    assert fetched_at is not None
    assert error_at is not None
    assert (state, caption, when, health) == ("active", "hello", published, "tracking")
    assert bookkeeping(database, failing)[4] == 1


def test_an_all_success_batch_never_overwrites_a_known_caption(db: Database, database: IsolatedDatabase) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, ["1"])
    with db.transaction(Role.INGEST) as conn:
        record_fetch_outcomes(conn, [FetchOutcome(video, ok=True, caption="first")])
    with db.transaction(Role.INGEST) as conn:
        record_fetch_outcomes(conn, [FetchOutcome(video, ok=True, caption="edited")])

    assert bookkeeping(database, video)[10] == "first"


def test_a_pipelined_write_failing_at_its_bookkeeping_keeps_none_of_its_snapshots(
    db: Database, database: IsolatedDatabase
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, ["1"])

    with pytest.raises(psycopg.errors.CheckViolation), pipelined_transaction(db, Role.INGEST) as conn:
        insert_snapshots(conn, [SnapshotRow(video, "1", 10, 1, 1, None, None)])
        # Not a class the column accepts: the second statement of the pipeline fails.
        record_fetch_outcomes(conn, [FetchOutcome(video, ok=False, error="x", error_class="no such class")])

    assert snapshots(database, [video]) == []
    assert bookkeeping(database, video)[4] == 0
    with pipelined_transaction(db, Role.INGEST) as conn:  # the connection is usable again
        insert_snapshots(conn, [SnapshotRow(video, "1", 10, 1, 1, None, None)])
    assert len(snapshots(database, [video])) == 1


def test_a_first_fetch_sets_caption_and_creator_in_one_write_of_the_video(
    db: Database, database: IsolatedDatabase
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, ["1"])
    creator = Creator(Platform.TIKTOK, "6800000000000000000", "someone", "Someone")
    updates = "select n_tup_upd from pg_stat_xact_user_tables where relid = 'analytics.videos'::regclass"

    with db.transaction(Role.INGEST) as conn:
        blogger = creator_ids(conn, [creator])[creator.key]
        before = conn.execute(updates).fetchone()
        record_fetch_outcomes(conn, [FetchOutcome(video, ok=True, caption="hello", blogger_id=blogger)])
        after = conn.execute(updates).fetchone()
        again = creator_ids(conn, [creator])  # now found as stated: read, not written

    assert before is not None
    assert after is not None
    assert after[0] - before[0] == 1  # caption and creator together: one new version of the row
    assert again == {creator.key: blogger}
    with database.connect_owner() as conn:
        assert conn.execute("select caption, blogger_id from analytics.videos where id = %s",
                            (video,)).fetchone() == ("hello", blogger)
