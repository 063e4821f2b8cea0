"""Provider settings from the environment; the key never shows in reprs or error messages."""

from __future__ import annotations

import httpx
import pytest
from vidstats.platforms import Platform
from vidstats.providers.catalogue import make_provider
from vidstats.providers.config import ProviderConfigurationError, load_provider_config
from vidstats.providers.youtube import YouTubeProvider

KEY = "secret-key-4c2d"


def test_defaults_from_the_reference() -> None:
    config = load_provider_config(Platform.TIKTOK, {"RAPIDAPI_KEY": KEY})
    assert config.host == "tiktok-scraper7.p.rapidapi.com"
    assert config.paths == {"video": "/", "user_posts": "/user/posts"}
    assert load_provider_config(Platform.INSTAGRAM, {"RAPIDAPI_KEY": KEY}).host == "instagram-looter2.p.rapidapi.com"
    assert load_provider_config(Platform.YOUTUBE, {"RAPIDAPI_KEY": KEY}).host == "youtube-v31.p.rapidapi.com"
    assert config.key.get_secret_value() == KEY
    assert KEY not in repr(config)
    assert KEY not in str(config.model_dump())


def test_platform_settings_override_shared_ones() -> None:
    env = {
        "RAPIDAPI_KEY": KEY,
        "RAPIDAPI_YOUTUBE_KEY": "youtube-only-key",
        "RAPIDAPI_YOUTUBE_HOST": "YouTube-V31.p.rapidapi.com",
        "RAPIDAPI_YOUTUBE_PATH_VIDEOS": "/v3/videos",
        "RAPIDAPI_RPS": "2",
        "RAPIDAPI_YOUTUBE_RPS": "5",
        "RAPIDAPI_MAX_ATTEMPTS": "4",
        "RAPIDAPI_YOUTUBE_BUDGET_RESERVE": "100",
        "RAPIDAPI_YOUTUBE_MAX_REQUESTS": "500",
    }
    config = load_provider_config(Platform.YOUTUBE, env)
    assert config.key.get_secret_value() == "youtube-only-key"
    assert config.host == "youtube-v31.p.rapidapi.com"
    assert config.path("videos") == "/v3/videos"
    assert (config.requests_per_second, config.max_attempts) == (5.0, 4)
    assert (config.budget_reserve, config.max_requests) == (100, 500)
    assert load_provider_config(Platform.TIKTOK, env).requests_per_second == 2.0


def test_missing_key_names_the_variables() -> None:
    with pytest.raises(ProviderConfigurationError, match="RAPIDAPI_KEY or RAPIDAPI_INSTAGRAM_KEY"):
        load_provider_config(Platform.INSTAGRAM, {"RAPIDAPI_KEY": "  "})


@pytest.mark.parametrize(("name", "value"), [
    ("RAPIDAPI_TIKTOK_HOST", "https://evil.example/x"),
    ("RAPIDAPI_TIKTOK_PATH_VIDEO", "video?x=1"),
    ("RAPIDAPI_TIKTOK_RPS", "0"),
    ("RAPIDAPI_TIKTOK_MAX_ATTEMPTS", "many"),
])
def test_invalid_settings_are_refused_without_echoing_the_key(name: str, value: str) -> None:
    with pytest.raises(ProviderConfigurationError) as info:
        load_provider_config(Platform.TIKTOK, {"RAPIDAPI_KEY": KEY, name: value})
    assert "RAPIDAPI_TIKTOK_" in str(info.value)
    assert KEY not in str(info.value)


def test_make_provider_builds_the_platform_provider() -> None:
    with httpx.Client() as client:
        provider = make_provider(Platform.YOUTUBE, client, env={"RAPIDAPI_KEY": KEY})
    assert isinstance(provider, YouTubeProvider)
    assert provider.api.config.platform is Platform.YOUTUBE
