"""DEMO data for `vidstats dev --demo`: a campaign, a few creators' videos and 30 days of their history.

Everything goes through the product's own write path, with the demo provider's counters:

- the campaign is created as ``POST /campaigns`` creates it (``dashboard.campaigns.create_campaign``);
- each creator's videos, blogger and first snapshot come from a blogger batch (``run_blogger_batch``, what
  the queue processor runs for ``POST /bloggers``), into the campaign;
- each following day is a nightly-style ``fetch_videos`` message processed by ``IngestProcessor`` (claim,
  fetch, one COPY, fetch outcomes), exactly the queue processor's work.

Snapshots take the database's ``now()``, so history is simulated: the demo provider's clock is set to the
day being loaded, and that step's new snapshot rows (and only them) are then moved to that instant with the
owner connection, before the read model ever reflects them. Finally the read model is refreshed.

Loading is skipped when the demo campaign already exists (a second ``--demo`` start resumes).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from vidstats.db import Database
from vidstats.ingestion.blogger_batch import run_blogger_batch
from vidstats.ingestion.idempotency import IdempotencyStore
from vidstats.ingestion.messages import MAX_VIDEOS_PER_MESSAGE, FetchVideosMessage, VideoRef, dump_message
from vidstats.ingestion.processor import IngestProcessor, Record
from vidstats.local.demo_provider import DEMO_LABEL, DemoProvider
from vidstats.platforms import Platform
from vidstats.read_model import refresh_read_model

log = logging.getLogger(__name__)

DEMO_CAMPAIGN_NAME = f"{DEMO_LABEL} Launch campaign"
DEMO_CREATORS: tuple[tuple[Platform, str], ...] = (
    (Platform.TIKTOK, "demo.dance"),
    (Platform.TIKTOK, "demo.kitchen"),
    (Platform.INSTAGRAM, "demo.travel"),
    (Platform.YOUTUBE, "@demo-tech"),
)
VIDEOS_PER_CREATOR = 3
HISTORY_DAYS = 30


@dataclass
class DemoLoad:
    campaign_id: UUID
    created: bool
    videos: int = 0
    snapshots: int = 0
    days: int = 0
    video_ids: list[UUID] = field(default_factory=list)


class _FixedClock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at


def _last_snapshot_id(db: Database) -> int:
    row = db.connection().execute("select coalesce(max(id), 0) from analytics.video_statistics").fetchone()
    return int(row[0]) if row else 0


def move_new_snapshots(db: Database, after_id: int, video_ids: list[UUID], at: datetime) -> int:
    """Moves the snapshot rows written since ``after_id`` for these videos to ``at`` (simulated history).

    Run with the owner's connection, and only before a refresh reflects those rows: the read model takes
    rows by id, so moving already reflected rows would not be seen by it.
    """
    cursor = db.connection().execute(
        "update analytics.video_statistics set created_at = %s where id > %s and video_id = any(%s)",
        (at, after_id, video_ids))
    return cursor.rowcount


def find_demo_campaign(db: Database) -> UUID | None:
    row = db.connection().execute("select id from analytics.campaigns where name = %s order by created_at limit 1",
                                  (DEMO_CAMPAIGN_NAME,)).fetchone()
    return row[0] if row else None


def load_demo_data(db: Database, *, now: datetime | None = None, days: int = HISTORY_DAYS,
                   creators: tuple[tuple[Platform, str], ...] = DEMO_CREATORS,
                   videos_per_creator: int = VIDEOS_PER_CREATOR) -> DemoLoad:
    existing = find_demo_campaign(db)
    if existing is not None:
        return DemoLoad(campaign_id=existing, created=False)
    from vidstats.dashboard.campaigns import create_campaign
    from vidstats.dashboard.models import CampaignCreate

    now = now or datetime.now(UTC)
    times = [now - timedelta(days=days - d) for d in range(days + 1)]
    clock = _FixedClock()
    providers = {platform: DemoProvider(platform, clock) for platform in Platform}
    campaign = create_campaign(db, CampaignCreate(name=DEMO_CAMPAIGN_NAME, starts_at=times[0] - timedelta(hours=1)))
    load = DemoLoad(campaign_id=campaign.id, created=True)

    # Day 0: each creator's listing (blogger, videos, first snapshots), into the campaign.
    clock.at = times[0]
    mark = _last_snapshot_id(db)
    refs: list[VideoRef] = []
    for platform, creator in creators:
        result = run_blogger_batch(db, providers[platform], platform, creator, limit=videos_per_creator,
                                   campaign_id=campaign.id)
        load.snapshots += result.snapshots
        refs += [VideoRef(video_id=v.id, platform=v.platform, external_video_id=v.external_video_id)
                 for v in result.videos]
    load.video_ids = [ref.video_id for ref in refs]
    load.videos = len(refs)
    move_new_snapshots(db, mark, load.video_ids, times[0])
    db.connection().execute("update analytics.videos set tracking_started_at = %s where id = any(%s)",
                            (times[0], load.video_ids))

    # Days 1..N: the queue processor's own work on a nightly-style message per day.
    processor = IngestProcessor(db, providers.__getitem__, idempotency=IdempotencyStore(db, window_s=86_400))
    for day in range(1, days + 1):
        clock.at = times[day]
        mark = _last_snapshot_id(db)
        records = [
            Record(message_id=f"demo-{day}-{start}", body=dump_message(FetchVideosMessage(
                version=1, kind="fetch_videos", reason="nightly", request_id=uuid.uuid4(),
                videos=refs[start : start + MAX_VIDEOS_PER_MESSAGE])))
            for start in range(0, len(refs), MAX_VIDEOS_PER_MESSAGE)
        ]
        report = processor.process(records)
        if report.failures:
            raise RuntimeError(f"demo history day {day}: {next(iter(report.failures.values()))}")
        load.snapshots += report.snapshots_written
        move_new_snapshots(db, mark, load.video_ids, times[day])
        load.days += 1
    refresh_read_model(db)
    log.info("demo data loaded: %d videos, %d snapshots over %d days", load.videos, load.snapshots, days + 1)
    return load
