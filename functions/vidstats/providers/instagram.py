"""Instagram through instagram-looter2. The external id of a post is its shortcode (``DMYPhxUie5h``).

Video: ``GET /post?id=<shortcode>`` → a GraphQL-style node at the top level (``video_play_count``,
``edge_media_preview_like.count``...). Creator list: ``GET /id?username=`` → ``user_id``, then
``GET /reels?id=<user pk>&count=12&max_id=`` → ``items[].media`` (private-API media: ``play_count``,
``ig_play_count``, ``like_count``...), ``paging_info.{max_id, more_available}``.
Errors may come as HTTP 200 with ``"status": false``, classified by their message (``envelope_error``); never
trust numeric ``pk`` (already rounded in real dumps), use ``code`` or ``id.split('_')[0]``.

Views are labelled by kind: plays (``ig_play_count``, ``play_count`` minus ``fb_play_count``, ``play_count``,
``video_play_count``) or views (``video_view_count``, ``view_count``). An answer may carry one and the next
answer the other; the kind travels with the snapshot so the two are never subtracted from each other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vidstats.platforms import Platform
from vidstats.providers.base import (
    CreatorVideo,
    ExternalId,
    FetchResult,
    ItemShapeError,
    VideoCounters,
    ViewsKind,
    coerce_counter,
    from_unix,
)
from vidstats.providers.common import RapidApiProvider
from vidstats.providers.errors import (
    CreatorNotFoundError,
    NotFoundError,
    ProviderItemError,
    ProviderResponseError,
)
from vidstats.providers.http import error_message

log = logging.getLogger(__name__)

PAGE_SIZE = 12  # what the API returns per /reels page


class _User(BaseModel):
    model_config = ConfigDict(extra="ignore")

    pk: ExternalId = None
    id: ExternalId = None
    username: str | None = None
    full_name: str | None = None


class _Caption(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str | None = None


class _Media(BaseModel):
    """Private-API media (``/reels`` items' ``media``, ``/user-feeds`` items)."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None  # "<media pk>_<owner pk>", a string: exact
    code: str
    media_type: int | None = None
    product_type: str | None = None
    taken_at: int | str | None = None
    like_and_view_counts_disabled: bool | None = None
    user: _User | None = None
    caption: _Caption | None = None
    clips_tab_pinned_user_ids: list[Any] = Field(default_factory=list)
    timeline_pinned_user_ids: list[Any] = Field(default_factory=list)


class _EdgeCount(BaseModel):
    model_config = ConfigDict(extra="ignore")

    count: Any = None


class _TextNode(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str | None = None


class _TextEdge(BaseModel):
    model_config = ConfigDict(extra="ignore")

    node: _TextNode


class _TextEdges(BaseModel):
    model_config = ConfigDict(extra="ignore")

    edges: list[_TextEdge] = Field(default_factory=list)


class _GraphNode(BaseModel):
    """The GraphQL-style node ``/post`` answers with."""

    model_config = ConfigDict(extra="ignore")

    id: ExternalId = None
    shortcode: str
    is_video: bool | None = None
    taken_at_timestamp: int | str | None = None
    like_and_view_counts_disabled: bool | None = None
    owner: _User | None = None
    edge_media_to_caption: _TextEdges | None = None


def _first(item: dict[str, Any], *keys: str) -> tuple[int | None, str | None]:
    """The first present counter among ``keys`` (dotted paths allowed) and which key it was."""
    for key in keys:
        value: Any = item
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return coerce_counter(value, key), key
    return None, None


def to_counters(external_id: str, item: Any) -> VideoCounters:
    """The one mapping from a looter2 answer (GraphQL node or private-API media) to our model."""
    if not isinstance(item, dict):
        raise ItemShapeError(f"expected a media object, got {type(item).__name__}")
    if "shortcode" in item:
        return _graph_node_counters(external_id, item)
    if "code" in item:
        return _media_counters(external_id, item)
    raise ItemShapeError("neither a GraphQL node (shortcode) nor a media object (code)")


def _check_code(external_id: str, code: str) -> None:
    if code != external_id:
        raise ItemShapeError(f"provider answered with another post ({code})")


def _graph_node_counters(external_id: str, item: dict[str, Any]) -> VideoCounters:
    node = _GraphNode.model_validate(item)
    _check_code(external_id, node.shortcode)
    # Plays (video_play_count) first: the same metric as the reels list's play_count.
    views, views_source = _first(item, "video_play_count", "video_view_count")
    likes, _ = _first(item, "edge_media_preview_like.count", "edge_liked_by.count")
    if node.like_and_view_counts_disabled:
        likes = None  # a placeholder when the owner hides likes (a "hidden" flag), not the real count
    comments, _ = _first(
        item, "edge_media_to_parent_comment.count", "edge_media_to_comment.count", "edge_media_preview_comment.count"
    )
    caption_edges = node.edge_media_to_caption.edges if node.edge_media_to_caption else []
    owner = node.owner
    return VideoCounters(
        platform=Platform.INSTAGRAM,
        external_id=external_id,
        views=views,
        likes=likes,
        comments=comments,
        views_source=views_source,
        views_kind=_views_kind(views_source),
        caption=caption_edges[0].node.text if caption_edges else None,
        published_at=from_unix(node.taken_at_timestamp),
        author_id=(owner.id or owner.pk) if owner else None,
        author_username=owner.username if owner else None,
        author_name=owner.full_name if owner else None,
        raw=item,
    )


def _media_counters(external_id: str, item: dict[str, Any]) -> VideoCounters:
    media = _Media.model_validate(item)
    _check_code(external_id, media.code)
    # ig_play_count excludes Facebook cross-post plays; without it, play_count minus fb_play_count is the same
    # figure (hypenow-backend's rule). Photos and carousels have no views at all.
    views, views_source = _first(item, "ig_play_count")
    if views is None:
        plays, _ = _first(item, "play_count")
        facebook, _ = _first(item, "fb_play_count")
        if plays is not None and facebook is not None and plays >= facebook:
            views, views_source = plays - facebook, "play_count-fb_play_count"
    if views is None:
        views, views_source = _first(item, "play_count", "view_count")
    likes, _ = _first(item, "like_count")
    if media.like_and_view_counts_disabled:
        likes = None
    comments, _ = _first(item, "comment_count")
    reposts, _ = _first(item, "reshare_count")  # present in some responses only: None otherwise
    saves, _ = _first(item, "save_count")
    extra = {}
    for key in ("media_repost_count", "fb_play_count", "play_count"):
        value, _ = _first(item, key)
        if value is not None and key != views_source:
            extra[key] = value
    user = media.user
    return VideoCounters(
        platform=Platform.INSTAGRAM,
        external_id=external_id,
        views=views,
        likes=likes,
        comments=comments,
        reposts=reposts,
        saves=saves,
        views_source=views_source,
        views_kind=_views_kind(views_source),
        extra=extra,
        caption=media.caption.text if media.caption else None,
        published_at=from_unix(media.taken_at),
        author_id=(media.id.split("_", 1)[1] if media.id and "_" in media.id else user.pk if user else None),
        author_username=user.username if user else None,
        author_name=user.full_name if user else None,
        raw=item,
    )


_VIEW_KEYS = ("video_view_count", "view_count")


def _views_kind(views_source: str | None) -> ViewsKind:
    """Instagram's view keys count views; every other counter key (ig_play_count, play_count, the
    fb_play_count-derived one, video_play_count) counts plays."""
    if views_source is None or views_source in _VIEW_KEYS:
        return "views"
    return "plays"


def envelope_error(body: Any) -> str | None:
    """The error text of a looter2 answer with ``status: false`` (HTTP 200); None otherwise."""
    if not isinstance(body, dict) or not _failed(body):
        return None
    return error_message(body) or "status false"


def _failed(body: Any) -> bool:
    """looter2 says ``"status": false`` (or "fail") on errors; ``"ok"``/``true``/absent are fine."""
    if not isinstance(body, dict):
        return True
    status = body.get("status")
    return status is False or (isinstance(status, str) and status.lower() in ("fail", "failed", "error"))


class InstagramProvider(RapidApiProvider):
    platform = Platform.INSTAGRAM

    def fetch_videos(self, external_ids: Sequence[str]) -> FetchResult:
        return self._fetch_one_by_one(external_ids, self._fetch_one)

    def _fetch_one(self, external_id: str) -> VideoCounters | ProviderItemError:
        # A status-false envelope is raised by get_json, classified by its message (gone, throttle...).
        body = self.api.get_json("post", {"id": external_id}, envelope=envelope_error)
        return self._map_item(external_id, body, to_counters)

    def resolve_user_id(self, username: str) -> str:
        try:
            body = self.api.get_json("user_id", {"username": username}, envelope=envelope_error)
        except NotFoundError as exc:
            raise CreatorNotFoundError(self.platform, f"{username}: {exc}") from None
        user_id = body.get("user_id") if isinstance(body, dict) else None
        if _failed(body) or user_id is None or isinstance(user_id, float):
            raise CreatorNotFoundError(
                self.platform, f"{username}: no user id ({error_message(body) or 'status false'})"
            )
        return str(user_id)

    def list_creator_videos(self, creator: str, limit: int) -> list[CreatorVideo]:
        """Reels of the creator (the reels tab carries play counts; the feed has none)."""
        name = creator.strip().lstrip("@")
        if not name:
            raise ValueError("creator is empty")
        user_id = name if name.isdigit() else self.resolve_user_id(name)
        videos: list[CreatorVideo] = []
        seen: set[str] = set()
        max_id: str | None = None
        while len(videos) < limit:
            params = {"id": user_id, "count": str(PAGE_SIZE)}
            if max_id:
                params["max_id"] = max_id
            try:
                body = self.api.get_json("reels", params, envelope=envelope_error)
            except NotFoundError as exc:
                raise CreatorNotFoundError(self.platform, f"{name}: {exc}") from None
            if _failed(body) or not isinstance(body.get("items"), list):
                raise ProviderResponseError(
                    self.platform, f"reels of {name}: {error_message(body) or 'no items list'}"
                )
            items = body["items"]
            for item in items:
                entry = self._creator_video(item.get("media") if isinstance(item, dict) else None)
                if entry is not None and entry.external_id not in seen and len(videos) < limit:
                    seen.add(entry.external_id)
                    videos.append(entry)
            paging = body.get("paging_info") if isinstance(body.get("paging_info"), dict) else {}
            next_max_id = paging.get("max_id")
            if not paging.get("more_available") or not items or not next_max_id or next_max_id == max_id:
                break  # a cursor that does not move would page forever
            max_id = str(next_max_id)
        return videos

    def _creator_video(self, item: Any) -> CreatorVideo | None:
        try:
            media = _Media.model_validate(item)
        except ValidationError:
            log.warning("instagram reels: skipping an item that is not a media object with a code")
            return None
        mapped = self._map_item(media.code, item, to_counters)
        return CreatorVideo(
            platform=self.platform,
            external_id=media.code,
            published_at=from_unix(media.taken_at),
            caption=media.caption.text if media.caption else None,
            is_pinned=bool(media.clips_tab_pinned_user_ids or media.timeline_pinned_user_ids),
            counters=mapped if isinstance(mapped, VideoCounters) else None,
            counters_error=None if isinstance(mapped, VideoCounters) else mapped.detail,
        )
