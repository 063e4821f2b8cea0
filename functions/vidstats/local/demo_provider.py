"""DEMO provider: synthetic, deterministic, growing counters for any video id. Not real data.

Used by ``vidstats dev`` when no RapidAPI key is configured, so every flow (tracking, fetching, refreshing,
the dashboard) works offline. Everything it returns is labelled: captions start with ``[demo]``,
``views_source`` is ``"demo"`` and ``raw`` says ``{"demo": true, ...}``.

The counters of a video are a pure function of (platform, id, time):

- a profile from a hash of the id: reach, how fast it saturates, a long tail of daily views, engagement
  rates; the publish time comes from the id when it carries one (TikTok ids hold their creation second in
  the top 32 bits; ids this provider lists for a creator carry it the same way), else from the hash;
- ``views(t) = reach * (1 - exp(-age / tau)) + tail * age + a weekly ripple`` that never makes it decrease; likes,
  comments, reposts and saves are rates of views. So counters only grow, and two fetches a day apart give a
  plausible daily increment.

The clock is injectable (``DemoClock``): tests and the demo-history loader ask "what would the counters
have been then".
"""

from __future__ import annotations

import base64
import hashlib
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vidstats.platforms import Platform
from vidstats.providers.base import CreatorVideo, FetchResult, VideoCounters

DEMO_LABEL = "[demo]"
DEMO_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
_PLAUSIBLE_FROM = datetime(2016, 9, 1, tzinfo=UTC)
_PLAUSIBLE_TO = datetime(2036, 1, 1, tzinfo=UTC)
_WEEK_RAD = 2 * math.pi / 7


