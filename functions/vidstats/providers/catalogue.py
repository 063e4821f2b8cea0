"""The provider of each platform, and ``make_provider``, which builds the configured one from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from vidstats.platforms import Platform
from vidstats.providers.base import CreatorVideo, FetchResult, VideoCounters, VideoProvider
from vidstats.providers.common import RapidApiProvider
from vidstats.providers.config import ProviderConfig, load_provider_config
from vidstats.providers.instagram import InstagramProvider
from vidstats.providers.tiktok import TikTokProvider
from vidstats.providers.youtube import YouTubeProvider

if TYPE_CHECKING:
    import httpx

PROVIDERS: dict[Platform, type[RapidApiProvider]] = {
    Platform.TIKTOK: TikTokProvider,
    Platform.INSTAGRAM: InstagramProvider,
    Platform.YOUTUBE: YouTubeProvider,
}


def make_provider(
    platform: Platform, client: httpx.Client, *, env: Mapping[str, str] | None = None
) -> RapidApiProvider:
    """The provider of ``platform`` configured from the environment (see ``providers.config``)."""
    return PROVIDERS[platform](load_provider_config(platform, env), client)


__all__ = [
    "PROVIDERS",
    "CreatorVideo",
    "FetchResult",
    "InstagramProvider",
    "ProviderConfig",
    "TikTokProvider",
    "VideoCounters",
    "VideoProvider",
    "YouTubeProvider",
    "make_provider",
]
