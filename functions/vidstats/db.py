"""The one place that opens Postgres connections and runs transactions under a function's role.

Every transaction a function runs starts with ``SET LOCAL ROLE vidstats_<role>``: the privileges of that role,
not of the login user, decide what it may touch (seed 003's service isolation, enforced by Postgres).
``SET LOCAL`` is transaction-scoped, so it also works through Supabase's transaction-mode pooler.

Server-side prepared statements (``DATABASE_PREPARE``): a statement run again on the same connection is planned
once, not on every call (row-level security makes planning a real share of a dashboard page). A transaction-mode
pooler (Supavisor or PgBouncer on port 6543) hands each transaction to any server connection, so it cannot keep
them: ``auto`` turns them off for such a URL, on for a direct connection or the session pooler (port 5432).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow

from vidstats.settings import DatabaseSettings, database_settings


class Role(StrEnum):
    INGEST = "vidstats_ingest"
    REFRESH = "vidstats_refresh"
    READER = "vidstats_reader"
    PAGE_VIEWS = "vidstats_page_views"  # the page-view increments service: adds views, reads nothing
    EXPORT = "vidstats_export"  # the Sheets / CSV export: reads what the dashboard reads, of every workspace
    SHARE = "vidstats_share"  # a campaign's share link: reads that campaign's figures, nothing else


@dataclass(frozen=True)
class Caller:
    """Who a dashboard request runs for: the verified token's claims and the workspace it names.

    Set per transaction the way Supabase's Data API does (``request.jwt.claims``, ``request.headers``), so the
    row-level security policies see the caller's workspace only; ``edits``: the request is a command, and every
    transaction it runs first checks that the caller may still edit the workspace (same transaction as its
    writes)."""

    claims: dict[str, Any]
    workspace_id: UUID | None = None
    edits: bool = False
    # A share link's reader (no account): the sha256 of its token, hex. Its reads run as ``Role.SHARE``.
    share_token_hash: str | None = None

    @property
    def user_id(self) -> str:
        return str(self.claims.get("sub") or "")

    def headers_json(self) -> str:
        headers: dict[str, str] = {}
        if self.workspace_id:
            headers["x-workspace-id"] = str(self.workspace_id)
        if self.share_token_hash:
            headers["x-share-token-hash"] = self.share_token_hash
        return json.dumps(headers)

    @classmethod
    def share_link(cls, token_hash: str) -> Caller:
        return cls(claims={}, share_token_hash=token_hash)


TRANSACTION_POOLER_PORT = "6543"  # Supabase's Supavisor and dedicated PgBouncer, transaction mode
# Prepared on its second execution: a statement run once (a one-off command) costs no extra round trip.
PREPARE_THRESHOLD = 1
Prepare = Literal["auto", "on", "off"]


def uses_prepared_statements(url: str, prepare: Prepare = "auto") -> bool:
    """Whether connections to ``url`` prepare their statements: ``on`` / ``off`` as said; ``auto``: unless the URL
    names a transaction pooler's port (any of its hosts' ports, when it lists several)."""
    if prepare != "auto":
        return prepare == "on"
    ports = conninfo_to_dict(url).get("port") or os.environ.get("PGPORT") or "5432"
    return TRANSACTION_POOLER_PORT not in (p.strip() for p in str(ports).split(","))


def connect(url: str, *, connect_timeout_s: int = 10, application_name: str = "vidstats",
            prepare: Prepare = "auto") -> psycopg.Connection:
    """An autocommit connection: transactions are always explicit (``Database.transaction``)."""
    return psycopg.connect(
        url,
        autocommit=True,
        # None: never prepare (transaction-mode poolers cannot keep prepared statements).
        prepare_threshold=PREPARE_THRESHOLD if uses_prepared_statements(url, prepare) else None,
        connect_timeout=connect_timeout_s,
        application_name=application_name,
    )


class Database:
    """A lazily opened connection, reused across warm invocations and reopened when it breaks."""

    def __init__(self, url: str, *, statement_timeout_ms: int = 30_000, connect_timeout_s: int = 10,
                 application_name: str = "vidstats", prepare: Prepare = "auto") -> None:
        self._url = url
        self._prepare: Prepare = prepare
        self._statement_timeout_ms = statement_timeout_ms
        self._connect_timeout_s = connect_timeout_s
        self._application_name = application_name
        self._conn: psycopg.Connection | None = None

    @classmethod
    def from_settings(cls, settings: DatabaseSettings | None = None, *, application_name: str = "vidstats"
                      ) -> Database:
        settings = settings or database_settings()
        return cls(settings.resolve_url(), statement_timeout_ms=settings.statement_timeout_ms,
                   connect_timeout_s=settings.connect_timeout_s, application_name=application_name,
                   prepare=settings.database_prepare)

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
                   connect_timeout_s=settings.connect_timeout_s, application_name=application_name,
                   prepare=settings.database_prepare)

    def connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = connect(self._url, connect_timeout_s=self._connect_timeout_s,
                                 application_name=self._application_name, prepare=self._prepare)
        return self._conn

    @contextmanager
    def transaction(self, role: Role, caller: Caller | None = None) -> Iterator[psycopg.Connection[TupleRow]]:
        """One transaction under ``role`` (and ``caller``'s identity); commits on success, rolls back on any
        exception."""
        conn = self.connection()
        if conn.pgconn.pipeline_status != pq.PipelineStatus.OFF:
            # The caller pipelines the whole transaction (vidstats.ingestion.pipelined): psycopg's own transaction
            # block, which syncs the pipeline around it, so an error anywhere rolls it back for good.
            with conn.transaction():
                self._begin_as(conn, role, caller)
                yield conn
            return
        with ExitStack() as stack:
            # BEGIN and the statement below in one round trip: pipelined, one Sync (as a single parameterized
            # statement is sent). The caller's statements then run one by one, each raising its own error; an
            # error here (the editor check) raises on leaving the pipeline and rolls the transaction back.
            with conn.pipeline():
                # The Transaction itself: conn.transaction() would keep the whole block in pipeline mode.
                stack.enter_context(psycopg.Transaction(conn))
                self._begin_as(conn, role, caller)
            yield conn

    def _begin_as(self, conn: psycopg.Connection, role: Role, caller: Caller | None) -> None:
        if caller is None:
            # The equivalent of SET LOCAL ROLE and SET LOCAL statement_timeout.
            conn.execute("select set_config('role', %s, true), set_config('statement_timeout', %s, true)",
                         (role.value, str(self._statement_timeout_ms)))
            return
        # The target list runs left to right: the editor check sees the claims.
        check = ", analytics.require_workspace_editor()" if caller.edits else ""
        conn.execute("select set_config('role', %s, true), set_config('statement_timeout', %s, true),"
                     " set_config('request.jwt.claims', %s, true),"
                     " set_config('request.headers', %s, true)" + check,
                     (role.value, str(self._statement_timeout_ms), json.dumps(caller.claims),
                      caller.headers_json()))

    def fetch_one_as(self, role: Role, caller: Caller, query: str) -> tuple[Any, ...] | None:
        """One read-only statement for ``caller``, in its own implicit transaction: a single round trip (no
        BEGIN / COMMIT). ``query`` is a target list, evaluated after the role and identity are set."""
        conn = self.connection()
        row: tuple[Any, ...] | None = conn.execute(
            "select set_config('role', %s, true), set_config('statement_timeout', %s, true),"
            " set_config('request.jwt.claims', %s, true), set_config('request.headers', %s, true), " + query,
            (role.value, str(self._statement_timeout_ms), json.dumps(caller.claims), caller.headers_json()),
        ).fetchone()
        return None if row is None else row[4:]

    def as_caller(self, caller: Caller) -> Database:
        """This database, every transaction of which runs for ``caller`` (its connection is shared)."""
        return CallerDatabase(self, caller)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def caller_workspace(db: Database) -> UUID:
    """The workspace of the caller ``db`` runs for (a command's target); a programming error without one."""
    if not isinstance(db, CallerDatabase) or db.caller.workspace_id is None:
        raise TypeError("this command runs for a caller in a workspace (Database.as_caller)")
    return db.caller.workspace_id


class CallerDatabase(Database):
    """A ``Database`` bound to one caller: what the dashboard API hands its domain functions per request."""

    def __init__(self, parent: Database, caller: Caller) -> None:
        self._parent = parent
        self.caller = caller

    def connection(self) -> psycopg.Connection:
        return self._parent.connection()

    @contextmanager
    def transaction(self, role: Role, caller: Caller | None = None) -> Iterator[psycopg.Connection[TupleRow]]:
        caller = caller or self.caller
        if caller.share_token_hash is not None:
            # A share link's reader reads the dashboard's way under its own role, and never writes.
            if role is not Role.READER:
                raise PermissionError(f"a share link's reader may not run as {role.value}")
            role = Role.SHARE
        with self._parent.transaction(role, caller) as conn:
            yield conn

    def as_caller(self, caller: Caller) -> Database:
        return CallerDatabase(self._parent, caller)

    def close(self) -> None:
        self._parent.close()
