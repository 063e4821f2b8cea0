"""Every operation of the dashboard's OpenAPI document x every kind of caller -> the expected status, and no
successful answer holding a row of another workspace. Generated from the served document: a new route is in the
matrix without being listed here (and fails until its request can be built)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
import respx
from vidstats.db import Database

from tests.dashboard_api.conftest import Api, hs256_token
from tests.dashboard_api.test_exports import export_function  # noqa: F401 (a fixture)
from tests.supabase_auth import recorded_body, supabase_auth  # noqa: F401 (a fixture)
from tests.two_workspaces import EDITOR_A, NOBODY, OWNER_A, OWNER_B, VIEWER_A, TwoWorkspaces, two_workspaces

INVITED = UUID(recorded_body("invite_200")["id"])
PERSONAS = ("owner A", "editor A", "viewer A", "owner B", "no workspace", "instance admin", "share link",
            "no token")
ADMIN = UUID("d0000000-0000-4000-8000-0000000000ad")  # an operator: app_metadata.role admin, in no workspace
# A's member the member routes change (and remove), and A's export target the delete removes: put back before
# each request, so every request meets the same state.
MEMBER_X = UUID("a0000000-0000-4000-8000-0000000000f0")
TARGET_A = UUID("a0000000-0000-4000-8000-0000000000f1")
NEW_SPREADSHEET = "1MatrixSpreadsheetId0123456789"
# Operations beyond their method's default (reads: any member; commands: owners and editors).
OWNERS_ONLY = {("GET", "/workspace/members"), ("POST", "/workspace/members"),
               ("PATCH", "/workspace/members/{user_id}"), ("DELETE", "/workspace/members/{user_id}"),
               ("PUT", "/workspace/budget")}
EDITORS_READ = {("GET", "/workspace/export-targets")}
# Commands whose body names nothing of A's (owner B's succeed in B).
OWN_BODY = {("POST", "/campaigns"), ("POST", "/workspace/members"), ("PUT", "/workspace/budget")}


def persona_api(persona: str, data: TwoWorkspaces) -> Api:
    if persona == "share link":  # no account: A's share token where a token goes, naming A's workspace
        return Api(data.a.share_token, workspace=str(data.a.workspace))
    if persona == "instance admin":
        return Api(hs256_token(sub=str(ADMIN), app_metadata={"role": "admin", "provider": "email"}),
                   workspace=str(data.a.workspace))
    user, workspace = {
        "owner A": (OWNER_A, data.a.workspace), "editor A": (EDITOR_A, data.a.workspace),
        "viewer A": (VIEWER_A, data.a.workspace), "owner B": (OWNER_B, data.b.workspace),
        # A user in no workspace names A's (as if guessed): refused the same as with no header at all.
        "no workspace": (NOBODY, data.a.workspace), "no token": (None, data.a.workspace)}[persona]
    # user_metadata is the user's own to set: it never makes anyone an administrator.
    return Api(hs256_token(sub=str(user), user_metadata={"role": "admin"}) if user else None,
               workspace=str(workspace))


def operations(api: Api) -> Iterator[tuple[str, str, dict[str, Any]]]:
    document = api.ok("/openapi.json")
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                yield method.upper(), path, operation


def request_for(method: str, path: str, data: TwoWorkspaces) -> tuple[str, Any]:
    """The operation's path with A's ids, and a valid body that refers to A's rows where it can."""
    ids = {"video_id": data.a.video, "campaign_id": data.a.campaign, "blogger_id": data.a.blogger,
           "batch_id": data.a.batch, "link_id": data.a.share_link, "token": data.a.share_token,
           "user_id": MEMBER_X, "target_id": TARGET_A}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            raise AssertionError(f"{method} {path}: no id for path parameter {name}: add it to the matrix")
        return str(ids[name])

    bodies: dict[tuple[str, str], Any] = {
        ("POST", "/campaigns"): {"name": "Matrix", "starts_at": "2026-11-01T00:00:00Z"},
        ("PATCH", "/campaigns/{campaign_id}"): {"name": "Renamed"},
        ("POST", "/campaigns/{campaign_id}/videos"): {"video_ids": [str(data.a.video)]},
        ("POST", "/videos"): {"urls": ["https://www.tiktok.com/@someone/video/7000000000000000123"],
                              "campaign_id": str(data.a.campaign)},
        ("POST", "/bloggers"): {"profile_url": "https://www.tiktok.com/@creator_x",
                                "campaign_id": str(data.a.campaign)},
        ("POST", "/exports"): {"campaign_ids": [str(data.a.campaign)]},
        ("POST", "/campaigns/{campaign_id}/share-links"): {"expires_at": "2099-01-01T00:00:00Z"},
        ("POST", "/workspace/members"): {"email": "ana@agency.example", "role": "viewer"},
        ("PATCH", "/workspace/members/{user_id}"): {"role": "editor"},
        ("PUT", "/workspace/budget"): {"max_tracked_videos": 1000, "max_fetches_per_day": 1000},
        ("POST", "/workspace/export-targets"): {"spreadsheet_id": NEW_SPREADSHEET,
                                                "campaign_ids": [str(data.a.campaign)]},
    }
    if method not in ("GET", "DELETE") and (method, path) not in bodies:
        raise AssertionError(f"{method} {path}: no body in the matrix: add one")
    return re.sub(r"\{(\w+)\}", fill, path), bodies.get((method, path))


