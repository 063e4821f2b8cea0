"""Start tracking: URLs → videos (created or reused), campaign membership, an immediate fetch on SQS (moto)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
import respx
from vidstats import cli
from vidstats.db import Database
from vidstats.ingestion.fetch_queue import SqsFetchQueue
from vidstats.ingestion.messages import FetchVideosMessage, parse_message
from vidstats.ingestion.processor import Record
from vidstats.ingestion.tracking import CampaignNotFoundError, InvalidUrlsError, start_tracking
from vidstats.platforms import Platform
from vidstats.workspaces import DEFAULT_WORKSPACE_ID

from tests.conftest import IsolatedDatabase
from tests.ingest_helpers import TIKTOK_VIDEO_URL, processor, snapshot_rows, tiktok_body

TIKTOK_URL = "https://www.tiktok.com/@islamicvibes1445/video/7367927569280240901?is_from_webapp=1"
YOUTUBE_URL = "https://youtu.be/dQw4w9WgXcQ?si=abc"
REEL_URL = "https://www.instagram.com/reel/DOqjIRkAoz0/?igsh=xyz"


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def received(sqs: tuple[Any, str]) -> list[Any]:
    client, url = sqs
    messages: list[Any] = []
    while True:
        batch = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return messages
        messages += batch


def campaign(database: IsolatedDatabase, **fields: Any) -> uuid.UUID:
    with psycopg.connect(database.superuser_url) as conn:
        row = conn.execute("insert into analytics.campaigns (workspace_id, name, starts_at, ends_at) values"
                           " ('00000000-0000-4000-8000-000000000001', 'Spring',"
                           " now() - interval '1 day', %s) returning id",
                           (fields.get("ends_at"),)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def table(database: IsolatedDatabase, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute(query).fetchall()


def test_start_tracking_creates_videos_adds_them_to_the_campaign_and_enqueues_a_fetch(
    db: Database, database: IsolatedDatabase, sqs: tuple[Any, str], router: respx.MockRouter
) -> None:
    campaign_id = campaign(database)
    with httpx.Client() as resolver:
        tracked = start_tracking(db, SqsFetchQueue(sqs[0], sqs[1]),
                                 [TIKTOK_URL, YOUTUBE_URL, REEL_URL, TIKTOK_URL], campaign_id, resolver_client=resolver,
                                 workspace_id=DEFAULT_WORKSPACE_ID)

    assert [(t.platform, t.external_video_id) for t in tracked] == [
        (Platform.INSTAGRAM, "DOqjIRkAoz0"), (Platform.TIKTOK, "7367927569280240901"),
        (Platform.YOUTUBE, "dQw4w9WgXcQ")]
    assert all(t.created and t.fetch_enqueued and t.tracking_state == "active" for t in tracked)
    assert {t.url for t in tracked} == {
        "https://www.instagram.com/reel/DOqjIRkAoz0/", "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.tiktok.com/@islamicvibes1445/video/7367927569280240901"}
    members = table(database, "select video_id from analytics.campaign_videos")
    assert {m[0] for m in members} == {t.video_id for t in tracked}

    (message,) = received(sqs)
    parsed = parse_message(message["Body"])
    assert isinstance(parsed, FetchVideosMessage)
    assert parsed.reason == "start_tracking"
    assert {v.video_id for v in parsed.videos} == {t.video_id for t in tracked}


def test_tracking_again_reuses_videos_and_keeps_the_first_start(
    db: Database, database: IsolatedDatabase, sqs: tuple[Any, str], router: respx.MockRouter
) -> None:
    queue = SqsFetchQueue(sqs[0], sqs[1])
    with httpx.Client() as resolver:
        (first,) = start_tracking(db, queue, [TIKTOK_URL], resolver_client=resolver, workspace_id=DEFAULT_WORKSPACE_ID)
        with psycopg.connect(database.superuser_url) as conn:
            conn.execute("update analytics.videos set tracking_state = 'stopped', tracking_stopped_at = now()")
        campaign_id = campaign(database)
        (again,) = start_tracking(db, queue, ["https://www.tiktok.com/embed/v2/7367927569280240901"], campaign_id,
                                  resolver_client=resolver, workspace_id=DEFAULT_WORKSPACE_ID)
        (third,) = start_tracking(db, queue, [TIKTOK_URL], campaign_id, resolver_client=resolver,
                                  workspace_id=DEFAULT_WORKSPACE_ID)
    assert again.video_id == first.video_id == third.video_id
    assert (again.created, again.tracking_state) == (False, "active")  # reactivated by the explicit request
    assert again.tracking_started_at == first.tracking_started_at
    assert table(database, "select count(*) from analytics.campaign_videos") == [(1,)]
    assert table(database, "select count(*) from analytics.videos") == [(1,)]
    assert len(received(sqs)) == 3


def test_a_gone_video_is_reused_but_not_fetched(
    db: Database, database: IsolatedDatabase, sqs: tuple[Any, str], router: respx.MockRouter
) -> None:
    queue = SqsFetchQueue(sqs[0], sqs[1])
    with httpx.Client() as resolver:
        start_tracking(db, queue, [YOUTUBE_URL], resolver_client=resolver, workspace_id=DEFAULT_WORKSPACE_ID)
        received(sqs)
        with psycopg.connect(database.superuser_url) as conn:
            conn.execute("update analytics.videos set tracking_state = 'gone'")
        (video,) = start_tracking(db, queue, [YOUTUBE_URL], resolver_client=resolver, workspace_id=DEFAULT_WORKSPACE_ID)
    assert (video.tracking_state, video.fetch_enqueued) == ("gone", False)


def test_a_bad_url_or_unknown_campaign_writes_nothing(
    db: Database, database: IsolatedDatabase, sqs: tuple[Any, str], router: respx.MockRouter
) -> None:
    queue = SqsFetchQueue(sqs[0], sqs[1])
    with httpx.Client() as resolver:
        with pytest.raises(InvalidUrlsError) as info:
            start_tracking(db, queue, [TIKTOK_URL, "https://vimeo.com/12345"], resolver_client=resolver,
                           workspace_id=DEFAULT_WORKSPACE_ID)
        assert list(info.value.problems) == ["https://vimeo.com/12345"]
        assert "Accepted forms" in info.value.problems["https://vimeo.com/12345"]
        with pytest.raises(CampaignNotFoundError):
            start_tracking(db, queue, [TIKTOK_URL], uuid.uuid4(), resolver_client=resolver,
                           workspace_id=DEFAULT_WORKSPACE_ID)
    assert table(database, "select count(*) from analytics.videos") == [(0,)]
    assert received(sqs) == []


def test_a_short_link_is_resolved_on_the_platform_only(
    db: Database, sqs: tuple[Any, str], router: respx.MockRouter
) -> None:
    router.get("https://vm.tiktok.com/ZMabc123/").respond(
        301, headers={"Location": "https://www.tiktok.com/@someone/video/7367927569280240901?_r=1"})
    router.get("https://vm.tiktok.com/ZMevil99/").respond(301, headers={"Location": "https://evil.example/x"})
    queue = SqsFetchQueue(sqs[0], sqs[1])
    with httpx.Client() as resolver:
        (video,) = start_tracking(db, queue, ["https://vm.tiktok.com/ZMabc123/"], resolver_client=resolver,
                                  workspace_id=DEFAULT_WORKSPACE_ID)
        assert video.external_video_id == "7367927569280240901"
        with pytest.raises(InvalidUrlsError, match="off tiktok"):
            start_tracking(db, queue, ["https://vm.tiktok.com/ZMevil99/"], resolver_client=resolver,
                           workspace_id=DEFAULT_WORKSPACE_ID)


def test_the_enqueued_fetch_ends_in_a_snapshot(
    db: Database, database: IsolatedDatabase, sqs: tuple[Any, str], router: respx.MockRouter
) -> None:
    router.get(TIKTOK_VIDEO_URL).respond(200, json=tiktok_body("7367927569280240901"))
    with httpx.Client() as resolver:
        start_tracking(db, SqsFetchQueue(sqs[0], sqs[1]), [TIKTOK_URL], resolver_client=resolver,
                       workspace_id=DEFAULT_WORKSPACE_ID)
        (message,) = received(sqs)
        report = processor(db, resolver).process([Record(message["MessageId"], message["Body"])])
    assert report.failures == {}
    assert snapshot_rows(database.superuser_url)[0][1:] == ("7367927569280240901", 388791, 24101, 69, 2618, 5339)


def test_cli_track(database: IsolatedDatabase, sqs: tuple[Any, str], router: respx.MockRouter,
                   capsys: pytest.CaptureFixture[str]) -> None:
    campaign_id = campaign(database)
    args = ["--database-url", database.owner_url, "--queue-url", sqs[1]]
    assert cli.main(["track", TIKTOK_URL, YOUTUBE_URL, "--campaign", str(campaign_id), *args]) == 0
    out = capsys.readouterr().out
    assert "7367927569280240901  new, fetch enqueued" in out
    assert len(received(sqs)) == 1
    assert cli.main(["track", "https://example.com/video/1", *args]) == 1
    assert "Accepted forms" in capsys.readouterr().err


def test_cli_track_over_the_workspaces_daily_fetch_cap_says_so_and_tracks_nothing(
        database: IsolatedDatabase, sqs: tuple[Any, str], router: respx.MockRouter,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from vidstats.budgets import budget_settings

    monkeypatch.setenv("WORKSPACE_FETCHES_PER_DAY_DEFAULT", "1")
    budget_settings.cache_clear()
    try:
        args = ["--database-url", database.owner_url, "--queue-url", sqs[1]]
        assert cli.main(["track", TIKTOK_URL, YOUTUBE_URL, *args]) == 1
        assert "over the workspace's fetches_per_day cap" in capsys.readouterr().err
        assert received(sqs) == []
        with database.connect_superuser() as conn:
            assert conn.execute("select count(*) from analytics.videos").fetchone() == (0,)
    finally:
        budget_settings.cache_clear()
