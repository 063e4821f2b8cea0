"""Provider failures, told apart by what the caller must do about them.

Every failure has an ``error_class``: what it means for the video and for the queue (see ``ErrorClass``).
Providers classify answers by meaning, whatever their HTTP status (``classify``): a "please wait" text in an
HTTP 200 envelope is a throttle, a YouTube 403 ``quotaExceeded`` is a spent quota, not a bad key.

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

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from vidstats.platforms import Platform

if TYPE_CHECKING:
    from vidstats.providers.base import VideoCounters


class ErrorClass(StrEnum):
    """What a failed fetch means, and so what the queue does with it (stored as ``videos.last_error_class``)."""

    GONE = "gone"  # deleted, private, removed, not found: the video is marked gone after N separate days
    TRANSIENT = "transient"  # throttle, "try again later", 5xx, timeout: retried with backoff, the pace slows
    QUOTA = "quota"  # the plan's or the platform's quota is spent: held until it resets
    CONFIGURATION = "configuration"  # bad key, not subscribed, blocked user, wrong path: fix a setting
    BAD_INPUT = "bad_input"  # the id or URL we sent is not one the platform accepts
    INVALID_RESPONSE = "invalid_response"  # an answer we cannot read (unexpected shape, non-numeric counter)


class ProviderError(Exception):
    """A failure that stops the current provider call."""

    retryable: bool = False
    error_class: ErrorClass = ErrorClass.INVALID_RESPONSE

    def __init__(self, platform: Platform, message: str) -> None:
        super().__init__(f"{platform.value}: {message}")
        self.platform = platform
        self.partial: dict[str, VideoCounters | ProviderItemError] = {}


class ProviderAuthError(ProviderError):
    """401/403: bad key, no subscription to this API, blocked account. Never retried; fix the setting."""

    error_class = ErrorClass.CONFIGURATION


class ProviderConfigError(ProviderError):
    """The configuration is wrong in a way a retry cannot fix (e.g. an endpoint path that does not exist)."""

    error_class = ErrorClass.CONFIGURATION


class RateLimitedError(ProviderError):
    """429 from the per-second/per-minute limit. ``retry_after`` (seconds) when the headers say."""

    retryable = True
    error_class = ErrorClass.TRANSIENT

    def __init__(self, platform: Platform, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(platform, message)
        self.retry_after = retry_after


class QuotaExhaustedError(ProviderError):
    """The plan's daily/monthly quota is used up; no call to this platform until ``reset_at``.

    ``reset_at`` is what the API said (None without a reset header); ``retry_at`` is when calls resume,
    that reset or our own guess (``quota_block_s``): work that hit the quota waits until then.
    """

    error_class = ErrorClass.QUOTA

    def __init__(self, platform: Platform, message: str, *, reset_at: datetime | None,
                 retry_at: datetime | None = None) -> None:
        super().__init__(platform, message)
        self.reset_at = reset_at
        self.retry_at = retry_at or reset_at


class BudgetExhaustedError(ProviderError):
    """Our own request budget says stop (before the plan's overage charges begin)."""

    error_class = ErrorClass.QUOTA

    def __init__(self, platform: Platform, message: str, *, remaining: int | None = None) -> None:
        super().__init__(platform, message)
        self.remaining = remaining


class ProviderUnavailableError(ProviderError):
    """Gateway 502, provider 5xx, timeout, connection error, "try again later": transient, retry later."""

    retryable = True
    error_class = ErrorClass.TRANSIENT


class ProviderResponseError(ProviderError):
    """A page-level answer we cannot use (error envelope on a listing, unexpected shape)."""


class NotFoundError(ProviderError):
    """The resource (a video or a creator) is gone: 404, or an answer saying deleted / private / not found.
    Providers turn it into VideoGoneError/CreatorNotFoundError."""

    error_class = ErrorClass.GONE


class BadInputError(ProviderError):
    """The platform refuses the id or URL we sent ("Url parsing is failed", 400 invalid parameter)."""

    error_class = ErrorClass.BAD_INPUT


class CreatorNotFoundError(ProviderError):
    """The creator (handle, user id, channel) does not exist or is not visible."""

    error_class = ErrorClass.GONE


class ItemErrorReason(StrEnum):
    GONE = "gone"  # deleted, private, never existed
    INVALID_COUNTERS = "invalid_counters"  # non-numeric counter
    INVALID_RESPONSE = "invalid_response"  # the item's JSON does not have the expected shape
    PROVIDER_ERROR = "provider_error"  # HTTP 200 with an error envelope for this id
    BAD_INPUT = "bad_input"  # the platform refuses this id


class ProviderItemError(Exception):
    """One video could not be measured; returned as a value next to the other videos' counters."""

    reason: ItemErrorReason = ItemErrorReason.PROVIDER_ERROR
    error_class: ErrorClass = ErrorClass.INVALID_RESPONSE

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
    error_class = ErrorClass.GONE


class BadInputItemError(ProviderItemError):
    reason = ItemErrorReason.BAD_INPUT
    error_class = ErrorClass.BAD_INPUT


class InvalidCountersError(ProviderItemError):
    reason = ItemErrorReason.INVALID_COUNTERS


class InvalidItemResponseError(ProviderItemError):
    reason = ItemErrorReason.INVALID_RESPONSE


# --- classification by meaning ---------------------------------------------------------------------------

# Google API error reasons (``{"error": {"errors": [{"reason": ...}]}}``, YouTube Data API and its mirrors).
_REASONS: dict[str, ErrorClass] = {
    "quotaexceeded": ErrorClass.QUOTA,
    "dailylimitexceeded": ErrorClass.QUOTA,
    "dailylimitexceededunreg": ErrorClass.QUOTA,
    "ratelimitexceeded": ErrorClass.TRANSIENT,
    "userratelimitexceeded": ErrorClass.TRANSIENT,
    "backenderror": ErrorClass.TRANSIENT,
    "internalerror": ErrorClass.TRANSIENT,
    "keyinvalid": ErrorClass.CONFIGURATION,
    "keyexpired": ErrorClass.CONFIGURATION,
    "accessnotconfigured": ErrorClass.CONFIGURATION,
    "iprefererblocked": ErrorClass.CONFIGURATION,
    "videonotfound": ErrorClass.GONE,
    "notfound": ErrorClass.GONE,
    "badrequest": ErrorClass.BAD_INPUT,
    "invalidparameter": ErrorClass.BAD_INPUT,
    "invalidvalue": ErrorClass.BAD_INPUT,
    "missingrequiredparameter": ErrorClass.BAD_INPUT,
}

# Phrases of provider messages, checked in this order (the first class with a match wins): a quota text
# mentions limits, a throttle text may say "unavailable", a gone text is the least specific.
_PHRASES: tuple[tuple[ErrorClass, tuple[str, ...]], ...] = (
    (ErrorClass.QUOTA, ("quota", "daily limit", "monthly limit")),
    (ErrorClass.CONFIGURATION, ("api key", "not subscribed", "does not include", "blocked user",
                                "contact your api provider", "subscription")),
    (ErrorClass.TRANSIENT, ("too many requests", "rate limit", "please wait", "a few minutes", "try again",
                            "retry later", "slow down", "temporarily", "timeout", "timed out", "server error",
                            "internal error", "service unavailable", "busy", "overloaded", "gateway")),
    (ErrorClass.BAD_INPUT, ("url parsing", "check url", "check the url", "invalid url", "invalid id",
                            "invalid video id", "invalid parameter", "invalid shortcode", "bad request",
                            "missing parameter", "not a valid")),
    (ErrorClass.GONE, ("not found", "deleted", "private", "removed", "no longer", "does not exist",
                       "doesn't exist", "not exist", "unavailable", "not available", "taken down")),
)

# Phrases that say "wait", as opposed to "the provider broke": a throttle (RateLimitedError) rather than
# an outage (ProviderUnavailableError). Both are retried; both slow the pace.
THROTTLE_PHRASES = ("too many requests", "rate limit", "please wait", "a few minutes", "slow down")


def classify(message: str | None, reasons: Sequence[str] = ()) -> ErrorClass | None:
    """What a provider's error text (and Google-style reasons) means; None when nothing is recognised."""
    for reason in reasons:
        found = _REASONS.get(reason.lower())
        if found is not None:
            return found
    if not message:
        return None
    lowered = message.lower()
    for error_class, phrases in _PHRASES:
        if any(phrase in lowered for phrase in phrases):
            return error_class
    return None


def google_reasons(body: object) -> list[str]:
    """The ``reason`` of each entry of a Google API error body (empty for any other body)."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return []
    error = body["error"]
    entries = error.get("errors") or []
    reasons = [e["reason"] for e in entries if isinstance(e, dict) and isinstance(e.get("reason"), str)]
    if isinstance(error.get("status"), str) and error["status"] == "RESOURCE_EXHAUSTED":
        reasons.append("quotaExceeded")
    return reasons
