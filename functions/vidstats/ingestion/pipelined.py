"""A transaction whose statements are pipelined: sent without waiting for each answer.

The queue processor's claim and write are a handful of statements each; waiting for every answer costs a round
trip per statement (BEGIN, the role, each statement, COMMIT), and on a busy database host each round trip waits
for the server process to be scheduled. Pipelined, a statement whose result is read (``fetchall``) syncs there,
the rest go with the COMMIT: the write transaction is one round trip. Errors are raised as usual, at the latest
when the block ends, and the transaction rolls back. ``COPY`` cannot run in a pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import TupleRow

from vidstats.db import Database, Role


@contextmanager
def pipelined_transaction(db: Database, role: Role) -> Iterator[psycopg.Connection[TupleRow]]:
    """``db.transaction(role)`` in pipeline mode (see the module's docstring)."""
    with db.connection().pipeline(), db.transaction(role) as conn:
        yield conn
