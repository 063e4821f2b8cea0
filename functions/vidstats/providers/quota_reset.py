"""When a platform's own quota resets, for quotas whose answers carry no reset time.

YouTube's Data API quota (``quotaExceeded`` / ``dailyLimitExceeded``) resets at midnight Pacific time. The rule
is computed here rather than read from the tz database, which the Lambda Python images may lack: Pacific time
is UTC-8, and UTC-7 from the second Sunday of March, 02:00 local, to the first Sunday of November, 02:00 local
(the US rule since 2007).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from vidstats.platforms import Platform


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def pacific_offset(instant: datetime) -> timedelta:
    """The offset of America/Los_Angeles from UTC at ``instant`` (aware)."""
    year = instant.astimezone(UTC).year
    # 02:00 PST = 10:00 UTC (DST starts); 02:00 PDT = 09:00 UTC (DST ends).
    starts = datetime.combine(_nth_sunday(year, 3, 2), datetime.min.time(), UTC) + timedelta(hours=10)
    ends = datetime.combine(_nth_sunday(year, 11, 1), datetime.min.time(), UTC) + timedelta(hours=9)
    return timedelta(hours=-7) if starts <= instant < ends else timedelta(hours=-8)


def next_pacific_midnight(instant: datetime) -> datetime:
    """The first midnight in America/Los_Angeles after ``instant``, as an aware UTC datetime."""
    local = instant + pacific_offset(instant)
    next_day = (local.replace(tzinfo=None) + timedelta(days=1)).date()
    # The offset at that midnight (DST never changes at midnight, so the offset 12 hours earlier is right).
    guess = datetime.combine(next_day, datetime.min.time(), UTC) + timedelta(hours=8)
    offset = pacific_offset(guess - timedelta(hours=12))
    return datetime.combine(next_day, datetime.min.time(), UTC) - offset


def next_platform_quota_reset(platform: Platform, now_epoch: float) -> float | None:
    """Epoch seconds of the next reset of the platform's own daily quota; None when it has none we know."""
    if platform is Platform.YOUTUBE:
        return next_pacific_midnight(datetime.fromtimestamp(now_epoch, tz=UTC)).timestamp()
    return None
