"""RapidAPI status/body classification, retries, quota stop and request budget (shared by all providers).

Driven through the TikTok provider (one request per video), so every path is exercised the way the queue
processor will call it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from vidstats.platforms import Platform
from vidstats.providers.base import VideoCounters
from vidstats.providers.errors import (
    BudgetExhaustedError,
    ErrorClass,
    ProviderAuthError,
    ProviderConfigError,
    ProviderUnavailableError,
    QuotaExhaustedError,
    RateLimitedError,
    VideoGoneError,
    classify,
)
from vidstats.providers.http import QUOTA_METRIC, QUOTA_METRIC_INTERVAL_S
from vidstats.providers.quota_reset import next_pacific_midnight
from vidstats.providers.ratelimit import RateLimiter
from vidstats.providers.tiktok import TikTokProvider
from vidstats.providers.youtube import YouTubeProvider

from tests.providers.conftest import KEY, FakeClock, Sleeps, build, load, make_config, url

VIDEO_URL = url(Platform.TIKTOK, "video")
VIDEO_ID = "7367927569280240901"


def ok() -> httpx.Response:
    return httpx.Response(200, json=load("tiktok/video.json"))


def video_body(video_id: str) -> dict[str, Any]:
    body: dict[str, Any] = load("tiktok/video.json")
    body["data"]["id"] = video_id
    return body


def test_request_carries_key_and_host_headers(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                              ) -> None:
    route = router.get(VIDEO_URL).mock(return_value=ok())
    build(TikTokProvider, http_client, sleeps).fetch_videos([VIDEO_ID])
    request = route.calls.last.request
    assert request.headers["X-RapidAPI-Key"] == KEY
    assert request.headers["X-RapidAPI-Host"] == "tiktok-scraper7.p.rapidapi.com"
    assert request.url.params["url"] == VIDEO_ID


@pytest.mark.parametrize(
    ("status", "message", "hint"),
    [
        (401, "Invalid API key. Go to https://docs.rapidapi.com/docs/keys for more info.", "RAPIDAPI_KEY"),
        (403, "Invalid API key. Go to https://docs.rapidapi.com/docs/keys for more info.", "RAPIDAPI_TIKTOK_KEY"),
        (403, "You are not subscribed to this API.", "RAPIDAPI_TIKTOK_HOST"),
        (401, "Blocked User. Please contact your API provider.", "blocked this account"),
    ],
)
def test_auth_errors_fail_fast_with_the_setting_to_fix(
    router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps, status: int, message: str, hint: str
) -> None:
    route = router.get(VIDEO_URL).mock(return_value=httpx.Response(status, json={"message": message}))
    provider = build(TikTokProvider, http_client, sleeps, max_attempts=5)
    with pytest.raises(ProviderAuthError) as info:
        provider.fetch_videos([VIDEO_ID, "7367927569280240902"])
    assert hint in str(info.value)
    assert message.split(".")[0] in str(info.value)
    assert KEY not in str(info.value)
    assert route.call_count == 1  # no retry, and the batch stops at the first video
    assert sleeps.calls == []


def test_key_echoed_by_a_provider_is_scrubbed(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                              ) -> None:
    router.get(VIDEO_URL).mock(return_value=httpx.Response(401, json={"message": f"key {KEY} is invalid"}))
    with pytest.raises(ProviderAuthError) as info:
        build(TikTokProvider, http_client, sleeps).fetch_videos([VIDEO_ID])
    assert KEY not in str(info.value)
    assert "***" in str(info.value)


def test_rate_limit_without_headers_retries_with_backoff_then_raises(
    router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
) -> None:
    body = {"message": "You have exceeded the rate limit per second for your plan, BASIC, by the API provider"}
    route = router.get(VIDEO_URL).mock(return_value=httpx.Response(429, json=body))
    provider = build(TikTokProvider, http_client, sleeps, max_attempts=3, backoff_s=0.5)
    with pytest.raises(RateLimitedError) as info:
        provider.fetch_videos([VIDEO_ID])
    assert info.value.retry_after is None
    assert route.call_count == 3
    assert sleeps.calls == [0.5, 1.0]  # exponential, bounded by max_attempts


def test_rate_limit_retry_after_header_is_honoured(router: respx.MockRouter, http_client: httpx.Client,
                                                   sleeps: Sleeps) -> None:
    router.get(VIDEO_URL).mock(
        side_effect=[httpx.Response(429, json={"message": "Too many requests"}, headers={"Retry-After": "2"}), ok()]
    )
    result = build(TikTokProvider, http_client, sleeps, backoff_s=0.5).fetch_videos([VIDEO_ID])
    assert isinstance(result[VIDEO_ID], VideoCounters)
    assert sleeps.calls == [2.0]


def test_rate_limit_window_headers_give_retry_after(router: respx.MockRouter, http_client: httpx.Client,
                                                    sleeps: Sleeps) -> None:
    headers = {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "7"}
    router.get(VIDEO_URL).mock(return_value=httpx.Response(429, json={"message": "Too many requests"}, headers=headers))
    with pytest.raises(RateLimitedError) as info:
        build(TikTokProvider, http_client, sleeps, max_attempts=2).fetch_videos([VIDEO_ID])
    assert info.value.retry_after == 7.0
    assert sleeps.calls == [7.0]


def test_long_retry_after_is_not_waited_for(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                            ) -> None:
    route = router.get(VIDEO_URL).mock(
        return_value=httpx.Response(429, json={"message": "Too many requests"}, headers={"Retry-After": "120"})
    )
    with pytest.raises(RateLimitedError) as info:
        build(TikTokProvider, http_client, sleeps, max_retry_after_s=30).fetch_videos([VIDEO_ID])
    assert info.value.retry_after == 120.0
    assert route.call_count == 1
    assert sleeps.calls == []


def test_monthly_quota_stops_calls_until_reset(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                               ) -> None:
    clock = FakeClock(1_760_000_000.0)
    quota = httpx.Response(
        429,
        json={"message": "You have exceeded the MONTHLY quota for Requests on your current plan, BASIC. Upgrade your "
                         "plan at https://rapidapi.com/tikwm-tikwm-default/api/tiktok-scraper7"},
        headers={"x-ratelimit-requests-limit": "300", "x-ratelimit-requests-remaining": "0",
                 "x-ratelimit-requests-reset": "2163603"},
    )
    route = router.get(VIDEO_URL).mock(side_effect=[quota, ok()])
    provider = build(TikTokProvider, http_client, sleeps, clock)

    with pytest.raises(QuotaExhaustedError) as info:
        provider.fetch_videos([VIDEO_ID])
    expected_reset = datetime.fromtimestamp(1_760_000_000 + 2163603, tz=UTC)
    assert info.value.reset_at == expected_reset
    assert route.call_count == 1  # a quota 429 is never retried

    clock.now += 3600
    with pytest.raises(QuotaExhaustedError) as again:
        provider.fetch_videos([VIDEO_ID])
    assert again.value.reset_at == expected_reset
    assert route.call_count == 1  # refused locally: the platform is not called before the reset

    clock.now = 1_760_000_000 + 2163603 + 1
    assert isinstance(provider.fetch_videos([VIDEO_ID])[VIDEO_ID], VideoCounters)
    assert route.call_count == 2


def test_daily_quota_without_reset_header_blocks_for_the_default_period(
    router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
) -> None:
    clock = FakeClock()
    route = router.get(VIDEO_URL).mock(
        return_value=httpx.Response(429, json={"message": "You have exceeded the DAILY quota for Requests on your "
                                                          "current plan, BASIC."})
    )
    provider = build(TikTokProvider, http_client, sleeps, clock, quota_block_s=600)
    with pytest.raises(QuotaExhaustedError) as info:
        provider.fetch_videos([VIDEO_ID])
    assert info.value.reset_at is None
    assert info.value.retry_at == datetime.fromtimestamp(clock.now + 600, tz=UTC)  # work waits that long
    clock.now += 599
    with pytest.raises(QuotaExhaustedError):
        provider.fetch_videos([VIDEO_ID])
    assert route.call_count == 1
    clock.now += 2
    with pytest.raises(QuotaExhaustedError):
        provider.fetch_videos([VIDEO_ID])
    assert route.call_count == 2  # tried again after the block


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(502, json={"message": "Oops, an error in the gateway has occurred."}),
        httpx.Response(500, json={"status": False, "message": "Instagram returned an error"}),
        httpx.Response(503, text="<html>Service Unavailable</html>"),
    ],
)
def test_gateway_and_provider_5xx_are_retried_then_unavailable(
    router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps, response: httpx.Response
) -> None:
    route = router.get(VIDEO_URL).mock(return_value=response)
    with pytest.raises(ProviderUnavailableError) as info:
        build(TikTokProvider, http_client, sleeps, max_attempts=3).fetch_videos([VIDEO_ID])
    assert info.value.retryable
    assert route.call_count == 3
    assert str(response.status_code) in str(info.value)


def test_transient_5xx_then_success(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps) -> None:
    router.get(VIDEO_URL).mock(side_effect=[httpx.Response(502, json={"message": "Oops"}), ok()])
    result = build(TikTokProvider, http_client, sleeps).fetch_videos([VIDEO_ID])
    assert isinstance(result[VIDEO_ID], VideoCounters)


@pytest.mark.parametrize("error", [httpx.ReadTimeout("read timed out"), httpx.ConnectTimeout("connect timed out")])
def test_timeouts_are_retried_then_unavailable(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps,
                                               error: Exception) -> None:
    route = router.get(VIDEO_URL).mock(side_effect=error)
    with pytest.raises(ProviderUnavailableError, match="timed out"):
        build(TikTokProvider, http_client, sleeps, max_attempts=2, timeout_s=3).fetch_videos([VIDEO_ID])
    assert route.call_count == 2


def test_connection_error_is_unavailable(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                         ) -> None:
    router.get(VIDEO_URL).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(ProviderUnavailableError, match="connection failed"):
        build(TikTokProvider, http_client, sleeps, max_attempts=1).fetch_videos([VIDEO_ID])


def test_non_json_200_is_unavailable(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps) -> None:
    router.get(VIDEO_URL).mock(return_value=httpx.Response(200, text="<html>captcha</html>"))
    with pytest.raises(ProviderUnavailableError, match="not JSON"):
        build(TikTokProvider, http_client, sleeps, max_attempts=1).fetch_videos([VIDEO_ID])


def test_unknown_endpoint_404_is_a_configuration_error(router: respx.MockRouter, http_client: httpx.Client,
                                                       sleeps: Sleeps) -> None:
    router.get(VIDEO_URL).mock(return_value=httpx.Response(404, json={"message": "Endpoint '/' does not exist"}))
    with pytest.raises(ProviderConfigError, match="RAPIDAPI_TIKTOK_PATH_VIDEO"):
        build(TikTokProvider, http_client, sleeps).fetch_videos([VIDEO_ID])


def test_resource_404_is_a_gone_video_not_a_batch_failure(router: respx.MockRouter, http_client: httpx.Client,
                                                          sleeps: Sleeps) -> None:
    gone = "7000000000000000001"
    router.get(VIDEO_URL, params={"url": gone}).mock(return_value=httpx.Response(404, json={"message": "Not Found"}))
    router.get(VIDEO_URL, params={"url": VIDEO_ID}).mock(return_value=ok())
    result = build(TikTokProvider, http_client, sleeps).fetch_videos([gone, VIDEO_ID])
    assert isinstance(result[gone], VideoGoneError)
    assert isinstance(result[VIDEO_ID], VideoCounters)


def test_budget_stops_before_overage(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps) -> None:
    ids = ["7000000000000000001", "7000000000000000002", "7000000000000000003"]
    remaining = iter(["1", "0"])

    def respond(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=video_body(request.url.params["url"]),
                              headers={"x-ratelimit-requests-limit": "300",
                                       "x-ratelimit-requests-remaining": next(remaining)})

    route = router.get(VIDEO_URL).mock(side_effect=respond)
    provider = build(TikTokProvider, http_client, sleeps)
    with pytest.raises(BudgetExhaustedError) as info:
        provider.fetch_videos(ids)
    assert route.call_count == 2  # the third request would have been overage
    assert info.value.remaining == 0
    assert set(info.value.partial) == set(ids[:2])
    assert all(isinstance(v, VideoCounters) for v in info.value.partial.values())


def test_budget_reserve_and_unit_headers(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps) -> None:
    # Real header block from the notes: requests remaining is high, api-units remaining is the binding one.
    headers = {"x-ratelimit-api-units-limit": "60000", "x-ratelimit-api-units-remaining": "15920",
               "x-ratelimit-requests-limit": "240000", "x-ratelimit-requests-remaining": "205676",
               "x-ratelimit-remaining": "0"}
    route = router.get(VIDEO_URL).mock(return_value=httpx.Response(200, json=load("tiktok/video.json"),
                                                                   headers=headers))
    provider = build(TikTokProvider, http_client, sleeps, budget_reserve=15920)
    provider.fetch_videos([VIDEO_ID])
    with pytest.raises(BudgetExhaustedError, match="RAPIDAPI_TIKTOK_BUDGET_RESERVE"):
        provider.fetch_videos([VIDEO_ID])
    assert route.call_count == 1

    relaxed = build(TikTokProvider, http_client, sleeps, budget_reserve=15919)
    relaxed.fetch_videos([VIDEO_ID])
    relaxed.fetch_videos([VIDEO_ID])
    assert route.call_count == 3


def test_max_requests_cap(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps) -> None:
    router.get(VIDEO_URL).mock(
        side_effect=lambda request: httpx.Response(200, json=video_body(request.url.params["url"])))
    provider = build(TikTokProvider, http_client, sleeps, max_requests=2)
    with pytest.raises(BudgetExhaustedError, match="RAPIDAPI_TIKTOK_MAX_REQUESTS"):
        provider.fetch_videos(["7000000000000000001", "7000000000000000002", "7000000000000000003"])


# --- classification by meaning, whatever the status -------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "reasons", "expected"),
    [
        ("You have exceeded the DAILY quota for Requests on your current plan, BASIC.", [], ErrorClass.QUOTA),
        ("You have exceeded the rate limit per second for your plan, BASIC, by the API provider", [],
         ErrorClass.TRANSIENT),
        ("The request cannot be completed because you have exceeded your quota.", ["quotaExceeded"], ErrorClass.QUOTA),
        ("Daily Limit Exceeded", ["dailyLimitExceeded"], ErrorClass.QUOTA),
        ("User Rate Limit Exceeded", ["userRateLimitExceeded"], ErrorClass.TRANSIENT),
        ("API key not valid. Please pass a valid API key.", ["keyInvalid"], ErrorClass.CONFIGURATION),
        ("You are not subscribed to this API.", [], ErrorClass.CONFIGURATION),
        ("Blocked User. Please contact your API provider.", [], ErrorClass.CONFIGURATION),
        ("Subscription plan does not include this endpoint", [], ErrorClass.CONFIGURATION),
        ("Please wait a few minutes before you try again", [], ErrorClass.TRANSIENT),
        ("Oops, an error in the gateway has occurred.", [], ErrorClass.TRANSIENT),
        ("Url parsing is failed! Please check url.", [], ErrorClass.BAD_INPUT),
        ("Video unavailable", [], ErrorClass.GONE),
        ("This account is private", [], ErrorClass.GONE),
        ("Media not found or unavailable", [], ErrorClass.GONE),
        ("Something odd happened", [], None),
    ],
)
def test_provider_texts_and_reasons_are_classified_by_meaning(
    message: str, reasons: list[str], expected: ErrorClass | None
) -> None:
    assert classify(message, reasons) is expected


def test_a_youtube_quota_403_is_held_until_midnight_pacific_not_an_auth_error(
    router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp())  # 04:00 in Los Angeles (PST)
    body = {"error": {"code": 403, "message": "The request cannot be completed because you have exceeded your quota.",
                      "errors": [{"domain": "youtube.quota", "reason": "quotaExceeded"}]}}
    # RapidAPI's plan headers speak of the plan's month, not of Google's day: ignored for Google's quota.
    route = router.get(url(Platform.YOUTUBE, "videos")).mock(return_value=httpx.Response(
        403, json=body, headers={"x-ratelimit-requests-remaining": "9000", "x-ratelimit-requests-reset": "2163603"}))
    provider = build(YouTubeProvider, http_client, sleeps, clock)
    with pytest.raises(QuotaExhaustedError) as info:
        provider.fetch_videos(["EJNPYff3lxU"])
    assert info.value.retry_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # midnight PST
    assert route.call_count == 1


def test_a_google_error_object_in_a_200_answer_is_classified(
    router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
) -> None:
    body = {"error": {"code": 403, "message": "Daily Limit Exceeded", "errors": [{"reason": "dailyLimitExceeded"}]}}
    router.get(url(Platform.YOUTUBE, "videos")).mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(QuotaExhaustedError):
        build(YouTubeProvider, http_client, sleeps).fetch_videos(["EJNPYff3lxU"])


def test_a_throttle_envelope_is_retried_and_slows_the_pace_until_the_next_batch(
    router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
) -> None:
    throttle = httpx.Response(200, json={"code": -1, "msg": "Free Api Limit: 1 request/second, please wait"})
    route = router.get(VIDEO_URL).mock(side_effect=[throttle, throttle, ok()])
    limiter = RateLimiter(10.0, sleep=sleeps)
    provider = TikTokProvider(make_config(Platform.TIKTOK, requests_per_second=10.0), http_client, limiter=limiter,
                              sleep=sleeps, clock=FakeClock())
    assert isinstance(provider.fetch_videos([VIDEO_ID])[VIDEO_ID], VideoCounters)
    assert route.call_count == 3
    assert limiter.rate == pytest.approx(2.5)  # halved on each transient failure
    provider.begin_batch()
    assert limiter.rate == pytest.approx(10.0)


def test_the_pace_never_drops_below_an_eighth() -> None:
    limiter = RateLimiter(8.0)
    for _ in range(10):
        limiter.slow_down()
    assert limiter.rate == pytest.approx(1.0)


def test_a_configuration_error_blocks_the_host_without_further_calls(
    router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
) -> None:
    clock = FakeClock()
    route = router.get(VIDEO_URL).mock(return_value=httpx.Response(403, json={"message": "You are not subscribed to "
                                                                                       "this API."}))
    provider = build(TikTokProvider, http_client, sleeps, clock, config_block_s=900)
    for _ in range(3):
        with pytest.raises(ProviderAuthError, match="RAPIDAPI_TIKTOK_HOST"):
            provider.fetch_videos([VIDEO_ID])
    assert route.call_count == 1
    clock.now += 901
    with pytest.raises(ProviderAuthError):
        provider.fetch_videos([VIDEO_ID])
    assert route.call_count == 2


def test_next_pacific_midnight_follows_daylight_saving_time() -> None:
    from zoneinfo import ZoneInfo

    los_angeles = ZoneInfo("America/Los_Angeles")
    instant = datetime(2025, 1, 1, tzinfo=UTC)
    while instant < datetime(2027, 1, 1, tzinfo=UTC):
        local = instant.astimezone(los_angeles)
        expected = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), los_angeles)
        assert next_pacific_midnight(instant) == expected.astimezone(UTC), instant
        instant += timedelta(minutes=53)


def _quota_metrics(out: str) -> list[dict[str, Any]]:
    docs = [json.loads(line) for line in out.splitlines() if line.startswith("{") and "_aws" in line]
    return [d for d in docs if any(m["Name"] == QUOTA_METRIC for cw in d["_aws"]["CloudWatchMetrics"]
                                   for m in cw["Metrics"])]


def test_the_remaining_plan_quota_is_published_as_a_metric_the_alarm_can_match(
        router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "queue_processor")  # as template.yaml sets it
    remaining = iter(["205676", "205675", "205674"])
    router.get(VIDEO_URL).mock(side_effect=lambda request: httpx.Response(
        200, json=load("tiktok/video.json"),
        headers={"x-ratelimit-requests-remaining": next(remaining), "x-ratelimit-api-units-remaining": "15920",
                 "x-ratelimit-remaining": "0"}))
    clock = FakeClock()
    provider = build(TikTokProvider, http_client, sleeps, clock=clock)
    capsys.readouterr()

    provider.fetch_videos([VIDEO_ID])
    provider.fetch_videos([VIDEO_ID])  # same minute: no second data point
    clock.now += QUOTA_METRIC_INTERVAL_S
    provider.fetch_videos([VIDEO_ID])

    docs = _quota_metrics(capsys.readouterr().out)
    # The binding quota (the lowest of the plan's counters), not the 60-second window's x-ratelimit-remaining.
    assert [d[QUOTA_METRIC] for d in docs] == [[15920], [15920]]
    (directive,) = docs[0]["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "vidstats"
    assert [sorted(dims) for dims in directive["Dimensions"]] == [["platform", "service"]]
    assert (docs[0]["platform"], docs[0]["service"]) == ("tiktok", "queue_processor")


def test_answers_without_quota_headers_publish_no_quota_metric(
        router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps,
        capsys: pytest.CaptureFixture[str]) -> None:
    router.get(VIDEO_URL).mock(return_value=ok())
    build(TikTokProvider, http_client, sleeps).fetch_videos([VIDEO_ID])
    assert _quota_metrics(capsys.readouterr().out) == []
