"""A workspace managed through the API: members and invitations (owners), the budget (read by any member, set by
owners), Sheets export targets (owners and editors). Postgres checks the caller's role again in each function's
transaction (``analytics.require_workspace_owner`` / ``require_workspace_editor``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from vidstats.budgets import BudgetSettings, budget_settings, next_utc_midnight, read_budget, set_budget
from vidstats.dashboard.errors import ApiError, BadRequestError, ConflictError, NotFoundError
from vidstats.dashboard.models import _In, _Out
from vidstats.db import Database, Role, caller_workspace
from vidstats.workspaces import (
    LastOwnerError,
    MemberRow,
    WorkspaceRole,
    add_export_target,
    add_member_as_owner,
    export_target_list,
    member,
    member_list,
    remove_export_target,
    remove_member,
    set_member_role,
)

if TYPE_CHECKING:
    from vidstats.auth_admin import AuthAdmin

# A plain check (no e-mail-validator dependency): Supabase Auth validates the address itself, answered as 400.
Email = Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                             examples=["ana@agency.example"])]
SpreadsheetId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{10,200}$",
                                     description="The id in the spreadsheet's URL (…/spreadsheets/d/<id>/edit)")]


class Removed(_Out):
    id: UUID
    removed: Literal[True] = True


class TooManyRequestsError(ApiError):
    status = 429
    title = "Too many requests"


class BadGatewayError(ApiError):
    status = 502
    title = "Bad gateway"


# ---- members ---------------------------------------------------------------------------------------------------


class MemberRoleName(StrEnum):
    owner = "owner"
    editor = "editor"
    viewer = "viewer"


class MemberOut(_Out):
    user_id: UUID = Field(description="The Supabase Auth user id (the token's `sub`)")
    email: str | None = Field(description="The address they were invited or added by (null: added by user id)")
    role: MemberRoleName
    status: Literal["active", "pending"] = Field(
        description="`pending`: invited by e-mail and not signed in yet (their role applies once they do)")
    added_at: datetime
    invited_at: datetime | None


class MemberList(_Out):
    items: list[MemberOut]


class MemberInvite(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "ana@agency.example", "role": "editor"}]})

    email: Email
    role: MemberRoleName = MemberRoleName.viewer


class MemberInvited(_Out):
    member: MemberOut
    invitation_sent: bool = Field(description="True: Supabase Auth e-mailed an invitation (a new user); false: "
                                              "the address already had an account, which was added as is")


class MemberRoleChange(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "viewer"}]})

    role: MemberRoleName


def _member_out(m: MemberRow) -> MemberOut:
    return MemberOut(user_id=m.user_id, email=m.email, role=MemberRoleName(m.role.value),
                     status="pending" if m.accepted_at is None else "active", added_at=m.added_at,
                     invited_at=m.invited_at)


def list_members(db: Database) -> MemberList:
    with db.transaction(Role.READER) as conn:
        return MemberList(items=[_member_out(m) for m in member_list(conn)])


def invite_member(db: Database, admin: AuthAdmin | None, body: MemberInvite) -> MemberInvited:
    """Invites the address through Supabase Auth (or finds its existing account) and makes the user a member with
    the chosen role at once (pending until a new user signs in)."""
    from vidstats.auth_admin import AuthAdminError

    if admin is None:
        raise ConflictError("body.email", "invitations by e-mail are not configured for this API: the operator sets "
                                          "SUPABASE_SERVICE_ROLE_KEY_SECRET_ID (template parameter "
                                          "SupabaseServiceRoleKeySecretArn)")
    try:
        user = admin.invite_or_find(body.email)
    except AuthAdminError as exc:
        if exc.kind == "invalid_email":
            raise BadRequestError("body.email", exc.message) from None
        if exc.kind == "rate_limited":
            raise TooManyRequestsError("body.email", exc.message) from None
        raise BadGatewayError("body.email", exc.message) from None
    with db.transaction(Role.READER) as conn:
        added = add_member_as_owner(conn, user.id, WorkspaceRole(body.role.value), user.email or body.email,
                                    pending=not user.confirmed)
        existing = member(conn, user.id)
    assert existing is not None
    if not added:
        raise ConflictError("body.email", f"{body.email} is a member already ({existing.role.value}): change their "
                                          f"role with PATCH /workspace/members/{user.id}")
    return MemberInvited(member=_member_out(existing), invitation_sent=user.invited)


def change_role(db: Database, user_id: UUID, body: MemberRoleChange) -> MemberOut:
    with db.transaction(Role.READER) as conn:
        try:
            changed = set_member_role(conn, user_id, WorkspaceRole(body.role.value))
        except LastOwnerError as exc:
            raise ConflictError("body.role", str(exc)) from None
    if changed is None:
        raise NotFoundError("path.user_id", "no such member of this workspace")
    return _member_out(changed)


def remove(db: Database, user_id: UUID) -> None:
    with db.transaction(Role.READER) as conn:
        try:
            found = remove_member(conn, user_id)
        except LastOwnerError as exc:
            raise ConflictError("path.user_id", str(exc)) from None
    if not found:
        raise NotFoundError("path.user_id", "no such member of this workspace")


# ---- budget ----------------------------------------------------------------------------------------------------


class Cap(_Out):
    limit: int = Field(description="The cap in force: the owner's setting (within the maximum) or the default")
    used: int = Field(description="Tracked videos now / on-demand fetches today (UTC)")
    set_by_owner: int | None = Field(description="What an owner set (null: the operator's default applies)")
    default: int = Field(description="The operator's default")
    maximum: int = Field(description="The most an owner may set (the operator's limit)")


class DailyCap(Cap):
    resets_at: datetime = Field(description="The next UTC midnight, when the day's count starts again")


class BudgetOut(_Out):
    tracked_videos: Cap = Field(description="Videos this workspace tracks actively")
    fetches_per_day: DailyCap = Field(description="On-demand fetches per UTC day: one per video a tracking command "
                                                  "enqueues, a blogger batch's `limit` (not the nightly refresh)")


class BudgetUpdate(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"max_tracked_videos": 500,
                                                               "max_fetches_per_day": 1000}]})

    max_tracked_videos: int | None = Field(ge=0, description="null: the operator's default")
    max_fetches_per_day: int | None = Field(ge=0, description="null: the operator's default")


def get_budget(db: Database, settings: BudgetSettings | None = None) -> BudgetOut:
    settings = settings or budget_settings()
    with db.transaction(Role.READER) as conn:
        b = read_budget(conn, caller_workspace(db), settings)
    return BudgetOut(
        tracked_videos=Cap(limit=b.tracked_limit, used=b.tracked_used, set_by_owner=b.owner_tracked,
                           default=settings.default_tracked_videos, maximum=settings.max_tracked_videos),
        fetches_per_day=DailyCap(limit=b.fetches_limit, used=b.fetches_used, set_by_owner=b.owner_fetches,
                                 default=settings.default_fetches_per_day, maximum=settings.max_fetches_per_day,
                                 resets_at=next_utc_midnight()))


def put_budget(db: Database, body: BudgetUpdate, settings: BudgetSettings | None = None) -> BudgetOut:
    settings = settings or budget_settings()
    for field, value, maximum in (("body.max_tracked_videos", body.max_tracked_videos, settings.max_tracked_videos),
                                  ("body.max_fetches_per_day", body.max_fetches_per_day,
                                   settings.max_fetches_per_day)):
        if value is not None and value > maximum:
            raise UnprocessableError(field, f"at most {maximum} (the operator's limit for this deployment)")
    with db.transaction(Role.READER) as conn:
        set_budget(conn, body.max_tracked_videos, body.max_fetches_per_day)
    return get_budget(db, settings)


class UnprocessableError(ApiError):
    status = 422
    title = "Validation failed"


# ---- Sheets export targets -------------------------------------------------------------------------------------


class ExportTargetIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"spreadsheet_id": "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEf"},
        {"spreadsheet_id": "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEf",
         "campaign_ids": ["3f2c1b9e-8d4a-4c6b-9e1f-2a7d5c8b0e41"], "include_all_videos": False}]})

    spreadsheet_id: SpreadsheetId
    campaign_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=100,
                                            description="These campaigns' worksheets; null: every campaign of the "
                                                        "workspace, present and future")
    include_all_videos: bool = Field(default=True, description="Also the workspace's 'All videos' worksheet")


class ExportTargetOut(_Out):
    id: UUID
    spreadsheet_id: str
    campaign_ids: list[UUID] | None
    include_all_videos: bool
    created_at: datetime


class ExportTargetList(_Out):
    items: list[ExportTargetOut]


def list_export_targets(db: Database) -> ExportTargetList:
    with db.transaction(Role.READER) as conn:
        rows = export_target_list(conn)
    return ExportTargetList(items=[ExportTargetOut(id=t.id, spreadsheet_id=t.spreadsheet_id,
                                                   campaign_ids=t.campaign_ids,
                                                   include_all_videos=t.include_all_videos, created_at=t.created_at)
                                   for t in rows])


def create_export_target(db: Database, body: ExportTargetIn) -> ExportTargetOut:
    campaign_ids = sorted(set(body.campaign_ids)) if body.campaign_ids is not None else None
    with db.transaction(Role.READER) as conn:
        new_id, missing = add_export_target(conn, body.spreadsheet_id, campaign_ids, body.include_all_videos)
        if missing:
            raise NotFoundError("body.campaign_ids", f"no such campaign: {', '.join(map(str, missing))}")
        if new_id is None:
            raise ConflictError("body.spreadsheet_id", "this spreadsheet is an export target already (a spreadsheet "
                                                       "belongs to one workspace): remove it first to change what it "
                                                       "holds")
        created = next(t for t in export_target_list(conn) if t.id == new_id)
    return ExportTargetOut(id=created.id, spreadsheet_id=created.spreadsheet_id, campaign_ids=created.campaign_ids,
                           include_all_videos=created.include_all_videos, created_at=created.created_at)


def delete_export_target(db: Database, target_id: UUID) -> None:
    with db.transaction(Role.READER) as conn:
        if not remove_export_target(conn, target_id):
            raise NotFoundError("path.target_id", "no such export target in this workspace")
