"""Snapshot retention: month partitions of raw snapshots older than the configured age are compacted to what the
read model needs (each video's last snapshot of each UTC day, plus the few rows that keep every figure exact;
see migration ``20261201100001_snapshot_retention``), one partition at a time: the compacted copy is built
beside the live partition, then swapped in by one short transaction. Never a DELETE over the live table.

Domain logic only: the SQL lives in the migration; this runs it under the refresh role and shapes the results.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from pydantic import BaseModel

from vidstats.db import Database, Role


class PartitionCompaction(BaseModel):
    partition: str
    # planned (dry run), compacted, nothing_to_remove (already one snapshot a day: left as it is), skipped (read
    # model behind), busy (a refresh ran; next time), changed (rows arrived while the copy was built; next time),
    # already_compacted, timed_out (longer than the statement timeout: rolled back), too_large (left for the CLI)
    status: str
    rows_before: int | None = None
    rows_after: int | None = None
    reason: str | None = None
    build_ms: float | None = None  # the copy, beside the live partition (nothing waits for it)
    swap_ms: float | None = None  # the swap transaction (the refresh waits; snapshot counts updated)
    exclusive_ms: float | None = None  # of which the parent table was locked (writers wait): detach to commit


class RetentionOutcome(BaseModel):
    days: int
    cutoff: datetime
    dry_run: bool
    partitions: list[PartitionCompaction]
    out_of_time: bool = False

    @property
    def rows_removed(self) -> int:
        return sum((p.rows_before or 0) - (p.rows_after or 0) for p in self.partitions if p.status == "compacted")


def retention_cutoff(days: int, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=days)


def _call(db: Database, statement: str, params: tuple[Any, ...], *, statement_timeout_ms: int) -> dict[str, Any]:
    with db.transaction(Role.REFRESH) as conn:
        # Building a month's copy reads the whole partition: longer than a request's statement timeout.
        conn.execute("select set_config('statement_timeout', %s, true)", (str(statement_timeout_ms),))
        row = conn.execute(statement, params).fetchone()
    assert row is not None
    result: dict[str, Any] = row[0]
    return result


def compact_partition(db: Database, month: date, cutoff: datetime, *, dry_run: bool = False,
                      statement_timeout_ms: int = 600_000) -> PartitionCompaction:
    """Compacts one month partition (build, then swap, in two transactions), or plans it (``dry_run``)."""
    if dry_run:
        planned = _call(db, "select analytics.plan_snapshot_compaction(%s, %s)", (month, cutoff),
                        statement_timeout_ms=statement_timeout_ms)
        return PartitionCompaction.model_validate(planned)
    started = time.monotonic()
    built = _call(db, "select analytics.build_snapshot_compaction(%s, %s)", (month, cutoff),
                  statement_timeout_ms=statement_timeout_ms)
    build_ms = round((time.monotonic() - started) * 1000, 1)
    if built["status"] != "built":
        return PartitionCompaction.model_validate({**built, "build_ms": build_ms})
    started = time.monotonic()
    swapped = _call(db, "select analytics.swap_snapshot_compaction(%s, %s, %s)",
                    (month, cutoff, built["rows_before"]), statement_timeout_ms=statement_timeout_ms)
    swap_ms = round((time.monotonic() - started) * 1000, 1)
    return PartitionCompaction.model_validate(
        {"rows_before": built["rows_before"], **swapped, "build_ms": build_ms, "swap_ms": swap_ms})


def run_retention(
    db: Database,
    *,
    days: int,
    dry_run: bool = False,
    now: datetime | None = None,
    time_left_s: Callable[[], float] | None = None,
    min_time_for_a_partition_s: float = 60.0,
    statement_timeout_ms: int = 600_000,
    max_partition_rows: int | None = None,
) -> RetentionOutcome:
    """Compacts (or with ``dry_run`` plans) every month partition wholly older than ``days`` days not compacted
    yet, oldest first, while ``time_left_s`` leaves at least ``min_time_for_a_partition_s``. Partitions with any
    snapshot newer than the cutoff, and the default partition, are left alone. A partition estimated larger than
    ``max_partition_rows`` is left for ``vidstats retention run`` (status ``too_large``)."""
    if days < 1:
        raise ValueError(f"retention must keep at least 1 day of raw snapshots, got {days}")
    cutoff = retention_cutoff(days, now)
    with db.transaction(Role.REFRESH) as conn:
        months = conn.execute(
            "select month, partition_name, estimated_rows from analytics.snapshot_retention_candidates(%s)"
            " where compacted_at is null order by month", (cutoff,)).fetchall()
    outcome = RetentionOutcome(days=days, cutoff=cutoff, dry_run=dry_run, partitions=[])
    for month, partition, estimated_rows in months:
        if max_partition_rows is not None and estimated_rows > max_partition_rows:
            outcome.partitions.append(PartitionCompaction(
                partition=partition, status="too_large",
                reason=f"about {estimated_rows:,} rows, more than {max_partition_rows:,} can be compacted here: "
                       "run `vidstats retention run`"))
            continue
        if time_left_s is not None and time_left_s() < min_time_for_a_partition_s:
            outcome.out_of_time = True
            break
        try:
            outcome.partitions.append(compact_partition(db, month, cutoff, dry_run=dry_run,
                                                        statement_timeout_ms=statement_timeout_ms))
        except psycopg.errors.QueryCanceled:
            # The statement timeout (a Lambda's time left): the transaction rolled back, nothing changed.
            outcome.partitions.append(PartitionCompaction(
                partition=f"video_statistics_p{month:%Y%m}", status="timed_out",
                reason=f"longer than {statement_timeout_ms} ms: run `vidstats retention run` where time is not "
                       "limited (nothing was changed)"))
            outcome.out_of_time = True
            break
    return outcome
