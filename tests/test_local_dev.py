"""`vidstats dev` (behind `make dev`): the embedded server on a persistent folder, migrated, keeps its data."""

from __future__ import annotations

from pathlib import Path

import psycopg
from vidstats.cli import start_local_database
from vidstats.migrations import default_migrations_dir, discover


def test_local_database_is_migrated_and_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    data_dir = tmp_path / "pgdata"
    server, url = start_local_database(data_dir)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("select current_user").fetchone() == ("supabase_postgres",)
            conn.execute("insert into analytics.campaigns (workspace_id, name, starts_at) values "
                         "('00000000-0000-4000-8000-000000000001', 'Kept', now())")
    finally:
        server.cleanup()  # type: ignore[attr-defined]

    server, url = start_local_database(data_dir)  # a second start resumes on the same folder
    try:
        with psycopg.connect(url) as conn:
            assert conn.execute("select name from analytics.campaigns").fetchall() == [("Kept",)]
            applied = conn.execute("select count(*) from supabase_migrations.schema_migrations").fetchone()
            assert applied == (len(discover(default_migrations_dir())),)
    finally:
        server.cleanup()  # type: ignore[attr-defined]
