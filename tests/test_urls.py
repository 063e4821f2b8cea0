"""URL parsing over real-world forms, and SSRF-safe short-link resolution (replayed with respx)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx
from vidstats.ingestion.urls import (
    ParsedCreatorUrl,
    ParsedVideoUrl,
    ShortLink,
    ShortLinkError,
    UnsupportedUrlError,
    media_id_to_shortcode,
    parse_creator_url,
    parse_url,
    parse_video_url,
    resolve_video_url,
    shortcode_to_media_id,
)
from vidstats.platforms import Platform

TT, IG, YT = Platform.TIKTOK, Platform.INSTAGRAM, Platform.YOUTUBE
TT_ID = "7106798200794926362"

VIDEO_URLS = [
    # TikTok
    (f"https://www.tiktok.com/@scout2015/video/{TT_ID}", TT, TT_ID, f"https://www.tiktok.com/@scout2015/video/{TT_ID}"),
    (f"https://www.tiktok.com/@scout2015/video/{TT_ID}?is_from_webapp=1&sender_device=pc&web_id=7165",
     TT, TT_ID, f"https://www.tiktok.com/@scout2015/video/{TT_ID}"),
    (f"https://m.tiktok.com/@user.name_1/video/{TT_ID}/", TT, TT_ID, f"https://www.tiktok.com/@user.name_1/video/{TT_ID}"),
    (f"tiktok.com/@scout2015/video/{TT_ID}", TT, TT_ID, f"https://www.tiktok.com/@scout2015/video/{TT_ID}"),
    (f"  http://TikTok.com/@scout2015/video/{TT_ID}  ", TT, TT_ID, f"https://www.tiktok.com/@scout2015/video/{TT_ID}"),
    (f"https://www.tiktok.com/@scout2015/photo/{TT_ID}", TT, TT_ID, f"https://www.tiktok.com/@scout2015/photo/{TT_ID}"),
    (f"https://www.tiktok.com/embed/{TT_ID}", TT, TT_ID, f"https://www.tiktok.com/embed/v2/{TT_ID}"),
    (f"https://www.tiktok.com/embed/v2/{TT_ID}?lang=en", TT, TT_ID, f"https://www.tiktok.com/embed/v2/{TT_ID}"),
    (f"https://www.tiktok.com/share/video/{TT_ID}", TT, TT_ID, f"https://www.tiktok.com/embed/v2/{TT_ID}"),
    (f"https://m.tiktok.com/v/{TT_ID}.html?u_code=abc", TT, TT_ID, f"https://www.tiktok.com/embed/v2/{TT_ID}"),
    # Instagram
    ("https://www.instagram.com/reel/DMYPhxUie5h/", IG, "DMYPhxUie5h", "https://www.instagram.com/reel/DMYPhxUie5h/"),
    ("https://www.instagram.com/reel/DMYPhxUie5h/?igsh=MTc4MmM1YmI2Ng==", IG, "DMYPhxUie5h",
     "https://www.instagram.com/reel/DMYPhxUie5h/"),
    ("https://www.instagram.com/reels/DOqjIRkAoz0/", IG, "DOqjIRkAoz0", "https://www.instagram.com/reel/DOqjIRkAoz0/"),
    ("https://instagram.com/p/CowkyywjSZQ", IG, "CowkyywjSZQ", "https://www.instagram.com/p/CowkyywjSZQ/"),
    ("https://www.instagram.com/tv/CowkyywjSZQ/", IG, "CowkyywjSZQ", "https://www.instagram.com/p/CowkyywjSZQ/"),
    ("https://www.instagram.com/miaadesiign/reel/DOqjIRkAoz0/?utm_source=ig_web_copy_link", IG, "DOqjIRkAoz0",
     "https://www.instagram.com/reel/DOqjIRkAoz0/"),
    ("https://www.instagram.com/miaadesiign/p/DOnhiaCgj64/", IG, "DOnhiaCgj64", "https://www.instagram.com/p/DOnhiaCgj64/"),
    ("https://www.instagram.com/p/DOqjIRkAoz0" + "Zq9_-" * 5 + "abc/", IG, "DOqjIRkAoz0",
     "https://www.instagram.com/p/DOqjIRkAoz0/"),  # a private post's long code: the 28-char suffix dropped
    # YouTube
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", YT, "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://www.youtube.com/watch?feature=share&v=dQw4w9WgXcQ&t=42s", YT, "dQw4w9WgXcQ",
     "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://m.youtube.com/watch?v=dQw4w9WgXcQ&pp=ygU", YT, "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://music.youtube.com/watch?v=dQw4w9WgXcQ&list=RDAMVM", YT, "dQw4w9WgXcQ",
     "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://youtu.be/dQw4w9WgXcQ?si=Xk3b2pQ9", YT, "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://www.youtube.com/shorts/aqz-KE-bpKQ?feature=share", YT, "aqz-KE-bpKQ",
     "https://www.youtube.com/watch?v=aqz-KE-bpKQ"),
    ("https://www.youtube.com/live/jfKfPfyJRdk?si=abc", YT, "jfKfPfyJRdk", "https://www.youtube.com/watch?v=jfKfPfyJRdk"),
    ("https://www.youtube.com/embed/dQw4w9WgXcQ", YT, "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?rel=0", YT, "dQw4w9WgXcQ",
     "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("youtube.com/shorts/aqz-KE-bpKQ", YT, "aqz-KE-bpKQ", "https://www.youtube.com/watch?v=aqz-KE-bpKQ"),
]


@pytest.mark.parametrize(("url", "platform", "external_id", "canonical"), VIDEO_URLS)
def test_video_urls(url: str, platform: Platform, external_id: str, canonical: str) -> None:
    assert parse_video_url(url) == ParsedVideoUrl(
        platform=platform, external_video_id=external_id, canonical_url=canonical
    )


CREATOR_URLS = [
    ("https://www.tiktok.com/@scout2015", TT, "scout2015", "https://www.tiktok.com/@scout2015"),
    ("https://www.tiktok.com/@scout2015?lang=en", TT, "scout2015", "https://www.tiktok.com/@scout2015"),
    ("https://www.instagram.com/miaadesiign/", IG, "miaadesiign", "https://www.instagram.com/miaadesiign/"),
    ("https://www.instagram.com/miaadesiign/reels/?hl=en", IG, "miaadesiign", "https://www.instagram.com/miaadesiign/"),
    ("https://www.youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw", YT, "UCuAXFkgsw1L7xaCfnd5JJOw",
     "https://www.youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw"),
    ("https://www.youtube.com/@RickAstleyYT/videos", YT, "@RickAstleyYT", "https://www.youtube.com/@RickAstleyYT"),
]


@pytest.mark.parametrize(("url", "platform", "name", "canonical"), CREATOR_URLS)
def test_creator_urls(url: str, platform: Platform, name: str, canonical: str) -> None:
    assert parse_creator_url(url) == ParsedCreatorUrl(platform=platform, username_or_id=name, canonical_url=canonical)


@pytest.mark.parametrize(("url", "expected"), [
    ("https://vm.tiktok.com/ZTR45GpSF/", "https://vm.tiktok.com/ZTR45GpSF/"),
    ("https://vt.tiktok.com/ZSjXyAbCd", "https://vt.tiktok.com/ZSjXyAbCd/"),
    ("https://www.tiktok.com/t/ZTRC5xgJp", "https://www.tiktok.com/t/ZTRC5xgJp/"),
    ("https://www.instagram.com/share/reel/BAGjT3kHq0/", "https://www.instagram.com/share/reel/BAGjT3kHq0/"),
    ("https://www.instagram.com/share/p/BAGjT3kHq0/?igsh=x", "https://www.instagram.com/share/p/BAGjT3kHq0/"),
])
def test_short_links_need_resolution(url: str, expected: str) -> None:
    parsed = parse_url(url)
    assert isinstance(parsed, ShortLink)
    assert parsed.url == expected
    with pytest.raises(UnsupportedUrlError, match="short link"):
        parse_video_url(url)


INVALID_URLS = [
    "",
    "not a url",
    "https://example.com/watch?v=dQw4w9WgXcQ",
    "https://tiktok.com.evil.io/@a/video/7106798200794926362",  # suffix trick
    "https://evil.io/www.tiktok.com/@a/video/7106798200794926362",
    "https://www.tiktok.com@evil.io/@a/video/7106798200794926362",  # userinfo trick
    "https://www.tiktok.com:8443/@a/video/7106798200794926362",
    "ftp://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "javascript:alert(1)//www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://www.tiktok.com/@a/video/123",  # id too short
    "https://www.tiktok.com/@a/video/71067982007949263620000",  # id too long
    "https://www.tiktok.com/@a/live",
    "https://www.tiktok.com/music/original-sound-7106798200794926362",
    "https://www.tiktok.com/tag/fyp",
    "https://www.instagram.com/reels/audio/1234567890123456/",
    "https://www.instagram.com/reels/",
    "https://www.instagram.com/explore/tags/cats/",
    "https://www.instagram.com/stories/miaadesiign/3681760986773712481/",
    "https://www.instagram.com/p/DM!Phx/",
    "https://www.youtube.com/watch?v=dQw4w9WgXc",  # 10 characters
    "https://www.youtube.com/watch?v=dQw4w9WgXcQQ",  # 12 characters
    "https://www.youtube.com/watch?list=PL123",
    "https://youtu.be/",
    "https://www.youtube.com/playlist?list=PLrAXtmErZgOeiKm4sgNOknGvNjby9efdf",
    "https://www.youtube.com/c/RickAstley",  # legacy custom URL: no id in it
    "https://www.youtube.com/channel/UCshort",
    "https://vm.tiktok.com/",
]


@pytest.mark.parametrize("url", INVALID_URLS)
def test_invalid_urls_raise_with_accepted_forms(url: str) -> None:
    with pytest.raises(UnsupportedUrlError) as info:
        parse_url(url)
    message = str(info.value)
    assert "Accepted forms" in message
    assert "youtube.com/watch?v=<id>" in message
    assert "instagram.com/reel/<code>" in message
    assert len(message) < 400
    assert "\n" not in message


def test_a_profile_given_as_a_video_is_refused_naming_only_video_forms() -> None:
    with pytest.raises(UnsupportedUrlError) as info:
        parse_video_url("https://www.tiktok.com/@scout2015")
    message = str(info.value)
    assert "profile URL, not a video URL" in message
    assert "tiktok.com/@user/video/<id>" in message
    assert "tiktok.com/@user;" not in message  # profiles are not listed as accepted where a video is expected


def test_a_video_given_as_a_creator_is_refused_naming_the_profile_forms() -> None:
    with pytest.raises(UnsupportedUrlError) as info:
        parse_creator_url("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    message = str(info.value)
    assert "not a creator's profile URL" in message
    assert "youtube.com/@handle" in message
    assert "watch?v=" not in message.split("Accepted forms")[1]


def test_creator_url_is_not_a_video_and_back() -> None:
    with pytest.raises(UnsupportedUrlError, match="profile"):
        parse_video_url("https://www.tiktok.com/@scout2015")
    with pytest.raises(UnsupportedUrlError, match="not a creator"):
        parse_creator_url("https://youtu.be/dQw4w9WgXcQ")


@pytest.mark.parametrize(("code", "media_id"), [
    ("DMYPhxUie5h", 3681760986773712481),
    ("DOqjIRkAoz0", 3722942542216596724),
    ("CowkyywjSZQ", 3040091568624969296),
])
def test_shortcode_media_id_pairs(code: str, media_id: int) -> None:
    assert shortcode_to_media_id(code) == media_id
    assert media_id_to_shortcode(media_id) == code
    assert media_id_to_shortcode(f"{media_id}_72741069431") == code


def test_private_shortcode_suffix_is_dropped() -> None:
    assert shortcode_to_media_id("DMYPhxUie5h" + "A" * 28) == 3681760986773712481


# --- short-link resolution -------------------------------------------------------------------------


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:  # unmatched requests fail: no network
        yield mock


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # A client that follows redirects and carries a secret header: the resolver must do neither.
    with httpx.Client(follow_redirects=True, headers={"X-RapidAPI-Key": "must-not-leak"}) as client:
        yield client


def test_tiktok_short_link_resolves_with_one_request(router: respx.MockRouter, client: httpx.Client) -> None:
    route = router.get("https://vm.tiktok.com/ZTR45GpSF/").mock(return_value=httpx.Response(
        301, headers={"Location": f"https://www.tiktok.com/@scout2015/video/{TT_ID}?_t=8Sxyz&_r=1"}))
    target = router.get(url__startswith="https://www.tiktok.com/")
    parsed = resolve_video_url("https://vm.tiktok.com/ZTR45GpSF/", client)
    assert parsed == ParsedVideoUrl(platform=TT, external_video_id=TT_ID,
                                    canonical_url=f"https://www.tiktok.com/@scout2015/video/{TT_ID}")
    assert route.call_count == 1
    assert target.call_count == 0  # the id is in the Location: no need to fetch the page
    request = route.calls.last.request
    assert "X-RapidAPI-Key" not in request.headers
    assert request.headers["User-Agent"] == "facebookexternalhit/1.1"


def test_tiktok_t_link_with_relative_and_http_hops(router: respx.MockRouter, client: httpx.Client) -> None:
    first = router.get("https://www.tiktok.com/t/ZTRC5xgJp/").mock(
        return_value=httpx.Response(302, headers={"Location": "http://m.tiktok.com/redirect/ZTRC5xgJp?x=1"}))
    second = router.get("https://m.tiktok.com/redirect/ZTRC5xgJp", params={"x": "1"}).mock(
        return_value=httpx.Response(302, headers={"Location": "/v/7170520270497680683.html"}))
    parsed = resolve_video_url("https://www.tiktok.com/t/ZTRC5xgJp", client)
    assert parsed.external_video_id == "7170520270497680683"
    assert (first.call_count, second.call_count) == (1, 1)
    assert second.calls.last.request.url.scheme == "https"  # upgraded: never plain http


@pytest.mark.parametrize("location", [
    "https://evil.example/steal",
    "https://tiktok.com.evil.example/@a/video/7106798200794926362",
    "https://www.tiktok.com@169.254.169.254/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/",
    "https://www.instagram.com/reel/DMYPhxUie5h/",  # another platform is off-platform too
    "file:///etc/passwd",
])
def test_off_platform_redirects_are_refused(router: respx.MockRouter, client: httpx.Client, location: str) -> None:
    router.get("https://vm.tiktok.com/ZTR45GpSF/").mock(
        return_value=httpx.Response(302, headers={"Location": location}))
    elsewhere = router.route(url__regex=r"^(?!https://vm\.tiktok\.com/).*")
    with pytest.raises(ShortLinkError):
        resolve_video_url("https://vm.tiktok.com/ZTR45GpSF/", client)
    assert elsewhere.call_count == 0


def test_redirect_loop_is_bounded(router: respx.MockRouter, client: httpx.Client) -> None:
    route = router.get(url__startswith="https://vm.tiktok.com/").mock(
        return_value=httpx.Response(302, headers={"Location": "https://vm.tiktok.com/ZTR45GpSF/"}))
    with pytest.raises(ShortLinkError, match="more than 3 redirects"):
        resolve_video_url("https://vm.tiktok.com/ZTR45GpSF/", client, max_hops=3)
    assert route.call_count == 3


def test_short_link_without_redirect_fails(router: respx.MockRouter, client: httpx.Client) -> None:
    router.get("https://vm.tiktok.com/ZTR45GpSF/").mock(return_value=httpx.Response(404, text="gone"))
    with pytest.raises(ShortLinkError, match="HTTP 404"):
        resolve_video_url("https://vm.tiktok.com/ZTR45GpSF/", client)


def test_short_link_leading_to_a_profile_fails(router: respx.MockRouter, client: httpx.Client) -> None:
    router.get("https://vm.tiktok.com/ZTR45GpSF/").mock(
        return_value=httpx.Response(302, headers={"Location": "https://www.tiktok.com/@scout2015"}))
    with pytest.raises(ShortLinkError, match="profile"):
        resolve_video_url("https://vm.tiktok.com/ZTR45GpSF/", client)


def test_short_link_timeout(router: respx.MockRouter, client: httpx.Client) -> None:
    router.get("https://vm.tiktok.com/ZTR45GpSF/").mock(side_effect=httpx.ConnectTimeout("slow"))
    with pytest.raises(ShortLinkError, match="timed out"):
        resolve_video_url("https://vm.tiktok.com/ZTR45GpSF/", client, timeout_s=2)


def test_instagram_share_link_and_login_wall(router: respx.MockRouter, client: httpx.Client) -> None:
    router.get("https://www.instagram.com/share/reel/BAGjT3kHq0/").mock(return_value=httpx.Response(
        302, headers={"Location": "https://www.instagram.com/accounts/login/?next=%2Freel%2FDMYPhxUie5h%2F"}))
    parsed = resolve_video_url("https://www.instagram.com/share/reel/BAGjT3kHq0/", client)
    assert parsed == ParsedVideoUrl(platform=IG, external_video_id="DMYPhxUie5h",
                                    canonical_url="https://www.instagram.com/reel/DMYPhxUie5h/")


def test_direct_video_urls_need_no_request(router: respx.MockRouter, client: httpx.Client) -> None:
    parsed = resolve_video_url("https://youtu.be/dQw4w9WgXcQ", client)
    assert parsed.external_video_id == "dQw4w9WgXcQ"
    assert len(router.calls) == 0
