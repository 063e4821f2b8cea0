"""Database access for blogger batch outcomes (``analytics.blogger_batches``).

``POST /bloggers`` records the request as pending (``record_requested``, reader role); the queue processor
writes the outcome (``record_done`` inside the batch's own transaction, ``record_failure`` otherwise, ingest
role); ``GET /bloggers/batches/{id}`` reads it (``find_batch``). Each writer upserts: an outcome is kept even if
the request's own row never committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import psycopg

from vidstats.platforms import Platform
from vidstats.workspaces import DEFAULT_WORKSPACE_ID


class FailureReason(StrEnum):
    CREATOR_NOT_FOUND = "creator_not_found"  # no such handle / user / channel, or not visible
    PROVIDER_CONFIGURATION = "provider_configuration"  # bad key, no subscription, wrong endpoint: the operator's
    CAMPAIGN_NOT_FOUND = "campaign_not_found"  # the campaign was deleted before the batch ran
    PROVIDER_ERROR = "provider_error"  # the provider kept failing until the queue gave up
    BUDGET_EXCEEDED = "budget_exceeded"  # the workspace's tracked-videos cap filled up before the batch ran


@dataclass(frozen=True)
class BatchRequest:
    id: UUID
    platform: Platform
    creator: str
    limit: int
    campaign_id: UUID | None = None
    # The workspace that asked (batches requested before workspaces existed: the default one).
    workspace_id: UUID = DEFAULT_WORKSPACE_ID

    def _values(self) -> tuple[UUID, str, str, int, UUID | None, UUID]:
        return self.id, self.platform.value, self.creator, self.limit, self.campaign_id, self.workspace_id


@dataclass(frozen=True)
class BatchCounts:
    videos_found: int
    videos_new: int
    snapshots_written: int
    videos_without_snapshot: int


@dataclass(frozen=True)
class BatchOutcome:
    request: BatchRequest
    status: str  # pending, done, failed
    requested_at: datetime
    finished_at: datetime | None
    failed_attempts: int
    blogger_id: UUID | None
    counts: BatchCounts | None
    failure_reason: FailureReason | None
    last_error: str | None


_INSERT = """
    insert into analytics.blogger_batches as bb
           (id, platform, creator, video_limit, campaign_id, workspace_id{extra_columns})
    values (%s, %s, %s, %s, %s, %s{extra_values})
"""


def record_requested(conn: psycopg.Connection, request: BatchRequest) -> None:
    """The request, pending (a repeated id changes nothing)."""
    conn.execute(_INSERT.format(extra_columns="", extra_values="") + " on conflict (id) do nothing",
                 request._values())


def record_done(conn: psycopg.Connection, request: BatchRequest, blogger_id: UUID, counts: BatchCounts) -> None:
    """Done, with its counts: call it in the transaction that writes the batch's videos and snapshots.

    Also over a ``provider_error`` failure: a message redriven from the dead-letter queue may succeed later.
    """
    conn.execute(
        _INSERT.format(extra_columns=", status, finished_at, blogger_id, videos_found, videos_new, snapshots_written,"
                                     " videos_without_snapshot",
                       extra_values=", 'done', now(), %s, %s, %s, %s, %s")
        + """
        on conflict (id) do update
           set status = 'done', finished_at = now(), updated_at = now(), failure_reason = null,
               blogger_id = excluded.blogger_id, videos_found = excluded.videos_found,
               videos_new = excluded.videos_new, snapshots_written = excluded.snapshots_written,
               videos_without_snapshot = excluded.videos_without_snapshot
        """,
        (*request._values(), blogger_id, counts.videos_found, counts.videos_new, counts.snapshots_written,
         counts.videos_without_snapshot),
    )


def record_failure(conn: psycopg.Connection, request: BatchRequest, error: str, reason: FailureReason | None) -> None:
    """A failed delivery. With a ``reason`` the batch has failed for good; without, it stays pending (the
    message comes back) and the attempt is counted. A batch already done or failed is left as it is."""
    error = error[:1000]
    if reason is None:
        conn.execute(
            _INSERT.format(extra_columns=", failed_attempts, last_error", extra_values=", 1, %s")
            + """
            on conflict (id) do update
               set failed_attempts = bb.failed_attempts + 1, last_error = excluded.last_error, updated_at = now()
             where bb.status = 'pending'
            """,
            (*request._values(), error),
        )
        return
    conn.execute(
        _INSERT.format(extra_columns=", status, finished_at, failure_reason, last_error",
                       extra_values=", 'failed', now(), %s, %s")
        + """
        on conflict (id) do update
           set status = 'failed', finished_at = now(), updated_at = now(), failure_reason = excluded.failure_reason,
               last_error = excluded.last_error
         where bb.status = 'pending'
        """,
        (*request._values(), reason.value, error),
    )


def find_batch(conn: psycopg.Connection, batch_id: UUID) -> BatchOutcome | None:
    row = conn.execute(
        """
        select id, platform, creator, video_limit, campaign_id, status, requested_at, finished_at, failed_attempts,
               blogger_id, videos_found, videos_new, snapshots_written, videos_without_snapshot, failure_reason,
               last_error, workspace_id
          from analytics.blogger_batches where id = %s
        """,
        (batch_id,),
    ).fetchone()
    if row is None:
        return None
    counts = None if row[10] is None else BatchCounts(row[10], row[11], row[12], row[13])
    return BatchOutcome(
        request=BatchRequest(row[0], Platform(row[1]), row[2], row[3], row[4], row[16]), status=row[5],
        requested_at=row[6],
        finished_at=row[7], failed_attempts=row[8], blogger_id=row[9], counts=counts,
        failure_reason=None if row[14] is None else FailureReason(row[14]), last_error=row[15])


def batch_workspace(conn: psycopg.Connection, batch_id: UUID | None) -> UUID | None:
    """The workspace that requested the batch (None: no such row yet)."""
    if batch_id is None:
        return None
    row = conn.execute("select workspace_id from analytics.blogger_batches where id = %s", (batch_id,)).fetchone()
    return None if row is None else UUID(str(row[0]))
