"""Workspaces enforced by Postgres: under a caller's claims (request.jwt.claims, as Supabase sets them) the
reader role sees its workspace's rows only, whatever a query forgets to filter; writes need an owner or editor."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
import respx
from psycopg import errors
from vidstats import cli
from vidstats.db import Database, Role
from vidstats.ingestion.fetch_queue import ListQueue
from vidstats.ingestion.messages import FetchVideosMessage
from vidstats.ingestion.nightly import enqueue_nightly_refresh
from vidstats.ingestion.videos_repository import active_videos_page
from vidstats.read_model import refresh_read_model
from vidstats.workspaces import DEFAULT_WORKSPACE_ID

from tests.conftest import IsolatedDatabase
from tests.supabase_auth import recorded, recorded_body, supabase_auth  # noqa: F401 (a fixture)
from tests.two_workspaces import (
    EDITOR_A,
    NOBODY,
    OWNER_A,
    OWNER_B,
    VIEWER_A,
    Side,
    TwoWorkspaces,
    caller,
    two_workspaces,
)

# Global by design: the read model's watermark, and the page-view report (an operator feature, seed 003).
NOT_PER_WORKSPACE = {"read_model_state", "page_views_report", "page_views_report_state"}


@pytest.fixture
def data(db: Database) -> TwoWorkspaces:
    return two_workspaces(db)


def reader_relations(db: Database) -> list[str]:
    """Every relation of `analytics` the reader role may select: a new one is covered without being listed."""
    rows = db.connection().execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'analytics' and c.relkind in ('r', 'v', 'm', 'p')"
        "   and has_table_privilege('vidstats_reader', c.oid, 'SELECT') order by 1").fetchall()
    return [r[0] for r in rows if r[0] not in NOT_PER_WORKSPACE]


def rows_of(db: Database, relation: str) -> list[tuple[Any, ...]]:
    with db.transaction(Role.READER) as conn:  # deliberately unfiltered
        return conn.execute(f"select * from analytics.{relation}".encode()).fetchall()


def holding(rows: list[tuple[Any, ...]], ids: set[str]) -> list[tuple[Any, ...]]:
    return [row for row in rows if any(str(value) in ids for value in row)]


def test_every_read_relation_shows_b_nothing_of_a_and_a_its_own(db: Database, data: TwoWorkspaces) -> None:
    relations = reader_relations(db)
    assert {"videos", "bloggers", "campaigns", "campaign_videos", "campaign_video_bounds", "video_latest_statistics",
            "video_growth", "mv_video_daily_increments", "mv_video_weekly_increments", "campaign_totals",
            "blogger_totals", "videos_with_statistics_fast", "blogger_batches", "workspace_videos"} <= set(relations)
    as_a = db.as_caller(caller(OWNER_A, data.a.workspace))
    as_b = db.as_caller(caller(OWNER_B, data.b.workspace))
    b_named_a = db.as_caller(caller(OWNER_B, data.a.workspace))  # a forged header alone opens nothing
    for relation in relations:
        assert holding(rows_of(as_a, relation), data.a.ids()), f"{relation}: A's own rows are missing"
        assert holding(rows_of(as_b, relation), data.a.ids()) == [], f"{relation}: B sees A's rows"
        assert holding(rows_of(as_a, relation), data.b.ids()) == [], f"{relation}: A sees B's rows"
        assert holding(rows_of(b_named_a, relation), data.a.ids()) == [], f"{relation}: naming A opens A's rows"
        assert rows_of(db.as_caller(caller(NOBODY, None)), relation) == [], f"{relation}: no workspace sees rows"
        assert rows_of(db, relation) == [], f"{relation}: the reader without claims sees rows"


def test_the_export_role_reads_every_workspace(db: Database, data: TwoWorkspaces) -> None:
    with db.transaction(Role.EXPORT) as conn:
        campaigns = {r[0] for r in conn.execute("select id from analytics.campaigns")}
        videos = {r[0] for r in conn.execute("select id from analytics.videos_with_statistics_fast")}
    assert {data.a.campaign, data.b.campaign} <= campaigns
    assert {data.a.video, data.b.video, data.shared_video} <= videos


def test_a_video_tracked_by_two_workspaces_is_one_row_each_sees_with_its_own_added_at(
        db: Database, data: TwoWorkspaces) -> None:
    for workspace, owner in ((data.a.workspace, OWNER_A), (data.b.workspace, OWNER_B)):
        with db.as_caller(caller(owner, workspace)).transaction(Role.READER) as conn:
            tracked = conn.execute("select video_id, added_at from analytics.workspace_videos"
                                   " where video_id = %s", (data.shared_video,)).fetchall()
            assert tracked == [(data.shared_video, data.shared_added[workspace])]
            assert conn.execute("select count(*) from analytics.videos where id = %s",
                                (data.shared_video,)).fetchone() == (1,)
    with db.connection().transaction():
        assert db.connection().execute("select count(*) from analytics.videos where id = %s",
                                       (data.shared_video,)).fetchone() == (1,)


def test_a_video_tracked_by_two_workspaces_is_fetched_once_a_night_and_counted_by_each_from_its_own_entry(
        db: Database, data: TwoWorkspaces) -> None:
    # B put the shared video in its campaign only after its last snapshot; A four days ago.
    db.connection().execute("update analytics.campaign_videos set added_at = now() - interval '12 hours'"
                            " where campaign_id = %s and video_id = %s", (data.b.campaign, data.shared_video))
    assert refresh_read_model(db).status == "caught_up"
    queue = ListQueue()
    enqueue_nightly_refresh(db, queue, run_date=date.today(), message_size=50, page_size=1000,
                            grace=timedelta(days=7))
    fetched = [v.video_id for m in queue.messages if isinstance(m, FetchVideosMessage) for v in m.videos]
    assert fetched.count(data.shared_video) == 1  # the plan is spent once

    def shared_growth(owner: UUID, side: Side) -> Any:
        with db.as_caller(caller(owner, side.workspace)).transaction(Role.READER) as conn:
            return conn.execute("select views, snapshots from analytics.campaign_video_growth(%s, %s, %s)"
                                " where video_id = %s", (side.campaign, date.today() - timedelta(days=10),
                                                         date.today(), data.shared_video)).fetchone()

    assert shared_growth(OWNER_A, data.a) == (100, 2)  # 100 -> 200 after A's entry (the first value counts 0)
    assert shared_growth(OWNER_B, data.b) == (None, 0)  # nothing measured after B's entry


def test_a_workspace_stopping_a_shared_video_stops_only_its_own_tracking(db: Database, data: TwoWorkspaces) -> None:
    def state() -> str:
        row = db.connection().execute("select tracking_state from analytics.videos where id = %s",
                                      (data.shared_video,)).fetchone()
        assert row is not None
        return str(row[0])

    for workspace, owner in ((data.b.workspace, OWNER_B), (data.a.workspace, EDITOR_A)):
        with db.as_caller(caller(owner, workspace, edits=True)).transaction(Role.READER) as conn:
            conn.execute("select analytics.stop_workspace_tracking(%s)", (data.shared_video,))
        assert state() == "active"  # the Default workspace (two_workspaces' make_video) still tracks it
    db.connection().execute("update analytics.workspace_videos set stopped_at = now() where video_id = %s"
                            " and stopped_at is null and workspace_id not in (%s, %s)",
                            (data.shared_video, data.a.workspace, data.b.workspace))
    with db.as_caller(caller(OWNER_A, data.a.workspace, edits=True)).transaction(Role.READER) as conn:
        conn.execute("select analytics.stop_workspace_tracking(%s)", (data.shared_video,))
    assert state() == "stopped"  # no workspace tracks it any more


def test_a_viewer_writes_nothing_and_a_command_rechecks_the_role_in_its_transaction(
        db: Database, data: TwoWorkspaces) -> None:
    viewer = db.as_caller(caller(VIEWER_A, data.a.workspace))
    with pytest.raises(errors.InsufficientPrivilege), viewer.transaction(Role.READER) as conn:
        conn.execute("insert into analytics.campaigns (workspace_id, name, starts_at) values (%s, 'X', now())",
                     (data.a.workspace,))
    with pytest.raises(errors.InsufficientPrivilege), viewer.transaction(Role.READER) as conn:
        conn.execute("select analytics.stop_workspace_tracking(%s)", (data.a.video,))
    # A command's transaction (edits) refuses a caller who is not, or no longer, an editor before any write.
    with pytest.raises(errors.InsufficientPrivilege), \
            db.as_caller(caller(VIEWER_A, data.a.workspace, edits=True)).transaction(Role.INGEST):
        pass
    with db.as_caller(caller(EDITOR_A, data.a.workspace, edits=True)).transaction(Role.INGEST) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_another_workspace_cannot_change_or_use_a_campaign_or_a_video(db: Database, data: TwoWorkspaces) -> None:
    owner_b = db.as_caller(caller(OWNER_B, data.b.workspace, edits=True))
    with owner_b.transaction(Role.READER) as conn:
        assert conn.execute("update analytics.campaigns set name = 'mine' where id = %s",
                            (data.a.campaign,)).rowcount == 0
        assert conn.execute("delete from analytics.campaign_videos where campaign_id = %s",
                            (data.a.campaign,)).rowcount == 0
    with pytest.raises(errors.InsufficientPrivilege), owner_b.transaction(Role.READER) as conn:
        conn.execute("insert into analytics.campaign_videos (campaign_id, video_id) values (%s, %s)",
                     (data.b.campaign, data.a.video))  # B's campaign, A's video
    with pytest.raises(errors.InsufficientPrivilege), owner_b.transaction(Role.READER) as conn:
        conn.execute("insert into analytics.campaigns (workspace_id, name, starts_at) values (%s, 'X', now())",
                     (data.a.workspace,))


@pytest.mark.parametrize(("claims", "expected"), [
    ('{"sub": "a0000000-0000-4000-8000-00000000000a"}', UUID("a0000000-0000-4000-8000-00000000000a")),
    ('{"sub": "not-a-uuid"}', None), ('{}', None), ("", None)])
def test_current_user_id_reads_sub_from_the_claims_like_auth_uid(db: Database, claims: str,
                                                                  expected: UUID | None) -> None:
    with db.transaction(Role.READER) as conn:
        conn.execute("select set_config('request.jwt.claims', %s, true)", (claims,))
        assert conn.execute("select analytics.current_user_id()").fetchone() == (expected,)


def test_the_cli_creates_a_workspace_with_its_first_owner(database: IsolatedDatabase, db: Database,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    owner = "d0000000-0000-4000-8000-0000000000d0"
    assert cli.main(["workspace", "create", " Acme agency ", "--owner-user-id", owner,
                     "--database-url", database.owner_url]) == 0
    workspace = UUID(capsys.readouterr().out.split()[0])
    with db.as_caller(caller(UUID(owner), None)).transaction(Role.READER) as conn:
        assert conn.execute("select w.id, w.name, m.role from analytics.workspaces w"
                            " join analytics.workspace_members m on m.workspace_id = w.id").fetchall() == [
            (workspace, "Acme agency", "owner")]
    assert cli.main(["workspace", "create", "X", "--owner-user-id", "someone@example.com",
                     "--database-url", database.owner_url]) == 2
    assert "Supabase Auth user id" in capsys.readouterr().err


def test_the_cli_invites_the_first_owner_by_email_through_supabase_auth(
        database: IsolatedDatabase, db: Database, capsys: pytest.CaptureFixture[str],
        supabase_auth: respx.MockRouter) -> None:  # noqa: F811
    assert cli.main(["workspace", "create", "Brand team", "--owner", "ana@agency.example",
                     "--database-url", database.owner_url]) == 0
    out = capsys.readouterr().out
    assert "pending until they sign in" in out
    invited = UUID(recorded_body("invite_200")["id"])
    workspace = UUID(out.split()[0])
    row = db.connection().execute("select role, email, accepted_at from analytics.workspace_members"
                                  " where workspace_id = %s", (workspace,)).fetchall()
    assert row == [("owner", "ana@agency.example", None)]
    assert db.connection().execute("select user_id from analytics.workspace_members where workspace_id = %s",
                                   (workspace,)).fetchone() == (invited,)
    # An address Supabase Auth already knows: that account, found through the admin list, owns the workspace.
    supabase_auth["invite"].mock(return_value=recorded("invite_422_email_exists"))
    assert cli.main(["workspace", "create", "Agency", "--owner", "bo@brand.example",
                     "--database-url", database.owner_url]) == 0
    assert "existing account" in capsys.readouterr().out
    # Refused: one line naming the address and why, exit status 2, no workspace.
    supabase_auth["invite"].mock(return_value=recorded("invite_400_invalid_email"))
    assert cli.main(["workspace", "create", "Nope", "--owner", "x@bad", "--database-url", database.owner_url]) == 2
    assert "Unable to validate email address" in capsys.readouterr().err
    assert db.connection().execute("select count(*) from analytics.workspaces where name = 'Nope'"
                                   ).fetchone() == (0,)


def test_an_operator_adds_the_first_owner_of_the_default_workspace_after_an_upgrade(
        database: IsolatedDatabase, db: Database, data: TwoWorkspaces, capsys: pytest.CaptureFixture[str]) -> None:
    # The migration put every existing row in the Default workspace, which has no members: nobody could use it
    # until an operator adds one.
    user = "d0000000-0000-4000-8000-0000000000d1"
    default = str(DEFAULT_WORKSPACE_ID)
    assert cli.main(["workspace", "add-member", default, "--user-id", user, "--role", "owner",
                     "--database-url", database.owner_url]) == 0
    capsys.readouterr()
    with db.as_caller(caller(UUID(user), DEFAULT_WORKSPACE_ID)).transaction(Role.READER) as conn:
        assert conn.execute("select analytics.current_workspace_role()").fetchone() == ("owner",)
    # A role change is the same command; the listing shows it.
    assert cli.main(["workspace", "add-member", default, "--user-id", user, "--role", "viewer",
                     "--database-url", database.owner_url]) == 0
    capsys.readouterr()
    assert cli.main(["workspace", "list", "--database-url", database.owner_url]) == 0
    listing = capsys.readouterr().out
    default_line = next(line for line in listing.splitlines() if line.startswith(default))
    assert default_line.startswith(f"{default}  Default workspace  (")
    assert default_line.endswith(f"{user} viewer)")
    assert f"{data.a.workspace}  " in listing
    # A workspace that does not exist, or a malformed id, is one line and exit status 2.
    assert cli.main(["workspace", "add-member", "d0000000-0000-4000-8000-00000000ffff", "--user-id", user,
                     "--role", "owner", "--database-url", database.owner_url]) == 2
    assert "no workspace" in capsys.readouterr().err
    assert cli.main(["workspace", "add-member", "default", "--user-id", user, "--role", "owner",
                     "--database-url", database.owner_url]) == 2
    assert "WORKSPACE must be a workspace id" in capsys.readouterr().err


def test_another_teams_ended_campaign_never_stops_a_video_a_team_still_tracks(db: Database,
                                                                              data: TwoWorkspaces) -> None:
    def campaigns_over() -> bool:
        with db.transaction(Role.INGEST) as conn:
            page = active_videos_page(conn, after=None, limit=1000, grace=timedelta(days=7))
        (video,) = [v for v in page if v.id == data.shared_video]
        return video.campaigns_over

    owner = db.connection()
    owner.execute("update analytics.workspace_videos set stopped_at = now() where video_id = %s"
                  " and workspace_id not in (%s, %s)", (data.shared_video, data.a.workspace, data.b.workspace))
    owner.execute("update analytics.campaigns set starts_at = now() - interval '60 days',"
                  " ends_at = now() - interval '30 days' where id = %s", (data.b.campaign,))
    owner.execute("delete from analytics.campaign_videos where campaign_id = %s and video_id = %s",
                  (data.a.campaign, data.shared_video))
    assert not campaigns_over()  # A tracks it outside its campaigns; B's campaign ended
    owner.execute("update analytics.workspace_videos set stopped_at = now() where video_id = %s"
                  " and workspace_id = %s", (data.shared_video, data.a.workspace))
    assert campaigns_over()  # only B tracks it now, and B's campaign ended a month ago


def test_the_guards_single_statement_leaves_no_role_or_identity_behind(db: Database, data: TwoWorkspaces) -> None:
    row = db.fetch_one_as(Role.READER, caller(VIEWER_A, data.a.workspace),
                          "analytics.current_workspace_role(), analytics.current_user_has_workspace(), current_user")
    assert row == ("viewer", True, "vidstats_reader")
    after = db.connection().execute("select current_user, current_setting('request.jwt.claims', true)").fetchone()
    assert after in {("supabase_postgres", ""), ("supabase_postgres", None)}
