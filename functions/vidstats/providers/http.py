"""The one HTTP path to RapidAPI: pacing, quota/budget guards, bounded retries, error classification.

Answers are classified by what they say first, by their status second (``errors.classify``), whatever the
status: an HTTP 200 error envelope (the provider passes ``envelope``: tikwm ``code != 0``, looter2
``status: false``, a Google ``error`` object) goes through the same classification as an error status, inside
the retry loop, so a "please wait a few minutes" envelope is retried like a 429. Status codes per the RapidAPI
proxy (reference §2): 401/403 bad key / not subscribed / blocked, 429 either the per-second limit or the
DAILY/MONTHLY quota (told apart by the message), 404 either an unknown endpoint (our configuration) or an
unknown resource, 502 gateway, 5xx provider. A YouTube ``quotaExceeded`` (any status) is Google's daily
quota: it resets at midnight Pacific time, whatever RapidAPI's headers say about the plan.

Every transient failure slows this host's pace (``RateLimiter.slow_down``) until the next batch begins
(``begin_batch``); a configuration failure stops calls to the host for ``config_block_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from vidstats.platforms import Platform
from vidstats.providers.config import ProviderConfig
from vidstats.providers.errors import (
    THROTTLE_PHRASES,
    BadInputError,
    BudgetExhaustedError,
    ErrorClass,
    NotFoundError,
    ProviderAuthError,
    ProviderConfigError,
    ProviderError,
    ProviderResponseError,
    ProviderUnavailableError,
    QuotaExhaustedError,
    RateLimitedError,
    classify,
    google_reasons,
)
from vidstats.providers.quota_reset import next_platform_quota_reset
from vidstats.providers.ratelimit import RateLimiter, shared_limiter

log = logging.getLogger(__name__)

# A reset header above this is an epoch timestamp, below it a number of seconds (docs allow both).
_EPOCH_THRESHOLD = 1_000_000_000

# CloudWatch metric (namespace vidstats, dimension platform, plus Powertools' service) of the plan quota left, as
# the last answer's x-ratelimit-*-remaining headers said; template.yaml alarms when it falls under a reserve.
QUOTA_METRIC = "ProviderQuotaRemaining"
QUOTA_METRIC_NAMESPACE = "vidstats"
QUOTA_METRIC_INTERVAL_S = 60.0  # at most one data point a minute per host: alarms look at 5-minute minimums

# Reads a 200 body: the provider's error text when the body is an error envelope, else None.
Envelope = Callable[[Any], str | None]


class RapidApiClient:
    """Sends GETs to one RapidAPI host with the key, and remembers quota state between calls.

    The quota block and the observed remaining budget live on this instance: keep one per platform for
    the lifetime of the process (a warm Lambda) so a spent quota is not hit again on the next message.
    """

    def __init__(
        self,
        config: ProviderConfig,
        client: httpx.Client,
        *,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._client = client
        self._limiter = limiter or shared_limiter(config.host, config.requests_per_second)
        self._sleep = sleep
        self._clock = clock
        self.blocked_until: float | None = None  # epoch seconds; set by a quota 429
        self.remaining: int | None = None  # lowest x-ratelimit-*-remaining seen (plan quota)
        self.requests_sent = 0
        self._quota_published_at: float | None = None
        self._remaining_observed = False  # the last answer gave the quota left (not yet published)
        self._quota_lock = threading.Lock()  # one client serves a batch's concurrent fetches
        # A configuration failure (bad key, not subscribed): no call to this host until then (epoch seconds).
        self.config_error: ProviderError | None = None
        self.config_blocked_until: float | None = None

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    def begin_batch(self) -> None:
        """A new batch: the pace slowed by the last batch's transient failures is restored."""
        self._limiter.restore_pace()

    @property
    def platform(self) -> Platform:
        return self.config.platform

    def get_json(self, path_name: str, params: Mapping[str, str], *, envelope: Envelope | None = None) -> Any:
        """The decoded JSON body of a successful GET, retrying transient failures a bounded number of times.

        ``envelope`` reads the provider's error envelope of a 200 answer: such an answer is classified and
        raised (or retried) like an error status.
        """
        path = self.config.path(path_name)
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(path_name, path, params, after_backoff=attempt > 1, envelope=envelope)
            except ProviderError as error:
                if error.error_class is ErrorClass.TRANSIENT:
                    # The provider is struggling: send slower for the rest of the batch (every thread).
                    self._limiter.slow_down()
                elif error.error_class is ErrorClass.CONFIGURATION and self.config_error is None:
                    self._block_for_configuration(error)
                delay = self._retry_delay(error, attempt)
                if delay is None:
                    raise
                log.warning("%s%s: %s; retry %d in %.1fs", self.config.host, path, type(error).__name__, attempt, delay)
                if isinstance(error, RateLimitedError):
                    # Slow every thread sharing this host's pace, not just this one (no 429 storm).
                    self._limiter.pause(delay)
                if delay > 0:
                    self._sleep(delay)

    def _attempt(self, path_name: str, path: str, params: Mapping[str, str], *, after_backoff: bool = False,
                 envelope: Envelope | None = None) -> Any:
        self._check_quota_and_budget()
        self._limiter.acquire(respect_pause=not after_backoff)
        self.requests_sent += 1
        try:
            response = self._client.get(
                f"https://{self.config.host}{path}",
                params=dict(params),
                headers={
                    "X-RapidAPI-Key": self.config.key.get_secret_value(),
                    "X-RapidAPI-Host": self.config.host,
                    "Accept": "application/json",
                },
                timeout=self.config.timeout_s,
                follow_redirects=False,
            )
        except httpx.TimeoutException as exc:
            raise ProviderUnavailableError(
                self.platform, f"{path} timed out after {self.config.timeout_s:g}s ({type(exc).__name__})"
            ) from None
        except httpx.TransportError as exc:
            raise ProviderUnavailableError(
                self.platform, f"{path}: connection failed ({type(exc).__name__})"
            ) from None
        self._observe_budget(response.headers)
        try:
            if response.status_code == 200:
                try:
                    body = response.json()
                except ValueError:
                    raise ProviderUnavailableError(
                        self.platform, f"{path} answered 200 with a body that is not JSON"
                    ) from None
                # A Google-style error object is an error whatever the provider's own envelope says.
                text = envelope(body) if envelope is not None else None
                if text is None and google_reasons(body):
                    text = error_message(body) or "error"
                if text is None:
                    return body
                raise self._classify(response, path_name, path, body=body, text=self._scrub(text))
            raise self._classify(response, path_name, path)
        finally:
            # Only once the answer is classified (a spent quota blocks the host first): other threads must see
            # the block, not just the budget the headers gave, and the metric line takes a moment to write.
            self._publish_remaining()

    def _retry_delay(self, error: ProviderError, attempt: int) -> float | None:
        if not error.retryable or attempt >= self.config.max_attempts:
            return None
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            if error.retry_after > self.config.max_retry_after_s:
                return None  # the caller re-queues; waiting that long here would burn the Lambda's time
            return error.retry_after
        return float(self.config.backoff_s * 2 ** (attempt - 1))

    # --- quota and budget -------------------------------------------------------------------------

    def _block_for_configuration(self, error: ProviderError) -> None:
        self.config_error = error
        self.config_blocked_until = self._clock() + self.config.config_block_s
        log.error("%s: %s (no call to this host for %.0fs)", self.config.host, error, self.config.config_block_s)

    def _check_quota_and_budget(self) -> None:
        now = self._clock()
        if self.config_blocked_until is not None and self.config_error is not None:
            if now < self.config_blocked_until:
                # The same loud error, without a call: a bad key is not tried again every few seconds.
                blocked = type(self.config_error)(self.platform, str(self.config_error).split(": ", 1)[-1])
                raise blocked
            self.config_blocked_until = None
            self.config_error = None
        if self.blocked_until is not None:
            if now < self.blocked_until:
                raise QuotaExhaustedError(
                    self.platform,
                    f"quota of {self.config.host} exhausted; not calling it again before "
                    f"{_iso(self.blocked_until)}",
                    reset_at=datetime.fromtimestamp(self.blocked_until, tz=UTC),
                )
            self.blocked_until = None
            self.remaining = None  # a new period: the old count no longer applies
        if self.remaining is not None and self.remaining <= self.config.budget_reserve:
            raise BudgetExhaustedError(
                self.platform,
                f"{self.config.host} has {self.remaining} plan requests left, at or below the reserve of "
                f"{self.config.budget_reserve} ({self.config.setting_name('BUDGET_RESERVE')}); stopping before "
                "overage charges",
                remaining=self.remaining,
            )
        if self.config.max_requests is not None and self.requests_sent >= self.config.max_requests:
            raise BudgetExhaustedError(
                self.platform,
                f"request cap of {self.config.max_requests} for this run reached "
                f"({self.config.setting_name('MAX_REQUESTS')})",
                remaining=self.remaining,
            )

    def _observe_budget(self, headers: httpx.Headers) -> None:
        """Lowest plan quota left, from ``x-ratelimit-requests-remaining`` and per-unit variants.

        The bare ``x-ratelimit-remaining`` is the 60-second window, not the plan, so it is not budget.
        """
        values = []
        for name, value in headers.items():
            name = name.lower()
            if name.startswith("x-ratelimit-") and name.endswith("-remaining") and name != "x-ratelimit-remaining":
                number = _int_or_none(value)
                if number is not None:
                    values.append(number)
        if values:
            self.remaining = min(values)
            self._remaining_observed = True

    def _publish_remaining(self) -> None:
        """The quota left, as the last answer's headers gave it, as a CloudWatch metric (an EMF line on stdout),
        at most once per interval."""
        remaining = self.remaining
        if remaining is None or not self._remaining_observed:
            return
        now = self._clock()
        with self._quota_lock:
            self._remaining_observed = False
            if self._quota_published_at is not None and now - self._quota_published_at < QUOTA_METRIC_INTERVAL_S:
                return
            self._quota_published_at = now
        with single_metric(name=QUOTA_METRIC, unit=MetricUnit.Count, value=remaining,
                           namespace=QUOTA_METRIC_NAMESPACE) as metric:
            metric.add_dimension(name="platform", value=self.platform.value)

    def _quota_reset(self, headers: httpx.Headers) -> float | None:
        """Epoch seconds when the plan quota resets, from ``x-ratelimit-requests-reset`` (or a unit variant)."""
        candidates = [headers.get("x-ratelimit-requests-reset")]
        candidates += [
            value
            for name, value in headers.items()
            if name.lower().startswith("x-ratelimit-") and name.lower().endswith("-reset")
            and name.lower() not in ("x-ratelimit-reset", "x-ratelimit-requests-reset")
        ]
        for value in candidates:
            number = _int_or_none(value)
            if number is not None:
                return float(number) if number > _EPOCH_THRESHOLD else self._clock() + number
        return None

    # --- classification ---------------------------------------------------------------------------

    def _classify(self, response: httpx.Response, path_name: str, path: str, *, body: Any = None,
                  text: str | None = None) -> ProviderError:
        """The error an answer means: its text and Google reasons first, its status when they say nothing."""
        status = response.status_code
        if text is None:
            body = _json_or_none(response)
            message = self._body_message(response)
        else:
            message = text
        reasons = google_reasons(body)
        lowered = message.lower()
        shown = f" ({message})" if message else ""
        host = self.config.host
        where = f"HTTP {status} from {host}{path}" if status != 200 else f"{host}{path} answered an error"
        if status == 404 and lowered.startswith("endpoint") and "does not exist" in lowered:
            return ProviderConfigError(
                self.platform,
                f"{path} does not exist on {host}{shown}: check "
                f"{self.config.setting_name('PATH_' + path_name.upper())} and {self.config.setting_name('HOST')}",
            )
        meaning = classify(message, reasons) or _status_meaning(status, response.headers)
        if meaning is ErrorClass.QUOTA:
            google_quota = any(r.lower() in ("quotaexceeded", "dailylimitexceeded") for r in reasons)
            return self._quota_exhausted(response, shown, platform_quota=google_quota)
        if meaning is ErrorClass.CONFIGURATION:
            if "not subscribed" in lowered or "does not include" in lowered or "subscription" in lowered:
                hint = (f"subscribe the key to {host} on RapidAPI, or set {self.config.setting_name('HOST')} "
                        "to an API the key is subscribed to")
            elif "blocked" in lowered:
                hint = (f"the API provider blocked this account; use another key "
                        f"({self.config.setting_name('KEY')}) or another API ({self.config.setting_name('HOST')})")
            else:
                hint = f"check RAPIDAPI_KEY / {self.config.setting_name('KEY')}"
            return ProviderAuthError(self.platform, f"{where}{shown}: {hint}")
        if meaning is ErrorClass.TRANSIENT:
            if status == 429 or any(phrase in lowered for phrase in THROTTLE_PHRASES):
                return RateLimitedError(self.platform, f"rate limited by {host}{shown}",
                                        retry_after=_retry_after(response.headers))
            return ProviderUnavailableError(self.platform, f"{where}{shown}")
        if meaning is ErrorClass.GONE:
            return NotFoundError(self.platform, f"{path}: not found{shown}")
        if meaning is ErrorClass.BAD_INPUT:
            return BadInputError(self.platform, f"{path}: refused the request{shown}")
        if status == 200:
            # An error envelope saying nothing we recognise: treated as a provider hiccup (retried, bounded by
            # the attempts and the queue's receive count) rather than a final answer.
            return ProviderUnavailableError(self.platform, f"{where}{shown}")
        return ProviderResponseError(self.platform, f"unexpected HTTP {status} from {host}{path}{shown}")

    def _quota_exhausted(self, response: httpx.Response, shown: str, *, platform_quota: bool = False
                         ) -> QuotaExhaustedError:
        """Calls stop until the quota resets: the platform's own reset for its quota (YouTube: midnight
        Pacific), else RapidAPI's reset header, else ``quota_block_s``."""
        now = self._clock()
        platform_reset = next_platform_quota_reset(self.platform, now)
        reset: float | None
        if platform_quota and platform_reset is not None:
            reset = platform_reset
        else:
            reset = self._quota_reset(response.headers)
            if reset is None:
                reset = platform_reset
        self.blocked_until = reset if reset is not None else now + self.config.quota_block_s
        reset_at = datetime.fromtimestamp(reset, tz=UTC) if reset is not None else None
        when = f"until {_iso(reset)}" if reset is not None else f"for {self.config.quota_block_s:g}s (no reset header)"
        return QuotaExhaustedError(
            self.platform, f"plan quota of {self.config.host} exhausted{shown}; calls stopped {when}",
            reset_at=reset_at, retry_at=datetime.fromtimestamp(self.blocked_until, tz=UTC),
        )

    def _body_message(self, response: httpx.Response) -> str:
        """The provider's own error text, trimmed, with the key scrubbed in case a provider echoes it."""
        try:
            body = response.json()
        except ValueError:
            text = response.text.strip()
        else:
            text = error_message(body) or ""
        return self._scrub(text)

    def _scrub(self, text: str) -> str:
        text = " ".join(text.split())[:300]
        secret = self.config.key.get_secret_value()
        return text.replace(secret, "***") if secret else text


