"""``/workspace``: members and invitations (owners), the budget's caps, and the Google Sheets export targets."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from vidstats.dashboard import workspace_admin
from vidstats.http_api import error_doc

from dashboard_api import dependencies
from dashboard_api.dependencies import CONFLICT, ERRORS, NOT_FOUND, WITH_BODY, WorkspaceId, ok, scoped

router = APIGatewayHttpRouter()  # type: ignore[no-untyped-call]


@router.get("/workspace/members", summary="The workspace's members, their roles, and who is still pending (owners)",
            tags=["workspace"], responses=ok(ERRORS))
def get_members(workspace: WorkspaceId) -> workspace_admin.MemberList:
    return workspace_admin.list_members(scoped(workspace))


@router.post("/workspace/members", summary="Invite by e-mail (Supabase Auth) and add with a role at once (owners)",
             tags=["workspace"],
             description="A new address gets Supabase Auth's invitation e-mail and is a member at once, `pending` "
                         "until they sign in; an address that already has an account is added as is. 400: Supabase "
                         "Auth refused the address; 409: already a member, or invitations are not configured; 429: "
                         "Supabase Auth's e-mail rate limit; 502: Supabase Auth failed.",
             responses=ok({**WITH_BODY, **CONFLICT, 429: error_doc("Supabase Auth's rate limit: try again later"),
                           502: error_doc("Supabase Auth failed")}, 201, "Created: the member, and whether an "
                                                                           "invitation was sent"))
def post_member(workspace: WorkspaceId,
                body: Annotated[workspace_admin.MemberInvite, Body()]) -> Response[workspace_admin.MemberInvited]:
    invited = workspace_admin.invite_member(scoped(workspace), dependencies.auth_admin(), body)
    return Response(status_code=201, content_type="application/json", body=invited)


@router.patch("/workspace/members/<user_id>", summary="Change a member's role (owners)", tags=["workspace"],
              description="409 when it would demote the workspace's last owner.",
              responses=ok({**WITH_BODY, **NOT_FOUND, **CONFLICT}))
def patch_member(workspace: WorkspaceId, user_id: Annotated[UUID, Path()],
                 body: Annotated[workspace_admin.MemberRoleChange, Body()]) -> workspace_admin.MemberOut:
    return workspace_admin.change_role(scoped(workspace), user_id, body)


@router.delete("/workspace/members/<user_id>", summary="Remove a member (owners)", tags=["workspace"],
               description="409 when they are the workspace's last owner.",
               responses=ok({**ERRORS, **NOT_FOUND, **CONFLICT}))
def delete_member(workspace: WorkspaceId, user_id: Annotated[UUID, Path()]) -> workspace_admin.Removed:
    workspace_admin.remove(scoped(workspace), user_id)
    return workspace_admin.Removed(id=user_id)


@router.get("/workspace/budget", summary="The workspace's caps and their use (any member)", tags=["workspace"],
            responses=ok(ERRORS))
def get_budget(workspace: WorkspaceId) -> workspace_admin.BudgetOut:
    return workspace_admin.get_budget(scoped(workspace))


@router.put("/workspace/budget", summary="Set the workspace's caps within the operator's maximum (owners)",
            tags=["workspace"], responses=ok(WITH_BODY))
def put_budget(workspace: WorkspaceId,
               body: Annotated[workspace_admin.BudgetUpdate, Body()]) -> workspace_admin.BudgetOut:
    return workspace_admin.put_budget(scoped(workspace), body)


@router.get("/workspace/export-targets", summary="The workspace's Google Sheets export targets (owners, editors)",
            tags=["exports"], responses=ok(ERRORS))
def get_export_targets(workspace: WorkspaceId) -> workspace_admin.ExportTargetList:
    return workspace_admin.list_export_targets(scoped(workspace))


@router.post("/workspace/export-targets", summary="Add a spreadsheet the export keeps current (owners, editors)",
             tags=["exports"],
             description="Share the spreadsheet with the export's Google service account as Editor. It gets the "
                         "workspace's 'All videos' worksheet (unless `include_all_videos` is false) and one worksheet "
                         "per campaign (`campaign_ids`, or every campaign). A spreadsheet belongs to one workspace: "
                         "409 when it is a target already.",
             responses=ok({**WITH_BODY, **NOT_FOUND, **CONFLICT}, 201, "Created"))
def post_export_target(workspace: WorkspaceId, body: Annotated[workspace_admin.ExportTargetIn, Body()]
                       ) -> Response[workspace_admin.ExportTargetOut]:
    created = workspace_admin.create_export_target(scoped(workspace), body)
    return Response(status_code=201, content_type="application/json", body=created)


@router.delete("/workspace/export-targets/<target_id>", summary="Stop exporting to a spreadsheet (owners, editors)",
               tags=["exports"], description="The spreadsheet is left as it is.",
               responses=ok({**ERRORS, **NOT_FOUND}))
def delete_export_target(workspace: WorkspaceId, target_id: Annotated[UUID, Path()]) -> workspace_admin.Removed:
    workspace_admin.delete_export_target(scoped(workspace), target_id)
    return workspace_admin.Removed(id=target_id)
