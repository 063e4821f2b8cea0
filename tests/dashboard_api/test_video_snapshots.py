"""GET /videos/{id}/snapshots: a video's raw snapshots, newest first, keyset paged, for its workspace only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from vidstats.dashboard.errors import BadRequestError, NotFoundError
from vidstats.dashboard.snapshots import video_snapshots
from vidstats.db import Database, Role

from tests.factories import insert_snapshots, make_video
from tests.two_workspaces import NOBODY, OWNER_A, OWNER_B, TwoWorkspaces, caller, two_workspaces


@pytest.fixture
def data(db: Database) -> TwoWorkspaces:
    return two_workspaces(db)


def test_pages_walk_every_snapshot_newest_first_with_none_repeated_or_skipped(db: Database,
                                                                             data: TwoWorkspaces) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    same = now - timedelta(hours=5)  # two fetches stored with the same instant: ordered by id
    taken = [now - timedelta(hours=h) for h in (30, 20, 10)] + [same, same]
    with db.transaction(Role.INGEST) as tx:
        insert_snapshots(tx, [(str(data.a.video), at, (100 + i, 10, None, 0, 1)) for i, at in enumerate(taken)])
    with db.transaction(Role.REFRESH) as tx:
        stored = tx.execute("select id, created_at, views from analytics.video_statistics where video_id = %s"
                            " order by created_at desc, id desc", (data.a.video,)).fetchall()
    as_a = db.as_caller(caller(OWNER_A, data.a.workspace))
    seen, cursor = [], None
    while True:
        page = video_snapshots(as_a, data.a.video, limit=2, cursor=cursor)
        assert len(page.items) <= 2
        seen += [(s.id, s.taken_at, s.views) for s in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [tuple(r) for r in stored]
    first = video_snapshots(as_a, data.a.video, limit=50, cursor=None).items[0]
    assert (first.likes, first.comments, first.saves, first.views_kind) == (10, None, 1, "views")  # null: not reported


def test_another_workspace_gets_not_found_and_the_function_alone_gives_it_nothing(db: Database,
                                                                                   data: TwoWorkspaces) -> None:
    for who in (caller(OWNER_B, data.b.workspace), caller(OWNER_B, data.a.workspace), caller(NOBODY, None)):
        with pytest.raises(NotFoundError):
            video_snapshots(db.as_caller(who), data.a.video, limit=10, cursor=None)
        with db.as_caller(who).transaction(Role.READER) as conn:  # a query that forgets the video check
            assert conn.execute("select * from analytics.video_snapshots(%s, null, null, 100)",
                                (data.a.video,)).fetchall() == []
    with db.as_caller(caller(OWNER_A, data.a.workspace)).transaction(Role.READER) as conn:
        assert conn.execute("select count(*) from analytics.video_snapshots(%s, null, null, 100)",
                            (data.a.video,)).fetchone() == (2,)


def test_a_cursor_of_another_video_or_an_edited_one_is_refused(db: Database, data: TwoWorkspaces) -> None:
    as_a = db.as_caller(caller(OWNER_A, data.a.workspace))
    cursor = video_snapshots(as_a, data.a.video, limit=1, cursor=None).next_cursor
    assert cursor is not None
    other = UUID(make_video(db, workspace_id=data.a.workspace))
    with pytest.raises(BadRequestError, match="another query"):
        video_snapshots(as_a, other, limit=1, cursor=cursor)
    with pytest.raises(BadRequestError, match="not a cursor"):
        video_snapshots(as_a, data.a.video, limit=1, cursor=cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + "x")
