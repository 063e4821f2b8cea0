"""Applies ``supabase/migrations`` the way the Supabase CLI does, so the two are interchangeable.

A database migrated by ``vidstats migrate`` shows nothing pending to ``supabase migration up`` and the
reverse: both keep ``supabase_migrations.schema_migrations(version, statements, name)``, split each file into
statements with the same rules and apply one file (plus its history row) in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from vidstats.sql_split import split_and_trim

# The CLI's pattern (pkg/migration/file.go); other files in the folder are skipped, as the CLI does.
MIGRATION_FILE_PATTERN = re.compile(r"^([0-9]+)_(.*)\.sql$")

# The history table, created with the CLI's own statements so its shape is exactly the CLI's.
HISTORY_TABLE_DDL = (
    "CREATE SCHEMA IF NOT EXISTS supabase_migrations",
    "CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY)",
    "ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[]",
    "ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text",
)
INSERT_HISTORY_ROW = (
    "INSERT INTO supabase_migrations.schema_migrations(version, name, statements) VALUES(%s, %s, %s)"
)


class MigrationError(RuntimeError):
    """A migration could not be applied, or the history disagrees with the migrations folder."""


@dataclass(frozen=True)
class MigrationFile:
    version: str
    name: str
    path: Path

    def statements(self) -> list[str]:
        return split_and_trim(self.path.read_text(encoding="utf-8"))


def default_migrations_dir() -> Path:
    """``supabase/migrations`` of this checkout (the package sits at ``functions/vidstats``)."""
    return Path(__file__).resolve().parents[2] / "supabase" / "migrations"


def discover(directory: Path) -> list[MigrationFile]:
    files = []
    for path in sorted(directory.glob("*.sql")):
        match = MIGRATION_FILE_PATTERN.match(path.name)
        if match:
            files.append(MigrationFile(version=match.group(1), name=match.group(2), path=path))
    # Versions compare as text, as the CLI compares them.
    return sorted(files, key=lambda f: f.version)


def applied_versions(conn: psycopg.Connection) -> list[str]:
    exists = conn.execute("select to_regclass('supabase_migrations.schema_migrations') is not null").fetchone()
    if not exists or not exists[0]:
        return []
    rows = conn.execute("SELECT version FROM supabase_migrations.schema_migrations ORDER BY version").fetchall()
    return [row[0] for row in rows]


def pending(local: list[MigrationFile], remote_versions: list[str]) -> list[MigrationFile]:
    """The CLI's rules: the history may not hold versions unknown here, nor may a new file predate it."""
    local_versions = {f.version for f in local}
    unknown = [v for v in remote_versions if v not in local_versions]
    if unknown:
        raise MigrationError(
            "The database's migration history has versions with no file in supabase/migrations: "
            f"{', '.join(unknown)}. Restore those files, or mark them reverted with "
            "`supabase migration repair --status reverted <version>`."
        )
    applied = set(remote_versions)
    todo = [f for f in local if f.version not in applied]
    latest = max(remote_versions, default="")
    early = [f.version for f in todo if f.version < latest]
    if early:
        raise MigrationError(
            f"Migration files {', '.join(early)} are older than the last applied version {latest}; "
            "rename them with a newer timestamp."
        )
    return todo


def migrate(url: str, directory: Path | None = None) -> list[MigrationFile]:
    """Applies every pending migration, each in its own transaction; returns what it applied."""
    local = discover(directory or default_migrations_dir())
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '4s'")
            for statement in HISTORY_TABLE_DDL:
                conn.execute(statement)
        todo = pending(local, applied_versions(conn))
        for migration in todo:
            apply_one(conn, migration)
    return todo


def apply_one(conn: psycopg.Connection, migration: MigrationFile) -> None:
    statements = migration.statements()
    # Each file starts from the role's defaults, as the CLI's `RESET ALL` does.
    conn.execute("RESET ALL")
    try:
        with conn.transaction():
            for index, statement in enumerate(statements):
                try:
                    conn.execute(statement.encode())  # bytes: never parsed for placeholders
                except psycopg.Error as exc:
                    raise MigrationError(
                        f"{migration.path.name}: statement {index} failed: {exc}\n{statement}"
                    ) from exc
            conn.execute(INSERT_HISTORY_ROW, (migration.version, migration.name, statements))
    finally:
        conn.execute("RESET ALL")
