"""videos_in_state() (migration 20261204090000): the caller's workspace's videos in a rare state (fetch health
failing, gone, stopped; tracking state stopped, gone) as that workspace sees it, the caller's right to each
checked once as the owner. It must return exactly what the caller's row-level security shows in that state, at
most p_max + 1 of them, and nothing to anyone else."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from vidstats.dashboard.share_links import token_hash
from vidstats.db import Database, Role

from tests.factories import make_video
from tests.two_workspaces import OWNER_A, OWNER_B, TwoWorkspaces, caller, outsiders, share, two_workspaces

IN_STATE = "select video_id from analytics.videos_in_state(%s, %s, %s)"
# The same, read under the caller's own row-level security: its workspace's tracking of every video.
UNDER_RLS = ("select t.video_id from analytics.workspace_video_tracking t join analytics.videos v on v.id = t.video_id"
             " where (%s::text is null or t.fetch_health = %s) and (%s::text is null or t.tracking_state = %s)")
STATES = [("failing", None), ("gone", None), ("stopped", None), (None, "stopped"), (None, "gone"),
          ("failing", "active"), ("stopped", "stopped"), ("gone", "gone"), ("failing", "stopped")]


@pytest.fixture
def data(db: Database) -> TwoWorkspaces:
    return two_workspaces(db)


def in_state(db: Database, health: str | None, state: str | None, most: int = 100) -> set[UUID]:
    with db.transaction(Role.READER) as conn:
        return {r[0] for r in conn.execute(IN_STATE, (health, state, most)).fetchall()}


def under_rls(db: Database, health: str | None, state: str | None) -> set[UUID]:
    with db.transaction(Role.READER) as conn:
        return {r[0] for r in conn.execute(UNDER_RLS, (health, health, state, state)).fetchall()}


def owner_sets(db: Database, sql: str, ids: list[UUID]) -> None:
    with db.connection().transaction():
        db.connection().execute(sql, (ids,))


@pytest.fixture
def states(db: Database, data: TwoWorkspaces) -> dict[str, UUID]:
    """A's videos in every state: failing, failing but stopped by A, stopped by A, stopped everywhere, gone,
    healthy; and the shared video failing (also B's)."""
    videos = {name: UUID(make_video(db, workspace_id=data.a.workspace))
              for name in ("failing", "failing_a_stopped", "a_stopped", "stopped", "gone", "healthy")}
    owner_sets(db, "update analytics.videos set failure_days = 2 where id = any(%s)",
               [videos["failing"], videos["failing_a_stopped"], data.shared_video, data.b.video])
    owner_sets(db, "update analytics.workspace_videos set stopped_at = now() where video_id = any(%s)",
               [videos["failing_a_stopped"], videos["a_stopped"]])
    owner_sets(db, "update analytics.videos set tracking_state = 'stopped' where id = any(%s)", [videos["stopped"]])
    owner_sets(db, "update analytics.videos set tracking_state = 'gone' where id = any(%s)", [videos["gone"]])
    return videos


@pytest.mark.parametrize(("health", "state"), STATES)
def test_a_member_a_share_link_and_another_workspace_get_what_row_level_security_shows_in_that_state(
        db: Database, data: TwoWorkspaces, states: dict[str, UUID], health: str | None, state: str | None) -> None:
    for reader in (db.as_caller(caller(OWNER_A, data.a.workspace)), share(db, data.a.share_token),
                   db.as_caller(caller(OWNER_B, data.b.workspace))):
        assert in_state(reader, health, state) == under_rls(reader, health, state)


def test_each_state_holds_the_videos_the_workspace_sees_in_it(
        db: Database, data: TwoWorkspaces, states: dict[str, UUID]) -> None:
    member = db.as_caller(caller(OWNER_A, data.a.workspace))
    assert in_state(member, "failing", None) == {states["failing"], data.shared_video}  # not the one A stopped
    assert in_state(member, None, "stopped") == {states["failing_a_stopped"], states["a_stopped"], states["stopped"]}
    assert in_state(member, "stopped", None) == in_state(member, None, "stopped")
    assert in_state(member, "gone", None) == in_state(member, None, "gone") == {states["gone"]}
    b_member = db.as_caller(caller(OWNER_B, data.b.workspace))
    assert in_state(b_member, "failing", None) == {data.b.video, data.shared_video}
    assert in_state(b_member, None, "stopped") == set()
    assert in_state(share(db, data.a.share_token), "failing", None) == {data.shared_video}  # its campaign's only


def test_common_states_are_not_served(db: Database, data: TwoWorkspaces, states: dict[str, UUID]) -> None:
    member = db.as_caller(caller(OWNER_A, data.a.workspace))
    assert under_rls(member, "tracking", None) != set()
    for health, state in (("tracking", None), (None, "active"), (None, None), ("anything", None)):
        assert in_state(member, health, state) == set()


def test_it_returns_at_most_one_more_than_asked(db: Database, data: TwoWorkspaces, states: dict[str, UUID]) -> None:
    member = db.as_caller(caller(OWNER_A, data.a.workspace))
    assert len(in_state(member, None, "stopped", most=1)) == 2  # of 3: "more than 1"
    assert len(in_state(member, None, "stopped", most=3)) == 3


def test_nobody_else_gets_a_row(db: Database, data: TwoWorkspaces) -> None:
    owner_sets(db, "update analytics.videos set failure_days = 2 where id = any(%s)", [data.a.video])
    for who, reader in outsiders(db, data).items():
        assert data.a.video not in in_state(reader, "failing", None), who


def test_a_reader_whose_headers_carry_a_share_links_hash_is_still_only_a_reader(
        db: Database, data: TwoWorkspaces) -> None:
    owner_sets(db, "update analytics.videos set failure_days = 2 where id = any(%s)", [data.a.video])
    with db.transaction(Role.READER) as conn:
        conn.execute("select set_config('request.headers', %s, true)",
                     (f'{{"x-share-token-hash": "{token_hash(data.a.share_token)}"}}',))
        assert conn.execute(IN_STATE, ("failing", None, 100)).fetchall() == []


def test_other_roles_get_no_row(db: Database, data: TwoWorkspaces) -> None:
    owner_sets(db, "update analytics.videos set failure_days = 2 where id = any(%s)", [data.a.video])
    with db.connection().transaction():  # the owner itself, no SET ROLE
        conn = db.connection()
        conn.execute("select set_config('request.jwt.claims', %s, true), set_config('request.headers', %s, true)",
                     (f'{{"sub": "{OWNER_A}"}}', f'{{"x-workspace-id": "{data.a.workspace}"}}'))
        assert conn.execute(IN_STATE, ("failing", None, 100)).fetchall() == []


@pytest.mark.parametrize(("health", "state"), [("failing", None), (None, "stopped"), ("gone", None)])
def test_it_reads_only_the_videos_in_the_state_not_every_video_of_the_workspace(
        db: Database, health: str | None, state: str | None) -> None:
    from vidstats.workspaces import create_workspace

    conn = db.connection()
    with conn.transaction():
        workspace = create_workspace(conn, "Big", owner_user_id=OWNER_A)
        conn.execute("insert into analytics.videos (platform, external_video_id, url)"
                     " select 'youtube', 'big' || i, 'https://youtu.be/big' || i from generate_series(1, 10000) i")
        conn.execute("insert into analytics.workspace_videos (workspace_id, video_id) select %s, id"
                     " from analytics.videos", (workspace,))
        conn.execute("update analytics.videos set failure_days = 2 where external_video_id in ('big1', 'big2')")
        conn.execute("update analytics.videos set tracking_state = 'gone' where external_video_id = 'big3'")
        conn.execute("update analytics.workspace_videos set stopped_at = now() where video_id in ("
                     " select id from analytics.videos where external_video_id in ('big4', 'big5'))")
        conn.execute("analyze analytics.videos, analytics.workspace_videos")
    with db.as_caller(caller(OWNER_A, workspace)).transaction(Role.READER) as reader:
        for _ in range(2):  # the second: planned already (planning reads the catalogs)
            plan = reader.execute("explain (analyze, buffers, format json) select * from"
                                  " analytics.videos_in_state(%s, %s, 1000)", (health, state)).fetchone()
    assert plan is not None
    top = plan[0][0]["Plan"]
    assert top["Actual Rows"] == {"failing": 2, "gone": 1}.get(health or "", 2)
    # A few index probes per video in the state; a scan of the workspace's 10,000 videos reads hundreds of
    # pages, walking their tracking tens of thousands.
    assert top["Shared Hit Blocks"] + top["Shared Read Blocks"] < 100, top


def plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in plan_nodes(child))]


def test_a_workspaces_tracking_of_a_video_is_read_from_the_primary_key_alone(db: Database, data: TwoWorkspaces,
                                                                            states: dict[str, UUID]) -> None:
    """Its start and stop are in the key's leaves (migration 20261205090000): ranking a state's videos probes the
    key, not the table too."""
    conn = db.connection()
    conn.execute("vacuum analyze analytics.workspace_videos")  # as autovacuum leaves a rarely changed table
    with db.as_caller(caller(OWNER_A, data.a.workspace)).transaction(Role.READER) as reader:
        reader.execute("set local enable_seqscan = off")  # the tests' tables are a page: pick as at scale
        plan = reader.execute("explain (analyze, buffers, format json) select t.started_at, t.stopped_at,"
                              " t.tracking_state from analytics.workspace_video_tracking t where t.video_id = %s",
                              (states["a_stopped"],)).fetchone()
    assert plan is not None
    probes = [n for n in plan_nodes(plan[0][0]["Plan"]) if n.get("Relation Name") == "workspace_videos"]
    # (row-level security probes it too)
    assert probes
    assert {(n["Node Type"], n["Index Name"], n["Heap Fetches"]) for n in probes} == \
        {("Index Only Scan", "workspace_videos_pkey", 0)}, probes
