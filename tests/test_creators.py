"""Creators attached from what the platform says: a video tracked by URL gets its author from the fetched answer,
as the same bloggers row a blogger batch of that creator uses; and a blogger batch's outcome is kept.

Real PostgreSQL, the real providers on recorded-shape RapidAPI answers replayed with respx, the real processor.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
import respx
from vidstats.db import Database, Role
from vidstats.ingestion.blogger_batches_repository import BatchCounts, FailureReason, find_batch
from vidstats.ingestion.bloggers_repository import Creator, KnownCreators
from vidstats.ingestion.messages import FetchCreatorMessage, dump_message
from vidstats.ingestion.processor import IngestProcessor, Record, WriteFailed
from vidstats.platforms import Platform

from tests.conftest import IsolatedDatabase
from tests.factories import member
from tests.ingest_helpers import (
    INSTAGRAM_POST_URL,
    TIKTOK_VIDEO_URL,
    YOUTUBE_VIDEOS_URL,
    fetch_body,
    insert_videos,
    instagram_body,
    processor,
    tiktok_body,
)
from tests.providers.conftest import load, url

MINEO = {"id": "6800000000000000000", "unique_id": "mineodesu69", "nickname": "こずりん"}
LISTED = ["7020000000000000001", "7038000000000000003", "7040875497281867010"]  # the recorded user/posts pages


def query(database: IsolatedDatabase, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database.superuser_url) as conn:
        return conn.execute(sql.encode(), params).fetchall()


def execute(database: IsolatedDatabase, sql: str) -> None:
    with psycopg.connect(database.superuser_url) as conn:
        conn.execute(sql.encode())


def bloggers(database: IsolatedDatabase) -> list[tuple[Any, ...]]:
    return query(database, "select platform, platform_user_id, username, display_name, profile_url, keyed_by_handle"
                           " from analytics.bloggers order by platform, platform_user_id")


def creator_of(database: IsolatedDatabase) -> dict[str, str | None]:
    """external video id -> its creator's platform_user_id."""
    return dict(query(database, "select v.external_video_id, b.platform_user_id from analytics.videos v"
                                " left join analytics.bloggers b on b.id = v.blogger_id"))


def fetch(db: Database, client: httpx.Client, platform: Platform, videos: list[tuple[UUID, str]]) -> None:
    report = processor(db, client).process(
        [Record("m1", fetch_body([(video_id, platform, external_id) for video_id, external_id in videos]))])
    assert report.failures == {}


def track_by_url(db: Database, platform: Platform, external_id: str) -> UUID:
    (video_id,) = insert_videos(db, platform, [external_id])  # what start_tracking writes: no creator yet
    return video_id


def tiktok_video(router: respx.MockRouter, external_id: str, author: dict[str, Any]) -> None:
    router.get(TIKTOK_VIDEO_URL, params={"url": external_id}).respond(
        200, json=tiktok_body(external_id, author=author))


def listing_pages(router: respx.MockRouter, *, author_ids: bool = True, handle: str = "mineodesu69") -> respx.Route:
    """The recorded user/posts pages; without ``author_ids``, items name only the handle (as the tikwm README's)."""
    pages = []
    for name in ("tiktok/user_posts_page1.json", "tiktok/user_posts_page2.json"):
        page = copy.deepcopy(load(name))
        for item in page["data"]["videos"]:
            item["author"]["unique_id"] = handle
            if not author_ids:
                del item["author"]["id"]
        pages.append(page)
    return router.get(url(Platform.TIKTOK, "user_posts")).mock(side_effect=lambda request: httpx.Response(
        200, json=pages[0] if request.url.params["cursor"] == "0" else pages[1]))


def blogger_batch(db: Database, client: httpx.Client, creator: str, *, platform: Platform = Platform.TIKTOK,
                  campaign_id: UUID | None = None, request_id: UUID | None = None,
                  message_id: str = "b1") -> tuple[UUID, dict[str, Exception]]:
    request_id = request_id or uuid.uuid4()
    body = dump_message(FetchCreatorMessage(version=1, kind="fetch_creator", request_id=request_id,
                                            platform=platform, creator=creator, limit=10, campaign_id=campaign_id))
    return request_id, processor(db, client).process([Record(message_id, body)]).failures


# --- a video tracked by URL gets its creator ----------------------------------------------------------------


