"""DEMO data for `vidstats dev --demo`: two campaigns, a few creators' videos and 30 days of their history.

What it shows: the "[demo] Launch campaign" (open) holds every video from the start of its history, except the
YouTube creator's, added mid-campaign (day 12); the "[demo] Flash sale" ran from day 10 to day 17 with one
creator's videos. One Instagram video is answered "deleted" from day 24 on (it ends up gone), one TikTok
video's answers cannot be read from day 27 on (it is failing); YouTube and Instagram report no saves.

Everything goes through the product's own write path, with the demo provider's counters:

- the campaigns are created as ``POST /campaigns`` creates them (``dashboard.campaigns.create_campaign``),
  and videos join them as ``POST /campaigns/{id}/videos`` adds them (``dashboard.campaigns.add_videos``);
- each creator's videos, blogger and first snapshot come from a blogger batch (``run_blogger_batch``, what
  the queue processor runs for ``POST /bloggers``);
- each following day is a nightly-style ``fetch_videos`` message processed by ``IngestProcessor`` (claim,
  fetch, one INSERT, fetch outcomes), exactly the queue processor's work.

Snapshots take the database's ``now()``, so history is simulated: the demo provider's clock is set to the
day being loaded, and that step's new snapshot rows (and only them) are then moved to that instant with the
owner connection, before the read model ever reflects them. Finally the read model is refreshed.

Loading is skipped when the demo campaign already exists (a second ``--demo`` start resumes).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from uuid import UUID

from vidstats.db import Database
from vidstats.ingestion.blogger_batch import run_blogger_batch
from vidstats.ingestion.idempotency import IdempotencyStore
from vidstats.ingestion.messages import MAX_VIDEOS_PER_MESSAGE, FetchVideosMessage, VideoRef, dump_message
from vidstats.ingestion.processor import IngestProcessor, Record
from vidstats.local.demo_provider import DEMO_LABEL, DemoProvider
from vidstats.platforms import Platform
from vidstats.providers.base import CreatorVideo, FetchResult
from vidstats.providers.errors import InvalidItemResponseError, VideoGoneError
from vidstats.read_model import refresh_read_model

log = logging.getLogger(__name__)

DEMO_CAMPAIGN_NAME = f"{DEMO_LABEL} Launch campaign"
DEMO_FLASH_SALE_NAME = f"{DEMO_LABEL} Flash sale"
MID_CAMPAIGN_DAY = 12  # the YouTube creator's videos join the launch campaign that day
FLASH_SALE_DAYS = (10, 17)  # start and end day of the ended campaign
GONE_FROM_DAY = 24  # one Instagram video is answered "deleted" from then on
FAILING_FROM_DAY = 27  # one TikTok video's answers cannot be read from then on
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


class _ScriptedProvider:
    """The demo provider, except for the videos told to be gone or failing: what a real platform does too."""

    def __init__(self, inner: DemoProvider) -> None:
        self.inner = inner
        self.platform = inner.platform
        self.gone: set[str] = set()
        self.failing: set[str] = set()

    def fetch_videos(self, external_ids: Sequence[str]) -> FetchResult:
        result = self.inner.fetch_videos(external_ids)
        for external_id in external_ids:
            if external_id in self.gone:
                result[external_id] = VideoGoneError(self.platform, external_id,
                                                     f"{DEMO_LABEL} the platform says this video was deleted")
            elif external_id in self.failing:
                result[external_id] = InvalidItemResponseError(
                    self.platform, external_id, f"{DEMO_LABEL} the answer had no counters for this video")
        return result

    def list_creator_videos(self, creator: str, limit: int) -> list[CreatorVideo]:
        return self.inner.list_creator_videos(creator, limit)


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


def _default_workspace_owner(db: Database) -> Database:
    from vidstats.db import Caller
    from vidstats.local.stack import DEV_USER_ID
    from vidstats.workspaces import DEFAULT_WORKSPACE_ID, WorkspaceRole, add_member

    conn = db.connection()
    with conn.transaction():
        add_member(conn, DEFAULT_WORKSPACE_ID, UUID(DEV_USER_ID), WorkspaceRole.OWNER)
    return db.as_caller(Caller(claims={"sub": DEV_USER_ID, "role": "authenticated"},
                               workspace_id=DEFAULT_WORKSPACE_ID, edits=True))


def later_that_day(at: datetime) -> datetime:
    """Halfway from ``at`` to the end of its UTC day: after that day's snapshots, and on that day at any hour (a
    fixed "3 hours later" crossed midnight in the evening)."""
    day_end = datetime.combine(at.astimezone(UTC).date() + timedelta(days=1), time.min, UTC)
    return at + (day_end - at) / 2


def load_demo_data(db: Database, *, now: datetime | None = None, days: int = HISTORY_DAYS,
                   creators: tuple[tuple[Platform, str], ...] = DEMO_CREATORS,
                   videos_per_creator: int = VIDEOS_PER_CREATOR) -> DemoLoad:
    existing = find_demo_campaign(db)
    if existing is not None:
        return DemoLoad(campaign_id=existing, created=False)
    from vidstats.dashboard.campaigns import add_videos, create_campaign
    from vidstats.dashboard.models import CampaignCreate, CampaignVideosAdd

    # Campaigns are created as their workspace's owner creates them through the API: the Default workspace's,
    # where the blogger batches below track the videos too.
    editor = _default_workspace_owner(db)

    now = now or datetime.now(UTC)
    times = [now - timedelta(days=days - d) for d in range(days + 1)]
    clock = _FixedClock()
    providers = {platform: _ScriptedProvider(DemoProvider(platform, clock)) for platform in Platform}
    starts_at = times[0] - timedelta(hours=1)
    campaign = create_campaign(editor, CampaignCreate(name=DEMO_CAMPAIGN_NAME, starts_at=starts_at))
    load = DemoLoad(campaign_id=campaign.id, created=True)

    # Day 0: each creator's listing (blogger, videos, first snapshots).
    clock.at = times[0]
    mark = _last_snapshot_id(db)
    refs: list[VideoRef] = []
    by_creator: dict[str, list[VideoRef]] = {}
    for platform, creator in creators:
        result = run_blogger_batch(db, providers[platform], platform, creator, limit=videos_per_creator)
        load.snapshots += result.snapshots
        by_creator[creator] = [VideoRef(video_id=v.id, platform=v.platform, external_video_id=v.external_video_id)
                               for v in result.videos]
        refs += by_creator[creator]
    load.video_ids = [ref.video_id for ref in refs]
    load.videos = len(refs)
    move_new_snapshots(db, mark, load.video_ids, times[0])
    db.connection().execute("update analytics.videos set tracking_started_at = %s where id = any(%s)",
                            (times[0], load.video_ids))
    # The workspace's own start of tracking (what the API shows) too.
    db.connection().execute("update analytics.workspace_videos set added_at = %s where video_id = any(%s)",
                            (times[0], load.video_ids))

    # The launch campaign holds the videos from the start of their history; YouTube's join mid-campaign.
    late = [r.video_id for r in refs if r.platform is Platform.YOUTUBE]
    add_videos(editor, campaign.id, CampaignVideosAdd(video_ids=[v for v in load.video_ids if v not in late],
                                                  added_at=starts_at))
    if late:
        add_videos(editor, campaign.id, CampaignVideosAdd(
            video_ids=late, added_at=later_that_day(times[min(MID_CAMPAIGN_DAY, days)])))
    # An ended campaign: the second creator's videos, from its start to its end.
    sale_from, sale_to = (times[min(d, days)] - timedelta(hours=2) for d in FLASH_SALE_DAYS)
    sale = create_campaign(editor, CampaignCreate(name=DEMO_FLASH_SALE_NAME, starts_at=sale_from, ends_at=sale_to))
    sale_videos = [r.video_id for r in by_creator[creators[1 % len(creators)][1]]]
    add_videos(editor, sale.id, CampaignVideosAdd(video_ids=sale_videos, added_at=sale_from))
    scripted = {
        GONE_FROM_DAY: next((r for r in refs if r.platform is Platform.INSTAGRAM), None),
        FAILING_FROM_DAY: next((r for r in reversed(refs) if r.platform is Platform.TIKTOK), None),
    }

    # Days 1..N: the queue processor's own work on a nightly-style message per day.
    processor = IngestProcessor(db, providers.__getitem__, idempotency=IdempotencyStore(db, window_s=86_400))
    for day in range(1, days + 1):
        clock.at = times[day]
        gone, failing = scripted[GONE_FROM_DAY], scripted[FAILING_FROM_DAY]
        if gone is not None and day == GONE_FROM_DAY:
            providers[gone.platform].gone.add(gone.external_video_id)
        if failing is not None and day == FAILING_FROM_DAY:
            providers[failing.platform].failing.add(failing.external_video_id)
        mark = _last_snapshot_id(db)
        active = [r for r in refs if r.video_id in _active_videos(db, load.video_ids)]
        records = [
            Record(message_id=f"demo-{day}-{start}", body=dump_message(FetchVideosMessage(
                version=1, kind="fetch_videos", reason="nightly", request_id=uuid.uuid4(),
                videos=active[start : start + MAX_VIDEOS_PER_MESSAGE])))
            for start in range(0, len(active), MAX_VIDEOS_PER_MESSAGE)
        ]
        report = processor.process(records)
        if report.failures:
            raise RuntimeError(f"demo history day {day}: {next(iter(report.failures.values()))}")
        load.snapshots += report.snapshots_written
        move_new_snapshots(db, mark, load.video_ids, times[day])
        # The fetch bookkeeping as of that day too: failures are counted per UTC day.
        db.connection().execute(
            "update analytics.videos set last_error_at = %(at)s, last_gone_answer_at ="
            " case when last_gone_answer_at is not null then %(at)s end, tracking_stopped_at ="
            " case when tracking_state = 'gone' then %(at)s else tracking_stopped_at end"
            " where id = any(%(ids)s) and last_error_at > %(at)s",
            {"at": times[day], "ids": load.video_ids})
        db.connection().execute("update analytics.videos set last_fetched_at = %s where id = any(%s)"
                                " and last_fetched_at > %s", (times[day], load.video_ids, times[day]))
        load.days += 1
    refresh_read_model(db)
    log.info("demo data loaded: %d videos, %d snapshots over %d days", load.videos, load.snapshots, days + 1)
    return load


def _active_videos(db: Database, video_ids: list[UUID]) -> set[UUID]:
    """The videos still tracked (a gone one is no longer fetched, as the nightly refresh does)."""
    rows = db.connection().execute("select id from analytics.videos where id = any(%s) and tracking_state = 'active'",
                                   (video_ids,)).fetchall()
    return {r[0] for r in rows}
