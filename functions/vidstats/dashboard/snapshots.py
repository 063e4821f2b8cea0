"""A video's raw snapshots, newest first, a page at a time (``GET /videos/{id}/snapshots``).

The reader has no grant on ``analytics.video_statistics``; ``analytics.video_snapshots`` (migration
``20261201153100``) reads one video's rows for a member of a workspace that tracks it. The video is first read
through ``analytics.videos`` under the caller's row-level security (404 when it is not the caller's).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from vidstats.dashboard import cursor as cursors
from vidstats.dashboard.errors import BadRequestError, NotFoundError
from vidstats.dashboard.models import VideoSnapshot, VideoSnapshotPage
from vidstats.db import Database, Role

SORT = "snapshots"


def video_snapshots(db: Database, video_id: UUID, *, limit: int, cursor: str | None) -> VideoSnapshotPage:
    """Keyset paging on (created_at, id) descending: the cursor holds the last row's instant and its id (the
    bigint snapshot id, carried in the cursor's id field as a UUID's integer), bound to this video."""
    query = {"video_id": str(video_id)}
    before_at: datetime | None = None
    before_id: int | None = None
    if cursor is not None:
        decoded = cursors.decode(cursor, sort=SORT, query=query)
        if not isinstance(decoded.k, str) or decoded.id.int > cursors.BIGINT_MAX:
            raise BadRequestError("query.cursor", cursors.NOT_A_CURSOR)
        before_at, before_id = datetime.fromisoformat(decoded.k), decoded.id.int
    with db.transaction(Role.READER) as conn:
        if conn.execute("select 1 from analytics.videos where id = %s", (video_id,)).fetchone() is None:
            raise NotFoundError("path.video_id", "no such video")
        rows = conn.execute("select * from analytics.video_snapshots(%s, %s, %s, %s)",
                            (video_id, before_at, before_id, limit + 1)).fetchall()
    items = [VideoSnapshot(id=r[0], taken_at=r[1], views=r[2], likes=r[3], comments=r[4], reposts=r[5], saves=r[6],
                           views_kind=r[7]) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = cursors.encode(cursors.Cursor(s=SORT, k=last.taken_at.isoformat(), id=UUID(int=last.id)),
                                     query=query)
    return VideoSnapshotPage(video_id=video_id, items=items, next_cursor=next_cursor)
