"""Blogger batch: a creator's recent videos, their blogger, and a snapshot of each from the same listing.

``request_blogger_batch`` is what the dashboard API calls (it enqueues a ``fetch_creator`` message and
returns at once); the queue processor runs ``run_blogger_batch``. Listings that carry counters (TikTok,
Instagram reels) give the snapshots directly, with no per-video call; YouTube's search listing has none, so
its videos are fetched 50 per call.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from uuid import UUID

import psycopg

from vidstats.budgets import BudgetExceededError, charge
from vidstats.db import Database, Role
from vidstats.ingestion.blogger_batches_repository import (
    BatchCounts,
    BatchRequest,
    FailureReason,
    batch_workspace,
    record_done,
)
from vidstats.ingestion.bloggers_repository import Creator, attach_videos, blogger_by_handle, save_creators
from vidstats.ingestion.fetch_queue import FetchQueue
from vidstats.ingestion.messages import FetchCreatorMessage
from vidstats.ingestion.snapshots_repository import SnapshotRow, copy_snapshots
from vidstats.ingestion.urls import parse_creator_url
from vidstats.ingestion.videos_repository import (
    FetchOutcome,
    NewVideo,
    VideoRow,
    add_to_campaign,
    record_fetch_outcomes,
    upsert_videos,
)
from vidstats.platforms import Platform
from vidstats.providers.base import CreatorVideo, VideoCounters, VideoProvider
from vidstats.providers.errors import (
    CreatorNotFoundError,
    ProviderAuthError,
    ProviderConfigError,
    ProviderItemError,
    VideoGoneError,
)
from vidstats.workspaces import DEFAULT_WORKSPACE_ID, campaign_in_workspace, track_in_workspace

log = logging.getLogger(__name__)


class CampaignNotFoundError(LookupError):
    def __init__(self, campaign_id: UUID) -> None:
        super().__init__(f"no campaign {campaign_id}")
        self.campaign_id = campaign_id


@dataclass(frozen=True)
class CreatorRef:
    platform: Platform
    creator: str  # handle / username / channel id or @handle, as the provider takes it
    profile_url: str | None = None


@dataclass
class CreatorBatchResult:
    blogger_id: UUID
    videos: list[VideoRow] = field(default_factory=list)
    snapshots: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # external id -> why it has no snapshot

    @property
    def counts(self) -> BatchCounts:
        return BatchCounts(videos_found=len(self.videos), videos_new=sum(v.created for v in self.videos),
                           snapshots_written=self.snapshots, videos_without_snapshot=len(self.errors))


def creator_ref(profile_url: str | None = None, *, platform: Platform | None = None,
                username: str | None = None) -> CreatorRef:
    """A creator from a profile URL, or from platform + username (UnsupportedUrlError / ValueError otherwise)."""
    if profile_url:
        parsed = parse_creator_url(profile_url)
        return CreatorRef(parsed.platform, parsed.username_or_id, parsed.canonical_url)
    if platform is None or not username or not username.strip():
        raise ValueError("give a profile URL, or a platform and a username")
    return CreatorRef(Platform(platform), username.strip())


def request_blogger_batch(queue: FetchQueue, creator: CreatorRef, *, limit: int = 30,
                          campaign_id: UUID | None = None, request_id: UUID | None = None,
                          workspace_id: UUID | None = None) -> UUID:
    """Enqueues the listing (the API's entry point); returns the request id (given, or a new one)."""
    request_id = request_id or uuid.uuid4()
    queue.send([FetchCreatorMessage(version=1, kind="fetch_creator", request_id=request_id,
                                    platform=creator.platform, creator=creator.creator, limit=limit,
                                    campaign_id=campaign_id, workspace_id=workspace_id)])
    return request_id


def video_url(platform: Platform, external_id: str, handle: str | None = None) -> str:
    if platform is Platform.TIKTOK:
        return (f"https://www.tiktok.com/@{handle}/video/{external_id}" if handle
                else f"https://www.tiktok.com/embed/v2/{external_id}")
    if platform is Platform.INSTAGRAM:
        return f"https://www.instagram.com/reel/{external_id}/"
    return f"https://www.youtube.com/watch?v={external_id}"


def run_blogger_batch(
    db: Database,
    provider: VideoProvider,
    platform: Platform,
    creator: str,
    *,
    limit: int,
    campaign_id: UUID | None = None,
    on_commit: Callable[[psycopg.Connection], None] | None = None,
    batch_id: UUID | None = None,
    workspace_id: UUID | None = None,
) -> CreatorBatchResult:
    """Lists, upserts and snapshots in one transaction. ``on_commit`` runs inside it (idempotency key).

    With ``batch_id`` (the request id ``POST /bloggers`` returned), the batch's outcome is written in that same
    transaction: it is done exactly when its videos and snapshots are. The videos are tracked by
    ``workspace_id``'s workspace (None: the batch row's, else the default workspace).
    """
    creator = creator.strip()
    listed_as = creator
    platform_user_id: str | None = None
    # Resolve the creator's stable id first, then list by it (the providers skip their own lookup then).
    resolve_channel = getattr(provider, "resolve_channel_id", None)
    resolve_user = getattr(provider, "resolve_user_id", None)
    if platform is Platform.YOUTUBE and resolve_channel is not None:
        platform_user_id = listed_as = str(resolve_channel(creator))
    elif platform is Platform.INSTAGRAM and resolve_user is not None and not creator.lstrip("@").isdigit():
        platform_user_id = listed_as = str(resolve_user(creator.lstrip("@")))
    elif platform is Platform.INSTAGRAM and creator.lstrip("@").isdigit():
        platform_user_id = creator.lstrip("@")
    listing = provider.list_creator_videos(listed_as, limit)

    counters: dict[str, VideoCounters | ProviderItemError] = {}
    to_fetch: list[str] = []
    for entry in listing:
        if entry.counters is not None:
            counters[entry.external_id] = entry.counters
        elif entry.counters_error is None:
            to_fetch.append(entry.external_id)
    if to_fetch:  # listings without counters (YouTube search): the provider batches these ids
        counters.update(provider.fetch_videos(to_fetch))
    named = _creator_named(platform, creator, platform_user_id, counters.values())

    result = CreatorBatchResult(blogger_id=uuid.UUID(int=0))
    with db.transaction(Role.INGEST) as conn:
        workspace_id = workspace_id or batch_workspace(conn, batch_id) or DEFAULT_WORKSPACE_ID
        if campaign_id is not None and not campaign_in_workspace(conn, campaign_id, workspace_id):
            raise CampaignNotFoundError(campaign_id)
        # A listing that names no id: the creator whose current handle this is, else a row keyed by the handle.
        existing = blogger_by_handle(conn, platform, creator) if named.keyed_by_handle else None
        blogger_id = existing or save_creators(conn, [named])[named.key]
        result.blogger_id = blogger_id
        handle = named.username if platform is Platform.TIKTOK else None
        new_videos = [_new_video(entry, counters.get(entry.external_id), blogger_id, handle) for entry in listing]
        rows = upsert_videos(conn, new_videos, reactivate=False)
        # Videos first tracked by URL (or by another row of this creator) join the creator too.
        attach_videos(conn, [(row.id, blogger_id) for row in rows])
        result.videos = rows
        ids = {row.external_video_id: row.id for row in rows}
        snapshots: list[SnapshotRow] = []
        outcomes: list[FetchOutcome] = []
        for entry in listing:
            video_id = ids[entry.external_id]
            measured = counters.get(entry.external_id)
            if isinstance(measured, VideoCounters):
                snapshots.append(SnapshotRow.from_counters(video_id, measured))
                outcomes.append(FetchOutcome(video_id, ok=True))
            else:
                error = str(measured) if measured is not None else (entry.counters_error or "no counters")
                result.errors[entry.external_id] = error
                outcomes.append(FetchOutcome(video_id, ok=False, error=error,
                                             gone=isinstance(measured, VideoGoneError)))
        tracked = track_in_workspace(conn, workspace_id, list(ids.values()))
        # The request reserved room for `limit` videos, but other commands may have filled it since: checked
        # again after the writes, in their transaction (over the cap, none of this batch is kept). Its fetches
        # were charged when it was requested.
        charge(conn, workspace_id, fetches=0, added=tracked.newly_tracked)
        if campaign_id is not None:
            add_to_campaign(conn, campaign_id, list(ids.values()))
        copy_snapshots(conn, snapshots)
        record_fetch_outcomes(conn, outcomes)
        result.snapshots = len(snapshots)
        if batch_id is not None:
            record_done(conn, BatchRequest(batch_id, platform, creator, limit, campaign_id, workspace_id), blogger_id,
                        result.counts)
        if on_commit is not None:
            on_commit(conn)
    log.info("blogger batch %s/%s: %d videos, %d snapshots", platform.value, creator, len(listing),
             result.snapshots)
    return result


def _creator_named(platform: Platform, creator: str, platform_user_id: str | None,
                   answers: Iterable[VideoCounters | ProviderItemError]) -> Creator:
    """The creator as the platform names it: its id (resolved, or the listing's author id), handle and name."""
    answers_list = list(answers)
    authors = [a for a in (Creator.from_counters(c) for c in answers_list if isinstance(c, VideoCounters))
               if a is not None and (platform_user_id is None or a.platform_user_id == platform_user_id)]
    author = authors[0] if authors else None
    asked = creator.strip() if platform is Platform.YOUTUBE else creator.strip().lstrip("@")
    # What the user asked by is a handle, unless it is the id itself (a YouTube channel id, an Instagram pk).
    asked_handle = None if asked == platform_user_id or (platform is Platform.YOUTUBE and not asked.startswith("@")) \
        else asked
    username = (author.username if author else None) or asked_handle
    display_name = author.display_name if author else None
    if platform_user_id is None and author is not None:
        platform_user_id = author.platform_user_id
    if platform_user_id is None:
        # A listing that names only the handle: its items' author name is still the creator's.
        names = (c.author_name for c in answers_list if isinstance(c, VideoCounters) and c.author_name
                 and (c.author_username or asked).lstrip("@").lower() == asked.lower())
        return Creator.by_handle(platform, asked, next(names, None))
    return Creator(platform, platform_user_id, username, display_name)


def failure_reason(error: BaseException) -> FailureReason | None:
    """Why a blogger batch failed for good, or None when a later delivery may succeed (it stays pending)."""
    if isinstance(error, CreatorNotFoundError):
        return FailureReason.CREATOR_NOT_FOUND
    if isinstance(error, ProviderAuthError | ProviderConfigError):
        return FailureReason.PROVIDER_CONFIGURATION
    if isinstance(error, CampaignNotFoundError):
        return FailureReason.CAMPAIGN_NOT_FOUND
    if isinstance(error, BudgetExceededError):
        return FailureReason.BUDGET_EXCEEDED
    return None


def _new_video(entry: CreatorVideo, measured: VideoCounters | ProviderItemError | None, blogger_id: UUID,
               handle: str | None) -> NewVideo:
    caption = entry.caption or (measured.caption if isinstance(measured, VideoCounters) else None)
    published = entry.published_at or (measured.published_at if isinstance(measured, VideoCounters) else None)
    return NewVideo(platform=entry.platform, external_video_id=entry.external_id,
                    url=video_url(entry.platform, entry.external_id, handle), blogger_id=blogger_id,
                    caption=caption, published_at=published)
