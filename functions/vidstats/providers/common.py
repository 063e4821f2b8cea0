"""What the three RapidAPI providers share: construction, per-video loops, item-to-model mapping guard."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpx
from pydantic import ValidationError

from vidstats.platforms import Platform
from vidstats.providers.base import CounterError, CreatorVideo, FetchResult, ItemShapeError, VideoCounters
from vidstats.providers.config import ProviderConfig
from vidstats.providers.errors import (
    BadInputError,
    BadInputItemError,
    InvalidCountersError,
    InvalidItemResponseError,
    NotFoundError,
    ProviderError,
    ProviderItemError,
    VideoGoneError,
)
from vidstats.providers.http import RapidApiClient
from vidstats.providers.ratelimit import RateLimiter


class RapidApiProvider(ABC):
    """Base of the providers (implements ``VideoProvider``). ``client`` is injected so tests replay with respx."""

    platform: Platform

    def __init__(
        self,
        config: ProviderConfig,
        client: httpx.Client,
        *,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if config.platform is not self.platform:
            raise ValueError(f"{type(self).__name__} needs a {self.platform.value} configuration")
        self.api = RapidApiClient(config, client, limiter=limiter, sleep=sleep, clock=clock)

    def begin_batch(self) -> None:
        """A new queue batch begins: the pace a previous batch's transient failures slowed is restored."""
        self.api.begin_batch()

    @abstractmethod
    def fetch_videos(self, external_ids: Sequence[str]) -> FetchResult: ...

    @abstractmethod
    def list_creator_videos(self, creator: str, limit: int) -> list[CreatorVideo]: ...

    def _fetch_one_by_one(
        self, external_ids: Iterable[str], fetch_one: Callable[[str], VideoCounters | ProviderItemError]
    ) -> FetchResult:
        """For APIs without batch lookups: one call per id; a call-stopping error keeps what was done."""
        results: FetchResult = {}
        for external_id in unique_ids(external_ids):
            try:
                results[external_id] = fetch_one(external_id)
            except NotFoundError as exc:
                results[external_id] = VideoGoneError(self.platform, external_id, str(exc))
            except BadInputError as exc:
                results[external_id] = BadInputItemError(self.platform, external_id, str(exc))
            except ProviderError as exc:
                exc.partial = results
                raise
        return results

    def _map_item(
        self, external_id: str, item: Any, mapper: Callable[[str, Any], VideoCounters]
    ) -> VideoCounters | ProviderItemError:
        """Runs the provider's one mapping function and turns bad data into an error for this video only."""
        try:
            return mapper(external_id, item)
        except CounterError as exc:
            return InvalidCountersError(self.platform, external_id, str(exc))
        except ItemShapeError as exc:
            return InvalidItemResponseError(self.platform, external_id, str(exc))
        except ValidationError as exc:
            detail = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_input=False)
            )
            if any(err["type"] in ("greater_than_equal", "int_parsing") for err in exc.errors()):
                return InvalidCountersError(self.platform, external_id, detail)
            return InvalidItemResponseError(self.platform, external_id, f"unexpected item shape: {detail}")


def unique_ids(external_ids: Iterable[str]) -> list[str]:
    """The ids in order, without blanks or repeats (a repeated id would cost a second request)."""
    seen: dict[str, None] = {}
    for external_id in external_ids:
        if external_id:
            seen.setdefault(external_id, None)
    return list(seen)


def chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
