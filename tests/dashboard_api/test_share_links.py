"""A campaign's read-only share links: made, listed and revoked by owners and editors; opened without an account
for that campaign's analytics and videos only, with the authenticated routes' figures; enforced by Postgres."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

import pytest
from psycopg import errors
from vidstats.db import Caller, Database, Role

from tests.dashboard_api.conftest import Api
from tests.dashboard_api.test_authorization_matrix import persona_api
from tests.factories import insert_snapshots, make_video
from tests.two_workspaces import TwoWorkspaces, two_workspaces

ANONYMOUS = Api(None, workspace=None)


@pytest.fixture
def data(api_env: None, sqs: Any, db: Database) -> TwoWorkspaces:
    return two_workspaces(db)


def make_link(data: TwoWorkspaces, persona: str = "owner A", **body: Any) -> dict[str, Any]:
    reply = persona_api(persona, data).call("POST", f"/campaigns/{data.a.campaign}/share-links", body=body)
    assert reply.status == 201, reply
    return dict(reply.body)


def test_a_link_opens_its_campaigns_analytics_and_videos_with_the_same_figures_as_the_members_routes(
        data: TwoWorkspaces) -> None:
    owner = persona_api("owner A", data)
    link = make_link(data)
    for mode in ("daily", "weekly", "totals"):
        shared = ANONYMOUS.ok(link["path"], mode=mode)
        assert shared == owner.ok(f"/campaigns/{data.a.campaign}/analytics", mode=mode)
    for sort in ("views", "growth", "recent"):
        shared = ANONYMOUS.ok(f"{link['path']}/videos", sort=sort, limit=1)
        members = owner.ok("/videos", campaign_id=str(data.a.campaign), sort=sort, limit=1)
        assert shared == members
    walked: list[str] = []
    cursor = None
    while True:
        page = ANONYMOUS.ok(f"{link['path']}/videos", limit=1, cursor=cursor)
        walked += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(walked) == sorted([str(data.a.video), str(data.shared_video)])


def test_a_link_filtered_by_a_rare_state_lists_only_its_campaigns_videos_in_it(
        data: TwoWorkspaces, db: Database) -> None:
    outside = make_video(db, workspace_id=data.a.workspace)  # A's, but in no campaign
    with db.connection().transaction():  # stopped: by A (the shared video, one outside the campaign), by B
        db.connection().execute(
            "update analytics.workspace_videos set stopped_at = now()"
            " where (workspace_id, video_id) in ((%s, %s), (%s, %s), (%s, %s))",
            (data.a.workspace, data.shared_video, data.a.workspace, outside, data.b.workspace, data.b.video))
    owner, link = persona_api("owner A", data), make_link(data)
    for sort in ("views", "growth", "recent"):
        shared = ANONYMOUS.ok(f"{link['path']}/videos", sort=sort, tracking_state="stopped")
        assert [r["id"] for r in shared["items"]] == [str(data.shared_video)]
        assert shared == owner.ok("/videos", campaign_id=str(data.a.campaign), sort=sort, tracking_state="stopped")
    assert ANONYMOUS.ok(f"{link['path']}/videos", tracking_state="gone")["items"] == []


def test_a_link_shows_only_its_campaign(data: TwoWorkspaces, db: Database) -> None:
    outside = make_video(db, workspace_id=data.a.workspace)  # A's, but in no campaign
    link = make_link(data)
    text = str(ANONYMOUS.ok(link["path"])) + str(ANONYMOUS.ok(f"{link['path']}/videos"))
    assert str(data.a.campaign) in text
    for foreign in (*(data.b.ids() - {str(data.shared_video)}), outside):
        assert foreign not in text
    # The token opens nothing else: not as an access token, not for another campaign's routes.
    holder = Api(link["token"], workspace=str(data.a.workspace))
    for path in ("/videos", f"/campaigns/{data.a.campaign}", f"/campaigns/{data.b.campaign}/analytics", "/me"):
        assert holder.get(path).status == 401
    assert holder.call("DELETE", f"/videos/{data.a.video}/tracking").status == 401


def test_revoked_expired_unknown_and_malformed_tokens_all_answer_the_same_404(data: TwoWorkspaces,
                                                                              db: Database) -> None:
    owner = persona_api("owner A", data)
    revoked, expired = make_link(data), make_link(data, expires_at="2099-01-01T00:00:00Z")
    assert ANONYMOUS.get(revoked["path"]).status == 200
    assert ANONYMOUS.get(expired["path"]).status == 200
    reply = owner.call("DELETE", f"/campaigns/{data.a.campaign}/share-links/{revoked['id']}")
    assert (reply.status, reply.body["state"]) == (200, "revoked")
    conn = db.connection()
    with conn.transaction():
        conn.execute("update analytics.campaign_share_links set expires_at = now() - interval '1 second'"
                     " where id = %s", (expired["id"],))
    unknown = ANONYMOUS.get("/shared/" + "A" * 43)
    assert unknown.status == 404
    for path in (revoked["path"], expired["path"], f"{revoked['path']}/videos", f"{expired['path']}/videos",
                 "/shared/not-a-token", "/shared/" + "A" * 43 + "/videos"):
        reply = ANONYMOUS.get(path)
        assert (reply.status, reply.body) == (404, unknown.body), path
    states = {link["id"]: link["state"] for link in owner.ok(f"/campaigns/{data.a.campaign}/share-links")["items"]}
    assert (states[revoked["id"]], states[expired["id"]]) == ("revoked", "expired")


def test_only_the_hash_of_a_token_is_stored_and_tokens_are_unguessable(data: TwoWorkspaces, db: Database) -> None:
    links = [make_link(data) for _ in range(3)]
    assert len({link["token"] for link in links}) == 3
    assert all(len(link["token"]) >= 43 for link in links)  # 256 bits, url-safe base64
    for link in links:
        row = db.connection().execute("select * from analytics.campaign_share_links where id = %s",
                                      (link["id"],)).fetchone()
        assert row is not None
        assert link["token"] not in str(row)
        assert bytes(row[2]) == hashlib.sha256(link["token"].encode()).digest()


def test_owners_and_editors_manage_links_viewers_and_other_workspaces_cannot(data: TwoWorkspaces) -> None:
    made = make_link(data, "editor A", expires_at="2099-01-01T00:00:00Z")
    assert made["expires_at"].startswith("2099-01-01")
    viewer = persona_api("viewer A", data)
    assert viewer.call("POST", f"/campaigns/{data.a.campaign}/share-links", body={}).status == 403
    assert viewer.get(f"/campaigns/{data.a.campaign}/share-links").status == 403
    b = persona_api("owner B", data)
    assert b.call("POST", f"/campaigns/{data.a.campaign}/share-links", body={}).status == 404
    assert b.get(f"/campaigns/{data.a.campaign}/share-links").status == 404
    assert b.call("DELETE", f"/campaigns/{data.a.campaign}/share-links/{made['id']}").status == 404
    assert b.call("DELETE", f"/campaigns/{data.b.campaign}/share-links/{made['id']}").status == 404
    past = persona_api("owner A", data).call("POST", f"/campaigns/{data.a.campaign}/share-links",
                                             body={"expires_at": "2020-01-01T00:00:00Z"})
    assert (past.status, past.body["errors"][0]["field"]) == (400, "body.expires_at")
    naive = persona_api("owner A", data).call("POST", f"/campaigns/{data.a.campaign}/share-links",
                                              body={"expires_at": "2099-01-01T00:00:00"})
    assert naive.status == 422  # an instant needs its offset
    assert ANONYMOUS.get(made["path"]).status == 200


def share_relations(db: Database) -> list[str]:
    rows = db.connection().execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'analytics' and c.relkind in ('r', 'v', 'm', 'p')"
        "   and has_table_privilege('vidstats_share', c.oid, 'SELECT') order by 1").fetchall()
    return [r[0] for r in rows if r[0] != "read_model_state"]


def test_the_share_role_sees_only_its_campaigns_rows_whatever_a_query_forgets(
        data: TwoWorkspaces, db: Database) -> None:
    outside = UUID(make_video(db, workspace_id=data.a.workspace))
    with db.transaction(Role.INGEST) as tx:
        insert_snapshots(tx, [(str(outside), data.shared_added[data.a.workspace], (5, 1, 1, 0, 0))])
    link = make_link(data)
    reader = db.as_caller(Caller.share_link(hashlib.sha256(link["token"].encode()).hexdigest()))
    revoked = db.as_caller(Caller.share_link(hashlib.sha256(b"no such token").hexdigest()))
    relations = share_relations(db)
    assert {"campaigns", "campaign_videos", "videos", "bloggers", "workspace_videos", "video_latest_statistics",
            "mv_video_daily_increments", "workspace_video_tracking", "campaign_totals"} <= set(relations)
    foreign = {*(data.b.ids() - {str(data.shared_video)}), str(outside)}
    for relation in relations:
        with reader.transaction(Role.READER) as conn:  # deliberately unfiltered
            rows = conn.execute(f"select * from analytics.{relation}".encode()).fetchall()
        assert [r for r in rows if any(str(v) in foreign for v in r)] == [], relation
        with revoked.transaction(Role.READER) as conn:
            assert conn.execute(f"select * from analytics.{relation}".encode()).fetchall() == [], relation
    with pytest.raises(errors.InsufficientPrivilege), reader.transaction(Role.READER) as conn:
        conn.execute("update analytics.campaigns set name = 'x'")
    with pytest.raises(PermissionError), reader.transaction(Role.INGEST):
        pass
