"""Server-side prepared statements (DATABASE_PREPARE): on for direct and session-pooler URLs, off behind a
transaction pooler (port 6543), which cannot keep them; what Postgres holds shows which."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from vidstats.db import Database, Role, uses_prepared_statements
from vidstats.settings import DatabaseSettings

from tests.conftest import IsolatedDatabase


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres", False),  # transaction
    ("postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres", True),  # session
    ("postgresql://postgres:pw@db.ref.supabase.co/postgres", True),  # direct, default port
    ("host=db.ref.supabase.co port=6543 dbname=postgres", False),  # a keyword DSN
    ("postgresql://u@h1:5432,h2:6543/db", False),  # several hosts, one a transaction pooler
])
def test_auto_prepares_unless_the_url_names_a_transaction_pooler(url: str, expected: bool) -> None:
    assert uses_prepared_statements(url, "auto") is expected


def test_on_and_off_override_the_port() -> None:
    assert uses_prepared_statements("postgresql://u@pooler:6543/db", "on") is True
    assert uses_prepared_statements("postgresql://u@db:5432/db", "off") is False


def test_the_setting_is_read_from_database_prepare_and_refuses_other_values(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert DatabaseSettings().database_prepare == "auto"
    monkeypatch.setenv("DATABASE_PREPARE", "OFF")
    assert DatabaseSettings().database_prepare == "off"
    monkeypatch.setenv("DATABASE_PREPARE", "sometimes")
    with pytest.raises(ValidationError, match="DATABASE_PREPARE"):
        DatabaseSettings()


def _prepared_statements(db: Database) -> int:
    with db.transaction(Role.READER) as conn:
        for _ in range(3):
            conn.execute("select count(*) from analytics.videos where id = %s",
                         ("00000000-0000-4000-8000-000000000000",))
        row = conn.execute("select count(*) from pg_prepared_statements").fetchone()
    assert row is not None
    return int(row[0])


def test_a_statement_run_again_is_prepared_when_on_and_never_when_off(database: IsolatedDatabase) -> None:
    on = Database(database.owner_url, prepare="on")
    off = Database(database.owner_url, prepare="off")
    try:
        assert _prepared_statements(on) > 0
        assert _prepared_statements(off) == 0
    finally:
        on.close()
        off.close()