def error_message(body: Any) -> str | None:
    """The message of an error body, whatever the provider calls it."""
    if not isinstance(body, dict):
        return None
    for key in ("message", "msg", "errorMessage", "error_message", "error", "detail"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, dict):
            nested = error_message(value)
            if nested:
                return nested
    return None


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _status_meaning(status: int, headers: httpx.Headers) -> ErrorClass | None:
    """What a status says when the body says nothing we recognise."""
    if status in (401, 403):
        return ErrorClass.CONFIGURATION
    if status == 429:
        return ErrorClass.QUOTA if _header_is_zero(headers, "x-ratelimit-requests-remaining") else ErrorClass.TRANSIENT
    if status in (404, 410):
        return ErrorClass.GONE
    if status in (400, 422):
        return ErrorClass.BAD_INPUT
    if status >= 500 or status == 408:
        return ErrorClass.TRANSIENT
    return None


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        try:
            return int(float(value.strip()))
        except ValueError:
            return None


def _header_is_zero(headers: httpx.Headers, name: str) -> bool:
    return _int_or_none(headers.get(name)) == 0


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date), else from an exhausted 60-second window."""
    value = headers.get("retry-after")
    if value is not None:
        seconds = _int_or_none(value)
        if seconds is not None:
            return float(max(seconds, 0))
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max((when - datetime.now(tz=UTC)).total_seconds(), 0.0)
    if _header_is_zero(headers, "x-ratelimit-remaining"):
        reset = _int_or_none(headers.get("x-ratelimit-reset"))
        if reset is not None:
            return float(max(reset - time.time(), 0) if reset > _EPOCH_THRESHOLD else reset)
    return None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds")
