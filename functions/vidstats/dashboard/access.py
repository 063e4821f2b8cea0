"""The dashboard API's one authorization point: who the caller is, in which workspace, with what role.

Every workspace-scoped request names its workspace in the ``X-Workspace-Id`` header. ``authorize`` checks,
before the route runs, that the caller is a member of it with a role that may do what the request does (GET:
any member; anything else, a command: an owner or an editor), and returns the ``Caller`` every transaction of
the request then runs for: Postgres' row-level security shows it that workspace's rows only (so another
workspace's ids answer 404), and a command's transactions check the editor right again next to their writes.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from vidstats.dashboard.errors import ApiError, BadRequestError
from vidstats.dashboard.models import MeOut, WorkspaceOut
from vidstats.db import Caller, Database, Role
from vidstats.workspaces import WorkspaceRole, accept_invitations, my_memberships, workspace_access

WORKSPACE_HEADER = "x-workspace-id"
HEADER_FIELD = f"header.{WORKSPACE_HEADER}"
EDITORS = frozenset({WorkspaceRole.OWNER, WorkspaceRole.EDITOR})
RANK = {WorkspaceRole.VIEWER: 0, WorkspaceRole.EDITOR: 1, WorkspaceRole.OWNER: 2}
# Routes that need more than their method says (any member reads, owners and editors command).
OWNER_PATHS = ("/workspace/members",)
EDITOR_PATHS = ("/workspace/export-targets",)


def required_role(method: str, path: str) -> WorkspaceRole:
    """The least role a request needs: members and budget changes are an owner's, export targets and a
    campaign's share links an owner's or an editor's (reading them too: they name the customers' spreadsheets,
    and a link's existence is for those who manage it), every other command an editor's."""
    def under(prefixes: tuple[str, ...]) -> bool:
        return any(path == p or path.startswith(p + "/") for p in prefixes)

    if under(OWNER_PATHS) or (path == "/workspace/budget" and method not in ("GET", "HEAD")):
        return WorkspaceRole.OWNER
    if under(EDITOR_PATHS) or method not in ("GET", "HEAD") or path.endswith("/share-links"):
        return WorkspaceRole.EDITOR
    return WorkspaceRole.VIEWER


class ForbiddenError(ApiError):
    status = 403
    title = "Forbidden"


def authorize(db: Database, claims: dict[str, Any], workspace_header: str | None, *, edits: bool,
              needs: WorkspaceRole | None = None) -> Caller:
    """The caller of a workspace-scoped request, or ForbiddenError / BadRequestError saying why not. ``needs``:
    the least role (default: an editor for a command, any member for a read)."""
    try:
        workspace_id = UUID(workspace_header) if workspace_header else None
    except ValueError:
        raise BadRequestError(HEADER_FIELD, "must be a workspace id (a UUID); your workspaces: GET /me") from None
    role, member_of_any = workspace_access(db, Caller(claims=claims, workspace_id=workspace_id))
    if not member_of_any:
        raise ForbiddenError(HEADER_FIELD, "you are not a member of any workspace: ask a workspace owner to add you")
    if workspace_id is None:
        raise BadRequestError(HEADER_FIELD, "required: the workspace this request is about (yours: GET /me)")
    if role is None:  # the same answer whether the workspace exists or not
        raise ForbiddenError(HEADER_FIELD, "you are not a member of this workspace")
    needs = needs or (WorkspaceRole.EDITOR if edits else WorkspaceRole.VIEWER)
    if RANK[role] < RANK[needs]:
        if needs is WorkspaceRole.OWNER:
            raise ForbiddenError(HEADER_FIELD, f"only an owner of this workspace may do this (you: {role.value})")
        raise ForbiddenError(HEADER_FIELD, f"a {role.value} may only read; this needs an owner or an editor")
    return Caller(claims=claims, workspace_id=workspace_id, edits=edits)


ADMIN_FIELD = "header.authorization"


def is_instance_admin(claims: dict[str, Any]) -> bool:
    """An instance administrator (an operator): ``app_metadata.role == "admin"`` in the verified token. Supabase
    lets only the service role set ``app_metadata`` (a user can change ``user_metadata``, never this)."""
    app_metadata = claims.get("app_metadata")
    return isinstance(app_metadata, dict) and app_metadata.get("role") == "admin"


def require_instance_admin(claims: dict[str, Any]) -> None:
    """Operator features (the page-view report) are for instance administrators only."""
    if not is_instance_admin(claims):
        raise ForbiddenError(ADMIN_FIELD, "only instance administrators (app_metadata.role \"admin\") may read this")


def me(db: Database, claims: dict[str, Any]) -> MeOut:
    """The caller and their workspaces with their role in each (none: an empty list)."""
    with db.transaction(Role.READER, Caller(claims=claims)) as conn:
        accept_invitations(conn)  # a token proves the invited user has signed in: no longer pending
        memberships = my_memberships(conn)
    return MeOut(user_id=str(claims.get("sub") or ""), email=claims.get("email"),
                 workspaces=[WorkspaceOut(id=m.workspace_id, name=m.name, role=m.role.value) for m in memberships])