def expected(persona: str, method: str, path: str, operation: dict[str, Any]) -> int:
    success = min(int(code) for code in operation["responses"] if code.startswith("2"))
    if operation.get("security") == [] or path == "/health":
        return success  # the public routes, and a share link's (its token is in the path: A's)
    if persona in ("no token", "share link"):  # a share token is no access token
        return 401
    if path.startswith("/page-views"):  # an operator feature
        return success if persona == "instance admin" else 403
    scoped = any(p.get("name") == "x-workspace-id" for p in operation.get("parameters", []))
    if not scoped:  # /me
        return success
    if persona in ("no workspace", "instance admin"):  # an administrator is no member of anyone's workspace
        return 403
    if persona in ("editor A", "viewer A") and (method, path) in OWNERS_ONLY:
        return 403
    if persona == "viewer A" and (method != "GET" or (method, path) in EDITORS_READ or path.endswith("/share-links")):
        return 403
    if persona == "owner B":
        # A's ids (in the path, or the body's campaign / videos) do not exist for B.
        refers_to_a = "{" in path or ((method, path) not in OWN_BODY and method != "GET")
        return 404 if refers_to_a else success
    return success


def restore(db: Database, data: TwoWorkspaces) -> None:
    """A's member X (a viewer) and export target back as they were; the matrix's invitation and target gone."""
    conn = db.connection()
    with conn.transaction():
        conn.execute("insert into analytics.workspace_members (workspace_id, user_id, role) values (%s, %s, 'viewer')"
                     " on conflict (workspace_id, user_id) do update set role = 'viewer'", (data.a.workspace, MEMBER_X))
        conn.execute("delete from analytics.workspace_members where user_id = %s", (INVITED,))
        conn.execute("delete from analytics.workspace_export_targets where spreadsheet_id = %s", (NEW_SPREADSHEET,))
        conn.execute("insert into analytics.workspace_export_targets (id, workspace_id, spreadsheet_id)"
                     " values (%s, %s, '1MatrixTargetOfA0123') on conflict (id) do nothing",
                     (TARGET_A, data.a.workspace))


@pytest.fixture
def data(api_env: None, sqs: Any, db: Database, export_function: Any,  # noqa: F811
         supabase_auth: respx.MockRouter) -> TwoWorkspaces:  # noqa: F811
    workspaces = two_workspaces(db)
    restore(db, workspaces)
    return workspaces


def test_every_operation_answers_every_kind_of_caller_as_its_role_allows(data: TwoWorkspaces, db: Database) -> None:
    document_api = persona_api("owner A", data)
    ops = list(operations(document_api))
    assert len(ops) >= 15
    a_only = data.a.ids() - {str(data.shared_video)}
    b_only = data.b.ids() - {str(data.shared_video)}
    problems: list[str] = []
    for persona in PERSONAS:
        api = persona_api(persona, data)
        for method, path, operation in ops:
            restore(db, data)
            url, body = request_for(method, path, data)
            reply = api.call(method, url, body=body)
            want = expected(persona, method, path, operation)
            if reply.status != want:
                problems.append(f"{persona}: {method} {path} -> {reply.status}, expected {want}: {reply.body}")
                continue
            if 200 <= reply.status < 300:
                text = json.dumps(reply.body)
                # A share link's routes show A's campaign to whoever holds its token, and nothing of B.
                shared = path.startswith("/shared/")
                foreign = b_only if persona.endswith(" A") or shared else a_only
                leaked = sorted(i for i in foreign if i in text)
                if leaked:
                    problems.append(f"{persona}: {method} {path} answered another workspace's ids {leaked}")
    assert problems == []


def test_me_lists_the_callers_workspaces_and_roles_and_nothing_for_a_user_in_none(data: TwoWorkspaces) -> None:
    me = persona_api("viewer A", data).ok("/me")
    assert me["user_id"] == str(VIEWER_A)
    assert [(w["id"], w["role"]) for w in me["workspaces"]] == [(str(data.a.workspace), "viewer")]
    assert persona_api("no workspace", data).ok("/me")["workspaces"] == []


def test_a_workspace_route_without_a_usable_header_says_what_to_send(data: TwoWorkspaces) -> None:
    member = Api(hs256_token(sub=str(OWNER_A)), workspace=None)
    missing = member.get("/videos")
    assert missing.status == 400
    assert missing.body["errors"][0]["field"] == "header.x-workspace-id"
    assert "GET /me" in missing.body["errors"][0]["message"]
    assert Api(hs256_token(sub=str(OWNER_A)), workspace="not-a-uuid").get("/videos").status == 400
    nobody = Api(hs256_token(sub=str(NOBODY)), workspace=None).get("/videos")
    assert nobody.status == 403
    assert "not a member of any workspace" in nobody.body["errors"][0]["message"]
    unknown = Api(hs256_token(sub=str(OWNER_A)), workspace=str(UUID(int=7))).get("/videos")
    assert unknown.status == 403  # the same answer as another team's workspace: existence is not revealed
    assert "not a member of this workspace" in unknown.body["errors"][0]["message"]


def test_each_workspace_sees_a_shared_video_with_its_own_campaign_and_nothing_of_the_other(
        data: TwoWorkspaces) -> None:
    for persona, own, other in (("owner A", data.a, data.b), ("owner B", data.b, data.a)):
        api = persona_api(persona, data)
        listed = {v["id"] for v in api.walk_videos()}
        assert str(data.shared_video) in listed
        assert str(own.video) in listed
        assert str(other.video) not in listed
        campaigns = [c["id"] for c in api.ok("/campaigns")["items"]]
        assert campaigns == [str(own.campaign)]
        detail = api.ok(f"/videos/{data.shared_video}")
        assert [c["campaign_id"] for c in detail["campaigns"]] == [str(own.campaign)]
        assert api.get(f"/campaigns/{other.campaign}").status == 404
