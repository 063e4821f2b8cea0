"""Client-side pacing, with a fake clock: no real sleeping."""

from __future__ import annotations

import threading

import pytest
from vidstats.providers.ratelimit import RateLimiter

from tests.providers.conftest import FakeClock, Sleeps


def test_paces_to_the_rate() -> None:
    clock, sleeps = FakeClock(100.0), Sleeps()
    limiter = RateLimiter(2.0, clock=clock, sleep=sleeps)
    waits = [limiter.acquire() for _ in range(3)]
    assert waits == [0.0, 0.5, 1.0]
    assert sleeps.calls == [0.5, 1.0]


def test_idle_time_is_not_banked_into_a_burst() -> None:
    clock, sleeps = FakeClock(100.0), Sleeps()
    limiter = RateLimiter(1.0, clock=clock, sleep=sleeps)
    limiter.acquire()
    clock.now += 10
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == 1.0


def test_threads_get_distinct_slots() -> None:
    clock, sleeps = FakeClock(0.0), Sleeps()
    limiter = RateLimiter(10.0, clock=clock, sleep=sleeps)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        wait = limiter.acquire()
        with lock:
            waits.append(round(wait, 6))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [round(n * 0.1, 6) for n in range(20)]


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)
