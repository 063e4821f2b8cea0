"""Provider failures, told apart by what the caller must do about them.

Two families:

* ``ProviderError`` is raised: the whole call (and usually the platform) cannot go on — bad key, quota,
  budget, outage. It carries ``partial``: the per-video outcomes gathered before it happened, so a
  batch's finished work is not lost.
* ``ProviderItemError`` is *returned* in ``fetch_videos`` results: one video failed (gone, absurd counters,
  provider error for that id) and the rest of the batch is fine.

No message ever contains the RapidAPI key: messages are built from the host, path, status and the
provider's own ``message`` text only.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from vidstats.platforms import Platform

if TYPE_CHECKING:
    from vidstats.providers.base import VideoCounters


class ProviderError(Exception):
    """A failure that stops the current provider call."""

    retryable: bool = False

    def __init__(self, platform: Platform, message: str) -> None:
        super().__init__(f"{platform.value}: {message}")
        self.platform = platform
        self.partial: dict[str, VideoCounters | ProviderItemError] = {}


class ProviderAuthError(ProviderError):
    """401/403: bad key, no subscription to this API, blocked account. Never retried; fix the setting."""


class ProviderConfigError(ProviderError):
    """The configuration is wrong in a way a retry cannot fix (e.g. an endpoint path that does not exist)."""


class RateLimitedError(ProviderError):
    """429 from the per-second/per-minute limit. ``retry_after`` (seconds) when the headers say."""

    retryable = True

    def __init__(self, platform: Platform, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(platform, message)
        self.retry_after = retry_after


class QuotaExhaustedError(ProviderError):
    """The plan's daily/monthly quota is used up; no call to this platform until ``reset_at``.

    ``reset_at`` is what the API said (None without a reset header); ``retry_at`` is when calls resume,
    that reset or our own guess (``quota_block_s``): work that hit the quota waits until then.
    """

    def __init__(self, platform: Platform, message: str, *, reset_at: datetime | None,
                 retry_at: datetime | None = None) -> None:
        super().__init__(platform, message)
        self.reset_at = reset_at
        self.retry_at = retry_at or reset_at


class BudgetExhaustedError(ProviderError):
    """Our own request budget says stop (before the plan's overage charges begin)."""

    def __init__(self, platform: Platform, message: str, *, remaining: int | None = None) -> None:
        super().__init__(platform, message)
        self.remaining = remaining


class ProviderUnavailableError(ProviderError):
    """Gateway 502, provider 5xx, timeout, connection error: transient, retry later."""

    retryable = True


class ProviderResponseError(ProviderError):
    """A page-level answer we cannot use (error envelope on a listing, unexpected shape)."""


class NotFoundError(ProviderError):
    """404 for a resource (a video or a creator). Providers turn it into VideoGoneError/CreatorNotFoundError."""


class CreatorNotFoundError(ProviderError):
    """The creator (handle, user id, channel) does not exist or is not visible."""


class ItemErrorReason(StrEnum):
    GONE = "gone"  # deleted, private, never existed
    INVALID_COUNTERS = "invalid_counters"  # negative or non-numeric counter
    INVALID_RESPONSE = "invalid_response"  # the item's JSON does not have the expected shape
    PROVIDER_ERROR = "provider_error"  # HTTP 200 with an error envelope for this id


class ProviderItemError(Exception):
    """One video could not be measured; returned as a value next to the other videos' counters."""

    reason: ItemErrorReason = ItemErrorReason.PROVIDER_ERROR

    def __init__(self, platform: Platform, external_id: str, message: str) -> None:
        super().__init__(f"{platform.value} video {external_id}: {message}")
        self.platform = platform
        self.external_id = external_id
        self.detail = message

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and isinstance(other, ProviderItemError)
            and (other.platform, other.external_id, other.detail) == (self.platform, self.external_id, self.detail)
        )

    def __hash__(self) -> int:
        return hash((type(self), self.platform, self.external_id, self.detail))


class VideoGoneError(ProviderItemError):
    reason = ItemErrorReason.GONE


class InvalidCountersError(ProviderItemError):
    reason = ItemErrorReason.INVALID_COUNTERS


class InvalidItemResponseError(ProviderItemError):
    reason = ItemErrorReason.INVALID_RESPONSE
