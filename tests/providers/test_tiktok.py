"""tiktok-scraper7 (tikwm): recorded responses → counters; per-video failures; creator paging."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from vidstats.platforms import Platform
from vidstats.providers.base import VideoCounters
from vidstats.providers.errors import (
    BadInputItemError,
    CreatorNotFoundError,
    ErrorClass,
    InvalidCountersError,
    InvalidItemResponseError,
    ItemErrorReason,
    ProviderAuthError,
)
from vidstats.providers.tiktok import TikTokProvider, to_counters

from tests.providers.conftest import Sleeps, build, load, url

VIDEO_URL = url(Platform.TIKTOK, "video")
POSTS_URL = url(Platform.TIKTOK, "user_posts")
VIDEO_ID = "7367927569280240901"


def body_with(video_id: str = VIDEO_ID, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = load("tiktok/video.json")
    body["data"]["id"] = video_id
    for key, value in changes.items():
        if value is ...:
            del body["data"][key]
        else:
            body["data"][key] = value
    return body


def fetch_one(router: respx.MockRouter, client: httpx.Client, sleeps: Sleeps, body: Any) -> Any:
    router.get(VIDEO_URL).mock(return_value=httpx.Response(200, json=body))
    return build(TikTokProvider, client, sleeps).fetch_videos([VIDEO_ID])[VIDEO_ID]


def test_recorded_video_parses_into_exact_counters(router: respx.MockRouter, http_client: httpx.Client,
                                                   sleeps: Sleeps) -> None:
    counters = fetch_one(router, http_client, sleeps, load("tiktok/video.json"))
    assert isinstance(counters, VideoCounters)
    assert (counters.views, counters.likes, counters.comments, counters.reposts, counters.saves) == (
        388791, 24101, 69, 2618, 5339)
    assert counters.views_source == "play_count"
    assert counters.extra == {"download_count": 3542}
    assert counters.published_at == datetime(2024, 5, 12, 2, 2, 2, tzinfo=UTC)
    assert counters.caption == "Besok adalah Mystery✨#quotes #quotesislam "
    assert (counters.author_id, counters.author_username) == ("6744619110091867138", "islamicvibes1445")
    assert counters.raw is not None
    assert counters.raw["id"] == VIDEO_ID


def test_string_counters_are_accepted(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps) -> None:
    counters = fetch_one(router, http_client, sleeps, body_with(play_count="388791", collect_count=" 5339 "))
    assert isinstance(counters, VideoCounters)
    assert (counters.views, counters.saves) == (388791, 5339)


def test_missing_and_null_counters_are_none_not_zero(router: respx.MockRouter, http_client: httpx.Client,
                                                     sleeps: Sleeps) -> None:
    counters = fetch_one(router, http_client, sleeps, body_with(collect_count=..., share_count=None))
    assert isinstance(counters, VideoCounters)
    assert counters.saves is None
    assert counters.reposts is None
    assert counters.views == 388791


def test_zero_is_kept_as_an_observed_zero(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps) -> None:
    counters = fetch_one(router, http_client, sleeps, body_with(comment_count=0))
    assert isinstance(counters, VideoCounters)
    assert counters.comments == 0


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"play_count": "1.2M"}, "play_count is not numeric"),
        ({"share_count": 12.5}, "share_count is not a whole number"),
        ({"collect_count": True}, "collect_count is a boolean"),
        ({"play_count": {"value": 3}}, "play_count has an unexpected type"),
    ],
)
def test_absurd_counter_fails_only_that_video(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps,
                                              changes: dict[str, Any], needle: str) -> None:
    bad, good = "7000000000000000001", "7000000000000000002"
    router.get(VIDEO_URL, params={"url": bad}).mock(return_value=httpx.Response(200, json=body_with(bad, **changes)))
    router.get(VIDEO_URL, params={"url": good}).mock(return_value=httpx.Response(200, json=body_with(good)))
    result = build(TikTokProvider, http_client, sleeps).fetch_videos([bad, good])
    error = result[bad]
    assert isinstance(error, InvalidCountersError)
    assert error.reason is ItemErrorReason.INVALID_COUNTERS
    assert needle in str(error)
    assert isinstance(result[good], VideoCounters)


@pytest.mark.parametrize("changes", [{"digg_count": -1}, {"digg_count": "-1"}])
def test_a_negative_counter_is_a_sentinel_that_empties_only_that_metric(
    router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps, changes: dict[str, Any]
) -> None:
    counters = fetch_one(router, http_client, sleeps, body_with(VIDEO_ID, **changes))
    assert isinstance(counters, VideoCounters)
    assert counters.likes is None
    assert (counters.views, counters.comments, counters.reposts, counters.saves) == (388791, 69, 2618, 5339)


def test_error_envelope_refusing_the_id_is_bad_input_for_that_video(router: respx.MockRouter,
                                                                    http_client: httpx.Client, sleeps: Sleeps) -> None:
    error = fetch_one(router, http_client, sleeps, load("tiktok/error_envelope.json"))
    assert isinstance(error, BadInputItemError)
    assert error.error_class is ErrorClass.BAD_INPUT
    assert "Url parsing is failed" in str(error)


def test_answer_for_another_video_is_rejected(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                              ) -> None:
    error = fetch_one(router, http_client, sleeps, body_with("7111111111111111111"))
    assert isinstance(error, InvalidItemResponseError)
    assert "7111111111111111111" in str(error)


def test_envelope_without_data_is_an_invalid_response(router: respx.MockRouter, http_client: httpx.Client,
                                                      sleeps: Sleeps) -> None:
    error = fetch_one(router, http_client, sleeps, {"code": 0, "msg": "success", "data": None})
    assert isinstance(error, InvalidItemResponseError)


def test_ids_are_deduplicated_and_sent_as_text(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                               ) -> None:
    route = router.get(VIDEO_URL).mock(return_value=httpx.Response(200, json=load("tiktok/video.json")))
    result = build(TikTokProvider, http_client, sleeps).fetch_videos([VIDEO_ID, VIDEO_ID])
    assert list(result) == [VIDEO_ID]
    assert route.call_count == 1
    assert route.calls.last.request.url.params["url"] == VIDEO_ID


def test_batch_stopping_error_keeps_finished_videos(router: respx.MockRouter, http_client: httpx.Client,
                                                    sleeps: Sleeps) -> None:
    second = "7000000000000000002"
    router.get(VIDEO_URL, params={"url": VIDEO_ID}).mock(return_value=httpx.Response(200, json=body_with()))
    router.get(VIDEO_URL, params={"url": second}).mock(
        return_value=httpx.Response(403, json={"message": "You are not subscribed to this API."}))
    with pytest.raises(ProviderAuthError) as info:
        build(TikTokProvider, http_client, sleeps).fetch_videos([VIDEO_ID, second, "7000000000000000003"])
    assert list(info.value.partial) == [VIDEO_ID]


# --- TikTok web stats: rounded ``stats`` vs exact ``statsV2`` (real samples from the notes) ------------


def test_exact_stats_v2_wins_over_rounded_stats() -> None:
    item = {
        "id": "7350000000000000000",
        "stats": {"collectCount": 2787, "commentCount": 16000, "diggCount": 22600, "playCount": 1800000,
                  "shareCount": 259},
        "statsV2": {"collectCount": "2787", "commentCount": "15955", "diggCount": "22609", "playCount": "1776621",
                    "shareCount": "259"},
    }
    counters = to_counters("7350000000000000000", item)
    assert (counters.views, counters.likes, counters.comments, counters.reposts, counters.saves) == (
        1776621, 22609, 15955, 259, 2787)
    assert counters.views_source == "statsV2.playCount"


def test_mixed_types_and_repost_count_are_kept_apart() -> None:
    item = {
        "id": "7642770753292635422",
        "stats": {"collectCount": "966", "commentCount": 1256, "diggCount": 10500, "playCount": 295000,
                  "shareCount": 908},
        "statsV2": {"collectCount": "966", "commentCount": "1256", "diggCount": "10500", "playCount": "295000",
                    "repostCount": "0", "shareCount": "908"},
    }
    counters = to_counters("7642770753292635422", item)
    assert counters.reposts == 908  # shares, not TikTok's separate in-app repost
    assert counters.extra == {"repost_count": 0}
    assert counters.saves == 966


def test_rounded_stats_are_used_only_without_exact_values() -> None:
    counters = to_counters("7350000000000000000", {"id": "7350000000000000000", "stats": {"playCount": 1800000}})
    assert counters.views == 1800000
    assert counters.views_source == "stats.playCount"
    assert counters.likes is None


# --- creator listing ---------------------------------------------------------------------------------


def test_creator_listing_pages_with_the_cursor(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                               ) -> None:
    route = router.get(POSTS_URL).mock(side_effect=[
        httpx.Response(200, json=load("tiktok/user_posts_page1.json")),
        httpx.Response(200, json=load("tiktok/user_posts_page2.json")),
    ])
    videos = build(TikTokProvider, http_client, sleeps).list_creator_videos("@mineodesu69", 50)
    assert [v.external_id for v in videos] == ["7020000000000000001", "7040875497281867010", "7038000000000000003"]
    assert [v.is_pinned for v in videos] == [True, False, False]
    first, second = route.calls[0].request.url.params, route.calls[1].request.url.params
    assert (first["unique_id"], first["cursor"], first["count"]) == ("@mineodesu69", "0", "35")
    assert second["cursor"] == "1639312724000"
    counters = videos[1].counters
    assert counters is not None
    assert (counters.views, counters.likes, counters.comments, counters.reposts, counters.saves) == (
        7064, 324, 14, 3, 10)
    assert videos[1].published_at == datetime.fromtimestamp(1639312724, tz=UTC)


def test_creator_listing_stops_at_the_limit(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                            ) -> None:
    route = router.get(POSTS_URL).mock(return_value=httpx.Response(200, json=load("tiktok/user_posts_page1.json")))
    videos = build(TikTokProvider, http_client, sleeps).list_creator_videos("mineodesu69", 1)
    assert len(videos) == 1
    assert route.call_count == 1
    assert route.calls.last.request.url.params["count"] == "35"  # a full page costs the same one request


def test_creator_listing_stops_when_the_cursor_does_not_move(router: respx.MockRouter, http_client: httpx.Client,
                                                             sleeps: Sleeps) -> None:
    page = load("tiktok/user_posts_page1.json")
    page["data"]["cursor"] = "0"
    route = router.get(POSTS_URL).mock(return_value=httpx.Response(200, json=page))
    videos = build(TikTokProvider, http_client, sleeps).list_creator_videos("mineodesu69", 100)
    assert len(videos) == 2
    assert route.call_count == 1


def test_creator_listing_item_with_bad_counters_keeps_the_item(router: respx.MockRouter, http_client: httpx.Client,
                                                               sleeps: Sleeps) -> None:
    page = load("tiktok/user_posts_page2.json")
    page["data"]["videos"][0]["play_count"] = "1.2M"
    router.get(POSTS_URL).mock(return_value=httpx.Response(200, json=page))
    [video] = build(TikTokProvider, http_client, sleeps).list_creator_videos("mineodesu69", 10)
    assert video.counters is None
    assert video.counters_error is not None
    assert "not numeric" in video.counters_error


def test_creator_listing_error_envelope_is_classified(router: respx.MockRouter, http_client: httpx.Client,
                                                     sleeps: Sleeps) -> None:
    router.get(POSTS_URL).mock(return_value=httpx.Response(200, json={"code": -1, "msg": "user not exist"}))
    with pytest.raises(CreatorNotFoundError, match="user not exist"):
        build(TikTokProvider, http_client, sleeps).list_creator_videos("nobody", 10)
