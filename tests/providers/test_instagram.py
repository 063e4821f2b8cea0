"""instagram-looter2: real /reels and /user-feeds dumps, /post nodes, hidden likes, plays vs views, paging."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from vidstats.ingestion.urls import shortcode_to_media_id
from vidstats.platforms import Platform
from vidstats.providers.base import VideoCounters
from vidstats.providers.errors import (
    CreatorNotFoundError,
    InvalidCountersError,
    InvalidItemResponseError,
    ItemErrorReason,
    VideoGoneError,
)
from vidstats.providers.instagram import InstagramProvider, to_counters

from tests.providers.conftest import Sleeps, build, load, url

POST_URL = url(Platform.INSTAGRAM, "post")
ID_URL = url(Platform.INSTAGRAM, "user_id")
REELS_URL = url(Platform.INSTAGRAM, "reels")
CODE = "DOqjIRkAoz0"


def reel(code: str) -> dict[str, Any]:
    media: dict[str, Any] = next(
        item["media"] for item in load("instagram/reels_page1.json")["items"] if item["media"]["code"] == code
    )
    return media


def feed_item(code: str) -> dict[str, Any]:
    item: dict[str, Any] = next(i for i in load("instagram/user_feeds.json")["items"] if i["code"] == code)
    return item


def fetch_post(router: respx.MockRouter, client: httpx.Client, sleeps: Sleeps, body: Any, status: int = 200) -> Any:
    router.get(POST_URL).mock(return_value=httpx.Response(status, json=body))
    return build(InstagramProvider, client, sleeps).fetch_videos([CODE])[CODE]


def test_post_node_prefers_plays_over_views(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                            ) -> None:
    counters = fetch_post(router, http_client, sleeps, load("instagram/post.json"))
    assert isinstance(counters, VideoCounters)
    assert counters.views == 10125  # video_play_count, the same metric as the reels list's play_count
    assert counters.views_source == "video_play_count"
    assert (counters.likes, counters.comments) == (948, 35)
    assert counters.reposts is None
    assert counters.saves is None
    assert counters.caption == "best sound you\u2019re gonna hear today"
    assert (counters.author_id, counters.author_username) == ("72741069431", "miaadesiign")
    assert counters.published_at == datetime.fromtimestamp(1758029377, tz=UTC)
    assert router.routes[0].calls.last.request.url.params["id"] == CODE


def test_post_node_falls_back_to_view_count(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                            ) -> None:
    body = load("instagram/post.json")
    body["video_play_count"] = None
    counters = fetch_post(router, http_client, sleeps, body)
    assert isinstance(counters, VideoCounters)
    assert (counters.views, counters.views_source) == (4130, "video_view_count")


def test_hidden_likes_are_stored_as_none(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps) -> None:
    body = load("instagram/post.json")
    body["like_and_view_counts_disabled"] = True
    body["edge_media_preview_like"]["count"] = 3  # the placeholder Instagram sends instead
    counters = fetch_post(router, http_client, sleeps, body)
    assert isinstance(counters, VideoCounters)
    assert counters.likes is None
    assert counters.comments == 35


def test_status_false_saying_not_found_is_a_gone_video(router: respx.MockRouter, http_client: httpx.Client,
                                                       sleeps: Sleeps) -> None:
    error = fetch_post(router, http_client, sleeps, {"status": False, "message": "Media not found or unavailable"})
    assert isinstance(error, VideoGoneError)
    assert error.reason is ItemErrorReason.GONE
    assert "Media not found" in str(error)


def test_404_is_a_gone_video(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps) -> None:
    error = fetch_post(router, http_client, sleeps, {"message": "Media not found"}, status=404)
    assert isinstance(error, VideoGoneError)


def test_answer_for_another_post_is_rejected(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                             ) -> None:
    body = load("instagram/post.json")
    body["shortcode"] = "DMYPhxUie5h"
    assert isinstance(fetch_post(router, http_client, sleeps, body), InvalidItemResponseError)


def test_string_and_absurd_counters_in_post(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                            ) -> None:
    other = "DMYPhxUie5h"
    good = load("instagram/post.json")
    good["video_play_count"] = "10125"
    bad = load("instagram/post.json") | {"shortcode": other}
    bad["edge_media_preview_like"] = {"count": "n/a"}
    router.get(POST_URL, params={"id": CODE}).mock(return_value=httpx.Response(200, json=good))
    router.get(POST_URL, params={"id": other}).mock(return_value=httpx.Response(200, json=bad))
    result = build(InstagramProvider, http_client, sleeps).fetch_videos([CODE, other])
    counters = result[CODE]
    assert isinstance(counters, VideoCounters)
    assert counters.views == 10125
    assert isinstance(result[other], InvalidCountersError)
    assert "edge_media_preview_like.count is not numeric" in str(result[other])


# --- private-API media (real dumps) --------------------------------------------------------------------


def test_real_reel_item_maps_to_counters() -> None:
    counters = to_counters("DMYPhxUie5h", reel("DMYPhxUie5h"))
    assert (counters.views, counters.likes, counters.comments) == (1444625, 13298, 105)
    assert counters.views_source == "ig_play_count"
    assert counters.reposts is None
    assert counters.saves is None
    assert counters.author_id == "72741069431"
    assert counters.caption == "the end is brutal💀"


def test_real_feed_item_has_shares_but_no_views() -> None:
    counters = to_counters(CODE, feed_item(CODE))
    assert counters.views is None  # /user-feeds carries no play counts
    assert (counters.likes, counters.comments, counters.reposts) == (941, 35, 49)
    assert counters.extra == {"media_repost_count": 3}
    # numeric pk in this dump already lost precision; the id we keep comes from the code / id string
    assert shortcode_to_media_id(CODE) == int(feed_item(CODE)["id"].split("_")[0]) != feed_item(CODE)["pk"]


def test_real_carousel_without_repost_key_has_none() -> None:
    counters = to_counters("DLhW3mriu-n", feed_item("DLhW3mriu-n"))
    assert counters.views is None
    assert counters.reposts == 2
    assert "media_repost_count" not in counters.extra


def test_ig_plays_exclude_facebook_plays() -> None:
    item = reel("DOqjIRkAoz0") | {"ig_play_count": 10125, "play_count": 13000, "fb_play_count": 2875}
    counters = to_counters(CODE, item)
    assert counters.views == 10125
    assert counters.extra == {"play_count": 13000, "fb_play_count": 2875}


def test_play_count_used_when_ig_play_count_absent() -> None:
    item = reel("DOqjIRkAoz0")
    del item["ig_play_count"]
    counters = to_counters(CODE, item)
    assert (counters.views, counters.views_source) == (10125, "play_count")


def test_hidden_likes_in_media_and_save_count_when_present() -> None:
    item = reel("DOqjIRkAoz0") | {"like_and_view_counts_disabled": True, "save_count": "17", "reshare_count": 4}
    counters = to_counters(CODE, item)
    assert counters.likes is None
    assert (counters.saves, counters.reposts) == (17, 4)


# --- creator listing ---------------------------------------------------------------------------------


def test_creator_reels_are_paged_with_max_id(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                             ) -> None:
    id_route = router.get(ID_URL).mock(return_value=httpx.Response(200, json=load("instagram/user_id.json")))
    page1 = load("instagram/reels_page1.json")
    reels_route = router.get(REELS_URL).mock(side_effect=[
        httpx.Response(200, json=page1), httpx.Response(200, json=load("instagram/reels_last_page.json"))])
    videos = build(InstagramProvider, http_client, sleeps).list_creator_videos("miaadesiign", 7)

    assert id_route.calls.last.request.url.params["username"] == "miaadesiign"
    assert reels_route.calls[0].request.url.params["id"] == "72741069431"
    assert "max_id" not in reels_route.calls[0].request.url.params
    assert reels_route.calls[1].request.url.params["max_id"] == page1["paging_info"]["max_id"]
    assert [v.external_id for v in videos] == [
        "DMYPhxUie5h", "DOqjIRkAoz0", "DOoVwLBAm-s", "DOlb2DsgnpK", "DOjBB1cAoId", "DOgcZS3AlNp", "DK5KyKODYAB"]
    assert videos[0].is_pinned
    assert not any(v.is_pinned for v in videos[1:])
    first = videos[0].counters
    assert first is not None
    assert (first.views, first.likes, first.comments) == (1444625, 13298, 105)


def test_numeric_creator_id_skips_username_lookup(router: respx.MockRouter, http_client: httpx.Client,
                                                  sleeps: Sleeps) -> None:
    id_route = router.get(ID_URL)
    router.get(REELS_URL).mock(return_value=httpx.Response(200, json=load("instagram/reels_last_page.json")))
    videos = build(InstagramProvider, http_client, sleeps).list_creator_videos("72741069431", 50)
    assert len(videos) == 2
    assert id_route.call_count == 0


def test_unknown_username_is_creator_not_found(router: respx.MockRouter, http_client: httpx.Client, sleeps: Sleeps
                                               ) -> None:
    router.get(ID_URL).mock(return_value=httpx.Response(200, json={"status": False, "message": "User not found"}))
    with pytest.raises(CreatorNotFoundError, match="User not found"):
        build(InstagramProvider, http_client, sleeps).list_creator_videos("no.such.user", 10)
