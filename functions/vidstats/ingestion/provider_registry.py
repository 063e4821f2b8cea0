"""One provider per platform per process (quota blocks and pacing live on them), built on first use."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from vidstats.platforms import Platform
from vidstats.providers.base import VideoProvider
from vidstats.providers.catalogue import make_provider

if TYPE_CHECKING:
    import httpx

ProviderFactory = Callable[[Platform], VideoProvider]

log = logging.getLogger(__name__)


def rapidapi_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment with ``RAPIDAPI_KEY`` filled from ``RAPIDAPI_KEY_SECRET_ID`` (Secrets Manager) if needed.

    The secret is read once per warm container (Powertools parameters cache) and never logged.
    """
    values = dict(os.environ if env is None else env)
    if not values.get("RAPIDAPI_KEY") and values.get("RAPIDAPI_KEY_SECRET_ID"):
        from aws_lambda_powertools.utilities import parameters

        values["RAPIDAPI_KEY"] = str(parameters.get_secret(values["RAPIDAPI_KEY_SECRET_ID"]))
    return values


def demo_provider_requested(env: Mapping[str, str] | None = None) -> bool:
    """``VIDSTATS_DEMO_PROVIDER=true`` (set by ``vidstats dev`` when no RapidAPI key is configured).

    Ignored, with an error logged, inside a deployed Lambda: production never answers with synthetic counters.
    """
    values = os.environ if env is None else env
    if values.get("VIDSTATS_DEMO_PROVIDER", "").strip().lower() not in ("1", "true", "yes"):
        return False
    if values.get("AWS_LAMBDA_FUNCTION_NAME") and not values.get("AWS_SAM_LOCAL"):
        log.error("VIDSTATS_DEMO_PROVIDER is set in a deployed Lambda: ignored, the RapidAPI providers are used")
        return False
    return True


class ProviderRegistry:
    def __init__(self, factory: ProviderFactory) -> None:
        self._factory = factory
        self._providers: dict[Platform, VideoProvider] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls, client: httpx.Client, env: Mapping[str, str] | None = None) -> ProviderRegistry:
        resolved: dict[str, str] | None = None
        if demo_provider_requested(env):
            # `vidstats dev` without a RapidAPI key: synthetic, clearly labelled counters (never in AWS).
            from vidstats.local.demo_provider import DemoProvider

            return cls(DemoProvider)

        def factory(platform: Platform) -> VideoProvider:
            nonlocal resolved
            if resolved is None:
                resolved = rapidapi_environment(env)
            return make_provider(platform, client, env=resolved)

        return cls(factory)

    def get(self, platform: Platform) -> VideoProvider:
        with self._lock:
            provider = self._providers.get(platform)
            if provider is None:
                provider = self._providers[platform] = self._factory(platform)
            return provider

    __call__ = get
