"""The migration runner: applies every file on an empty database, records it as the Supabase CLI does."""

from __future__ import annotations

from pathlib import Path

import pytest
from vidstats.migrations import MigrationError, default_migrations_dir, discover, migrate
from vidstats.sql_split import split_and_trim

from tests.conftest import IsolatedDatabase


def test_every_migration_applies_on_an_empty_database_and_a_rerun_is_a_no_op(
    empty_database: IsolatedDatabase,
) -> None:
    applied = migrate(empty_database.owner_url)
    assert [m.version for m in applied] == [m.version for m in discover(default_migrations_dir())]
    assert migrate(empty_database.owner_url) == []
    with empty_database.connect_owner() as conn:
        rows = conn.execute(
            "select version, name, cardinality(statements) from supabase_migrations.schema_migrations"
            " order by version"
        ).fetchall()
    assert [(v, n) for v, n, _ in rows] == [(m.version, m.name) for m in applied]
    assert all(count > 0 for _, _, count in rows)


def test_migration_file_names_are_14_digit_utc_timestamps() -> None:
    files = sorted(default_migrations_dir().glob("*.sql"))
    assert files
    assert [f.name for f in files] == [f"{m.version}_{m.name}.sql" for m in discover(default_migrations_dir())]
    assert all(len(m.version) == 14 for m in discover(default_migrations_dir()))


def test_a_failing_migration_leaves_nothing_behind(empty_database: IsolatedDatabase, tmp_path: Path) -> None:
    (tmp_path / "20260101000000_good.sql").write_text("create table public.good (id int);")
    (tmp_path / "20260101000001_bad.sql").write_text(
        "create table public.half (id int);\nselect 1/0;\n"
    )
    with pytest.raises(MigrationError, match=r"20260101000001_bad.sql: statement 1 failed: division by zero"):
        migrate(empty_database.owner_url, tmp_path)
    with empty_database.connect_owner() as conn:
        tables = {r[0] for r in conn.execute("select tablename from pg_tables where schemaname = 'public'")}
        versions = [r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations")]
    assert tables == {"good"}  # the bad file's first statement was rolled back with it
    assert versions == ["20260101000000"]


def test_history_versions_unknown_to_the_folder_are_refused(
    empty_database: IsolatedDatabase, tmp_path: Path
) -> None:
    (tmp_path / "20260101000000_one.sql").write_text("select 1;")
    migrate(empty_database.owner_url, tmp_path)
    (tmp_path / "20260101000000_one.sql").unlink()
    with pytest.raises(MigrationError, match="no file in supabase/migrations: 20260101000000"):
        migrate(empty_database.owner_url, tmp_path)


def test_a_new_file_older_than_the_last_applied_one_is_refused(
    empty_database: IsolatedDatabase, tmp_path: Path
) -> None:
    (tmp_path / "20260102000000_two.sql").write_text("select 2;")
    migrate(empty_database.owner_url, tmp_path)
    (tmp_path / "20260101000000_one.sql").write_text("select 1;")
    with pytest.raises(MigrationError, match="older than the last applied version 20260102000000"):
        migrate(empty_database.owner_url, tmp_path)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select 1; select 2;", ["select 1", "select 2"]),
        ("select ';' as a; select 2", ["select ';' as a", "select 2"]),
        ("select 'it''s;' ; x", ["select 'it''s;'", "x"]),
        ('select 1 as "a;b";', ['select 1 as "a;b"']),
        ("do $$ begin perform 1; end $$;", ["do $$ begin perform 1; end $$"]),
        ("do $body$ begin perform 1; end $body$; select 2;", ["do $body$ begin perform 1; end $body$", "select 2"]),
        ("-- note; still a comment\nselect 1;", ["-- note; still a comment\nselect 1"]),
        ("/* a; /* nested; */ b; */ select 1;", ["/* a; /* nested; */ b; */ select 1"]),
        ("select 1;\n-- trailing comment\n", ["select 1", "-- trailing comment"]),
        ("select f(1; 2);", ["select f(1; 2)"]),
        ("select $1, $2;", ["select $1, $2"]),
        ("select 1;;;", ["select 1"]),
    ],
)
def test_statements_are_split_by_the_cli_rules(sql: str, expected: list[str]) -> None:
    assert split_and_trim(sql) == expected
