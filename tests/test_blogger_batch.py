"""Blogger batch from recorded listings: blogger and videos upserted, snapshots straight from the listing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
import pytest
import respx
from vidstats.db import Database
from vidstats.ingestion.blogger_batch import creator_ref, request_blogger_batch, run_blogger_batch
from vidstats.ingestion.fetch_queue import ListQueue
from vidstats.ingestion.messages import FetchCreatorMessage, dump_message
from vidstats.ingestion.processor import Record
from vidstats.ingestion.urls import UnsupportedUrlError
from vidstats.platforms import Platform

from tests.conftest import IsolatedDatabase
from tests.ingest_helpers import YOUTUBE_VIDEOS_URL, processor, registry, snapshot_rows
from tests.providers.conftest import load, url


def rows(database: IsolatedDatabase, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute(query).fetchall()


def tiktok_listing(router: respx.MockRouter) -> tuple[Any, Any]:
    posts = router.get(url(Platform.TIKTOK, "user_posts")).mock(side_effect=[
        httpx.Response(200, json=load("tiktok/user_posts_page1.json")),
        httpx.Response(200, json=load("tiktok/user_posts_page2.json")),
    ])
    video = router.get(url(Platform.TIKTOK, "video")).respond(500)
    return posts, video


def test_tiktok_listing_gives_blogger_videos_and_snapshots_without_per_video_calls(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    posts, video_route = tiktok_listing(router)
    provider = registry(client)(Platform.TIKTOK)
    result = run_blogger_batch(db, provider, Platform.TIKTOK, "@mineodesu69", limit=10)

    assert (posts.call_count, video_route.call_count) == (2, 0)
    assert (result.snapshots, result.errors) == (3, {})
    assert rows(database, "select platform, platform_user_id, username, profile_url from analytics.bloggers") == [
        ("tiktok", "6800000000000000000", "mineodesu69", "https://www.tiktok.com/@mineodesu69")]
    videos = rows(database, "select external_video_id, url, caption, blogger_id is not null,"
                            " analytics.last_fetch_at(id) is not null from analytics.videos order by external_video_id")
    assert [v[0] for v in videos] == ["7020000000000000001", "7038000000000000003", "7040875497281867010"]
    assert videos[0][1] == "https://www.tiktok.com/@mineodesu69/video/7020000000000000001"
    assert all(v[3] and v[4] for v in videos)
    assert [r[1:] for r in snapshot_rows(database.superuser_url)] == [
        ("7020000000000000001", 120044, 9120, 311, 80, 402),
        ("7038000000000000003", 5120, 201, 9, 1, 4),
        ("7040875497281867010", 7064, 324, 14, 3, 10)]


def test_a_second_batch_reuses_the_blogger_and_videos_and_adds_a_snapshot_each(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    router.get(url(Platform.TIKTOK, "user_posts")).mock(side_effect=lambda request: httpx.Response(
        200, json=load("tiktok/user_posts_page1.json" if request.url.params["cursor"] == "0"
                       else "tiktok/user_posts_page2.json")))
    provider = registry(client)(Platform.TIKTOK)
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute("insert into analytics.campaigns (workspace_id, name, starts_at) values "
                           "('00000000-0000-4000-8000-000000000001', 'C', now()) returning id"
                           ).fetchone()
    assert row is not None
    first = run_blogger_batch(db, provider, Platform.TIKTOK, "mineodesu69", limit=2, campaign_id=row[0])
    second = run_blogger_batch(db, provider, Platform.TIKTOK, "mineodesu69", limit=3, campaign_id=row[0])
    assert first.blogger_id == second.blogger_id
    assert rows(database, "select count(*) from analytics.videos") == [(3,)]
    assert rows(database, "select count(*) from analytics.campaign_videos") == [(3,)]
    assert len(snapshot_rows(database.superuser_url)) == 2 + 3


def test_youtube_listing_without_counters_is_fetched_fifty_per_call(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    router.get(url(Platform.YOUTUBE, "channels")).respond(200, json=load("youtube/channels_for_handle.json"))
    router.get(url(Platform.YOUTUBE, "search")).mock(side_effect=[
        httpx.Response(200, json=load("youtube/search_page1.json")),
        httpx.Response(200, json=load("youtube/search_page2.json")),
    ])
    videos_route = router.get(YOUTUBE_VIDEOS_URL).respond(200, json=load("youtube/videos.json"))
    provider = registry(client)(Platform.YOUTUBE)
    result = run_blogger_batch(db, provider, Platform.YOUTUBE, "@RickAstleyYT", limit=10)
    assert videos_route.call_count == 1
    assert result.snapshots == 3
    assert rows(database, "select platform_user_id, username from analytics.bloggers") == [
        ("UCuAXFkgsw1L7xaCfnd5JJOw", "@RickAstleyYT")]
    by_id = {r[1]: r for r in snapshot_rows(database.superuser_url)}
    assert by_id["dQw4w9WgXcQ"][2:] == (1712345678, None, 2400000, None, None)  # hidden likes stay NULL


def test_instagram_reels_listing_is_paged_up_to_the_limit(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    router.get(url(Platform.INSTAGRAM, "user_id")).respond(200, json=load("instagram/user_id.json"))
    reels = router.get(url(Platform.INSTAGRAM, "reels")).mock(side_effect=[
        httpx.Response(200, json=load("instagram/reels_page1.json")),
        httpx.Response(200, json=load("instagram/reels_last_page.json")),
    ])
    post = router.get(url(Platform.INSTAGRAM, "post")).respond(500)
    provider = registry(client)(Platform.INSTAGRAM)
    result = run_blogger_batch(db, provider, Platform.INSTAGRAM, "miaadesiign", limit=7)
    assert (reels.call_count, post.call_count) == (2, 0)
    assert len(result.videos) == 7
    assert result.snapshots + len(result.errors) == 7
    assert rows(database, "select platform_user_id from analytics.bloggers") == [("72741069431",)]


def test_the_processor_runs_a_fetch_creator_message_once(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    posts = router.get(url(Platform.TIKTOK, "user_posts")).mock(side_effect=lambda request: httpx.Response(
        200, json=load("tiktok/user_posts_page1.json" if request.url.params["cursor"] == "0"
                       else "tiktok/user_posts_page2.json")))
    queue = ListQueue()
    request_blogger_batch(queue, creator_ref("https://www.tiktok.com/@mineodesu69?lang=en"), limit=5)
    (message,) = queue.messages
    assert isinstance(message, FetchCreatorMessage)
    body = dump_message(message)
    ingest = processor(db, client)
    assert ingest.process([Record("m1", body)]).failures == {}
    again = ingest.process([Record("m1", body)])  # redelivered
    assert (again.failures, again.provider_calls_skipped) == ({}, 1)
    assert posts.call_count == 2
    assert len(snapshot_rows(database.superuser_url)) == 3


def test_a_failed_listing_fails_its_record_and_writes_nothing(
    db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client
) -> None:
    router.get(url(Platform.TIKTOK, "user_posts")).respond(200, json=load("tiktok/error_envelope.json"))
    body = dump_message(FetchCreatorMessage(version=1, kind="fetch_creator", request_id=uuid.uuid4(),
                                            platform=Platform.TIKTOK, creator="nobody"))
    report = processor(db, client).process([Record("m1", body)])
    assert list(report.failures) == ["m1"]
    assert rows(database, "select count(*) from analytics.bloggers") == [(0,)]


def test_creator_refs() -> None:
    assert creator_ref("https://www.instagram.com/miaadesiign/").creator == "miaadesiign"
    assert creator_ref(platform=Platform.YOUTUBE, username="@RickAstleyYT").creator == "@RickAstleyYT"
    with pytest.raises(UnsupportedUrlError):
        creator_ref("https://www.tiktok.com/@user/video/7367927569280240901")
    with pytest.raises(ValueError, match="platform and a username"):
        creator_ref(platform=Platform.TIKTOK)
