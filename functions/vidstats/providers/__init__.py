"""Video statistics providers (RapidAPI), one per platform, behind ``VideoProvider``.

``make_provider`` builds the configured provider of a platform from the environment.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from vidstats.platforms import Platform
from vidstats.providers.base import CreatorVideo, FetchResult, VideoCounters, VideoProvider
from vidstats.providers.common import RapidApiProvider
from vidstats.providers.config import ProviderConfig, load_provider_config
from vidstats.providers.instagram import InstagramProvider
from vidstats.providers.tiktok import TikTokProvider
from vidstats.providers.youtube import YouTubeProvider

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
