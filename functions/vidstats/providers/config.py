"""RapidAPI settings per platform, read from environment variables.

Names (``<P>`` is TIKTOK, INSTAGRAM or YOUTUBE; a platform-specific variable wins over the shared one):

* ``RAPIDAPI_KEY`` / ``RAPIDAPI_<P>_KEY``: the X-RapidAPI-Key (required).
* ``RAPIDAPI_<P>_HOST``: the API host; defaults below (tiktok-scraper7, instagram-looter2, youtube-v31).
* ``RAPIDAPI_<P>_PATH_<NAME>``: an endpoint path, e.g. ``RAPIDAPI_TIKTOK_PATH_VIDEO=/video/info``.
* ``RAPIDAPI_[<P>_]RPS``: requests per second sent to that host (our pacing, below the plan's limit).
* ``RAPIDAPI_[<P>_]TIMEOUT_S``, ``RAPIDAPI_[<P>_]MAX_ATTEMPTS``, ``RAPIDAPI_[<P>_]BACKOFF_S``: per request.
* ``RAPIDAPI_[<P>_]BUDGET_RESERVE``: stop once ``x-ratelimit-requests-remaining`` is at or below this
  (0 = never run into overage); ``RAPIDAPI_[<P>_]MAX_REQUESTS``: hard cap of requests per provider instance.
* ``RAPIDAPI_[<P>_]QUOTA_BLOCK_S``: pause after a spent quota without a reset time; ``RAPIDAPI_[<P>_]CONFIG_BLOCK_S``:
  pause after a configuration failure (bad key, not subscribed).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from vidstats.platforms import Platform

DEFAULT_HOSTS: dict[Platform, str] = {
    Platform.TIKTOK: "tiktok-scraper7.p.rapidapi.com",
    Platform.INSTAGRAM: "instagram-looter2.p.rapidapi.com",
    Platform.YOUTUBE: "youtube-v31.p.rapidapi.com",
}

DEFAULT_PATHS: dict[Platform, dict[str, str]] = {
    # tikwm: GET /?url=<id or url>; GET /user/posts?unique_id=&count=&cursor=
    Platform.TIKTOK: {"video": "/", "user_posts": "/user/posts"},
    # looter2: GET /post?id=<shortcode>; GET /id?username=; GET /reels?id=<user pk>&count=&max_id=
    Platform.INSTAGRAM: {"post": "/post", "user_id": "/id", "reels": "/reels"},
    # Data API v3 clone: /videos?id=a,b,c; /search?channelId=; /channels?forHandle=
    Platform.YOUTUBE: {"videos": "/videos", "search": "/search", "channels": "/channels"},
}

_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")
_PATH = re.compile(r"/[A-Za-z0-9/_.-]*")


class ProviderConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: Platform
    host: str
    key: SecretStr = Field(repr=False)
    paths: dict[str, str]
    timeout_s: float = Field(default=20.0, gt=0)  # looter2's listed latency is ~3.5 s
    requests_per_second: float = Field(default=1.0, gt=0)  # BASIC plans allow ~1 req/s
    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_s: float = Field(default=1.1, ge=0)  # a 429 without Retry-After cleared after ~1.1 s
    max_retry_after_s: float = Field(default=30.0, ge=0)  # longer waits are not worth a Lambda's time
    budget_reserve: int = Field(default=0, ge=0)
    max_requests: int | None = Field(default=None, ge=0)
    # When a quota 429 has no reset header: how long to stop calling the platform.
    quota_block_s: float = Field(default=3600.0, ge=0)
    # After a configuration failure (bad key, not subscribed): no call to the host for this long, so a wrong
    # setting costs one call per warm container, not one per batch.
    config_block_s: float = Field(default=900.0, ge=0)

    @field_validator("host")
    @classmethod
    def _host_is_a_bare_hostname(cls, value: str) -> str:
        value = value.strip().lower()
        if not _HOST.fullmatch(value):
            raise ValueError("must be a bare host name such as tiktok-scraper7.p.rapidapi.com")
        return value

    @field_validator("paths")
    @classmethod
    def _paths_are_absolute(cls, value: dict[str, str]) -> dict[str, str]:
        for name, path in value.items():
            if not _PATH.fullmatch(path):
                raise ValueError(f"path {name!r} must start with / and hold no query: {path!r}")
        return value

    def path(self, name: str) -> str:
        return self.paths[name]

    def setting_name(self, suffix: str) -> str:
        """The environment variable a message should tell the operator to fix."""
        return f"RAPIDAPI_{self.platform.name}_{suffix}"


class ProviderConfigurationError(ValueError):
    """The environment does not describe a usable provider configuration."""


_SHARED_SETTINGS = {
    "timeout_s": "TIMEOUT_S",
    "requests_per_second": "RPS",
    "max_attempts": "MAX_ATTEMPTS",
    "backoff_s": "BACKOFF_S",
    "max_retry_after_s": "MAX_RETRY_AFTER_S",
    "budget_reserve": "BUDGET_RESERVE",
    "max_requests": "MAX_REQUESTS",
    "quota_block_s": "QUOTA_BLOCK_S",
    "config_block_s": "CONFIG_BLOCK_S",
}


def load_provider_config(platform: Platform, env: Mapping[str, str] | None = None) -> ProviderConfig:
    """The configuration of ``platform`` from ``env`` (default: ``os.environ``)."""
    env = os.environ if env is None else env
    prefix = f"RAPIDAPI_{platform.name}_"

    def lookup(suffix: str) -> str | None:
        value = env.get(prefix + suffix) or env.get("RAPIDAPI_" + suffix)
        return value.strip() if value and value.strip() else None

    key = lookup("KEY")
    if key is None:
        raise ProviderConfigurationError(f"No RapidAPI key for {platform.value}: set RAPIDAPI_KEY or {prefix}KEY")
    paths = dict(DEFAULT_PATHS[platform])
    for name in paths:
        override = env.get(f"{prefix}PATH_{name.upper()}")
        if override:
            paths[name] = override.strip()
    data: dict[str, Any] = {
        "platform": platform,
        "host": env.get(prefix + "HOST") or DEFAULT_HOSTS[platform],
        "key": key,
        "paths": paths,
    }
    for field, suffix in _SHARED_SETTINGS.items():
        value = lookup(suffix)
        if value is not None:
            data[field] = value
    try:
        return ProviderConfig.model_validate(data)
    except ValidationError as exc:
        # Re-worded so the message names environment variables and never echoes the key's value.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_input=False)
        )
        raise ProviderConfigurationError(
            f"Invalid RapidAPI settings for {platform.value} ({prefix}*): {problems}"
        ) from None
