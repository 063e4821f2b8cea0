"""TikTok through tiktok-scraper7 (TIKWM's RapidAPI front).

Video: ``GET /?url=<id>`` → ``{"code": 0, "msg": "success", "data": {...}}``. Creator list:
``GET /user/posts?unique_id=@<handle>&count=<=35&cursor=<data.cursor>`` → ``data.videos[]``, ``data.cursor``,
``data.hasMore``. HTTP 200 with ``code != 0`` is an error, classified by its ``msg`` (``envelope_error``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from vidstats.platforms import Platform
from vidstats.providers.base import (
    CreatorVideo,
    ExternalId,
    FetchResult,
    ItemShapeError,
    VideoCounters,
    coerce_counter,
    from_unix,
)
from vidstats.providers.common import RapidApiProvider
from vidstats.providers.errors import (
    CreatorNotFoundError,
    InvalidItemResponseError,
    NotFoundError,
    ProviderItemError,
    ProviderResponseError,
)
from vidstats.providers.http import error_message

log = logging.getLogger(__name__)

PAGE_SIZE = 35  # the most public code asks for (tikwm README: "1 < count < 35", the notes: count <= 35)


class _Author(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: ExternalId = None
    unique_id: str | None = None
    nickname: str | None = None


class _Video(BaseModel):
    """A tikwm video object (single-video ``data`` or a ``user/posts`` item). Counters are read separately."""

    model_config = ConfigDict(extra="ignore")

    id: ExternalId = None
    video_id: ExternalId = None  # the id key of user/posts items
    aweme_id: ExternalId = None
    title: str | None = None
    create_time: int | str | None = None
    is_top: int | bool | None = None
    author: _Author | None = None

    @property
    def external_id(self) -> str | None:
        return self.video_id or self.aweme_id or self.id


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: int | str | None = None
    msg: str | None = None
    data: Any = None

    @property
    def ok(self) -> bool:
        return str(self.code) == "0"


def envelope_error(body: Any) -> str | None:
    """The error text of a tikwm answer with ``code != 0`` (HTTP 200); None for a success envelope."""
    if not isinstance(body, dict) or "code" not in body:
        return None  # not an envelope: the caller reports the shape
    try:
        envelope = _Envelope.model_validate(body)
    except ValidationError:
        return None
    if envelope.ok:
        return None
    return envelope.msg or error_message(body) or f"code {envelope.code}"


# our column -> (tikwm flat key, TikTok web stats key)
_COUNTER_KEYS = {
    "views": ("play_count", "playCount"),
    "likes": ("digg_count", "diggCount"),
    "comments": ("comment_count", "commentCount"),
    "reposts": ("share_count", "shareCount"),
    "saves": ("collect_count", "collectCount"),
}


def _counter(item: dict[str, Any], flat: str, web: str) -> tuple[int | None, str | None]:
    """A counter and the key it came from. Exact values win over rounded ones.

    tikwm's flat ``play_count`` etc. are exact. Should a response carry TikTok's web shape, ``statsV2``
    (exact strings) wins over ``stats`` (rounded: 1800000 for 1776621).
    """
    stats_v2 = item.get("statsV2")
    if isinstance(stats_v2, dict) and stats_v2.get(web) is not None:
        return coerce_counter(stats_v2[web], f"statsV2.{web}"), f"statsV2.{web}"
    if item.get(flat) is not None:
        return coerce_counter(item[flat], flat), flat
    stats = item.get("stats")
    if isinstance(stats, dict) and stats.get(web) is not None:
        return coerce_counter(stats[web], f"stats.{web}"), f"stats.{web}"
    return None, None


def to_counters(external_id: str, item: Any) -> VideoCounters:
    """The one mapping from a tikwm video object to our model."""
    if not isinstance(item, dict):
        raise ItemShapeError(f"expected a video object, got {type(item).__name__}")
    video = _Video.model_validate(item)
    if video.external_id is not None and video.external_id != external_id:
        raise ItemShapeError(f"provider answered with another video ({video.external_id})")
    values: dict[str, int | None] = {}
    views_source = None
    for column, (flat, web) in _COUNTER_KEYS.items():
        values[column], source = _counter(item, flat, web)
        if column == "views":
            views_source = source
    extra: dict[str, int] = {}
    for key, source_key in (("download_count", "download_count"), ("repost_count", "repostCount")):
        raw = item.get(source_key)
        if raw is None and isinstance(item.get("statsV2"), dict):
            raw = item["statsV2"].get(source_key)
        value = coerce_counter(raw, source_key)
        if value is not None:
            extra[key] = value
    author = video.author
    return VideoCounters(
        platform=Platform.TIKTOK,
        external_id=external_id,
        views=values["views"],
        likes=values["likes"],
        comments=values["comments"],
        reposts=values["reposts"],
        saves=values["saves"],
        views_source=views_source,
        views_kind="views",  # TikTok's play_count is what the app shows as views
        extra=extra,
        caption=video.title,
        published_at=from_unix(video.create_time),
        author_id=author.id if author else None,
        author_username=author.unique_id if author else None,
        author_name=author.nickname if author else None,
        raw=item,
    )


class TikTokProvider(RapidApiProvider):
    platform = Platform.TIKTOK

    def fetch_videos(self, external_ids: Sequence[str]) -> FetchResult:
        return self._fetch_one_by_one(external_ids, self._fetch_one)

    def _fetch_one(self, external_id: str) -> VideoCounters | ProviderItemError:
        # tikwm accepts a bare numeric id as ``url``; the id travels as text (19 digits).
        # A code != 0 envelope is raised by get_json, classified by its msg (gone, throttle, bad id...).
        body = self.api.get_json("video", {"url": external_id}, envelope=envelope_error)
        try:
            envelope = _Envelope.model_validate(body)
        except ValidationError:
            return InvalidItemResponseError(self.platform, external_id, "response is not a tikwm envelope")
        if not envelope.ok:
            return InvalidItemResponseError(self.platform, external_id, "response is not a tikwm envelope")
        return self._map_item(external_id, envelope.data, to_counters)

    def list_creator_videos(self, creator: str, limit: int) -> list[CreatorVideo]:
        handle = creator.strip().lstrip("@")
        if not handle:
            raise ValueError("creator handle is empty")
        videos: list[CreatorVideo] = []
        cursor = "0"
        seen: set[str] = set()
        while len(videos) < limit:
            try:
                body = self.api.get_json(
                    "user_posts",
                    # Always a full page: the same one request, and tikwm documents count > 1.
                    {"unique_id": f"@{handle}", "count": str(PAGE_SIZE), "cursor": cursor},
                    envelope=envelope_error,
                )
            except NotFoundError as exc:
                raise CreatorNotFoundError(self.platform, f"@{handle}: {exc}") from None
            envelope = _Envelope.model_validate(body) if isinstance(body, dict) else _Envelope()
            if not envelope.ok or not isinstance(envelope.data, dict):
                message = envelope.msg or error_message(body) or f"code {envelope.code}"
                raise ProviderResponseError(self.platform, f"user/posts for @{handle} failed: {message}")
            data = envelope.data
            items = data.get("videos")
            if not isinstance(items, list):
                raise ProviderResponseError(self.platform, f"user/posts for @{handle}: no data.videos list")
            for item in items:
                entry = self._creator_video(item)
                if entry is not None and entry.external_id not in seen and len(videos) < limit:
                    seen.add(entry.external_id)
                    videos.append(entry)
            next_cursor = data.get("cursor")
            if not data.get("hasMore") or not items or next_cursor is None or str(next_cursor) == cursor:
                break  # a cursor that does not move would page forever
            cursor = str(next_cursor)
        return videos

    def _creator_video(self, item: Any) -> CreatorVideo | None:
        try:
            video = _Video.model_validate(item)
        except ValidationError:
            log.warning("tiktok user/posts: skipping an item that is not a video object")
            return None
        if video.external_id is None:
            log.warning("tiktok user/posts: skipping an item without an id")
            return None
        mapped = self._map_item(video.external_id, item, to_counters)
        return CreatorVideo(
            platform=self.platform,
            external_id=video.external_id,
            published_at=from_unix(video.create_time),
            caption=video.title,
            is_pinned=bool(video.is_top),
            counters=mapped if isinstance(mapped, VideoCounters) else None,
            counters_error=None if isinstance(mapped, VideoCounters) else mapped.detail,
        )

