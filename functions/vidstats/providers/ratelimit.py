"""Client-side pacing: stay under a plan's per-second limit instead of collecting 429s."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_SLOWDOWN = 8.0


class RateLimiter:
    """Interval pacing: at most ``rate`` acquisitions per second, evenly spaced. Thread-safe.

    Each caller reserves the next free slot under the lock and sleeps outside it, so concurrent
    threads queue up in slot order without holding the lock while they wait.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._base_interval = self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: float | None = None
        self._paused_until = float("-inf")

    def acquire(self, *, respect_pause: bool = True) -> float:
        """Blocks until the caller may send; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = now if self._next_slot is None else max(now, self._next_slot)
            if respect_pause:
                slot = max(slot, self._paused_until)
            self._next_slot = slot + self._interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return wait

    def slow_down(self, factor: float = 2.0) -> None:
        """Sends slower from now on (a transient failure says the provider is struggling), at most
        ``MAX_SLOWDOWN`` times slower than the configured rate, until ``restore_pace``."""
        with self._lock:
            self._interval = min(self._interval * factor, self._base_interval * MAX_SLOWDOWN)

    def restore_pace(self) -> None:
        with self._lock:
            self._interval = self._base_interval

    @property
    def rate(self) -> float:
        """Requests per second allowed now."""
        return 1.0 / self._interval

    def pause(self, seconds: float) -> None:
        """Other callers may not send for ``seconds`` (a 429 seen by one thread slows every thread).

        The thread that saw the 429 waits on its own (its backoff) and then acquires with
        ``respect_pause=False``, so it is not held twice.
        """
        if seconds <= 0:
            return
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


_shared: dict[str, RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(key: str, rate: float) -> RateLimiter:
    """One limiter per host per process, so every provider instance in a warm Lambda shares the pace."""
    with _shared_lock:
        limiter = _shared.get(key)
        if limiter is None or limiter._base_interval != 1.0 / rate:
            limiter = _shared[key] = RateLimiter(rate)
        return limiter
