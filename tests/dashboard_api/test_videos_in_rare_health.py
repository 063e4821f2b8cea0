"""videos_in_rare_health() (migration 20261204090000): the videos in a rare fetch health state (failing, gone) as
the caller's workspace sees them, with their latest totals, the caller's right to each checked once as the owner.
It must return exactly what the caller's row-level security shows, and nothing to anyone else."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from vidstats.dashboard.share_links import token_hash
from vidstats.db import Database, Role

from tests.factories import make_video
from tests.two_workspaces import OWNER_A, OWNER_B, TwoWorkspaces, caller, outsiders, share, two_workspaces

RARE = "select video_id, views, likes, saves from analytics.videos_in_rare_health(%s) order by video_id"
# The same, read under the caller's own row-level security.
UNDER_RLS = (
    "select v.id, l.views, l.likes, l.saves from analytics.videos v"
    "  join analytics.workspace_video_tracking t on t.video_id = v.id"
    "  left join analytics.video_latest_statistics l on l.video_id = v.id"
    " where t.fetch_health = %s order by v.id")


@pytest.fixture
def data(db: Database) -> TwoWorkspaces:
    return two_workspaces(db)


def read(db: Database, query: str, health: str) -> list[tuple[Any, ...]]:
    with db.transaction(Role.READER) as conn:
        return conn.execute(query, (health,)).fetchall()


def failing(db: Database, ids: list[UUID]) -> None:
    with db.connection().transaction():
        db.connection().execute("update analytics.videos set failure_days = 2 where id = any(%s)", (ids,))


def test_each_workspace_gets_its_own_failing_videos_as_row_level_security_shows_them(
        db: Database, data: TwoWorkspaces) -> None:
    outside = UUID(make_video(db, workspace_id=data.a.workspace))  # A's, outside its campaign
    stopped = UUID(make_video(db, workspace_id=data.a.workspace))  # failing, but A stopped tracking it
    healthy = UUID(make_video(db, workspace_id=data.a.workspace))
    failing(db, [data.a.video, data.b.video, data.shared_video, outside, stopped])
    with db.connection().transaction():
        db.connection().execute("update analytics.workspace_videos set stopped_at = now() where video_id = %s",
                                (stopped,))
    member, link = db.as_caller(caller(OWNER_A, data.a.workspace)), share(db, data.a.share_token)
    b_member = db.as_caller(caller(OWNER_B, data.b.workspace))
    expected = {
        member: {data.a.video, data.shared_video, outside},  # not the one it stopped: 'stopped' to A
        link: {data.a.video, data.shared_video},  # its campaign's only
        b_member: {data.b.video, data.shared_video},
    }
    for reader, ids in expected.items():
        rows = read(reader, RARE, "failing")
        assert {r[0] for r in rows} == ids
        assert rows == read(reader, UNDER_RLS, "failing")  # same videos, same numbers
        assert any(r[1] is not None for r in rows)  # the latest totals come along
    assert healthy not in {r[0] for r in read(member, RARE, "failing")}
    assert read(member, RARE, "gone") == []


def test_only_rare_states_are_listed(db: Database, data: TwoWorkspaces) -> None:
    member = db.as_caller(caller(OWNER_A, data.a.workspace))
    assert read(member, UNDER_RLS, "tracking") != []
    for state in ("tracking", "stopped", "anything"):
        assert read(member, RARE, state) == []


def test_nobody_else_gets_a_row(db: Database, data: TwoWorkspaces) -> None:
    failing(db, [data.a.video])
    a_only = "select video_id from analytics.videos_in_rare_health('failing') where video_id = %s"
    for who, reader in outsiders(db, data).items():
        with reader.transaction(Role.READER) as conn:
            assert conn.execute(a_only, (data.a.video,)).fetchall() == [], who


def test_a_reader_whose_headers_carry_a_share_links_hash_is_still_only_a_reader(
        db: Database, data: TwoWorkspaces) -> None:
    failing(db, [data.a.video])
    with db.transaction(Role.READER) as conn:
        conn.execute("select set_config('request.headers', %s, true)",
                     (f'{{"x-share-token-hash": "{token_hash(data.a.share_token)}"}}',))
        assert conn.execute(RARE, ("failing",)).fetchall() == []


def test_other_roles_get_no_row(db: Database, data: TwoWorkspaces) -> None:
    failing(db, [data.a.video])
    with db.connection().transaction():  # the owner itself, no SET ROLE
        conn = db.connection()
        conn.execute("select set_config('request.jwt.claims', %s, true), set_config('request.headers', %s, true)",
                     (f'{{"sub": "{OWNER_A}"}}', f'{{"x-workspace-id": "{data.a.workspace}"}}'))
        assert conn.execute(RARE, ("failing",)).fetchall() == []
