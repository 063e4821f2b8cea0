"""Start tracking: URLs (and optionally a campaign) → tracked videos with an immediate fetch enqueued.

``start_tracking`` is the function the dashboard API calls and ``vidstats track`` runs. It is safe to call
again with the same URLs: videos are reused (the workspace's start of tracking stays its first), campaign
membership is not duplicated, and the fetch is simply asked for again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from vidstats.budgets import charge
from vidstats.db import Database, Role
from vidstats.ingestion.blogger_batch import CampaignNotFoundError
from vidstats.ingestion.fetch_queue import FetchQueue
from vidstats.ingestion.messages import MAX_VIDEOS_PER_MESSAGE, FetchVideosMessage, VideoRef
from vidstats.ingestion.urls import ParsedVideoUrl, UnsupportedUrlError, resolve_video_url
from vidstats.ingestion.videos_repository import NewVideo, add_to_campaign, upsert_videos
from vidstats.platforms import Platform
from vidstats.workspaces import campaign_in_workspace, track_in_workspace

if TYPE_CHECKING:
    import httpx

MAX_URLS = 500

__all__ = ["CampaignNotFoundError", "InvalidUrlsError", "TrackedVideo", "start_tracking"]


@dataclass(frozen=True)
class TrackedVideo:
    video_id: UUID
    platform: Platform
    external_video_id: str
    url: str
    tracking_state: str  # 'active', or 'gone' when the platform already said so (nothing is fetched then)
    tracking_started_at: datetime  # when this workspace started tracking it (its own, not another's)
    created: bool
    fetch_enqueued: bool


class InvalidUrlsError(ValueError):
    """Some URLs are not accepted; nothing was written. ``problems`` maps each bad URL to its reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        first = next(iter(problems.values()))
        super().__init__(f"{len(problems)} URL(s) not accepted; first: {first}")
        self.problems = problems


def start_tracking(
    db: Database,
    queue: FetchQueue,
    urls: Sequence[str],
    campaign_id: UUID | None = None,
    *,
    resolver_client: httpx.Client,
    workspace_id: UUID,
) -> list[TrackedVideo]:
    """Tracks every URL or none (InvalidUrlsError, CampaignNotFoundError); returns one entry per distinct video.

    Short links are resolved through ``resolver_client`` on the platform's own hosts only. The videos are tracked
    by ``workspace_id``'s workspace (and join ``campaign_id`` only if it is that workspace's).
    """
    if not urls:
        raise ValueError("no URLs given")
    if len(urls) > MAX_URLS:
        raise ValueError(f"at most {MAX_URLS} URLs per call")
    parsed: dict[tuple[Platform, str], ParsedVideoUrl] = {}
    problems: dict[str, str] = {}
    for url in urls:
        try:
            video = resolve_video_url(url, resolver_client)
        except UnsupportedUrlError as exc:
            problems[url] = str(exc)
            continue
        parsed.setdefault((video.platform, video.external_video_id), video)
    if problems:
        raise InvalidUrlsError(problems)

    with db.transaction(Role.INGEST) as conn:
        if campaign_id is not None and not campaign_in_workspace(conn, campaign_id, workspace_id):
            raise CampaignNotFoundError(campaign_id)
        rows = upsert_videos(
            conn,
            [NewVideo(p.platform, p.external_video_id, p.canonical_url) for p in parsed.values()],
            reactivate=True,
        )
        tracked = track_in_workspace(conn, workspace_id, [row.id for row in rows])
        started, added = tracked.started_at, tracked.newly_tracked
        if campaign_id is not None:
            add_to_campaign(conn, campaign_id, [row.id for row in rows])
        # Checked after the writes, in their transaction: over a cap, nothing of this command is kept.
        charge(conn, workspace_id, fetches=sum(row.tracking_state == "active" for row in rows), added=added)

    active = [row for row in rows if row.tracking_state == "active"]
    request_id = uuid.uuid4()
    messages = [
        FetchVideosMessage(
            version=1, kind="fetch_videos", reason="start_tracking",
            # One request id per call and chunk: a producer retry of the same send is deduplicated.
            request_id=uuid.uuid5(request_id, str(start)),
            videos=[VideoRef(video_id=r.id, platform=r.platform, external_video_id=r.external_video_id)
                    for r in active[start : start + MAX_VIDEOS_PER_MESSAGE]],
        )
        for start in range(0, len(active), MAX_VIDEOS_PER_MESSAGE)
    ]
    if messages:
        queue.send(messages)
    return [
        TrackedVideo(r.id, r.platform, r.external_video_id, r.url, r.tracking_state, started[r.id],
                     r.created, r.tracking_state == "active")
        for r in rows
    ]
