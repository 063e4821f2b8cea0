"""What every provider returns, and the one interface the queue processor programs against."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from vidstats.platforms import Platform
from vidstats.providers.errors import ProviderItemError

# A counter is a non-negative integer or None. None means "the API did not say" (key absent, hidden by
# the owner, a sentinel such as -1, meaningless for this media type) and is never replaced by 0: 0 means
# "observed zero".
Counter = int | None

# What ``views`` counts (stored as ``video_statistics.views_kind``): Instagram "plays" (ig_play_count,
# play_count, video_play_count; replays included) differ from its "views" by a factor of several, and an
# increment must never subtract one from the other. TikTok's play_count and YouTube's viewCount are views.
ViewsKind = Literal["views", "plays"]


class VideoCounters(BaseModel):
    """One measurement of one video, normalised across platforms."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: Platform
    external_id: str
    views: Counter = Field(default=None, ge=0)
    likes: Counter = Field(default=None, ge=0)
    comments: Counter = Field(default=None, ge=0)
    reposts: Counter = Field(default=None, ge=0)  # TikTok share_count, Instagram reshare_count
    saves: Counter = Field(default=None, ge=0)  # TikTok collect_count, Instagram save_count
    # Which API key the views came from: Instagram plays vs views differ by a factor of several.
    views_source: str | None = None
    views_kind: ViewsKind = "views"
    # Platform-specific counters that have no column (TikTok download_count, Instagram media_repost_count...).
    extra: dict[str, int] = Field(default_factory=dict)
    caption: str | None = None
    published_at: datetime | None = None
    author_id: str | None = None
    author_username: str | None = None
    author_name: str | None = None
    # The item's JSON as the API sent it, so the field mapping can be fixed retroactively.
    raw: dict[str, Any] | None = Field(default=None, repr=False)


class CreatorVideo(BaseModel):
    """One entry of a creator's video list. ``counters`` only when the listing carries them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: Platform
    external_id: str
    published_at: datetime | None = None
    caption: str | None = None
    is_pinned: bool = False  # pinned videos come first, out of date order
    counters: VideoCounters | None = None
    # Why ``counters`` is None although the listing had counters for this item (e.g. a non-numeric count).
    counters_error: str | None = None


FetchResult = dict[str, VideoCounters | ProviderItemError]


class VideoProvider(Protocol):
    platform: Platform

    def fetch_videos(self, external_ids: Sequence[str]) -> FetchResult:
        """Counters of each requested id (every id is a key of the result).

        Per-video failures are values (``ProviderItemError``); a failure that stops the call raises a
        ``ProviderError`` whose ``partial`` holds what was fetched before.
        """
        ...

    def list_creator_videos(self, creator: str, limit: int) -> list[CreatorVideo]:
        """Up to ``limit`` of the creator's videos, newest first (after pinned ones), paging as needed."""
        ...


_INTEGER_TEXT = re.compile(r"-?[0-9]+")


class CounterError(ValueError):
    """A counter value that is not an integer (text, a fraction, a boolean)."""


class ItemShapeError(ValueError):
    """An item that is not the object the mapping expects (wrong type, another video's id)."""


def coerce_counter(value: object, name: str) -> Counter:
    """An API counter as int: ints, digit strings ("1776621") and integral floats are accepted.

    None and "" (blank counts, seen on YouTube Shorts) are missing, hence None. A negative number is a
    sentinel ("hidden", "not available": a like count of -1), hence None too: that metric is unknown, the
    video's other counters stay. Booleans, fractions and other text raise CounterError: better to fail that
    one video than to store garbage.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise CounterError(f"{name} is a boolean ({value!r}), not a count")
    if isinstance(value, int):
        result = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise CounterError(f"{name} is not a whole number: {value!r}")
        result = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        if not _INTEGER_TEXT.fullmatch(text):
            raise CounterError(f"{name} is not numeric: {value[:40]!r}")
        result = int(text)
    else:
        raise CounterError(f"{name} has an unexpected type {type(value).__name__}")
    if result < 0:
        return None
    return result


def from_unix(value: object) -> datetime | None:
    """A unix timestamp (int or digit string, seconds) as an aware UTC datetime; None if absent/unusable."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        seconds = int(str(value))
    except ValueError:
        return None
    if seconds <= 0:
        return None
    if seconds > 10**11:  # milliseconds
        seconds //= 1000
    return datetime.fromtimestamp(seconds, tz=UTC)


def id_str(value: object) -> str | None:
    """An external id as text. Ids must not pass through float: 19-digit ids lose precision there."""
    if value is None or isinstance(value, bool | float):
        return None
    text = str(value).strip()
    return text or None


# An id field of an API model: ints become text, floats (precision already lost) are refused as missing.
ExternalId = Annotated[str | None, BeforeValidator(id_str)]
