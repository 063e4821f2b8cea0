"""youtube-v31 (Data API v3 clone): string counters, hidden likes/comments, 50-id batches, channel listing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from vidstats.platforms import Platform
from vidstats.providers.base import VideoCounters
from vidstats.providers.errors import InvalidCountersError, ProviderUnavailableError, VideoGoneError
from vidstats.providers.youtube import YouTubeProvider

from tests.providers.conftest import Sleeps, build, load, url

VIDEOS_URL = url(Platform.YOUTUBE, "videos")
SEARCH_URL = url(Platform.YOUTUBE, "search")
CHANNELS_URL = url(Platform.YOUTUBE, "channels")


def fake_id(n: int) -> str:
    return f"vid{n:08d}"  # 11 characters, like a real id


def answer_with_items_for_requested_ids(request: httpx.Request) -> httpx.Response:
    template = load("youtube/videos.json")["items"][0]
    items = [template | {"id": video_id} for video_id in request.url.params["id"].split(",")]
    return httpx.Response(200, json={"kind": "youtube#videoListResponse", "items": items,
                                     "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}})


def test_recorded_batch_parses_with_hidden_counters_as_none(router: respx.MockRouter, http_client: httpx.Client,
                                                            sleeps: Sleeps) -> None:
    route = router.get(VIDEOS_URL).mock(return_value=httpx.Response(200, json=load("youtube/videos.json")))
    result = build(YouTubeProvider, http_client, sleeps).fetch_videos(["EJNPYff3lxU", "dQw4w9WgXcQ", "jNQXAC9IVRw"])
    assert route.call_count == 1
    assert route.calls.last.request.url.params["id"] == "EJNPYff3lxU,dQw4w9WgXcQ,jNQXAC9IVRw"
    assert "statistics" in route.calls.last.request.url.params["part"]

    first = result["EJNPYff3lxU"]
    assert isinstance(first, VideoCounters)
    assert (first.views, first.likes, first.comments) == (48, 0, 0)  # observed zeros stay zeros
    assert first.reposts is None
    assert first.saves is None
    assert first.published_at == datetime(2013, 6, 3, tzinfo=UTC)
    assert first.author_id == "UCuAXFkgsw1L7xaCfnd5JJOw"

    likes_hidden = result["dQw4w9WgXcQ"]
    assert isinstance(likes_hidden, VideoCounters)
    assert (likes_hidden.views, likes_hidden.likes, likes_hidden.comments) == (1712345678, None, 2400000)

    comments_off = result["jNQXAC9IVRw"]
    assert isinstance(comments_off, VideoCounters)
    assert (comments_off.likes, comments_off.comments) == (17000000, None)


def test_ids_missing_from_the_answer_are_gone(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                              ) -> None:
    router.get(VIDEOS_URL).mock(return_value=httpx.Response(200, json=load("youtube/videos.json")))
    result = build(YouTubeProvider, http_client, sleeps).fetch_videos(["EJNPYff3lxU", "deleted0000"])
    assert isinstance(result["EJNPYff3lxU"], VideoCounters)
    assert isinstance(result["deleted0000"], VideoGoneError)


def test_120_ids_take_three_calls_of_at_most_50(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                                ) -> None:
    route = router.get(VIDEOS_URL).mock(side_effect=answer_with_items_for_requested_ids)
    ids = [fake_id(n) for n in range(120)]
    result = build(YouTubeProvider, http_client, sleeps).fetch_videos(ids + ids[:10])  # repeats cost nothing
    assert route.call_count == 3
    sizes = [len(call.request.url.params["id"].split(",")) for call in route.calls]
    assert sizes == [50, 50, 20]
    assert list(result) == ids
    assert all(isinstance(value, VideoCounters) and value.external_id == key for key, value in result.items())


def test_failed_batch_keeps_earlier_batches(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                            ) -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if fake_id(50) in request.url.params["id"]:
            return httpx.Response(502, json={"message": "Oops, an error in the gateway has occurred."})
        return answer_with_items_for_requested_ids(request)

    router.get(VIDEOS_URL).mock(side_effect=respond)
    with pytest.raises(ProviderUnavailableError) as info:
        build(YouTubeProvider, http_client, sleeps, max_attempts=2).fetch_videos([fake_id(n) for n in range(120)])
    assert list(info.value.partial) == [fake_id(n) for n in range(50)]


def test_a_negative_counter_is_a_sentinel_that_empties_only_that_metric(
    router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
) -> None:
    body = load("youtube/videos.json")
    body["items"][0]["statistics"]["likeCount"] = "-1"
    router.get(VIDEOS_URL).mock(return_value=httpx.Response(200, json=body))
    counters = build(YouTubeProvider, http_client, sleeps).fetch_videos(["EJNPYff3lxU"])["EJNPYff3lxU"]
    assert isinstance(counters, VideoCounters)
    assert (counters.views, counters.likes, counters.comments) == (48, None, 0)


@pytest.mark.parametrize(("statistics", "needle"), [
    ({"viewCount": "12K"}, "viewCount is not numeric"),
])
def test_absurd_counter_fails_only_that_video(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps,
                                              statistics: dict[str, Any], needle: str) -> None:
    body = load("youtube/videos.json")
    body["items"][1]["statistics"] = statistics
    router.get(VIDEOS_URL).mock(return_value=httpx.Response(200, json=body))
    result = build(YouTubeProvider, http_client, sleeps).fetch_videos(["EJNPYff3lxU", "dQw4w9WgXcQ"])
    assert isinstance(result["EJNPYff3lxU"], VideoCounters)
    assert isinstance(result["dQw4w9WgXcQ"], InvalidCountersError)
    assert needle in str(result["dQw4w9WgXcQ"])


def test_blank_counter_is_missing() -> None:
    from vidstats.providers.youtube import to_counters

    item = load("youtube/videos.json")["items"][0] | {"statistics": {"viewCount": "", "likeCount": "5"}}
    counters = to_counters("EJNPYff3lxU", item)
    assert (counters.views, counters.likes, counters.views_source) == (None, 5, None)


def test_channel_listing_by_handle_pages_with_page_token(router: respx.MockRouter, http_client: httpx.Client,
                                                         sleeps: Sleeps) -> None:
    channels = router.get(CHANNELS_URL).mock(
        return_value=httpx.Response(200, json=load("youtube/channels_for_handle.json")))
    search = router.get(SEARCH_URL).mock(side_effect=[
        httpx.Response(200, json=load("youtube/search_page1.json")),
        httpx.Response(200, json=load("youtube/search_page2.json")),
    ])
    videos = build(YouTubeProvider, http_client, sleeps).list_creator_videos("@RickAstleyYT", 10)
    assert channels.calls.last.request.url.params["forHandle"] == "@RickAstleyYT"
    assert [v.external_id for v in videos] == ["EJNPYff3lxU", "dQw4w9WgXcQ", "jNQXAC9IVRw"]
    assert all(v.counters is None for v in videos)  # search results carry no statistics
    first, second = search.calls[0].request.url.params, search.calls[1].request.url.params
    assert (first["channelId"], first["order"], first["maxResults"]) == ("UCuAXFkgsw1L7xaCfnd5JJOw", "date", "10")
    assert "pageToken" not in first
    assert second["pageToken"] == "CAIQAA"


def test_channel_id_is_used_directly_and_limit_respected(router: respx.MockRouter, http_client: httpx.Client,
                                                         sleeps: Sleeps) -> None:
    channels = router.get(CHANNELS_URL)
    search = router.get(SEARCH_URL).mock(return_value=httpx.Response(200, json=load("youtube/search_page1.json")))
    videos = build(YouTubeProvider, http_client, sleeps).list_creator_videos("UCuAXFkgsw1L7xaCfnd5JJOw", 1)
    assert [v.external_id for v in videos] == ["EJNPYff3lxU"]
    assert channels.call_count == 0
    assert search.call_count == 1
