"""The one place that opens Postgres connections and runs transactions under a function's role.

Every transaction a function runs starts with ``SET LOCAL ROLE vidstats_<role>``: the privileges of that role,
not of the login user, decide what it may touch (seed 003's service isolation, enforced by Postgres).
``SET LOCAL`` is transaction-scoped, so it also works through Supabase's transaction-mode pooler, which is
also why server-side prepared statements are off.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

import psycopg
from psycopg.rows import TupleRow

from vidstats.settings import DatabaseSettings, database_settings


class Role(StrEnum):
    INGEST = "vidstats_ingest"
    REFRESH = "vidstats_refresh"
    READER = "vidstats_reader"
    PAGE_VIEWS = "vidstats_page_views"  # the page-view increments service: adds views, reads nothing


def connect(url: str, *, connect_timeout_s: int = 10, application_name: str = "vidstats") -> psycopg.Connection:
    """An autocommit connection: transactions are always explicit (``Database.transaction``)."""
    return psycopg.connect(
        url,
        autocommit=True,
        prepare_threshold=None,  # transaction-mode poolers cannot keep prepared statements
        connect_timeout=connect_timeout_s,
        application_name=application_name,
    )


class Database:
    """A lazily opened connection, reused across warm invocations and reopened when it breaks."""

    def __init__(self, url: str, *, statement_timeout_ms: int = 30_000, connect_timeout_s: int = 10,
                 application_name: str = "vidstats") -> None:
        self._url = url
        self._statement_timeout_ms = statement_timeout_ms
        self._connect_timeout_s = connect_timeout_s
        self._application_name = application_name
        self._conn: psycopg.Connection | None = None

    @classmethod
    def from_settings(cls, settings: DatabaseSettings | None = None, *, application_name: str = "vidstats"
                      ) -> Database:
        settings = settings or database_settings()
        return cls(settings.resolve_url(), statement_timeout_ms=settings.statement_timeout_ms,
                   connect_timeout_s=settings.connect_timeout_s, application_name=application_name)

    @classmethod
    def read_replica_from_settings(cls, settings: DatabaseSettings | None = None, *,
                                   application_name: str = "vidstats") -> Database | None:
        """The read replica (``DATABASE_READ_URL``) for reads that tolerate its replay lag, or None when none is
        configured (then readers use the writer's own ``Database``). Commands never use it: it is read-only."""
        settings = settings or database_settings()
        url = settings.resolve_read_url()
        if url is None:
            return None
        return cls(url, statement_timeout_ms=settings.statement_timeout_ms,
                   connect_timeout_s=settings.connect_timeout_s, application_name=application_name)

    def connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = connect(self._url, connect_timeout_s=self._connect_timeout_s,
                                 application_name=self._application_name)
        return self._conn

    @contextmanager
    def transaction(self, role: Role) -> Iterator[psycopg.Connection[TupleRow]]:
        """One transaction under ``role``; commits on success, rolls back on any exception."""
        conn = self.connection()
        with conn.transaction():
            # One round trip: the equivalent of SET LOCAL ROLE and SET LOCAL statement_timeout.
            conn.execute("select set_config('role', %s, true), set_config('statement_timeout', %s, true)",
                         (role.value, str(self._statement_timeout_ms)))
            yield conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
