"""The demo provider's counters and the local scheduler's reading of template.yaml's expressions."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from vidstats.local.demo_provider import DemoClock, DemoProvider, decoded_publish_time
from vidstats.local.scheduler import Cron, Rate, ScheduleExpressionError, next_run, parse_expression
from vidstats.platforms import Platform
from vidstats.providers.base import VideoCounters

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _counters(platform: Platform, external_id: str, at: datetime) -> VideoCounters:
    result = DemoProvider(platform, lambda: at).fetch_videos([external_id])[external_id]
    assert isinstance(result, VideoCounters)
    return result


@pytest.mark.parametrize(("platform", "external_id"), [
    (Platform.TIKTOK, "7301234567890123456"), (Platform.INSTAGRAM, "C9xYz_AbCdE"), (Platform.YOUTUBE, "dQw4w9WgXcQ"),
])
def test_demo_counters_are_deterministic_labelled_and_grow_every_day(platform: Platform, external_id: str) -> None:
    assert _counters(platform, external_id, NOW) == _counters(platform, external_id, NOW)
    days = [_counters(platform, external_id, NOW + timedelta(days=d)) for d in range(0, 40)]
    views = [c.views or 0 for c in days]
    assert all(later > earlier for earlier, later in itertools.pairwise(views)), views
    likes = [c.likes or 0 for c in days]
    assert likes == sorted(likes)
    assert days[0].views_source == "demo"
    assert (days[0].caption or "").startswith("[demo]")
    assert days[0].raw is not None
    assert days[0].raw["demo"] is True


def test_demo_listing_names_videos_whose_ids_carry_their_publish_time() -> None:
    provider = DemoProvider(Platform.YOUTUBE, lambda: NOW)
    listing = provider.list_creator_videos("@demo-tech", 4)
    assert len(listing) == 4
    published = [v.published_at or NOW for v in listing]
    assert published == sorted(published, reverse=True)
    for video in listing:
        assert video.published_at is not None
        assert video.published_at <= NOW
        assert decoded_publish_time(Platform.YOUTUBE, video.external_id) == video.published_at
        assert video.counters is not None
    assert provider.list_creator_videos("@demo-tech", 4) == listing


@pytest.mark.parametrize("platform", list(Platform))
def test_a_listed_demo_video_names_the_same_creator_when_fetched_later(platform: Platform) -> None:
    provider = DemoProvider(platform, lambda: NOW)
    listing = provider.list_creator_videos("Demo.Creator", 3)
    authors = {(v.counters.author_id, v.counters.author_username) for v in listing if v.counters}
    assert len(authors) == 1
    ((author_id, username),) = authors
    assert username == "Demo.Creator"
    for video in listing:
        fetched = _counters(platform, video.external_id, NOW + timedelta(days=1))
        assert fetched.author_id == author_id  # not another (hash-picked) demo creator
    other_id = {Platform.TIKTOK: "7301234567890123456", Platform.INSTAGRAM: "C9xYz_AbCdE",
                Platform.YOUTUBE: "dQw4w9WgXcQ"}[platform]
    other = _counters(platform, other_id, NOW)
    assert other.author_id not in (None, author_id)
    assert (other.author_username or "").startswith("demo_creator_")



def test_demo_clock_shift_is_undone_after_the_block() -> None:
    clock = DemoClock(lambda: NOW)
    with clock.shifted(timedelta(days=-1)):
        assert clock() == NOW - timedelta(days=1)
    assert clock() == NOW


def test_cron_schedules_fire_at_their_next_matching_minute_in_utc() -> None:
    nightly = parse_expression("cron(0 3 * * ? *)")
    assert isinstance(nightly, Cron)
    assert next_run(nightly, NOW, NOW) == datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    weekdays = parse_expression("cron(30 6 ? * MON-FRI *)")
    assert next_run(weekdays, datetime(2026, 11, 27, 7, 0, tzinfo=UTC), NOW) == datetime(2026, 11, 30, 6, 30,
                                                                                         tzinfo=UTC)  # Fri → Mon


def test_rate_schedules_fire_one_interval_after_start_and_then_on_the_grid() -> None:
    every5 = parse_expression("rate(5 minutes)")
    assert every5 == Rate(seconds=300)
    assert next_run(every5, NOW, NOW) == NOW + timedelta(minutes=5)
    assert next_run(every5, NOW + timedelta(minutes=7), NOW) == NOW + timedelta(minutes=10)


@pytest.mark.parametrize("expression", ["rate(1 minutes)", "rate(0 minutes)", "cron(0 3 L * ? *)", "every day"])
def test_unsupported_schedule_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleExpressionError):
        parse_expression(expression)