def test_a_tiktok_video_tracked_by_url_gets_its_creator_from_the_answer(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    video_id = track_by_url(db, Platform.TIKTOK, "7367927569280240901")
    router.get(TIKTOK_VIDEO_URL).respond(200, json=load("tiktok/video.json"))  # the recorded answer, unchanged
    fetch(db, client, Platform.TIKTOK, [(video_id, "7367927569280240901")])
    assert bloggers(database) == [("tiktok", "6744619110091867138", "islamicvibes1445", "islamicvibes",
                                   "https://www.tiktok.com/@islamicvibes1445", False)]
    assert creator_of(database) == {"7367927569280240901": "6744619110091867138"}


def test_an_instagram_reel_tracked_by_url_gets_its_owner(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    video_id = track_by_url(db, Platform.INSTAGRAM, "DOqjIRkAoz0")
    router.get(INSTAGRAM_POST_URL).respond(200, json=instagram_body("DOqjIRkAoz0"))
    fetch(db, client, Platform.INSTAGRAM, [(video_id, "DOqjIRkAoz0")])
    assert bloggers(database) == [("instagram", "72741069431", "miaadesiign", "Mia 💗",
                                   "https://www.instagram.com/miaadesiign/", False)]
    assert creator_of(database) == {"DOqjIRkAoz0": "72741069431"}


def test_youtube_videos_of_two_channels_in_one_call_get_one_creator_each(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    recorded = load("youtube/videos.json")
    ids = [item["id"] for item in recorded["items"]]
    video_ids = insert_videos(db, Platform.YOUTUBE, ids)
    calls = router.get(YOUTUBE_VIDEOS_URL).respond(200, json=recorded)
    fetch(db, client, Platform.YOUTUBE, list(zip(video_ids, ids, strict=True)))
    assert calls.call_count == 1
    # YouTube names the channel id and title, not the handle: no username is invented.
    assert bloggers(database) == [
        ("youtube", "UC4QobU6STFB0P71PMvOGN5A", None, "jawed",
         "https://www.youtube.com/channel/UC4QobU6STFB0P71PMvOGN5A", False),
        ("youtube", "UCuAXFkgsw1L7xaCfnd5JJOw", None, "Rick Astley",
         "https://www.youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw", False)]
    assert creator_of(database) == {"EJNPYff3lxU": "UCuAXFkgsw1L7xaCfnd5JJOw",
                                    "dQw4w9WgXcQ": "UCuAXFkgsw1L7xaCfnd5JJOw",
                                    "jNQXAC9IVRw": "UC4QobU6STFB0P71PMvOGN5A"}


def test_an_answer_without_an_author_attaches_nothing_and_loses_nothing(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    video_id = track_by_url(db, Platform.TIKTOK, "7367927569280240901")
    body = tiktok_body("7367927569280240901")
    del body["data"]["author"]
    router.get(TIKTOK_VIDEO_URL).respond(200, json=body)
    fetch(db, client, Platform.TIKTOK, [(video_id, "7367927569280240901")])
    assert bloggers(database) == []
    assert query(database, "select count(*) from analytics.video_statistics") == [(1,)]


# --- one creator, one row, whichever path came first --------------------------------------------------------


def test_a_url_video_and_a_later_blogger_batch_of_its_creator_share_one_row(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    video_id = track_by_url(db, Platform.TIKTOK, "7099999999999999999")
    tiktok_video(router, "7099999999999999999", MINEO)
    fetch(db, client, Platform.TIKTOK, [(video_id, "7099999999999999999")])
    (first,) = query(database, "select id from analytics.bloggers")

    listing_pages(router)
    batch_id, failures = blogger_batch(db, client, "@mineodesu69")
    assert failures == {}
    assert query(database, "select id from analytics.bloggers") == [first]
    assert outcome_of(db, batch_id).blogger_id == first[0]
    assert set(creator_of(database).values()) == {MINEO["id"]}
    assert len(creator_of(database)) == 4


def test_a_batch_that_names_no_id_reuses_the_creator_a_url_video_made(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    video_id = track_by_url(db, Platform.TIKTOK, "7099999999999999999")
    tiktok_video(router, "7099999999999999999", MINEO)
    fetch(db, client, Platform.TIKTOK, [(video_id, "7099999999999999999")])
    listing_pages(router, author_ids=False)
    _, failures = blogger_batch(db, client, "MineoDesu69")  # handles are case-insensitive
    assert failures == {}
    assert [b[:3] for b in bloggers(database)] == [("tiktok", MINEO["id"], "mineodesu69")]
    assert set(creator_of(database).values()) == {MINEO["id"]}


def test_a_row_keyed_by_the_handle_takes_the_id_when_an_answer_names_it(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    listing_pages(router, author_ids=False)
    batch_id, failures = blogger_batch(db, client, "mineodesu69")
    assert failures == {}
    assert bloggers(database) == [("tiktok", "mineodesu69", "mineodesu69", "こずりん",
                                   "https://www.tiktok.com/@mineodesu69", True)]
    (row,) = query(database, "select id, created_at from analytics.bloggers")

    video_id = track_by_url(db, Platform.TIKTOK, "7099999999999999999")
    tiktok_video(router, "7099999999999999999", MINEO)
    fetch(db, client, Platform.TIKTOK, [(video_id, "7099999999999999999")])
    assert bloggers(database) == [("tiktok", MINEO["id"], "mineodesu69", "こずりん",
                                   "https://www.tiktok.com/@mineodesu69", False)]
    assert query(database, "select id, created_at from analytics.bloggers") == [row]  # the same row, re-keyed
    assert set(creator_of(database).values()) == {MINEO["id"]}
    assert outcome_of(db, batch_id).blogger_id == row[0]


def test_a_handle_row_is_folded_into_the_creators_row_once_an_answer_pairs_them(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    # The creator was met as "mineo_old" by URL; renamed, a batch for the new handle could not know the id.
    video_id = track_by_url(db, Platform.TIKTOK, "7099999999999999999")
    tiktok_video(router, "7099999999999999999", {**MINEO, "unique_id": "mineo_old"})
    fetch(db, client, Platform.TIKTOK, [(video_id, "7099999999999999999")])
    (id_row,) = query(database, "select id from analytics.bloggers")
    listing_pages(router, author_ids=False)
    batch_id, _ = blogger_batch(db, client, "mineodesu69")
    assert len(bloggers(database)) == 2

    router.routes.clear()
    tiktok_video(router, "7099999999999999999", MINEO)  # the next answer names the id with the new handle
    fetch(db, client, Platform.TIKTOK, [(video_id, "7099999999999999999")])
    assert bloggers(database) == [("tiktok", MINEO["id"], "mineodesu69", "こずりん",
                                   "https://www.tiktok.com/@mineodesu69", False)]
    assert query(database, "select id from analytics.bloggers") == [id_row]
    assert creator_of(database) == dict.fromkeys([*LISTED, "7099999999999999999"], MINEO["id"])
    assert outcome_of(db, batch_id).blogger_id == id_row[0]


def test_handle_and_display_name_changes_are_followed_and_never_erased(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    video_id = track_by_url(db, Platform.TIKTOK, "7099999999999999999")
    answers = iter([MINEO, {**MINEO, "unique_id": "mineo.new", "nickname": "Mineo"},
                    {"id": MINEO["id"], "unique_id": None, "nickname": ""}])
    router.get(TIKTOK_VIDEO_URL).mock(side_effect=lambda request: httpx.Response(
        200, json=tiktok_body("7099999999999999999", author=next(answers))))
    seen = []
    for _ in range(3):
        fetch(db, client, Platform.TIKTOK, [(video_id, "7099999999999999999")])
        seen.append(bloggers(database))
        router.routes[0].calls.clear()
    assert seen == [
        [("tiktok", MINEO["id"], "mineodesu69", "こずりん", "https://www.tiktok.com/@mineodesu69", False)],
        [("tiktok", MINEO["id"], "mineo.new", "Mineo", "https://www.tiktok.com/@mineo.new", False)],
        [("tiktok", MINEO["id"], "mineo.new", "Mineo", "https://www.tiktok.com/@mineo.new", False)],
    ]


def test_an_unchanged_creator_is_not_rewritten_by_each_fetch(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    video_id = track_by_url(db, Platform.TIKTOK, "7099999999999999999")
    tiktok_video(router, "7099999999999999999", MINEO)
    fetch(db, client, Platform.TIKTOK, [(video_id, "7099999999999999999")])
    before = query(database, "select xmin::text, updated_at from analytics.bloggers")
    fetch(db, client, Platform.TIKTOK, [(video_id, "7099999999999999999")])
    assert query(database, "select xmin::text, updated_at from analytics.bloggers") == before


def test_a_fetch_that_changes_nothing_of_its_creator_neither_locks_nor_writes_it_or_the_video(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    video_id = track_by_url(db, Platform.TIKTOK, "7099999999999999999")
    tiktok_video(router, "7099999999999999999", MINEO)
    fetch(db, client, Platform.TIKTOK, [(video_id, "7099999999999999999")])
    # The video's xmax moves anyway: the snapshot's foreign key check takes a key-share lock on it, as a COPY does.
    versions = ("select (select xmin::text || '/' || xmax::text from analytics.bloggers),"
                " (select xmin::text from analytics.videos where id = %s)")
    before = query(database, versions, video_id)

    fetch(db, client, Platform.TIKTOK, [(video_id, "7099999999999999999")])

    assert query(database, versions, video_id) == before  # no new versions, and no lock on the creator's row
    assert len(query(database, "select id from analytics.video_statistics")) == 2


# --- creators a warm processor already knows -----------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def warm_processor(db: Database, client: httpx.Client, clock: Clock, **kwargs: Any) -> IngestProcessor:
    """One processor for several batches, as a warm Lambda keeps it (with its memory of known creators)."""
    return processor(db, client, known_creators=KnownCreators(ttl_s=600, clock=clock, **kwargs))


MINEOS_VIDEO = "7099999999999999999"


def fetched_once(db: Database, router: respx.MockRouter, client: httpx.Client,
                 clock: Clock) -> tuple[IngestProcessor, UUID]:
    """A warm processor that fetched a tracked video of MINEO's once (so it knows MINEO), and the video."""
    ingest = warm_processor(db, client, clock)
    video_id = track_by_url(db, Platform.TIKTOK, MINEOS_VIDEO)
    tiktok_video(router, MINEOS_VIDEO, MINEO)
    assert fetch_with(ingest, video_id, MINEOS_VIDEO) == {}
    return ingest, video_id


def fetch_with(ingest: IngestProcessor, video_id: UUID, external_id: str, *, message_id: str = "m1",
               request_id: UUID | None = None) -> dict[str, Exception]:
    body = fetch_body([(video_id, Platform.TIKTOK, external_id)], request_id=request_id)
    return ingest.process([Record(message_id, body)]).failures


def test_a_known_creator_is_not_read_again_until_its_entry_expires(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    clock = Clock()
    ingest, video_id = fetched_once(db, router, client, clock)
    # Another process wrote a newer handle (its own answer) meanwhile.
    execute(database, "update analytics.bloggers set username = 'mineo.renamed', display_name = 'Renamed'")

    assert fetch_with(ingest, video_id, "7099999999999999999") == {}  # the same answer: known, not read
    assert [(row[2], row[3]) for row in bloggers(database)] == [("mineo.renamed", "Renamed")]

    clock.now = 601  # expired: read again, and the answer is followed, as by a processor that never knew it
    assert fetch_with(ingest, video_id, "7099999999999999999") == {}
    assert [(row[2], row[3]) for row in bloggers(database)] == [("mineodesu69", "こずりん")]
    assert len(query(database, "select id from analytics.video_statistics")) == 3


def test_a_known_creators_row_deleted_meanwhile_fails_the_write_whole_and_its_redelivery_recreates_it(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    ingest, video_id = fetched_once(db, router, client, Clock())
    execute(database, "delete from analytics.bloggers")  # the video's blogger_id is set null with it

    request_id = uuid.uuid4()
    failures = fetch_with(ingest, video_id, "7099999999999999999", message_id="m2", request_id=request_id)
    assert isinstance(failures["m2"], WriteFailed)  # the remembered row is gone: the video's foreign key
    assert len(query(database, "select id from analytics.video_statistics")) == 1  # nothing of that write

    assert fetch_with(ingest, video_id, "7099999999999999999", message_id="m2", request_id=request_id) == {}
    assert len(query(database, "select id from analytics.video_statistics")) == 2
    assert creator_of(database) == {"7099999999999999999": MINEO["id"]}


def test_a_handle_row_made_meanwhile_for_a_known_creator_is_folded_in_once_the_entry_expires(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    clock = Clock()
    ingest, video_id = fetched_once(db, router, client, clock)
    (id_row,) = query(database, "select id from analytics.bloggers")
    # What a blogger batch for the handle writes when no row has that handle (another process renamed it).
    execute(database, "insert into analytics.bloggers (platform, platform_user_id, username, keyed_by_handle)"
                    " values ('tiktok', 'mineodesu69', 'mineodesu69', true)")

    assert fetch_with(ingest, video_id, "7099999999999999999") == {}
    assert len(bloggers(database)) == 2  # not looked at while the entry lasts

    clock.now = 601
    assert fetch_with(ingest, video_id, "7099999999999999999") == {}
    assert query(database, "select id from analytics.bloggers") == [id_row]


def test_known_creators_are_bounded_and_expire() -> None:
    clock = Clock()
    known = KnownCreators(max_entries=2, ttl_s=10, clock=clock)
    a, b, c = (Creator(Platform.TIKTOK, user_id, f"handle{user_id}") for user_id in ("1", "2", "3"))
    ids = {creator.key: uuid.uuid4() for creator in (a, b, c)}
    known.remember([a, b, c], ids)
    assert len(known) == 2
    assert known.split([b, c]) == ({b.key: ids[b.key], c.key: ids[c.key]}, [])
    assert known.split([a, b]) == ({b.key: ids[b.key]}, [a])  # the oldest went first
    renamed = Creator(Platform.TIKTOK, "2", "handle2.new")
    assert known.split([b, renamed]) == ({}, [b, renamed])  # an answer stating something else: read, with b's
    clock.now = 10
    assert known.split([c]) == ({}, [c])


# --- a blogger batch's outcome ------------------------------------------------------------------------------


def outcome_of(db: Database, batch_id: UUID) -> Any:
    with member(db).transaction(Role.READER) as conn:
        return find_batch(conn, batch_id)


def test_a_done_batch_has_its_counts_and_creator(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    listing_pages(router)
    insert_videos(db, Platform.TIKTOK, [LISTED[0]])  # tracked by URL before the batch
    batch_id, failures = blogger_batch(db, client, "mineodesu69")
    assert failures == {}
    outcome = outcome_of(db, batch_id)
    assert (outcome.status, outcome.failure_reason, outcome.finished_at is not None) == ("done", None, True)
    assert outcome.counts == BatchCounts(videos_found=3, videos_new=2, snapshots_written=3, videos_without_snapshot=0)
    assert query(database, "select id from analytics.bloggers") == [(outcome.blogger_id,)]
    assert creator_of(database)[LISTED[0]] == MINEO["id"]  # the video tracked before joins its creator


@pytest.mark.parametrize(("status", "message", "reason"), [
    (404, "User not found", FailureReason.CREATOR_NOT_FOUND),
    (403, "You are not subscribed to this API.", FailureReason.PROVIDER_CONFIGURATION),
])
def test_a_batch_that_no_retry_can_fix_is_failed_with_the_reason_and_its_record_succeeds(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client,
        status: int, message: str, reason: FailureReason) -> None:
    posts = router.get(url(Platform.TIKTOK, "user_posts")).respond(status, json={"message": message})
    batch_id, failures = blogger_batch(db, client, "nobody_here")
    assert failures == {}  # SQS deletes it: a redelivery could only fail the same way
    outcome = outcome_of(db, batch_id)
    assert (outcome.status, outcome.failure_reason, outcome.counts) == ("failed", reason, None)
    assert message in outcome.last_error
    assert "test-key" not in outcome.last_error
    calls = posts.call_count
    _, again = blogger_batch(db, client, "nobody_here", request_id=batch_id)  # redelivered: nothing is redone
    assert (again, posts.call_count) == ({}, calls)
    assert bloggers(database) == []


def test_a_batch_whose_campaign_was_deleted_fails_with_that_reason(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    listing_pages(router)
    batch_id, failures = blogger_batch(db, client, "mineodesu69", campaign_id=uuid.uuid4())
    assert failures == {}
    outcome = outcome_of(db, batch_id)
    assert (outcome.status, outcome.failure_reason) == ("failed", FailureReason.CAMPAIGN_NOT_FOUND)
    assert query(database, "select count(*) from analytics.videos") == [(0,)]


def test_a_transient_failure_keeps_the_batch_pending_with_the_error_until_a_delivery_succeeds(
        db: Database, database: IsolatedDatabase, router: respx.MockRouter, client: httpx.Client) -> None:
    router.get(url(Platform.TIKTOK, "user_posts")).respond(502, json={
        "message": "Oops, an error in the gateway has occurred."})
    batch_id, failures = blogger_batch(db, client, "mineodesu69")
    assert list(failures) == ["b1"]  # SQS redelivers it
    pending = outcome_of(db, batch_id)
    assert (pending.status, pending.failed_attempts, pending.finished_at) == ("pending", 1, None)
    assert "502" in pending.last_error

    router.routes.clear()
    listing_pages(router)
    _, failures = blogger_batch(db, client, "mineodesu69", request_id=batch_id)
    assert failures == {}
    done = outcome_of(db, batch_id)
    assert (done.status, done.failed_attempts, done.counts.snapshots_written) == ("done", 1, 3)
