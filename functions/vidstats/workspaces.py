"""Workspaces: the default one, a workspace's tracking of videos, and membership (database access).

A workspace tracks a video through its own ``analytics.workspace_videos`` row; the video itself (one row per
platform video, fetched once per schedule) is shared. Who may see what is enforced by row-level security
(migration ``20261130170000_workspaces.sql``); these functions are what writers and operators call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import psycopg

from vidstats.db import Caller, Database, Role

# Created by the migration for the rows that existed before workspaces; the CLI's workspace by default.
DEFAULT_WORKSPACE_ID = UUID("00000000-0000-4000-8000-000000000001")


class WorkspaceRole(StrEnum):
    OWNER = "owner"  # members, and everything an editor does
    EDITOR = "editor"  # campaigns, tracking, exports
    VIEWER = "viewer"  # reads only


@dataclass(frozen=True)
class Membership:
    workspace_id: UUID
    name: str
    role: WorkspaceRole


@dataclass(frozen=True)
class WorkspaceTracking:
    started_at: dict[UUID, datetime]  # when the workspace started tracking each video (its own start)
    newly_tracked: int  # videos it was not tracking before (what a tracking budget counts)


def track_in_workspace(conn: psycopg.Connection, workspace_id: UUID, video_ids: Sequence[UUID]
                       ) -> WorkspaceTracking:
    """The workspace tracks these videos (from now on, or again if it had stopped; ``added_at`` is kept)."""
    ids = sorted(set(video_ids))
    cursor = conn.execute(
        """
        insert into analytics.workspace_videos (workspace_id, video_id)
        select %s, unnest(%s::uuid[])
        on conflict (workspace_id, video_id) do update set stopped_at = null
         where workspace_videos.stopped_at is not null
        """,
        (workspace_id, ids),
    )
    newly_tracked = cursor.rowcount
    rows = conn.execute("select video_id, added_at from analytics.workspace_videos"
                        " where workspace_id = %s and video_id = any(%s::uuid[])", (workspace_id, ids)).fetchall()
    return WorkspaceTracking({r[0]: r[1] for r in rows}, newly_tracked)


def campaign_in_workspace(conn: psycopg.Connection, campaign_id: UUID, workspace_id: UUID) -> bool:
    row = conn.execute("select 1 from analytics.campaigns where id = %s and workspace_id = %s",
                       (campaign_id, workspace_id)).fetchone()
    return row is not None


def create_workspace(conn: psycopg.Connection, name: str, *, owner_user_id: UUID | None = None,
                     owner_email: str | None = None, owner_pending: bool = False) -> UUID:
    """A new workspace (as the owner role: an operator's act), with its first owner if given (pending: invited
    by e-mail, not signed in yet)."""
    row = conn.execute("insert into analytics.workspaces (name) values (%s) returning id", (name.strip(),)).fetchone()
    assert row is not None
    workspace_id: UUID = row[0]
    if owner_user_id is not None:
        add_member(conn, workspace_id, owner_user_id, WorkspaceRole.OWNER, email=owner_email, pending=owner_pending)
    return workspace_id


@dataclass(frozen=True)
class Member:
    user_id: UUID
    role: WorkspaceRole


@dataclass(frozen=True)
class WorkspaceSummary:
    id: UUID
    name: str
    tracked_videos: int
    members: list[Member]


def workspace_exists(conn: psycopg.Connection, workspace_id: UUID) -> bool:
    return conn.execute("select 1 from analytics.workspaces where id = %s", (workspace_id,)).fetchone() is not None


def list_workspaces(conn: psycopg.Connection) -> list[WorkspaceSummary]:
    """Every workspace (as the project owner: an operator's view), by name."""
    rows = conn.execute(
        "select w.id, w.name,"
        "       (select count(*) from analytics.workspace_videos wv"
        "         where wv.workspace_id = w.id and wv.stopped_at is null),"
        "       coalesce((select array_agg(array[m.user_id::text, m.role] order by m.role, m.user_id)"
        "                   from analytics.workspace_members m where m.workspace_id = w.id), '{}')"
        "  from analytics.workspaces w order by w.name, w.id").fetchall()
    return [WorkspaceSummary(r[0], r[1], r[2], [Member(UUID(u), WorkspaceRole(role)) for u, role in r[3]])
            for r in rows]


def add_member(conn: psycopg.Connection, workspace_id: UUID, user_id: UUID, role: WorkspaceRole, *,
               email: str | None = None, pending: bool = False) -> None:
    """An operator adds a member or changes their role (as the project owner; owners use the API)."""
    conn.execute(
        "insert into analytics.workspace_members (workspace_id, user_id, role, email, invited_at, accepted_at)"
        " values (%s, %s, %s, %s, case when %s then now() end, case when %s then null else now() end)"
        " on conflict (workspace_id, user_id) do update set role = excluded.role,"
        "   email = coalesce(excluded.email, workspace_members.email)",
        (workspace_id, user_id, role.value, email, pending, pending))


def my_memberships(conn: psycopg.Connection) -> list[Membership]:
    """The caller's workspaces (row-level security shows the reader only the caller's own memberships)."""
    rows = conn.execute(
        "select w.id, w.name, m.role from analytics.workspace_members m"
        "  join analytics.workspaces w on w.id = m.workspace_id"
        " where m.user_id = analytics.current_user_id() order by w.name, w.id").fetchall()
    return [Membership(r[0], r[1], WorkspaceRole(r[2])) for r in rows]


def workspace_access(db: Database, caller: Caller) -> tuple[WorkspaceRole | None, bool]:
    """The caller's role in the workspace it names (None: not a member), and whether it is a member of any
    workspace at all: one statement, one round trip."""
    row = db.fetch_one_as(Role.READER, caller,
                          "analytics.current_workspace_role(), analytics.current_user_has_workspace()")
    assert row is not None
    return (WorkspaceRole(row[0]) if row[0] else None), bool(row[1])


# ---- members, as an owner sees them (security definer functions check the caller's role: see the migration
# 20261201110000_workspace_members_budgets_export_targets.sql) -------------------------------------------------

LAST_OWNER_SQLSTATE = "VS409"  # analytics.set_workspace_member_role / remove_workspace_member: would leave none


class LastOwnerError(Exception):
    """Removing or demoting this member would leave the workspace without an owner."""


@dataclass(frozen=True)
class MemberRow:
    user_id: UUID
    role: WorkspaceRole
    email: str | None
    added_at: datetime
    invited_at: datetime | None
    accepted_at: datetime | None  # None: invited, not signed in yet (pending)


def member_list(conn: psycopg.Connection) -> list[MemberRow]:
    rows = conn.execute("select * from analytics.workspace_member_list()").fetchall()
    return [MemberRow(r[0], WorkspaceRole(r[1]), *r[2:]) for r in rows]


def member(conn: psycopg.Connection, user_id: UUID) -> MemberRow | None:
    return next((m for m in member_list(conn) if m.user_id == user_id), None)


def add_member_as_owner(conn: psycopg.Connection, user_id: UUID, role: WorkspaceRole, email: str | None, *,
                        pending: bool) -> bool:
    """The caller (an owner) adds a member; False when the user is a member already (nothing changes)."""
    row = conn.execute("select analytics.add_workspace_member(%s, %s, %s, %s)",
                       (user_id, role.value, email, pending)).fetchone()
    return bool(row and row[0])


def _last_owner_guard(exc: psycopg.Error) -> None:
    if exc.sqlstate == LAST_OWNER_SQLSTATE:
        raise LastOwnerError(str(exc.diag.message_primary or exc)) from exc


def set_member_role(conn: psycopg.Connection, user_id: UUID, role: WorkspaceRole) -> MemberRow | None:
    """The member with their new role (None: not a member); LastOwnerError when it would demote the last owner."""
    try:
        row = conn.execute("select * from analytics.set_workspace_member_role(%s, %s)",
                           (user_id, role.value)).fetchone()
    except psycopg.Error as exc:
        _last_owner_guard(exc)
        raise
    return None if row is None else MemberRow(row[0], WorkspaceRole(row[1]), *row[2:])


def remove_member(conn: psycopg.Connection, user_id: UUID) -> bool:
    """False when the user is not a member; LastOwnerError when they are the last owner."""
    try:
        row = conn.execute("select analytics.remove_workspace_member(%s)", (user_id,)).fetchone()
    except psycopg.Error as exc:
        _last_owner_guard(exc)
        raise
    return bool(row and row[0])


def accept_invitations(conn: psycopg.Connection) -> None:
    """The caller has signed in: their pending memberships are accepted."""
    conn.execute("select analytics.accept_workspace_invitations()")


# ---- Sheets export targets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportTargetRow:
    id: UUID
    spreadsheet_id: str
    campaign_ids: list[UUID] | None  # None: every campaign of the workspace
    include_all_videos: bool
    created_at: datetime


def export_target_list(conn: psycopg.Connection) -> list[ExportTargetRow]:
    """The caller's workspace's targets (an owner or editor: checked by Postgres)."""
    return [ExportTargetRow(*r) for r in conn.execute("select * from analytics.workspace_export_target_list()")]


def add_export_target(conn: psycopg.Connection, spreadsheet_id: str, campaign_ids: Sequence[UUID] | None,
                      include_all_videos: bool) -> tuple[UUID | None, list[UUID]]:
    """(the new target's id, []); (None, the campaigns not in the workspace); (None, []) when the spreadsheet is
    a target already."""
    row = conn.execute("select * from analytics.add_workspace_export_target(%s, %s, %s)",
                       (spreadsheet_id, list(campaign_ids) if campaign_ids is not None else None,
                        include_all_videos)).fetchone()
    assert row is not None
    return row[0], list(row[1] or [])


def remove_export_target(conn: psycopg.Connection, target_id: UUID) -> bool:
    row = conn.execute("select analytics.remove_workspace_export_target(%s)", (target_id,)).fetchone()
    return bool(row and row[0])


def all_export_targets(conn: psycopg.Connection) -> list[tuple[UUID, ExportTargetRow]]:
    """Every workspace's targets (the export's role), with their workspace."""
    rows = conn.execute("select workspace_id, id, spreadsheet_id, campaign_ids, include_all_videos, created_at"
                        "  from analytics.workspace_export_targets order by workspace_id, created_at, id").fetchall()
    return [(r[0], ExportTargetRow(*r[1:])) for r in rows]
