"""Nightly refresh: enqueue a fetch of every actively tracked video, and stop tracking what is over.

The walk is a keyset scan over the partial index of active videos (``id > last id order by id limit page``):
memory is one page, whatever the table size, and each page is its own short transaction. Per page, videos
whose campaigns all ended more than the grace period ago are stopped; the rest are grouped by platform
into messages of ``message_size`` videos and sent with ``SendMessageBatch`` (10 messages per call).

The request id is derived from the run date, so re-running the same night (a retried schedule, a manual
run, a resume) produces the same (request id, video id) idempotency keys and the processor skips videos
already fetched that night.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from vidstats.db import Database, Role
from vidstats.ingestion.fetch_queue import FetchQueue
from vidstats.ingestion.messages import FetchVideosMessage, VideoRef
from vidstats.ingestion.videos_repository import ActiveVideo, active_videos_page, stop_tracking
from vidstats.platforms import Platform

log = logging.getLogger(__name__)

_NAMESPACE = uuid.UUID("6f1c2b7e-9a53-4c1e-8f0e-2d4c7b9a1e55")


@dataclass
class NightlyReport:
    run_date: date
    videos_enqueued: int = 0
    messages_sent: int = 0
    stopped: int = 0
    pages: int = 0
    complete: bool = True  # False when time ran out (the next run, or a manual one, continues)
    last_id: UUID | None = None
    seconds: float = 0.0


def enqueue_nightly_refresh(
    db: Database,
    queue: FetchQueue,
    *,
    run_date: date,
    message_size: int = 50,
    page_size: int = 2_000,
    grace: timedelta = timedelta(days=7),
    time_left_s: Callable[[], float] = lambda: float("inf"),
    reserve_s: float = 15.0,
    start_after: UUID | None = None,
) -> NightlyReport:
    started = time.monotonic()
    report = NightlyReport(run_date=run_date)
    after = start_after
    while True:
        if time_left_s() < reserve_s:
            report.complete = False
            log.warning("nightly refresh out of time after %d videos; resume after %s", report.videos_enqueued, after)
            break
        with db.transaction(Role.INGEST) as conn:
            page = active_videos_page(conn, after=after, limit=page_size, grace=grace)
            over = [v.id for v in page if v.campaigns_over]
            report.stopped += stop_tracking(conn, over)
        if not page:
            break
        report.pages += 1
        after = page[-1].id
        messages = _messages(run_date, [v for v in page if not v.campaigns_over], message_size)
        report.messages_sent += queue.send(messages)
        report.videos_enqueued += sum(len(m.videos) for m in messages)
        report.last_id = after
        if len(page) < page_size:
            break
    report.seconds = round(time.monotonic() - started, 3)
    log.info("nightly refresh enqueued %d videos in %d messages, stopped %d", report.videos_enqueued,
             report.messages_sent, report.stopped)
    return report


def _messages(run_date: date, videos: list[ActiveVideo], size: int) -> list[FetchVideosMessage]:
    by_platform: dict[Platform, list[ActiveVideo]] = defaultdict(list)
    for video in videos:
        by_platform[video.platform].append(video)
    messages = []
    for group in by_platform.values():
        for start in range(0, len(group), size):
            chunk = group[start : start + size]
            # One id per night: the processor's idempotency keys are (request id, video id), so a rerun of
            # the same night skips every video already fetched, however its pages and messages fall.
            request_id = uuid.uuid5(_NAMESPACE, f"nightly:{run_date.isoformat()}")
            messages.append(FetchVideosMessage(
                version=1, kind="fetch_videos", reason="nightly", request_id=request_id,
                videos=[VideoRef(video_id=v.id, platform=v.platform, external_video_id=v.external_video_id)
                        for v in chunk],
            ))
    return messages
