"""Appending statistics snapshots: the one place rows enter ``analytics.video_statistics``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple
from uuid import UUID

import psycopg

from vidstats.ingestion.binary_arrays import int8_array, text_array, uuid_array
from vidstats.providers.base import VideoCounters, ViewsKind

COLUMNS = ("video_id", "external_video_id", "views", "likes", "comments", "reposts", "saves", "views_kind")


class SnapshotRow(NamedTuple):
    """One snapshot as it is written. A named tuple, not a frozen dataclass: the queue processor builds 500 per
    SQS batch, and a frozen dataclass costs about four times as much to build (it was a tenth of the batch)."""

    video_id: UUID
    external_video_id: str
    views: int | None
    likes: int | None
    comments: int | None
    reposts: int | None
    saves: int | None
    # What ``views`` counts ('views' or Instagram 'plays'): the read model never subtracts one from the other.
    views_kind: ViewsKind = "views"

    @classmethod
    def from_counters(cls, video_id: UUID, counters: VideoCounters) -> SnapshotRow:
        return cls(video_id, counters.external_id, counters.views, counters.likes, counters.comments,
                   counters.reposts, counters.saves, counters.views_kind)

    def as_tuple(self) -> tuple[UUID, str, int | None, int | None, int | None, int | None, int | None, str]:
        return self


def copy_snapshots(conn: psycopg.Connection, rows: Sequence[SnapshotRow]) -> int:
    """All rows in one ``COPY`` (one round trip, binary). ``created_at`` is the transaction's ``now()``.

    Run inside the caller's transaction: if anything later in it fails, none of these rows remain.
    """
    if not rows:
        return 0
    with conn.cursor() as cursor, cursor.copy(
        f"copy analytics.video_statistics ({', '.join(COLUMNS)}) from stdin (format binary)"
    ) as copy:
        copy.set_types(["uuid", "text", "int8", "int8", "int8", "int8", "int8", "text"])
        for row in rows:
            copy.write_row(row.as_tuple())
    return len(rows)


def insert_snapshots(conn: psycopg.Connection, rows: Sequence[SnapshotRow]) -> int:
    """All rows in one ``INSERT`` from binary arrays: for a batch of a few hundred rows it costs the server what
    a ``COPY`` does, and unlike a ``COPY`` it can share a pipeline with the rest of the write (the queue
    processor's whole write transaction is then one round trip). ``created_at`` is the transaction's ``now()``.
    The arrays are packed by ``binary_arrays`` (psycopg's generic list dumping cost more than the server's insert).
    """
    if not rows:
        return 0
    video_id, external_video_id, views, likes, comments, reposts, saves, views_kind = zip(*rows, strict=True)
    conn.execute(
        f"insert into analytics.video_statistics ({', '.join(COLUMNS)})"
        " select * from unnest(%b::uuid[], %b::text[], %b::int8[], %b::int8[], %b::int8[], %b::int8[], %b::int8[],"
        " %b::text[])",
        (uuid_array(video_id), text_array(external_video_id), int8_array(views), int8_array(likes),
         int8_array(comments), int8_array(reposts), int8_array(saves), text_array(views_kind)),
    )
    return len(rows)
