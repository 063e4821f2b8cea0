"""Two workspaces, A and B, each with members, a creator, videos with history, a campaign and a blogger batch,
and one platform video tracked by both: the data the authorization tests look for leaks in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from vidstats.dashboard.share_links import ShareLinkCreate, create_share_link, token_hash
from vidstats.db import Caller, Database, Role
from vidstats.ingestion.blogger_batches_repository import BatchRequest, record_requested
from vidstats.platforms import Platform
from vidstats.read_model import refresh_read_model
from vidstats.workspaces import WorkspaceRole, add_member, create_workspace, track_in_workspace

from tests.factories import insert_snapshots, make_video

OWNER_A = UUID("a0000000-0000-4000-8000-00000000000a")
EDITOR_A = UUID("a0000000-0000-4000-8000-0000000000ed")
VIEWER_A = UUID("a0000000-0000-4000-8000-0000000000e1")
OWNER_B = UUID("b0000000-0000-4000-8000-00000000000b")
NOBODY = UUID("c0000000-0000-4000-8000-0000000000c0")  # signed up, in no workspace


@dataclass(frozen=True)
class Side:
    workspace: UUID
    video: UUID
    blogger: UUID
    campaign: UUID
    batch: UUID
    share_token: str  # a share link to the campaign (its token)
    share_link: UUID  # another link to it, which a test may revoke

    def ids(self) -> set[str]:
        return {str(v) for v in (self.workspace, self.video, self.blogger, self.campaign, self.batch)}


@dataclass(frozen=True)
class TwoWorkspaces:
    a: Side
    b: Side
    shared_video: UUID  # tracked by both, each with its own added_at
    shared_added: dict[UUID, datetime]


def caller(user: UUID, workspace: UUID | None, *, edits: bool = False) -> Caller:
    return Caller(claims={"sub": str(user), "role": "authenticated"}, workspace_id=workspace, edits=edits)


def share(db: Database, token: str) -> Database:
    """``db`` as a share link's reader (its token's hash in the headers, no account)."""
    return db.as_caller(Caller.share_link(token_hash(token)))


def outsiders(db: Database, data: TwoWorkspaces) -> dict[str, Database]:
    """Everyone who may see nothing of A, by who they are: B's members and links, forged or unknown ones."""
    return {
        "B's owner in B": db.as_caller(caller(OWNER_B, data.b.workspace)),
        "B's owner naming A (a forged header)": db.as_caller(caller(OWNER_B, data.a.workspace)),
        "a user in no workspace": db.as_caller(caller(NOBODY, None)),
        "the reader without claims": db,
        "B's share link": share(db, data.b.share_token),
        "an unknown share token": share(db, "x" * 43),
    }


def _side(db: Database, name: str, owner: UUID, shared: UUID, shared_added: datetime) -> Side:
    conn = db.connection()
    with conn.transaction():  # an operator creates the workspace and its first owner
        workspace = create_workspace(conn, f"Workspace {name}", owner_user_id=owner)
    video = UUID(make_video(db, workspace_id=workspace))
    now = datetime.now(UTC)
    with db.transaction(Role.INGEST) as tx:
        row = tx.execute("insert into analytics.bloggers (platform, platform_user_id, username)"
                         " values ('tiktok', %s, %s) returning id", (f"uid-{name}", f"creator_{name}")).fetchone()
        assert row is not None
        blogger = UUID(str(row[0]))
        tx.execute("update analytics.videos set blogger_id = %s where id = %s", (blogger, video))
        insert_snapshots(tx, _history(video))
        track_in_workspace(tx, workspace, [shared])
        tx.execute("update analytics.workspace_videos set added_at = %s where workspace_id = %s and video_id = %s",
                   (shared_added, workspace, shared))
    editor = db.as_caller(caller(owner, workspace, edits=True))
    with editor.transaction(Role.READER) as tx:
        row = tx.execute("insert into analytics.campaigns (name, starts_at) values (%s, %s) returning id",
                         (f"Campaign {name}", now - timedelta(days=5))).fetchone()
        assert row is not None
        campaign = UUID(str(row[0]))
        tx.execute("insert into analytics.campaign_videos (campaign_id, video_id, added_at)"
                   " select %s, v, %s from unnest(%s::uuid[]) v", (campaign, now - timedelta(days=4), [video, shared]))
        batch = uuid.uuid4()
        record_requested(tx, BatchRequest(batch, Platform.TIKTOK, f"creator_{name}", 5, campaign, workspace))
    link = create_share_link(editor, campaign, ShareLinkCreate())
    spare = create_share_link(editor, campaign, ShareLinkCreate())
    return Side(workspace, video, blogger, campaign, batch, link.token, spare.id)


def _history(video: UUID) -> list[tuple[str, datetime, tuple[int, int, int, int, int]]]:
    now = datetime.now(UTC)
    return [(str(video), now - timedelta(days=d), (100 * (3 - d), 10, 1, 0, 0)) for d in (2, 1)]


def two_workspaces(db: Database) -> TwoWorkspaces:
    shared = UUID(make_video(db))  # (also tracked by the Default workspace: harmless here)
    with db.transaction(Role.INGEST) as tx:
        insert_snapshots(tx, _history(shared))
    now = datetime.now(UTC)
    a = _side(db, "A", OWNER_A, shared, now - timedelta(days=3))
    b = _side(db, "B", OWNER_B, shared, now - timedelta(hours=6))
    added = {a.workspace: now - timedelta(days=3), b.workspace: now - timedelta(hours=6)}
    conn = db.connection()
    with conn.transaction():
        for user, role in ((EDITOR_A, WorkspaceRole.EDITOR), (VIEWER_A, WorkspaceRole.VIEWER)):
            add_member(conn, a.workspace, user, role)
    assert refresh_read_model(db).status == "caught_up"
    return TwoWorkspaces(a=a, b=b, shared_video=shared, shared_added=added)
