"""The writers' signal to mv_refresh after significant write batches, debounced.

Rows written are added to ``analytics.ingest_signals.pending_rows``; the write that brings it to
``min_rows`` *and* finds the last signal older than ``debounce_s`` wins a conditional update (one row, so
exactly one concurrent writer wins) and invokes the MvRefreshFunction asynchronously
(``InvocationType=Event``) with ``{"reason": "writer_signal"}``. A burst of batches causes one refresh; the
schedule covers whatever a lost signal would have.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from vidstats.db import Database, Role

log = logging.getLogger(__name__)


class RefreshSignal:
    def __init__(self, db: Database, lambda_client: Any, function_name: str, *, min_rows: int,
                 debounce_s: int) -> None:
        self._db = db
        self._client = lambda_client
        self._function_name = function_name
        self._min_rows = min_rows
        self._debounce_s = debounce_s

    def rows_written(self, rows: int) -> bool:
        """Counts ``rows``; returns True when this call sent the signal. Never raises (a signal is advisory)."""
        if rows <= 0:
            return False
        try:
            with self._db.transaction(Role.INGEST) as conn:
                row = conn.execute(
                    """
                    update analytics.ingest_signals s
                       set pending_rows = case when fire then 0 else s.pending_rows + %(rows)s end,
                           last_signal_at = case when fire then now() else s.last_signal_at end
                      from (select s2.pending_rows + %(rows)s >= %(min_rows)s
                                   and s2.last_signal_at <= now() - make_interval(secs => %(debounce)s) as fire
                              from analytics.ingest_signals s2 where s2.name = 'mv_refresh' for update) d
                     where s.name = 'mv_refresh'
                    returning d.fire
                    """,
                    {"rows": rows, "min_rows": self._min_rows, "debounce": self._debounce_s},
                ).fetchone()
            fire = bool(row and row[0])
        except Exception:
            log.exception("mv_refresh signal bookkeeping failed; the schedule will refresh anyway")
            return False
        if not fire:
            return False
        try:
            self._client.invoke(
                FunctionName=self._function_name,
                InvocationType="Event",
                Payload=json.dumps({"reason": "writer_signal"}).encode(),
            )
        except Exception:
            log.exception("could not invoke %s; the schedule will refresh anyway", self._function_name)
            return False
        log.info("signalled mv_refresh", extra={"function": self._function_name})
        return True
