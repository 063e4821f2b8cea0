"""videos_matching() (migration 20261204090100): the videos the caller may see whose caption, or whose creator's
username or display name, matches a search, found through trigram indexes as the owner. It must return exactly
what the caller's row-level security shows for that search, at most p_max + 1 rows, and nothing to anyone else."""

from __future__ import annotations

from uuid import UUID

import pytest
from vidstats.dashboard.share_links import token_hash
from vidstats.dashboard.videos import search_pattern
from vidstats.db import Database, Role

from tests.two_workspaces import OWNER_A, OWNER_B, TwoWorkspaces, caller, outsiders, share, two_workspaces

MATCHING = "select id from analytics.videos_matching(%s, %s) m(id)"
# The same search under the caller's own row-level security.
UNDER_RLS = ("select v.id from analytics.videos v left join analytics.bloggers b on b.id = v.blogger_id"
             " where v.caption ilike %s or b.username ilike %s or b.display_name ilike %s")


@pytest.fixture
def data(db: Database) -> TwoWorkspaces:
    data = two_workspaces(db)
    with db.connection().transaction():
        conn = db.connection()
        conn.execute("update analytics.videos set caption = 'Summer sale, 100%% off' where id = any(%s)",
                     ([data.a.video, data.b.video],))
        conn.execute("update analytics.videos set caption = 'summer in the city' where id = %s", (data.shared_video,))
        conn.execute("update analytics.bloggers set display_name = 'Sunny Summer' where id = %s", (data.b.blogger,))
    return data


def matching(db: Database, text: str, most: int = 100) -> list[UUID]:
    with db.transaction(Role.READER) as conn:
        return [r[0] for r in conn.execute(MATCHING, (search_pattern(text), most)).fetchall()]


def under_rls(db: Database, text: str) -> set[UUID]:
    pattern = search_pattern(text)
    with db.transaction(Role.READER) as conn:
        return {r[0] for r in conn.execute(UNDER_RLS, (pattern, pattern, pattern)).fetchall()}


@pytest.mark.parametrize("text", ["summer", "SALE", "100%", "sunny", "creator_", "no such text", "su"])
def test_a_member_a_share_link_and_another_workspace_find_what_row_level_security_shows(
        db: Database, data: TwoWorkspaces, text: str) -> None:
    for reader in (db.as_caller(caller(OWNER_A, data.a.workspace)), share(db, data.a.share_token),
                   db.as_caller(caller(OWNER_B, data.b.workspace))):
        assert set(matching(reader, text)) == under_rls(reader, text)


def test_each_finds_its_own_videos(db: Database, data: TwoWorkspaces) -> None:
    assert set(matching(db.as_caller(caller(OWNER_A, data.a.workspace)), "summer")) == {
        data.a.video, data.shared_video}
    # B's creator is "Sunny Summer": all of B's videos by that creator, and its own caption matches.
    assert set(matching(db.as_caller(caller(OWNER_B, data.b.workspace)), "sunny")) == {data.b.video}
    assert set(matching(share(db, data.a.share_token), "summer")) == {data.a.video, data.shared_video}


def test_it_returns_at_most_one_more_than_asked(db: Database, data: TwoWorkspaces) -> None:
    member = db.as_caller(caller(OWNER_A, data.a.workspace))
    assert len(matching(member, "summer", most=0)) == 1


def test_nobody_else_finds_a_row(db: Database, data: TwoWorkspaces) -> None:
    for who, reader in outsiders(db, data).items():
        assert data.a.video not in matching(reader, "summer sale"), who


def test_a_reader_whose_headers_carry_a_share_links_hash_is_still_only_a_reader(
        db: Database, data: TwoWorkspaces) -> None:
    with db.transaction(Role.READER) as conn:
        conn.execute("select set_config('request.headers', %s, true)",
                     (f'{{"x-share-token-hash": "{token_hash(data.a.share_token)}"}}',))
        assert conn.execute(MATCHING, (search_pattern("summer"), 100)).fetchall() == []


def test_other_roles_find_nothing(db: Database, data: TwoWorkspaces) -> None:
    with db.connection().transaction():  # the owner itself, no SET ROLE
        conn = db.connection()
        conn.execute("select set_config('request.jwt.claims', %s, true), set_config('request.headers', %s, true)",
                     (f'{{"sub": "{OWNER_A}"}}', f'{{"x-workspace-id": "{data.a.workspace}"}}'))
        assert conn.execute(MATCHING, (search_pattern("summer"), 100)).fetchall() == []


def test_a_search_reads_the_trigram_indexes_not_every_video_of_the_workspace(
        db: Database, data: TwoWorkspaces) -> None:
    conn = db.connection()
    with conn.transaction():
        conn.execute("insert into analytics.videos (platform, external_video_id, url, caption)"
                     " select 'youtube', 'big' || i, 'https://youtu.be/big' || i, 'clip ' || md5(i::text)"
                     "   from generate_series(1, 30000) i")
        conn.execute("insert into analytics.workspace_videos (workspace_id, video_id) select %s, id"
                     " from analytics.videos where external_video_id like 'big%%'", (data.a.workspace,))
        conn.execute("analyze analytics.videos, analytics.bloggers, analytics.workspace_videos")
    with db.as_caller(caller(OWNER_A, data.a.workspace)).transaction(Role.READER) as reader:
        text = reader.execute("select substr(md5('4242'), 5, 12)").fetchone()
        assert text is not None
        for _ in range(2):  # the second: planned already (planning reads the catalogs)
            plan = reader.execute("explain (analyze, buffers, format json) select * from"
                                  " analytics.videos_matching(%s, 1000)", (search_pattern(text[0]),)).fetchone()
    assert plan is not None
    top = plan[0][0]["Plan"]
    assert top["Actual Rows"] == 1
    # The trigram indexes and a probe per match (about 150 buffers); scanning the 30,000 captions reads over
    # a thousand pages.
    assert top["Shared Hit Blocks"] + top["Shared Read Blocks"] < 300, top
