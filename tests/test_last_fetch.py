"""A video's last fetch is its latest snapshot: a success that changes nothing else on the video does not write its
row, and GET /videos/{id} (and stopping its tracking) still shows when it was last fetched."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import respx
from vidstats.dashboard.videos import get_video, stop_tracking
from vidstats.db import Database, Role
from vidstats.ingestion.pipelined import pipelined_transaction
from vidstats.ingestion.snapshots_repository import SnapshotRow, insert_snapshots
from vidstats.ingestion.videos_repository import FetchOutcome, record_fetch_outcomes
from vidstats.platforms import Platform

from tests.conftest import IsolatedDatabase
from tests.factories import insert_snapshots as factory_snapshots
from tests.factories import member
from tests.ingest_helpers import TIKTOK_VIDEO_URL, fetch_body, insert_videos, processor, records, tiktok_body
from tests.two_workspaces import OWNER_A, OWNER_B, caller, two_workspaces

TIKTOK_ID = "7367927569280240901"


def row_version_and_times(database: IsolatedDatabase, video_id: UUID) -> tuple[Any, ...]:
    """The row's version (xmin changes with every write), its own last_fetched_at, the last fetch, the latest
    snapshot's time."""
    with database.connect_owner() as conn:
        row = conn.execute(
            "select xmin::text, last_fetched_at, analytics.last_fetch_at(id),"
            " (select max(created_at) from analytics.video_statistics s where s.video_id = v.id)"
            " from analytics.videos v where id = %s", (video_id,)).fetchone()
    assert row is not None
    return tuple(row)


def fetched_two_days_ago(database: IsolatedDatabase, video_id: UUID) -> None:
    """A healthy video, caption known, whose row says it was last fetched two days ago."""
    with database.connect_owner() as conn:
        conn.execute("update analytics.videos set caption = 'known', published_at = now() - interval '9 days',"
                     " last_fetched_at = now() - interval '2 days' where id = %s", (video_id,))


def test_a_usual_success_writes_no_video_row_and_the_last_fetch_is_its_snapshot(
    db: Database, database: IsolatedDatabase
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, ["1"])
    fetched_two_days_ago(database, video)
    version, own_before, _, _ = row_version_and_times(database, video)

    with pipelined_transaction(db, Role.INGEST) as conn:
        insert_snapshots(conn, [SnapshotRow(video, "1", 10, 1, 1, None, None)])
        record_fetch_outcomes(conn, [FetchOutcome(video, ok=True, caption="edited", published_at=datetime.now(UTC))])

    after, own_after, last_fetch, snapshot_at = row_version_and_times(database, video)
    assert (after, own_after) == (version, own_before)  # not written at all
    assert last_fetch == snapshot_at
    assert last_fetch > own_before


def test_a_success_after_failures_still_clears_them_and_sets_the_rows_fetch_time(
    db: Database, database: IsolatedDatabase
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, ["1"])
    fetched_two_days_ago(database, video)
    with database.connect_owner() as conn:
        conn.execute("update analytics.videos set last_error = 'down', last_error_class = 'transient',"
                     " consecutive_failures = 2, failure_days = 2 where id = %s", (video,))

    with pipelined_transaction(db, Role.INGEST) as conn:
        insert_snapshots(conn, [SnapshotRow(video, "1", 10, 1, 1, None, None)])
        record_fetch_outcomes(conn, [FetchOutcome(video, ok=True)])

    with database.connect_owner() as conn:
        row = conn.execute("select last_error, last_error_class, consecutive_failures, failure_days, fetch_health"
                           " from analytics.videos where id = %s", (video,)).fetchone()
    assert row == (None, None, 0, 0, "tracking")
    _, own, last_fetch, snapshot_at = row_version_and_times(database, video)
    assert own == last_fetch == snapshot_at


def test_the_api_shows_the_last_fetch_of_a_success_that_wrote_no_video_row(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    (video,) = insert_videos(db, Platform.TIKTOK, [TIKTOK_ID])
    router.get(TIKTOK_VIDEO_URL).respond(200, json=tiktok_body(TIKTOK_ID))
    ingest = processor(db, client)
    body = fetch_body([(video, Platform.TIKTOK, TIKTOK_ID)])
    assert ingest.process(records([body])).failures == {}  # the first fetch names its creator: the row changes
    fetched_two_days_ago(database, video)
    version = row_version_and_times(database, video)[0]

    report = ingest.process(records([fetch_body([(video, Platform.TIKTOK, TIKTOK_ID)])]))  # the next night

    assert (report.failures, report.snapshots_written) == ({}, 1)
    after, _, _, snapshot_at = row_version_and_times(database, video)
    assert after == version
    detail = get_video(member(db), video)
    assert detail.tracking.last_fetched_at == detail.health.last_success_at == snapshot_at
    assert stop_tracking(member(db), video).tracking.last_fetched_at == snapshot_at


def test_another_workspace_cannot_read_a_videos_last_fetch(db: Database) -> None:
    data = two_workspaces(db)
    with db.transaction(Role.INGEST) as conn:  # A's own video, fetched once
        factory_snapshots(conn, [(str(data.a.video), datetime.now(UTC), (5, 1, 1, 0, 0))])
    with db.as_caller(caller(OWNER_A, data.a.workspace)).transaction(Role.READER) as conn:
        mine = conn.execute("select analytics.video_last_fetched_at(%s)", (data.a.video,)).fetchone()
    with db.as_caller(caller(OWNER_B, data.b.workspace)).transaction(Role.READER) as conn:
        theirs = conn.execute("select analytics.video_last_fetched_at(%s)", (data.a.video,)).fetchone()
    assert mine is not None
    assert mine[0] is not None
    assert theirs == (None,)
