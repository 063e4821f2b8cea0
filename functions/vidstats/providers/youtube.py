"""YouTube through youtube-v31, a clone of the Data API v3.

Videos: ``GET /videos?part=snippet,statistics&id=a,b,...`` (up to 50 ids per call); counters are strings;
``likeCount``/``commentCount`` are absent when hidden/disabled; ids of deleted or private videos are simply
missing from ``items``. Creator list: ``GET /search?channelId=&part=id,snippet&order=date&type=video
&maxResults=50&pageToken=`` → ``items[].id.videoId``, ``nextPageToken`` (no counters in search results).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vidstats.platforms import Platform
from vidstats.providers.base import CreatorVideo, FetchResult, ItemShapeError, VideoCounters, coerce_counter
from vidstats.providers.common import RapidApiProvider, chunks, unique_ids
from vidstats.providers.errors import (
    BadInputError,
    BadInputItemError,
    CreatorNotFoundError,
    NotFoundError,
    ProviderError,
    ProviderResponseError,
    VideoGoneError,
)
from vidstats.providers.http import error_message

BATCH_SIZE = 50  # the Data API's maximum number of ids per videos.list call
_CHANNEL_ID = re.compile(r"UC[0-9A-Za-z_-]{22}")


class _Snippet(BaseModel):
    model_config = ConfigDict(extra="ignore")

    publishedAt: datetime | None = None  # noqa: N815 - the API's key
    channelId: str | None = None  # noqa: N815
    channelTitle: str | None = None  # noqa: N815
    title: str | None = None


class _Video(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    snippet: _Snippet | None = None
    statistics: dict[str, Any] = Field(default_factory=dict)


def envelope_error(body: Any) -> str | None:
    """The message of a Google error object answered with HTTP 200 (``{"error": {"code": 403, ...}}``)."""
    if isinstance(body, dict) and body.get("error") not in (None, "", {}):
        return error_message(body) or "error"
    return None


def to_counters(external_id: str, item: Any) -> VideoCounters:
    """The one mapping from a videos.list item to our model."""
    if not isinstance(item, dict):
        raise ItemShapeError(f"expected a video resource, got {type(item).__name__}")
    video = _Video.model_validate(item)
    if video.id != external_id:
        raise ItemShapeError(f"provider answered with another video ({video.id})")
    stats = video.statistics
    snippet = video.snippet
    return VideoCounters(
        platform=Platform.YOUTUBE,
        external_id=external_id,
        views=coerce_counter(stats.get("viewCount"), "viewCount"),
        likes=coerce_counter(stats.get("likeCount"), "likeCount"),  # absent when the owner hides likes
        comments=coerce_counter(stats.get("commentCount"), "commentCount"),  # absent when disabled
        # YouTube exposes neither shares nor saves (favoriteCount is a legacy constant 0): None, not 0.
        views_source="viewCount" if stats.get("viewCount") not in (None, "") else None,
        views_kind="views",
        caption=snippet.title if snippet else None,
        published_at=snippet.publishedAt if snippet else None,
        author_id=snippet.channelId if snippet else None,
        author_name=snippet.channelTitle if snippet else None,
        raw=item,
    )


class YouTubeProvider(RapidApiProvider):
    platform = Platform.YOUTUBE

    def fetch_videos(self, external_ids: Sequence[str]) -> FetchResult:
        results: FetchResult = {}
        for batch in chunks(unique_ids(external_ids), BATCH_SIZE):
            try:
                body = self.api.get_json("videos", {"part": "snippet,statistics", "id": ",".join(batch)},
                                         envelope=envelope_error)
            except BadInputError as exc:
                # The whole call was refused (an id the API rejects): each id of it gets that answer.
                for external_id in batch:
                    results[external_id] = BadInputItemError(self.platform, external_id, str(exc))
                continue
            except ProviderError as exc:
                exc.partial = results
                raise
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                error = ProviderResponseError(
                    self.platform, f"videos.list: {error_message(body) or 'no items list in the answer'}"
                )
                error.partial = results
                raise error
            by_id = {item["id"]: item for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)}
            for external_id in batch:
                item = by_id.get(external_id)
                if item is None:
                    # videos.list answers a deleted or private video by leaving it out (``items: []``).
                    results[external_id] = VideoGoneError(
                        self.platform, external_id, "not returned by videos.list (deleted, private or no such id)"
                    )
                else:
                    results[external_id] = self._map_item(external_id, item, to_counters)
        return results

    def resolve_channel_id(self, creator: str) -> str:
        """A ``UC...`` channel id from itself or from an ``@handle`` (``channels.list forHandle``)."""
        creator = creator.strip()
        if _CHANNEL_ID.fullmatch(creator):
            return creator
        handle = creator if creator.startswith("@") else f"@{creator}"
        try:
            body = self.api.get_json("channels", {"part": "id", "forHandle": handle}, envelope=envelope_error)
        except NotFoundError as exc:
            raise CreatorNotFoundError(self.platform, f"{handle}: {exc}") from None
        items = body.get("items") if isinstance(body, dict) else None
        channel_id = items[0].get("id") if isinstance(items, list) and items and isinstance(items[0], dict) else None
        if not isinstance(channel_id, str) or not _CHANNEL_ID.fullmatch(channel_id):
            raise CreatorNotFoundError(self.platform, f"{handle}: no channel with this handle")
        return channel_id

    def list_creator_videos(self, creator: str, limit: int) -> list[CreatorVideo]:
        """Newest uploads of a channel. Search results carry no counters: fetch them with fetch_videos."""
        channel_id = self.resolve_channel_id(creator)
        videos: list[CreatorVideo] = []
        seen: set[str] = set()
        page_token: str | None = None
        while len(videos) < limit:
            params = {
                "channelId": channel_id,
                "part": "id,snippet",
                "order": "date",
                "type": "video",
                "maxResults": str(min(BATCH_SIZE, limit - len(videos))),
            }
            if page_token:
                params["pageToken"] = page_token
            try:
                body = self.api.get_json("search", params, envelope=envelope_error)
            except NotFoundError as exc:
                raise CreatorNotFoundError(self.platform, f"{channel_id}: {exc}") from None
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise ProviderResponseError(
                    self.platform, f"search for {channel_id}: {error_message(body) or 'no items list'}"
                )
            for item in items:
                entry = _search_entry(item)
                if entry is not None and entry.external_id not in seen and len(videos) < limit:
                    seen.add(entry.external_id)
                    videos.append(entry)
            next_token = body.get("nextPageToken")
            if not items or not isinstance(next_token, str) or not next_token or next_token == page_token:
                break
            page_token = next_token
        return videos


def _search_entry(item: Any) -> CreatorVideo | None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), dict):
        return None
    video_id = item["id"].get("videoId")
    if not isinstance(video_id, str):
        return None  # a channel or playlist result
    try:
        snippet = _Snippet.model_validate(item.get("snippet") or {})
    except ValidationError:
        snippet = _Snippet()
    return CreatorVideo(
        platform=Platform.YOUTUBE, external_id=video_id, published_at=snippet.publishedAt, caption=snippet.title
    )

