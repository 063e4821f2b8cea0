"""What configuring and reporting an export needs without gspread (and google-auth, ~0.5 s to import): the
handler imports this at cold start, ``vidstats.export.sheets`` only when an export runs."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

GOOGLE_RECOMMENDED_MAX_BYTES = 2_000_000
DEFAULT_MAX_REQUEST_BYTES = 1_500_000


class SheetsExportError(RuntimeError):
    """An export that could not complete; the message says what to fix and what, if anything, was written."""


@dataclass
class RetryPolicy:
    """Google's guidance for 429 and 5xx: wait min(2^n s + up to 1 s of jitter, maximum backoff), then retry.

    The defaults wait 1 + 2 + 4 + 8 + 16 + 32 + 64 s (+ jitter) over 8 attempts, about 2 minutes: a quota
    minute spent by another client of the service account is outlasted, twice. ``deadline`` (a ``clock()``
    value, e.g. the Lambda's end less a margin) stops waiting that would outlive the function."""

    max_attempts: int = 8
    base_delay_s: float = 1.0
    max_delay_s: float = 64.0
    max_jitter_s: float = 1.0
    writes_per_minute: int = 60
    deadline: float | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random  # in [0, 1): the fraction of max_jitter_s added
