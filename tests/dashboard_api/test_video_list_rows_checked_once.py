"""video_list_rows() (migration 20261203090000): the dashboard list's rows with the caller's right to each video
checked once per row, as the owner. It must return exactly the videos the caller's row-level security shows, with
the numbers that security shows, and nothing to anyone else, whatever ids they pass."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest
from vidstats.dashboard.share_links import token_hash
from vidstats.db import Database, Role

from tests.factories import make_video
from tests.two_workspaces import OWNER_A, OWNER_B, TwoWorkspaces, caller, outsiders, share, two_workspaces

ROWS = "select id, tracking_state, started_at, views, views_growth from analytics.video_list_rows(%s, %s, %s) r" \
       " order by r.ord"
# What the caller's own row-level security shows of the same videos (the function's columns, read as the caller).
UNDER_RLS = (
    "select v.id, t.tracking_state, t.started_at, l.views, g.views"
    "  from unnest(%s::uuid[]) with ordinality p(id, ord) join analytics.videos v on v.id = p.id"
    "  join analytics.workspace_video_tracking t on t.video_id = v.id"
    "  left join analytics.video_latest_statistics l on l.video_id = v.id"
    "  left join analytics.video_period_growth(%s::uuid[], %s, %s) g on g.video_id = v.id order by p.ord")


@pytest.fixture
def data(db: Database) -> TwoWorkspaces:
    return two_workspaces(db)


def rows(db: Database, ids: list[UUID], days: int = 7) -> list[tuple[Any, ...]]:
    first, last = date.today() - timedelta(days=days - 1), date.today()
    with db.transaction(Role.READER) as conn:
        return conn.execute(ROWS, (ids, first, last)).fetchall()


def under_rls(db: Database, ids: list[UUID], days: int = 7) -> list[tuple[Any, ...]]:
    first, last = date.today() - timedelta(days=days - 1), date.today()
    with db.transaction(Role.READER) as conn:
        return conn.execute(UNDER_RLS, (ids, ids, first, last)).fetchall()



def every_video(db: Database, data: TwoWorkspaces) -> tuple[list[UUID], UUID]:
    """A's, B's and the shared video, plus one A tracks outside its campaign (returned second)."""
    outside = UUID(make_video(db, workspace_id=data.a.workspace))
    return [data.b.video, data.a.video, outside, data.shared_video], outside


@pytest.mark.parametrize("days", [7, 5])  # video_growth's period, and a period summed at read time
def test_a_member_and_a_share_link_get_exactly_what_row_level_security_shows(
        db: Database, data: TwoWorkspaces, days: int) -> None:
    ids, outside = every_video(db, data)
    member, link = db.as_caller(caller(OWNER_A, data.a.workspace)), share(db, data.a.share_token)
    assert [r[0] for r in rows(member, ids, days)] == [data.a.video, outside, data.shared_video]
    assert [r[0] for r in rows(link, ids, days)] == [data.a.video, data.shared_video]  # its campaign's only
    for reader in (member, link):
        assert rows(reader, ids, days) == under_rls(reader, ids, days)
    # The shared video shows each workspace's own start.
    b_rows = rows(db.as_caller(caller(OWNER_B, data.b.workspace)), ids, days)
    assert [r[0] for r in b_rows] == [data.b.video, data.shared_video]
    assert b_rows[1][2] == data.shared_added[data.b.workspace]
    assert rows(member, ids, days)[2][2] == data.shared_added[data.a.workspace]


def test_nobody_else_gets_a_row(db: Database, data: TwoWorkspaces) -> None:
    ids = [data.a.video]
    for who, reader in outsiders(db, data).items():
        assert under_rls(reader, ids) == [], who
        assert rows(reader, ids) == [], who


def test_a_reader_whose_headers_carry_a_share_links_hash_is_still_only_a_reader(
        db: Database, data: TwoWorkspaces) -> None:
    with db.transaction(Role.READER) as conn:
        conn.execute("select set_config('request.headers', %s, true)",
                     (f'{{"x-share-token-hash": "{token_hash(data.a.share_token)}"}}',))
        assert conn.execute(ROWS, ([data.a.video], date.today(), date.today())).fetchall() == []


def test_other_roles_get_no_row(db: Database, data: TwoWorkspaces) -> None:
    # Granted to the reader and the share role only; the owner itself (no SET ROLE) gets nothing either.
    with db.connection().transaction():
        conn = db.connection()
        conn.execute("select set_config('request.jwt.claims', %s, true), set_config('request.headers', %s, true)",
                     (f'{{"sub": "{OWNER_A}"}}', f'{{"x-workspace-id": "{data.a.workspace}"}}'))
        assert conn.execute(ROWS, ([data.a.video], date.today(), date.today())).fetchall() == []
