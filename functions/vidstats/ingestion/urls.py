"""Video and creator URLs pasted by users → (platform, external id, canonical URL).

Parsing is local and strict: exact host allow-lists, no suffix matching (``tiktok.com.evil.io`` is not
TikTok), no userinfo tricks (``https://www.tiktok.com@evil.io/``). Short links (``vm.tiktok.com/<code>``,
``tiktok.com/t/<code>``, Instagram ``/share/...``) carry no id; ``resolve_video_url`` follows their
redirects by hand, only ever requesting the platform's own hosts (the URL is user input: SSRF).

External ids are always strings (19-digit TikTok ids lose precision as JSON numbers). Canonical URLs drop
tracking parameters; deduplicate on ``(platform, external_video_id)``, not on the URL.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urljoin, urlsplit

from pydantic import BaseModel, ConfigDict

from vidstats.platforms import Platform

if TYPE_CHECKING:
    import httpx

VIDEO_FORMS = ("tiktok.com/@user/video/<id>, vm.tiktok.com/<code>; instagram.com/reel/<code>, instagram.com/p/<code>; "
               "youtube.com/watch?v=<id>, youtu.be/<id>, youtube.com/shorts/<id>")
CREATOR_FORMS = "tiktok.com/@user; instagram.com/<username>; youtube.com/@handle, youtube.com/channel/UC..."
ACCEPTED_FORMS = f"videos: {VIDEO_FORMS}; creators: {CREATOR_FORMS}"


class UnsupportedUrlError(ValueError):
    """Not a URL form we accept. The message is one line naming the forms accepted where it was given
    (``kind``: a video URL, a creator's profile URL)."""

    def __init__(self, url: str, reason: str, *, kind: str = "video") -> None:
        shown = url if len(url) <= 100 else url[:100] + "..."
        forms = CREATOR_FORMS if kind == "creator" else VIDEO_FORMS
        short_reason = reason if len(reason) <= 120 else reason[:120] + "..."  # a parser's reason may quote the URL
        super().__init__(f"unsupported URL {shown!r}: {short_reason}. Accepted forms: {forms}")
        self.url = url
        self.reason = reason


class ShortLinkError(UnsupportedUrlError):
    """A short link that could not be resolved to a video (off-platform redirect, too many hops, HTTP error)."""


class ParsedVideoUrl(BaseModel):
    model_config = ConfigDict(frozen=True)

    platform: Platform
    external_video_id: str
    canonical_url: str


class ParsedCreatorUrl(BaseModel):
    model_config = ConfigDict(frozen=True)

    platform: Platform
    username_or_id: str  # TikTok handle, Instagram username, YouTube UC... id or @handle
    canonical_url: str


class ShortLink(BaseModel):
    """A link whose id is only known after following its redirect (``resolve_video_url``)."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    url: str  # normalised: https, allowed host, no query


TIKTOK_HOSTS = frozenset({"tiktok.com", "www.tiktok.com", "m.tiktok.com"})
TIKTOK_SHORT_HOSTS = frozenset({"vm.tiktok.com", "vt.tiktok.com"})
INSTAGRAM_HOSTS = frozenset({"instagram.com", "www.instagram.com", "m.instagram.com"})
YOUTUBE_HOSTS = frozenset({
    "youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com",
    "youtube-nocookie.com", "www.youtube-nocookie.com",
})
YOUTU_BE_HOSTS = frozenset({"youtu.be", "www.youtu.be"})

# Hosts a short link may lead to: its platform's own, nothing else.
REDIRECT_ALLOWED_HOSTS: dict[Platform, frozenset[str]] = {
    Platform.TIKTOK: TIKTOK_HOSTS | TIKTOK_SHORT_HOSTS,
    Platform.INSTAGRAM: INSTAGRAM_HOSTS,
}

_TIKTOK_ID = re.compile(r"[0-9]{15,20}")
_TIKTOK_HANDLE = re.compile(r"[A-Za-z0-9_.]{1,30}")
_TIKTOK_SHORT_CODE = re.compile(r"[A-Za-z0-9_-]{4,20}")
_IG_CODE = re.compile(r"[A-Za-z0-9_-]+")
_IG_USERNAME = re.compile(r"[A-Za-z0-9._]{1,30}")
_IG_SHARE_TOKEN = re.compile(r"[A-Za-z0-9_-]{4,64}")
_YT_ID = re.compile(r"[0-9A-Za-z_-]{11}")
_YT_CHANNEL_ID = re.compile(r"UC[0-9A-Za-z_-]{22}")
_YT_HANDLE = re.compile(r"@[A-Za-z0-9._-]{3,30}")

_IG_POST_KINDS = {"reel": "reel", "reels": "reel", "p": "p", "tv": "p"}
# First path segments that are Instagram pages, not usernames.
_IG_RESERVED = frozenset({
    "about", "accounts", "api", "ar", "challenge", "developer", "direct", "emails", "explore", "graphql",
    "legal", "oauth", "p", "privacy", "reel", "reels", "s", "session", "share", "static", "stories", "terms",
    "tv", "web", "invites", "locations", "directory",
})
_IG_PRIVATE_SUFFIX = 28  # private posts' shortcodes carry a 28-character suffix after the media id's code
_IG_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

ParsedUrl = ParsedVideoUrl | ParsedCreatorUrl | ShortLink


def _split(url: str) -> tuple[str, list[str], dict[str, list[str]]]:
    """(host, path segments, query) of an http(s) URL, refusing anything that could mislead host checks."""
    text = url.strip()
    if not text:
        raise UnsupportedUrlError(url, "empty URL")
    if "://" not in text:
        text = "https://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise UnsupportedUrlError(url, f"malformed URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsupportedUrlError(url, "only http(s) URLs are accepted")
    if "@" in parts.netloc or "\\" in text.split("?", 1)[0]:
        raise UnsupportedUrlError(url, "credentials or backslashes in the host part are not accepted")
    if port not in (None, 80, 443):
        raise UnsupportedUrlError(url, "a custom port is not accepted")
    host = (parts.hostname or "").rstrip(".")
    segments = [segment for segment in parts.path.split("/") if segment]
    return host, segments, parse_qs(parts.query)


def parse_url(url: str) -> ParsedUrl:
    """A video, a creator, or a short link needing resolution; UnsupportedUrlError otherwise."""
    host, segments, query = _split(url)
    if host in TIKTOK_HOSTS or host in TIKTOK_SHORT_HOSTS:
        return _parse_tiktok(url, host, segments)
    if host in INSTAGRAM_HOSTS:
        return _parse_instagram(url, segments, query)
    if host in YOUTUBE_HOSTS or host in YOUTU_BE_HOSTS:
        return _parse_youtube(url, host, segments, query)
    raise UnsupportedUrlError(url, f"host {host or '(none)'!r} is not TikTok, Instagram or YouTube")


def parse_video_url(url: str) -> ParsedVideoUrl:
    """A video URL without network access. Short links raise: use ``resolve_video_url`` for them."""
    parsed = parse_url(url)
    if isinstance(parsed, ParsedVideoUrl):
        return parsed
    if isinstance(parsed, ShortLink):
        raise UnsupportedUrlError(url, "a short link: resolve it first (resolve_video_url)")
    raise UnsupportedUrlError(url, "a creator's profile URL, not a video URL")


def parse_creator_url(url: str) -> ParsedCreatorUrl:
    try:
        parsed = parse_url(url)
    except UnsupportedUrlError as exc:
        raise UnsupportedUrlError(url, exc.reason, kind="creator") from None
    if isinstance(parsed, ParsedCreatorUrl):
        return parsed
    raise UnsupportedUrlError(url, "a video URL, not a creator's profile URL", kind="creator")


# --- TikTok ---------------------------------------------------------------------------------------


def _tiktok_video(video_id: str, user: str | None, kind: str = "video") -> ParsedVideoUrl:
    canonical = (
        f"https://www.tiktok.com/@{user}/{kind}/{video_id}" if user else f"https://www.tiktok.com/embed/v2/{video_id}"
    )
    return ParsedVideoUrl(platform=Platform.TIKTOK, external_video_id=video_id, canonical_url=canonical)


def _parse_tiktok(url: str, host: str, segments: list[str]) -> ParsedUrl:
    if host in TIKTOK_SHORT_HOSTS:
        if len(segments) == 1 and _TIKTOK_SHORT_CODE.fullmatch(segments[0]):
            return ShortLink(platform=Platform.TIKTOK, url=f"https://{host}/{segments[0]}/")
        raise UnsupportedUrlError(url, "a TikTok short link must be vm.tiktok.com/<code>")
    match segments:
        case [user, ("video" | "photo") as kind, video_id, *_] if user.startswith("@") and _TIKTOK_ID.fullmatch(
            video_id
        ):
            handle = user[1:]
            if handle and not _TIKTOK_HANDLE.fullmatch(handle):
                raise UnsupportedUrlError(url, "invalid TikTok username")
            return _tiktok_video(video_id, handle or None, kind)
        case ["embed", video_id] | ["embed", "v2", video_id] | ["share", "video", video_id] if _TIKTOK_ID.fullmatch(
            video_id
        ):
            return _tiktok_video(video_id, None)
        case ["v", page] if page.endswith(".html") and _TIKTOK_ID.fullmatch(page[: -len(".html")]):
            return _tiktok_video(page[: -len(".html")], None)
        case ["t", code] if _TIKTOK_SHORT_CODE.fullmatch(code):
            return ShortLink(platform=Platform.TIKTOK, url=f"https://www.tiktok.com/t/{code}/")
        case [user] if user.startswith("@") and _TIKTOK_HANDLE.fullmatch(user[1:]):
            handle = user[1:]
            return ParsedCreatorUrl(
                platform=Platform.TIKTOK, username_or_id=handle, canonical_url=f"https://www.tiktok.com/@{handle}"
            )
    raise UnsupportedUrlError(url, "not a TikTok video, photo post, short link or profile URL")


# --- Instagram ------------------------------------------------------------------------------------


def normalize_shortcode(code: str) -> str:
    """The public shortcode: private posts' long codes lose their 28-character suffix."""
    if len(code) > _IG_PRIVATE_SUFFIX:
        code = code[:-_IG_PRIVATE_SUFFIX]
    return code


def shortcode_to_media_id(code: str) -> int:
    """The numeric media id a shortcode encodes (base 64, alphabet A-Z a-z 0-9 - _)."""
    code = normalize_shortcode(code)
    if not code or not _IG_CODE.fullmatch(code):
        raise ValueError(f"not an Instagram shortcode: {code!r}")
    media_id = 0
    for char in code:
        media_id = media_id * 64 + _IG_ALPHABET.index(char)
    return media_id


def media_id_to_shortcode(media_id: int | str) -> str:
    """The shortcode of a media id; accepts ``<media pk>_<owner pk>`` as the APIs give it."""
    number = int(str(media_id).split("_", 1)[0])
    if number <= 0:
        raise ValueError(f"not an Instagram media id: {media_id!r}")
    chars = []
    while number:
        number, digit = divmod(number, 64)
        chars.append(_IG_ALPHABET[digit])
    return "".join(reversed(chars))


def _instagram_post(url: str, kind: str, code: str) -> ParsedVideoUrl:
    if not _IG_CODE.fullmatch(code):
        raise UnsupportedUrlError(url, "invalid Instagram shortcode")
    code = normalize_shortcode(code)
    if not 4 <= len(code) <= 14:
        raise UnsupportedUrlError(url, "invalid Instagram shortcode length")
    return ParsedVideoUrl(
        platform=Platform.INSTAGRAM,
        external_video_id=code,
        canonical_url=f"https://www.instagram.com/{_IG_POST_KINDS[kind]}/{code}/",
    )


def _parse_instagram(url: str, segments: list[str], query: dict[str, list[str]]) -> ParsedUrl:
    match segments:
        case ["reels", "audio", *_]:
            raise UnsupportedUrlError(url, "an Instagram audio page, not a post")
        case [kind, code, *_] if kind in _IG_POST_KINDS:
            return _instagram_post(url, kind, code)
        case [user, kind, code, *_] if (
            kind in _IG_POST_KINDS and user.lower() not in _IG_RESERVED and _IG_USERNAME.fullmatch(user)
        ):
            return _instagram_post(url, kind, code)
        case ["share", ("reel" | "p") as kind, token] if _IG_SHARE_TOKEN.fullmatch(token):
            return ShortLink(platform=Platform.INSTAGRAM, url=f"https://www.instagram.com/share/{kind}/{token}/")
        case ["accounts", "login", *_] if query.get("next", [""])[0].startswith("/"):
            # Where an anonymous share-link redirect lands; the post is in ``next``.
            return parse_url("https://www.instagram.com" + query["next"][0])
        case [user] | [user, "reels"] if user.lower() not in _IG_RESERVED and _IG_USERNAME.fullmatch(user):
            return ParsedCreatorUrl(
                platform=Platform.INSTAGRAM, username_or_id=user, canonical_url=f"https://www.instagram.com/{user}/"
            )
    raise UnsupportedUrlError(url, "not an Instagram reel/post URL, share link or profile URL")


# --- YouTube --------------------------------------------------------------------------------------


def _youtube_video(url: str, video_id: str) -> ParsedVideoUrl:
    if not _YT_ID.fullmatch(video_id):
        raise UnsupportedUrlError(url, "a YouTube video id is exactly 11 characters of 0-9 A-Z a-z _ -")
    return ParsedVideoUrl(
        platform=Platform.YOUTUBE,
        external_video_id=video_id,
        canonical_url=f"https://www.youtube.com/watch?v={video_id}",
    )


def _parse_youtube(url: str, host: str, segments: list[str], query: dict[str, list[str]]) -> ParsedUrl:
    if host in YOUTU_BE_HOSTS:
        if len(segments) == 1:
            return _youtube_video(url, segments[0])
        raise UnsupportedUrlError(url, "a youtu.be link must be youtu.be/<id>")
    match segments:
        case ["watch"]:
            return _youtube_video(url, query.get("v", [""])[0])
        case [("shorts" | "live" | "embed"), video_id]:
            return _youtube_video(url, video_id)
        case ["channel", channel_id, *_] if _YT_CHANNEL_ID.fullmatch(channel_id):
            return ParsedCreatorUrl(
                platform=Platform.YOUTUBE,
                username_or_id=channel_id,
                canonical_url=f"https://www.youtube.com/channel/{channel_id}",
            )
        case [handle, *_] if _YT_HANDLE.fullmatch(handle):
            return ParsedCreatorUrl(
                platform=Platform.YOUTUBE, username_or_id=handle, canonical_url=f"https://www.youtube.com/{handle}"
            )
    raise UnsupportedUrlError(url, "not a YouTube video, Shorts, live, embed or channel URL")


# --- short links ----------------------------------------------------------------------------------

SHORT_LINK_USER_AGENT = "facebookexternalhit/1.1"  # what yt-dlp sends to get TikTok's plain redirect
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def resolve_video_url(url: str, client: httpx.Client, *, max_hops: int = 5, timeout_s: float = 5.0) -> ParsedVideoUrl:
    """Any accepted video URL, following a short link's redirects when needed.

    Requests go only to ``REDIRECT_ALLOWED_HOSTS`` of the link's platform, over https, one hop at a time
    (``follow_redirects=False``); a redirect anywhere else stops with ShortLinkError before any request
    is made to it. Requests are built without the client's default headers or cookies, so a client that
    also carries an API key cannot leak it here.
    """
    parsed = parse_url(url)
    if isinstance(parsed, ParsedVideoUrl):
        return parsed
    if isinstance(parsed, ParsedCreatorUrl):
        raise UnsupportedUrlError(url, "a creator's profile URL, not a video URL")
    return _follow_short_link(url, parsed, client, max_hops=max_hops, timeout_s=timeout_s)


def _follow_short_link(
    original: str, link: ShortLink, client: httpx.Client, *, max_hops: int, timeout_s: float
) -> ParsedVideoUrl:
    import httpx  # only short links need it (a cold start of a handler that parses URLs does not)

    allowed = REDIRECT_ALLOWED_HOSTS[link.platform]
    current = link.url
    for _ in range(max_hops):
        request = httpx.Request(
            "GET",
            current,
            headers={"User-Agent": SHORT_LINK_USER_AGENT, "Accept": "text/html"},
            extensions={"timeout": httpx.Timeout(timeout_s).as_dict()},
        )
        try:
            response = client.send(request, follow_redirects=False, stream=True)
        except httpx.TimeoutException:
            raise ShortLinkError(original, f"timed out resolving the short link after {timeout_s:g}s") from None
        except httpx.HTTPError as exc:
            raise ShortLinkError(original, f"could not resolve the short link ({type(exc).__name__})") from None
        try:
            location = response.headers.get("location")
            status = response.status_code
        finally:
            response.close()  # the body (an HTML page) is never read
        if status not in _REDIRECT_STATUSES or not location:
            raise ShortLinkError(original, f"the short link did not redirect to a video (HTTP {status})")
        target = urljoin(current, location)
        try:
            host, _segments, _query = _split(target)
        except UnsupportedUrlError:
            raise ShortLinkError(original, "the short link redirects to an unusable URL") from None
        if host not in allowed or urlsplit(target).scheme.lower() not in ("http", "https"):
            raise ShortLinkError(original, f"the short link redirects off {link.platform.value} (to {host!r})")
        try:
            parsed = parse_url(target)
        except UnsupportedUrlError:
            parsed = None
        if isinstance(parsed, ParsedVideoUrl) and parsed.platform is link.platform:
            return parsed
        if isinstance(parsed, ParsedCreatorUrl):
            raise ShortLinkError(original, "the short link leads to a profile, not a video")
        # Another hop on the platform: over https, on the allowed host, with path and query only.
        parts = urlsplit(target)
        current = f"https://{host}{quote(parts.path, safe='/@._-~%')}" + (f"?{parts.query}" if parts.query else "")
    raise ShortLinkError(original, f"more than {max_hops} redirects")
