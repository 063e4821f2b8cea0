"""EventBridge Scheduler, locally: the template's schedule expressions (rate / cron, UTC) run jobs on a thread.

Supported: ``rate(N minute|minutes|hour|hours|day|days)`` (first run one interval after start, as a new
schedule does) and ``cron(minutes hours day-of-month month day-of-week year)`` with ``*``, ``?``, lists,
ranges, steps and day names; ``L``, ``W`` and ``#`` are refused with a clear message. Each job runs at most
once at a time (the functions' reserved concurrency of 1); ``run_now`` is the on-demand trigger.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")
_CRON = re.compile(r"cron\((.+)\)")
_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
_DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTH_NAMES = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
SEARCH_LIMIT = timedelta(days=366 * 5)


class ScheduleExpressionError(ValueError):
    """An expression the local scheduler cannot run."""


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int] | None:
    """The values a cron field allows; None for ``*`` / ``?`` (anything)."""
    if text in ("*", "?"):
        return None
    if any(c in text for c in "LW#"):
        raise ScheduleExpressionError(f"cron field {text!r}: L, W and # are not supported locally")
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base in ("*", ""):
            start, end = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            start, end = _value(a, names), _value(b, names)
        else:
            start = _value(base, names)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high) or step < 1:
            raise ScheduleExpressionError(f"cron field {text!r} is out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int] | None) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ScheduleExpressionError(f"cron value {text!r} is not a number")
    return int(text)


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int] | None
    hours: frozenset[int] | None
    days: frozenset[int] | None
    months: frozenset[int] | None
    weekdays: frozenset[int] | None  # 1 = Sunday ... 7 = Saturday (AWS)
    years: frozenset[int] | None

    def matches_day(self, moment: datetime) -> bool:
        aws_weekday = (moment.isoweekday() % 7) + 1  # Monday=1 in ISO → 2 in AWS; Sunday=7 → 1
        return ((self.days is None or moment.day in self.days)
                and (self.months is None or moment.month in self.months)
                and (self.weekdays is None or aws_weekday in self.weekdays)
                and (self.years is None or moment.year in self.years))

    def next_after(self, moment: datetime) -> datetime:
        """The first matching minute strictly after ``moment`` (UTC)."""
        candidate = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = candidate + SEARCH_LIMIT
        while candidate < limit:
            if not self.matches_day(candidate):
                candidate = (candidate + timedelta(days=1)).replace(hour=0, minute=0)
                continue
            if self.hours is not None and candidate.hour not in self.hours:
                candidate = (candidate + timedelta(hours=1)).replace(minute=0)
                continue
            if self.minutes is not None and candidate.minute not in self.minutes:
                candidate += timedelta(minutes=1)
                continue
            return candidate
        raise ScheduleExpressionError("the cron expression never fires in the next five years")


@dataclass(frozen=True)
class Rate:
    seconds: float


def parse_expression(expression: str) -> Rate | Cron:
    text = expression.strip()
    rate = _RATE.fullmatch(text)
    if rate:
        amount, unit = int(rate.group(1)), rate.group(2)
        if amount < 1 or (amount == 1) != (not unit.endswith("s")):
            raise ScheduleExpressionError(f"{expression!r}: use 'rate(1 minute)' or 'rate(N minutes)'")
        return Rate(seconds=amount * _UNITS[unit])
    cron = _CRON.fullmatch(text)
    if cron:
        parts = cron.group(1).split()
        if len(parts) != 6:
            raise ScheduleExpressionError(f"{expression!r}: cron takes six fields")
        return Cron(minutes=_field(parts[0], 0, 59), hours=_field(parts[1], 0, 23), days=_field(parts[2], 1, 31),
                    months=_field(parts[3], 1, 12, _MONTH_NAMES), weekdays=_field(parts[4], 1, 7, _DAY_NAMES),
                    years=_field(parts[5], 1970, 2199))
    raise ScheduleExpressionError(f"{expression!r} is neither rate(...) nor cron(...)")


def next_run(schedule: Rate | Cron, after: datetime, started: datetime) -> datetime:
    if isinstance(schedule, Rate):
        interval = timedelta(seconds=schedule.seconds)
        periods = max(1, int((after - started) / interval) + 1)
        return started + periods * interval
    return schedule.next_after(after)


@dataclass
class Job:
    name: str
    expression: str
    run: Callable[[], Any]
    enabled: bool = True
    schedule: Rate | Cron = field(init=False)
    next_at: datetime | None = None
    last_result: Any = None
    last_error: str | None = None
    runs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.schedule = parse_expression(self.expression)


class Scheduler:
    """Runs each enabled job at its schedule's times on one thread; ``run_now`` runs a job on demand."""

    def __init__(self, jobs: list[Job], *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.jobs = {job.name: job for job in jobs}
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = clock()

    def start(self) -> None:
        self._started = now = self._clock()
        for job in self.jobs.values():
            job.next_at = next_run(job.schedule, now, now) if job.enabled else None
        self._thread = threading.Thread(target=self._loop, name="local-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def run_now(self, name: str) -> Any:
        """Runs the job in the caller's thread (waiting for a scheduled run of it to finish first)."""
        job = self.jobs.get(name)
        if job is None:
            raise KeyError(name)
        return self._run(job)

    def _run(self, job: Job) -> Any:
        with job.lock:
            job.runs += 1
            try:
                job.last_result = job.run()
                job.last_error = None
            except Exception as exc:
                job.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("scheduled job %s failed", job.name)
                raise
            return job.last_result

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = self._clock()
            due = [job for job in self.jobs.values() if job.next_at is not None and job.next_at <= now]
            for job in due:
                if self._stop.is_set():
                    return
                job.next_at = next_run(job.schedule, now, self._started)
                with contextlib.suppress(Exception):  # logged in _run; a failed run waits for its next time
                    self._run(job)
            upcoming = [job.next_at for job in self.jobs.values() if job.next_at is not None]
            wait_s = min(((min(upcoming) - self._clock()).total_seconds() if upcoming else 60.0), 60.0)
            self._stop.wait(max(wait_s, 0.05))

    def describe(self) -> list[tuple[str, str, datetime | None]]:
        return [(job.name, job.expression if job.enabled else f"{job.expression} (disabled)", job.next_at)
                for job in self.jobs.values()]
