"""Small builders for test data, written through the ingest role like the real writers."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

import psycopg
from vidstats.db import Caller, Database, Role
from vidstats.workspaces import DEFAULT_WORKSPACE_ID, WorkspaceRole, add_member, track_in_workspace

_counter = itertools.count(1)

# The user of the dashboard tests' default token (tests.dashboard_api.conftest.hs256_token) and its workspace:
# the migration's Default workspace, which every video made here is tracked by.
TEST_USER_ID = "7c2a0a1e-0000-4000-8000-000000000001"
TEST_WORKSPACE_ID = DEFAULT_WORKSPACE_ID


def join_workspace(db: Database, *, user_id: str = TEST_USER_ID, workspace_id: UUID = TEST_WORKSPACE_ID,
                   role: WorkspaceRole = WorkspaceRole.OWNER) -> None:
    """Makes the user a member (as the project owner: an operator's act)."""
    conn = db.connection()
    with conn.transaction():
        add_member(conn, workspace_id, UUID(user_id), role)


def member(db: Database, *, user_id: str = TEST_USER_ID, workspace_id: UUID = TEST_WORKSPACE_ID,
           role: WorkspaceRole = WorkspaceRole.OWNER) -> Database:
    """``db`` as a member of the workspace (made one first), as the dashboard API runs it for a request."""
    join_workspace(db, user_id=user_id, workspace_id=workspace_id, role=role)
    return db.as_caller(Caller(claims={"sub": user_id, "role": "authenticated"}, workspace_id=workspace_id,
                               edits=role is not WorkspaceRole.VIEWER))


def make_video(db: Database, *, platform: str = "tiktok", external_video_id: str | None = None,
               workspace_id: UUID = TEST_WORKSPACE_ID) -> str:
    """A video tracked by ``workspace_id`` (the test workspace by default)."""
    external_video_id = external_video_id or f"7{next(_counter):018d}"
    with db.transaction(Role.INGEST) as conn:
        row = conn.execute(
            "insert into analytics.videos (platform, external_video_id, url) values (%s, %s, %s) returning id::text",
            (platform, external_video_id, f"https://www.tiktok.com/@someone/video/{external_video_id}"),
        ).fetchone()
        assert row is not None
        track_in_workspace(conn, workspace_id, [UUID(row[0])])
    return str(row[0])


def insert_snapshots(
    conn: psycopg.Connection,
    rows: Iterable[tuple[str, datetime, Sequence[int | None]] | tuple[str, datetime, Sequence[int | None], str]],
) -> None:
    """Inserts (video_id, created_at, (views, likes, comments, reposts, saves)[, views_kind]) rows, as ingest
    would (views_kind 'views' unless given)."""
    for video_id, created_at, values, *kind in rows:
        conn.execute(
            "insert into analytics.video_statistics"
            " (video_id, external_video_id, views, likes, comments, reposts, saves, created_at, views_kind)"
            " values (%s, (select external_video_id from analytics.videos where id = %s), %s, %s, %s, %s, %s, %s,"
            " %s)",
            (video_id, video_id, *values, created_at, kind[0] if kind else "views"),
        )
