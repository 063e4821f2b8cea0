"""The Supabase CLI is the oracle: our runner and it agree on history, schema and pending migrations,
and Supabase's own linter finds nothing to warn about."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import psycopg
import pytest
from vidstats.local.embedded import embedded_binary
from vidstats.migrations import migrate

from tests.conftest import IsolatedDatabase
from tests.supabase_cli import run_supabase

pytestmark = pytest.mark.supabase_cli


def _history(url: str) -> list[tuple[str, str, list[str]]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select version, name, statements from supabase_migrations.schema_migrations order by version"
        ).fetchall()


def _schema_dump(url: str) -> str:
    dump = subprocess.run([str(embedded_binary("pg_dump")), "--schema-only", "--no-comments", url],
                          capture_output=True, text=True, check=True).stdout
    # pg_dump 17.6+/18 brackets the script with \restrict <random key>; nothing else varies between runs.
    return "\n".join(line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def test_cli_finds_nothing_pending_after_vidstats_migrate(database: IsolatedDatabase) -> None:
    listing = run_supabase("migration", "list", db_url=database.owner_url)
    assert listing.returncode == 0, listing.stderr
    rows = re.findall(r"`(\d{14})`\s*\|\s*`(\d{14})`", listing.stdout)
    local = sorted(p.name.split("_", 1)[0] for p in (Path(__file__).parents[1] / "supabase/migrations").glob("*.sql"))
    assert rows == [(v, v) for v in local]

    up = run_supabase("migration", "up", "--yes", db_url=database.owner_url)
    assert up.returncode == 0, up.stderr
    assert "Remote database is up to date" in up.stdout + up.stderr


def test_a_database_migrated_by_the_cli_equals_ours_and_has_nothing_pending(
    database: IsolatedDatabase, empty_database: IsolatedDatabase
) -> None:
    up = run_supabase("migration", "up", "--yes", db_url=empty_database.owner_url)
    assert up.returncode == 0, up.stderr
    assert migrate(empty_database.owner_url) == []
    assert _history(empty_database.owner_url) == _history(database.owner_url)
    assert _schema_dump(empty_database.superuser_url) == _schema_dump(database.superuser_url)


def test_tricky_sql_is_split_and_recorded_exactly_as_the_cli_does(
    empty_database: IsolatedDatabase, supabase_like_server: str, tmp_path: Path
) -> None:
    migrations = tmp_path / "supabase" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20260101000000_tricky.sql").write_text(
        "-- leading comment; with a semicolon\n"
        "create table public.t (id int, note text default 'a;b''c');\n"
        "/* block; /* nested; */ comment */\n"
        "create function public.f() returns int language plpgsql as $fn$ begin return 1; end $fn$;\n"
        "do $$ begin perform 1; end $$;\n"
        'comment on table public.t is \'semi; colon "quoted"\';\n'
        "select 1;;\n"
        "-- trailing comment\n"
    )
    up = run_supabase("migration", "up", "--yes", db_url=empty_database.owner_url, workdir=tmp_path)
    assert up.returncode == 0, up.stderr
    cli_history = _history(empty_database.owner_url)

    from tests.conftest import _create_database, _drop_database

    ours = _create_database(supabase_like_server)
    try:
        migrate(ours.owner_url, migrations)
        assert _history(ours.owner_url) == cli_history
    finally:
        _drop_database(supabase_like_server, ours.name)


def test_supabase_advisors_report_nothing(database: IsolatedDatabase) -> None:
    result = run_supabase("db", "advisors", "--type", "all", "--level", "warn", "--fail-on", "warn",
                          db_url=database.owner_url)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_advisors_check_is_live_it_flags_a_table_exposed_to_anon(database: IsolatedDatabase) -> None:
    # Guards the check above against passing vacuously (no lints run, wrong exposed schemas).
    with database.connect_owner() as conn:
        conn.execute("create table public.leak (id int primary key, password text)")
        conn.execute("grant select on public.leak to anon")
    result = run_supabase("db", "advisors", "--type", "all", "--level", "warn", "--fail-on", "warn",
                          db_url=database.owner_url)
    assert result.returncode != 0
    assert "rls_disabled_in_public" in result.stdout + result.stderr