class DemoClock:
    """Real UTC time plus an adjustable offset (zero unless a test or the history loader moves it)."""

    def __init__(self, base: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._base = base
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._base() + self._offset

    def set_offset(self, offset: timedelta) -> None:
        with self._lock:
            self._offset = offset

    @contextmanager
    def shifted(self, offset: timedelta) -> Iterator[None]:
        with self._lock:
            previous, self._offset = self._offset, offset
        try:
            yield
        finally:
            with self._lock:
                self._offset = previous

    __call__ = now


# The clock the providers built from the environment use (one per process, like the providers themselves).
DEMO_CLOCK = DemoClock()


def _unit(seed: str, label: str) -> float:
    """A uniform number in [0, 1) from the seed and a label."""
    digest = hashlib.sha256(f"{seed}|{label}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _hash32(seed: str) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big")


def _check16(platform: Platform, seconds: int, salt: int) -> int:
    return _hash32(f"demo:{platform.value}:{seconds}:{salt}") & 0xFFFF


def encode_id(platform: Platform, published_at: datetime, salt: str) -> str:
    """A platform-shaped id carrying its publish second (how this provider's listings name videos).

    TikTok: TikTok's own layout (the second in the top 32 bits, 19 digits). Instagram/YouTube: 11 base64url
    characters packing the second, a salt and a check, so ids this provider did not make are not misread.
    """
    seconds = int(published_at.timestamp())
    salt16 = _handle_salt(platform, salt)
    if platform is Platform.TIKTOK:
        return str((seconds << 32) | (salt16 << 16) | _check16(platform, seconds, salt16))
    packed = seconds.to_bytes(4, "big") + salt16.to_bytes(2, "big") + _check16(platform, seconds, salt16).to_bytes(
        2, "big")
    return base64.urlsafe_b64encode(packed).decode().rstrip("=")


def _handle_salt(platform: Platform, handle: str) -> int:
    return _hash32(f"{platform.value}:{handle.lower()}") & 0xFFFF


def _decoded(platform: Platform, external_id: str) -> tuple[int, int | None] | None:
    """(publish second, the listing creator's salt when the id is one this provider listed)."""
    if platform is Platform.TIKTOK and external_id.isdigit():
        number = int(external_id)
        seconds, salt16, check = number >> 32, (number >> 16) & 0xFFFF, number & 0xFFFF
        return seconds, salt16 if check == _check16(platform, seconds, salt16) else None
    if len(external_id) == 11:
        try:
            packed = base64.urlsafe_b64decode(external_id + "=")
        except ValueError:
            return None
        candidate, salt16, check = (int.from_bytes(packed[:4], "big"), int.from_bytes(packed[4:6], "big"),
                                    int.from_bytes(packed[6:8], "big"))
        if check == _check16(platform, candidate, salt16):
            return candidate, salt16
    return None


def decoded_publish_time(platform: Platform, external_id: str) -> datetime | None:
    """The publish time an id carries: any TikTok id (TikTok's layout), or an id this provider listed."""
    decoded = _decoded(platform, external_id)
    if decoded is None:
        return None
    moment = datetime.fromtimestamp(decoded[0], tz=UTC)
    return moment if _PLAUSIBLE_FROM <= moment < _PLAUSIBLE_TO else None


def demo_author_id(platform: Platform, salt16: int) -> str:
    """A creator's id: the same for the listing that named a video and for every later fetch of it."""
    return f"demo-{platform.value}-{salt16:05d}"


@dataclass(frozen=True)
class DemoProfile:
    platform: Platform
    external_id: str
    published_at: datetime
    reach: float  # views the initial burst approaches
    tau_days: float  # how fast the burst saturates
    tail_per_day: float  # steady views per day after it
    like_rate: float
    comment_rate: float
    repost_rate: float
    save_rate: float
    author: str

    @classmethod
    def of(cls, platform: Platform, external_id: str) -> DemoProfile:
        seed = f"{platform.value}:{external_id}"
        published = decoded_publish_time(platform, external_id) or (
            DEMO_EPOCH + timedelta(seconds=int(_unit(seed, "published") * 540 * 86400)))
        reach = 10 ** (3.5 + 2.5 * _unit(seed, "reach"))  # 3k .. 1M views
        return cls(
            platform=platform, external_id=external_id, published_at=published, reach=reach,
            tau_days=1.5 + 4.5 * _unit(seed, "tau"),
            tail_per_day=reach * (0.002 + 0.008 * _unit(seed, "tail")),
            like_rate=0.03 + 0.09 * _unit(seed, "likes"),
            comment_rate=0.002 + 0.008 * _unit(seed, "comments"),
            repost_rate=0.001 + 0.005 * _unit(seed, "reposts"),
            save_rate=0.002 + 0.013 * _unit(seed, "saves"),
            author=f"demo_creator_{int(_unit(seed, 'author') * 7) + 1}",
        )

    def views_at(self, at: datetime) -> int:
        age = (at - self.published_at).total_seconds() / 86400
        if age <= 0:
            return 0
        burst = self.reach * (1 - math.exp(-age / self.tau_days))
        # A weekly ripple whose slope is at most half the tail's: views never go down.
        ripple = 0.5 * self.tail_per_day / _WEEK_RAD * (1 - math.cos(_WEEK_RAD * age))
        return int(burst + self.tail_per_day * age + ripple)

    def counters_at(self, at: datetime, *, caption: str | None = None, author: str | None = None
                    ) -> VideoCounters:
        views = self.views_at(at)
        has_reposts = self.platform is not Platform.YOUTUBE
        has_saves = self.platform is Platform.TIKTOK
        # The author: the listing's creator (named by the listing, or by the salt its ids carry), else one
        # picked by the id's hash. Its id is the same whichever path names it, as a platform's would be.
        listed = _decoded(self.platform, self.external_id)
        if author is not None:
            author_id, username = demo_author_id(self.platform, _handle_salt(self.platform, author)), author
        elif listed is not None and listed[1] is not None:
            author_id, username = demo_author_id(self.platform, listed[1]), None
        else:
            author_id = demo_author_id(self.platform, _handle_salt(self.platform, self.author))
            username = self.author
        return VideoCounters(
            platform=self.platform,
            external_id=self.external_id,
            views=views,
            likes=int(views * self.like_rate),
            comments=int(views * self.comment_rate),
            reposts=int(views * self.repost_rate) if has_reposts else None,
            saves=int(views * self.save_rate) if has_saves else None,
            views_source="demo",
            caption=caption or f"{DEMO_LABEL} {self.platform.value} video {self.external_id} (synthetic counters)",
            published_at=self.published_at if self.published_at <= at else None,
            author_id=author_id,
            author_username=username,
            author_name=f"{DEMO_LABEL} {username}" if username else None,
            raw={"demo": True, "generator": "vidstats.local.demo_provider", "at": at.isoformat()},
        )


def counters_at(platform: Platform, external_id: str, at: datetime) -> VideoCounters:
    return DemoProfile.of(platform, external_id).counters_at(at)


class DemoProvider:
    """``VideoProvider`` with synthetic counters (see the module docstring). Never calls the network."""

    label = "demo (synthetic counters, no RapidAPI key configured)"

    def __init__(self, platform: Platform, clock: Callable[[], datetime] = DEMO_CLOCK) -> None:
        self.platform = platform
        self._clock = clock
        self.calls = 0

    def fetch_videos(self, external_ids: Sequence[str]) -> FetchResult:
        self.calls += 1
        at = self._clock()
        return {external_id: counters_at(self.platform, external_id, at) for external_id in external_ids}

    def list_creator_videos(self, creator: str, limit: int) -> list[CreatorVideo]:
        """The creator's videos up to now: one every 2-5 days (per creator), newest first, with counters."""
        self.calls += 1
        at = self._clock()
        handle = creator.strip().lstrip("@") or "creator"
        seed = f"{self.platform.value}:creator:{handle.lower()}"
        every = timedelta(days=2 + int(_unit(seed, "cadence") * 4), hours=int(_unit(seed, "hour") * 24))
        phase = DEMO_EPOCH + timedelta(hours=int(_unit(seed, "phase") * 48))
        slot = int((at - phase) / every)
        videos: list[CreatorVideo] = []
        for k in range(limit):
            published = phase + (slot - k) * every
            if published < phase:
                break
            published = published.replace(microsecond=0)
            external_id = encode_id(self.platform, published, handle.lower())
            caption = f"{DEMO_LABEL} @{handle} video #{slot - k + 1} (synthetic counters)"
            counters = DemoProfile.of(self.platform, external_id).counters_at(at, caption=caption, author=handle)
            videos.append(CreatorVideo(platform=self.platform, external_id=external_id, published_at=published,
                                       caption=caption, counters=counters))
        return videos
