"""Shared helpers: provider construction with no real sleeps, recorded responses, a network-blocking router."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from vidstats.platforms import Platform
from vidstats.providers.common import RapidApiProvider
from vidstats.providers.config import DEFAULT_HOSTS, DEFAULT_PATHS, ProviderConfig
from vidstats.providers.ratelimit import RateLimiter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rapidapi"
KEY = "test-key-7f3a9c1e5b"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def make_config(platform: Platform, **overrides: Any) -> ProviderConfig:
    values: dict[str, Any] = {
        "platform": platform,
        "host": DEFAULT_HOSTS[platform],
        "key": KEY,
        "paths": dict(DEFAULT_PATHS[platform]),
        "backoff_s": 0.0,
        "requests_per_second": 1000.0,
    }
    values.update(overrides)
    return ProviderConfig.model_validate(values)


class Sleeps:
    """Records requested sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class FakeClock:
    def __init__(self, now: float = 1_760_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def url(platform: Platform, path_name: str) -> str:
    return f"https://{DEFAULT_HOSTS[platform]}{DEFAULT_PATHS[platform][path_name]}"


@pytest.fixture
def http_client() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


P = TypeVar("P", bound=RapidApiProvider)


def build(
    cls: type[P], client: httpx.Client, sleeps: Sleeps, clock: FakeClock | None = None, **overrides: Any
) -> P:
    return cls(
        make_config(cls.platform, **overrides),
        client,
        limiter=RateLimiter(1e9, sleep=sleeps),
        sleep=sleeps,
        clock=clock or FakeClock(),
    )
