"""A workspace managed through the API: members and invitations (Supabase Auth replayed at the HTTP layer),
budgets (429 over a cap, checked in the command's transaction), Sheets export targets."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import respx
from vidstats.budgets import BudgetExceededError, BudgetSettings, charge
from vidstats.db import Database, Role
from vidstats.export.run import workspace_targets
from vidstats.workspaces import track_in_workspace

from tests.conftest import IsolatedDatabase
from tests.dashboard_api.conftest import Api, hs256_token
from tests.factories import make_video
from tests.supabase_auth import SERVICE_ROLE_KEY, recorded, recorded_body, supabase_auth  # noqa: F401 (fixture)
from tests.two_workspaces import EDITOR_A, OWNER_A, OWNER_B, VIEWER_A, TwoWorkspaces, caller, two_workspaces

INVITED = UUID(recorded_body("invite_200")["id"])
EXISTING = UUID(recorded_body("admin_users_page")["users"][0]["id"])
SPREADSHEET = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEf"


@pytest.fixture
def data(api_env: None, sqs: Any, db: Database) -> TwoWorkspaces:
    return two_workspaces(db)


def as_user(user: UUID, workspace: UUID) -> Api:
    return Api(hs256_token(sub=str(user)), workspace=str(workspace))


def members_of(api: Api) -> dict[str, dict[str, Any]]:
    return {m["user_id"]: m for m in api.ok("/workspace/members")["items"]}


# ---- members -----------------------------------------------------------------------------------------------


def test_an_owner_lists_the_members_with_their_roles(data: TwoWorkspaces) -> None:
    members = members_of(as_user(OWNER_A, data.a.workspace))
    assert {u: m["role"] for u, m in members.items()} == {
        str(OWNER_A): "owner", str(EDITOR_A): "editor", str(VIEWER_A): "viewer"}
    assert {m["status"] for m in members.values()} == {"active"}


def test_an_invited_address_is_a_pending_member_at_once_until_they_sign_in(
        data: TwoWorkspaces, supabase_auth: respx.MockRouter) -> None:  # noqa: F811
    owner = as_user(OWNER_A, data.a.workspace)
    reply = owner.call("POST", "/workspace/members", body={"email": "ana@agency.example", "role": "editor"})
    assert reply.status == 201, reply.body
    assert reply.body["invitation_sent"] is True
    assert reply.body["member"] | {"added_at": None, "invited_at": None} == {
        "user_id": str(INVITED), "email": "ana@agency.example", "role": "editor", "status": "pending",
        "added_at": None, "invited_at": None}
    sent = supabase_auth["invite"].calls.last.request
    assert json.loads(sent.content)["email"] == "ana@agency.example"
    assert sent.headers["authorization"] == f"Bearer {SERVICE_ROLE_KEY}"
    # The invited user signs in: their first GET /me accepts the invitation, and their role applies.
    invited = as_user(INVITED, data.a.workspace)
    assert [w["role"] for w in invited.ok("/me")["workspaces"]] == ["editor"]
    assert members_of(owner)[str(INVITED)]["status"] == "active"
    assert invited.get("/videos").status == 200


def test_an_address_that_has_an_account_adds_that_user_found_through_the_admin_list(
        data: TwoWorkspaces, supabase_auth: respx.MockRouter) -> None:  # noqa: F811
    supabase_auth["invite"].mock(return_value=recorded("invite_422_email_exists"))
    reply = as_user(OWNER_A, data.a.workspace).call("POST", "/workspace/members",
                                                    body={"email": "bo@brand.example", "role": "viewer"})
    assert reply.status == 201, reply.body
    assert reply.body["invitation_sent"] is False
    assert reply.body["member"]["user_id"] == str(EXISTING)
    assert reply.body["member"]["status"] == "active"  # the account is confirmed: nothing to accept
    assert supabase_auth["users"].calls.last.request.url.params["per_page"] == "1000"


def test_a_member_invited_again_is_a_conflict_that_names_their_role(
        data: TwoWorkspaces, supabase_auth: respx.MockRouter) -> None:  # noqa: F811
    owner = as_user(OWNER_A, data.a.workspace)
    assert owner.call("POST", "/workspace/members", body={"email": "ana@agency.example"}).status == 201
    again = owner.call("POST", "/workspace/members", body={"email": "ana@agency.example", "role": "owner"})
    assert again.status == 409
    assert "a member already (viewer)" in again.body["errors"][0]["message"]
    assert members_of(owner)[str(INVITED)]["role"] == "viewer"


@pytest.mark.parametrize(("recording", "status", "says"), [
    ("invite_429_rate_limit", 429, "rate limit (over_email_send_rate_limit): email rate limit exceeded"),
    ("invite_400_invalid_email", 400, "refused the address (validation_failed): Unable to validate email address"),
])
def test_a_refused_invitation_says_why_and_adds_no_one(
        data: TwoWorkspaces, supabase_auth: respx.MockRouter,  # noqa: F811
        recording: str, status: int, says: str) -> None:
    supabase_auth["invite"].mock(return_value=recorded(recording))
    owner = as_user(OWNER_A, data.a.workspace)
    reply = owner.call("POST", "/workspace/members", body={"email": "ana@agency.example"})
    assert reply.status == status
    assert reply.body["errors"][0]["field"] == "body.email"
    assert says in reply.body["errors"][0]["message"]
    assert str(INVITED) not in members_of(owner)


def test_the_service_role_key_is_never_logged(data: TwoWorkspaces, supabase_auth: respx.MockRouter,  # noqa: F811
                                              caplog: pytest.LogCaptureFixture,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    supabase_auth["invite"].mock(return_value=recorded("invite_429_rate_limit"))
    caplog.set_level(logging.DEBUG)
    as_user(OWNER_A, data.a.workspace).call("POST", "/workspace/members", body={"email": "ana@agency.example"})
    out = capsys.readouterr()
    assert SERVICE_ROLE_KEY not in caplog.text + out.out + out.err


def test_invitations_without_a_service_role_key_are_a_conflict_naming_the_setting(data: TwoWorkspaces) -> None:
    reply = as_user(OWNER_A, data.a.workspace).call("POST", "/workspace/members", body={"email": "a@b.example"})
    assert reply.status == 409
    assert "SUPABASE_SERVICE_ROLE_KEY_SECRET_ID" in reply.body["errors"][0]["message"]


def test_an_owner_changes_a_role_and_removes_a_member(data: TwoWorkspaces) -> None:
    owner = as_user(OWNER_A, data.a.workspace)
    changed = owner.call("PATCH", f"/workspace/members/{VIEWER_A}", body={"role": "editor"})
    assert changed.status == 200
    assert changed.body["role"] == "editor"
    assert owner.call("DELETE", f"/workspace/members/{EDITOR_A}").body == {"id": str(EDITOR_A), "removed": True}
    assert as_user(EDITOR_A, data.a.workspace).get("/videos").status == 403
    assert owner.call("DELETE", f"/workspace/members/{EDITOR_A}").status == 404


def test_the_last_owner_can_be_neither_removed_nor_demoted_and_says_why(data: TwoWorkspaces) -> None:
    owner = as_user(OWNER_A, data.a.workspace)
    for method, body in (("PATCH", {"role": "editor"}), ("DELETE", None)):
        reply = owner.call(method, f"/workspace/members/{OWNER_A}", body=body)
        assert reply.status == 409
        assert "last owner" in reply.body["errors"][0]["message"]
    assert members_of(owner)[str(OWNER_A)]["role"] == "owner"
    assert owner.call("PATCH", f"/workspace/members/{EDITOR_A}", body={"role": "owner"}).status == 200
    assert owner.call("PATCH", f"/workspace/members/{OWNER_A}", body={"role": "viewer"}).status == 200


def test_an_editor_manages_no_members(data: TwoWorkspaces) -> None:
    editor = as_user(EDITOR_A, data.a.workspace)
    reply = editor.get("/workspace/members")
    assert reply.status == 403
    assert "only an owner" in reply.body["errors"][0]["message"]


# ---- budgets -----------------------------------------------------------------------------------------------


def test_an_owner_sets_the_caps_within_the_operators_maximum(data: TwoWorkspaces,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    owner = as_user(OWNER_A, data.a.workspace)
    too_high = owner.call("PUT", "/workspace/budget", body={"max_tracked_videos": 100_001, "max_fetches_per_day": 5})
    assert too_high.status == 422
    assert too_high.body["errors"][0] == {"field": "body.max_tracked_videos",
                                          "message": "at most 100000 (the operator's limit for this deployment)"}
    put = owner.call("PUT", "/workspace/budget", body={"max_tracked_videos": 3, "max_fetches_per_day": None})
    assert put.status == 200
    budget = as_user(VIEWER_A, data.a.workspace).ok("/workspace/budget")
    assert budget["tracked_videos"] | {"used": 0} == {"limit": 3, "used": 0, "set_by_owner": 3, "default": 10_000,
                                                      "maximum": 100_000}
    assert budget["tracked_videos"]["used"] == 2  # A's own video and the shared one
    assert budget["fetches_per_day"]["limit"] == 5_000  # the default
    assert as_user(EDITOR_A, data.a.workspace).call("PUT", "/workspace/budget",
                                                    body={"max_tracked_videos": 9, "max_fetches_per_day": 9}
                                                    ).status == 403


def urls(n: int, start: int = 0) -> list[str]:
    return [f"https://www.tiktok.com/@someone/video/{7100000000000000000 + start + i}" for i in range(n)]


def tracked_count(db: Database, workspace: UUID) -> int:
    row = db.connection().execute("select count(*) from analytics.workspace_videos"
                                  " where workspace_id = %s and stopped_at is null", (workspace,)).fetchone()
    assert row is not None
    return int(row[0])


def test_a_command_over_the_tracked_videos_cap_is_429_and_writes_nothing(data: TwoWorkspaces, db: Database) -> None:
    owner = as_user(OWNER_A, data.a.workspace)
    owner.ok("/workspace/budget")
    assert owner.call("PUT", "/workspace/budget", body={"max_tracked_videos": 4, "max_fetches_per_day": None}
                      ).status == 200
    assert owner.call("POST", "/videos", body={"urls": urls(2)}).status == 202  # 2 + 2 = the cap
    over = owner.call("POST", "/videos", body={"urls": urls(1, start=50)})
    assert over.status == 429
    assert over.body["budget"] == {"cap": "tracked_videos", "limit": 4, "used": 4, "requested": 1, "frees_at": None}
    assert "tracks 4 of its 4 videos" in over.body["errors"][0]["message"]
    assert "retry-after" not in {k.lower() for k in over.headers}
    assert tracked_count(db, data.a.workspace) == 4
    # Re-tracking videos it already tracks adds nothing: allowed at the cap.
    assert owner.call("POST", "/videos", body={"urls": urls(2)}).status == 202


def test_a_command_over_the_daily_fetch_cap_is_429_until_the_next_utc_midnight(data: TwoWorkspaces,
                                                                               db: Database) -> None:
    owner = as_user(OWNER_A, data.a.workspace)
    assert owner.call("PUT", "/workspace/budget", body={"max_tracked_videos": None, "max_fetches_per_day": 3}
                      ).status == 200
    assert owner.call("POST", "/videos", body={"urls": urls(2)}).status == 202
    over = as_user(EDITOR_A, data.a.workspace).call("POST", "/bloggers", body={
        "profile_url": "https://www.tiktok.com/@creator_x", "limit": 5})
    assert over.status == 429
    midnight = (datetime.now(UTC) + timedelta(days=1)).date()
    assert over.body["budget"] == {"cap": "fetches_per_day", "limit": 3, "used": 2, "requested": 5,
                                   "frees_at": f"{midnight}T00:00:00Z"}
    retry_after = int({k.lower(): v for k, v in over.headers.items()}["retry-after"])
    assert 0 < retry_after <= 86_400
    assert as_user(OWNER_A, data.a.workspace).ok("/workspace/budget")["fetches_per_day"]["used"] == 2
    # B's budget is its own.
    assert as_user(OWNER_B, data.b.workspace).call("POST", "/videos", body={"urls": urls(3)}).status == 202


@pytest.mark.parametrize("cap", ["tracked_videos", "fetches_per_day"])
def test_two_concurrent_commands_cannot_both_take_the_last_slot(data: TwoWorkspaces, db: Database,
                                                                database: IsolatedDatabase, cap: str) -> None:
    # One slot left of each cap: A tracks 2 videos; a fetch cap of 1.
    settings = BudgetSettings(WORKSPACE_TRACKED_VIDEOS_DEFAULT=3,  # type: ignore[call-arg]
                              WORKSPACE_FETCHES_PER_DAY_DEFAULT=1)
    new_videos = [UUID(make_video(db)) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def command(video: UUID) -> None:
        command_db = Database(database.owner_url)
        try:
            as_editor = command_db.as_caller(caller(EDITOR_A, data.a.workspace, edits=True))
            with as_editor.transaction(Role.INGEST) as conn:
                added = (track_in_workspace(conn, data.a.workspace, [video]).newly_tracked
                         if cap == "tracked_videos" else 0)
                barrier.wait()  # both have written before either checks
                charge(conn, data.a.workspace, fetches=1 if cap == "fetches_per_day" else 0, added=added,
                       settings=settings)
                conn.execute("select pg_sleep(0.3)")  # still uncommitted when the other one checks
            outcomes.append("passed")
        except BudgetExceededError as exc:
            outcomes.append(exc.cap)
        finally:
            command_db.close()

    threads = [threading.Thread(target=command, args=(v,)) for v in new_videos]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == sorted([cap, "passed"])
    assert tracked_count(db, data.a.workspace) == (3 if cap == "tracked_videos" else 2)


def test_the_nightly_refresh_spends_no_budget(data: TwoWorkspaces, db: Database, sqs: Any) -> None:
    from vidstats.ingestion.fetch_queue import SqsFetchQueue
    from vidstats.ingestion.nightly import enqueue_nightly_refresh

    report = enqueue_nightly_refresh(db, SqsFetchQueue(*sqs), run_date=datetime.now(UTC).date())
    assert report.videos_enqueued >= 3
    assert as_user(OWNER_A, data.a.workspace).ok("/workspace/budget")["fetches_per_day"]["used"] == 0


# ---- Sheets export targets -----------------------------------------------------------------------------------


def test_editors_manage_export_targets_and_each_workspace_exports_only_its_own(data: TwoWorkspaces,
                                                                               db: Database) -> None:
    editor = as_user(EDITOR_A, data.a.workspace)
    created = editor.call("POST", "/workspace/export-targets", body={"spreadsheet_id": SPREADSHEET})
    assert created.status == 201, created.body
    b_target = as_user(OWNER_B, data.b.workspace).call("POST", "/workspace/export-targets", body={
        "spreadsheet_id": "1BbBbBbBbBbBbBbBbBbBbBbBbBb", "campaign_ids": [str(data.b.campaign)],
        "include_all_videos": False})
    assert b_target.status == 201, b_target.body
    assert [t["spreadsheet_id"] for t in editor.ok("/workspace/export-targets")["items"]] == [SPREADSHEET]
    # A spreadsheet belongs to one workspace; another workspace's campaign does not exist for A.
    assert as_user(OWNER_B, data.b.workspace).call("POST", "/workspace/export-targets", body={
        "spreadsheet_id": SPREADSHEET}).status == 409
    assert editor.call("POST", "/workspace/export-targets", body={
        "spreadsheet_id": "1CcCcCcCcCcCcCcCcCc", "campaign_ids": [str(data.b.campaign)]}).status == 404
    assert as_user(VIEWER_A, data.a.workspace).get("/workspace/export-targets").status == 403

    worksheets = {(t.spreadsheet_id, t.campaign_id, t.workspace_id) for t in workspace_targets(db)}
    assert worksheets == {(SPREADSHEET, None, data.a.workspace), (SPREADSHEET, data.a.campaign, data.a.workspace),
                          ("1BbBbBbBbBbBbBbBbBbBbBbBbBb", data.b.campaign, data.b.workspace)}
    from vidstats.export.tables import snapshot, table_for

    a_all_videos = next(t for t in workspace_targets(db, data.a.workspace) if t.campaign_id is None)
    with snapshot(db) as conn:
        table = table_for(conn, a_all_videos, datetime.now(UTC))
        exported = {str(row[1]) for row in table.rows()}
        table.close()
        url_of = dict(conn.execute("select id, url from analytics.videos").fetchall())
    assert {url_of[data.a.video], url_of[data.shared_video]} <= exported
    assert url_of[data.b.video] not in exported

    target_id = created.body["id"]
    assert as_user(OWNER_B, data.b.workspace).call("DELETE", f"/workspace/export-targets/{target_id}").status == 404
    assert editor.call("DELETE", f"/workspace/export-targets/{target_id}").status == 200
    assert editor.ok("/workspace/export-targets")["items"] == []
