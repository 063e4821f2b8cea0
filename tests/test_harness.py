"""The harness itself: tests run as a non-superuser and each gets an isolated, migrated database."""

from __future__ import annotations

from tests.conftest import IsolatedDatabase


def test_tests_connect_as_a_non_superuser_project_owner(database: IsolatedDatabase) -> None:
    with database.connect_owner() as conn:
        row = conn.execute(
            "select current_user, rolsuper, rolcreaterole, rolbypassrls from pg_roles where rolname = current_user"
        ).fetchone()
    assert row == ("supabase_postgres", False, True, True)


def test_each_test_gets_its_own_database(database: IsolatedDatabase) -> None:
    with database.connect_owner() as conn:
        conn.execute("create table public.scratch (x int)")
    # A leftover from another test would make this fail: every test starts from the migrated template.
    with database.connect_owner() as conn:
        row = conn.execute("select count(*) from pg_tables where tablename = 'scratch'").fetchone()
    assert row == (1,)
