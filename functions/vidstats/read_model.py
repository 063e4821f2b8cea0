"""The read model's maintenance and freshness: the Wolf's domain logic, free of Lambda concerns.

The SQL lives in the migrations (``analytics.refresh_materialized_views()`` and friends); this module runs
it under the refresh role, loops its bounded steps until caught up or out of time, and shapes the results.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import psycopg
from pydantic import BaseModel, Field

from vidstats.db import Database, Role


class RefreshStep(BaseModel):
    """What one call of analytics.refresh_materialized_views() did."""

    status: str  # "ok", or "busy" when another refresh held the lock and this call did nothing
    caught_up: bool
    rows: int = 0
    videos: int = 0
    late_videos: int = 0
    watermark: int | None = None
    duration_ms: float = 0.0
    message: str | None = None
    growth_as_of: date | None = None  # the UTC day video_growth's periods end on after this step
    growth_rebuilt: bool = False  # the day had rolled over: this step summed a chunk of videos for the new day
    growth_rebuild_pending: bool = False  # more chunks to go; growth_as_of moves to the new day with the last
    bulk: bool = False  # a chunk of videos of a bulk catch-up (a large backlog), recomputed set-based
    steps_ms: dict[str, float] = Field(default_factory=dict)  # how long each part of the step took


class RefreshOutcome(BaseModel):
    status: str  # "caught_up", "busy" or "out_of_time"
    steps: int
    bulk_steps: int  # of those, chunks of a bulk catch-up
    rows: int
    videos: int
    late_videos: int
    watermark: int | None
    duration_ms: float
    partitions_created: list[str]


class ReadModelStatus(BaseModel):
    watermark: int
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_rows: int
    last_duration_ms: float
    oldest_pending_at: datetime | None  # the first snapshot not reflected yet, None when caught up
    lag_seconds: float


class VerifyReport(BaseModel):
    watermark: int
    daily_rows: int
    daily_mismatches: int
    weekly_rows: int
    weekly_mismatches: int
    latest_rows: int
    latest_mismatches: int
    fast_view_mismatches: int  # videos missing from, or repeated in, videos_with_statistics_fast
    growth_rows: int
    growth_mismatches: int  # video_growth rows differing from the recompute's sums over the periods
    campaign_bounds_rows: int
    campaign_bounds_mismatches: int  # campaign videos whose first/last counted day differ from a recompute
    # Campaigns' daily growth kept by the refresh (current campaigns only), against the sums of its definition.
    campaign_daily_campaigns: int = 0
    campaign_daily_rows: int = 0
    campaign_daily_mismatches: int = 0
    # A sampled verify (``verify --sample N``): how many videos it checked, and those with any mismatch.
    sampled_videos: int | None = None
    mismatched_videos: list[str] = []

    @property
    def ok(self) -> bool:
        mismatches = (self.daily_mismatches, self.weekly_mismatches, self.latest_mismatches, self.fast_view_mismatches,
                      self.growth_mismatches, self.campaign_bounds_mismatches, self.campaign_daily_mismatches)
        return not any(mismatches)


def refresh_step(db: Database, *, max_rows: int, statement_timeout_ms: int | None = None) -> RefreshStep:
    """One bounded step. ``statement_timeout_ms``: its own bound instead of the connection's per-statement one
    (a caller that knows how much time it has left lets the step use it)."""
    with db.transaction(Role.REFRESH) as conn:
        if statement_timeout_ms is not None:
            conn.execute("select set_config('statement_timeout', %s, true)", (str(statement_timeout_ms),))
        row = conn.execute("select analytics.refresh_materialized_views(%s)", (max_rows,)).fetchone()
    assert row is not None
    return RefreshStep.model_validate(row[0])


def create_partitions(db: Database, *, months_ahead: int = 3) -> list[str]:
    with db.transaction(Role.REFRESH) as conn:
        rows = conn.execute("select analytics.create_video_statistics_partitions(%s)", (months_ahead,)).fetchall()
    return [str(r[0]) for r in rows]


class _Step(Protocol):
    status: str
    caught_up: bool


StepT = TypeVar("StepT", bound=_Step)


def run_refresh_steps(
    step: Callable[[], StepT], *, time_left_s: Callable[[], float] | None, min_time_for_a_step_s: float
) -> tuple[str, list[StepT]]:
    """Runs bounded refresh steps until one is caught up ("caught_up"), another refresh holds the lock
    ("busy"), or less than ``min_time_for_a_step_s`` is left ("out_of_time"). Busy steps are not returned."""
    steps: list[StepT] = []
    while time_left_s is None or time_left_s() >= min_time_for_a_step_s:
        result = step()
        if result.status == "busy":
            return "busy", steps
        steps.append(result)
        if result.caught_up:
            return "caught_up", steps
    return "out_of_time", steps


def refresh_read_model(
    db: Database,
    *,
    max_rows_per_step: int = 100_000,
    time_left_s: Callable[[], float] | None = None,
    min_time_for_a_step_s: float = 5.0,
    months_ahead: int = 3,
) -> RefreshOutcome:
    """Creates partitions ahead, then refreshes step by step until caught up, busy, or out of time.

    ``time_left_s`` tells how much time the caller has left (a Lambda's remaining time); a step is started
    only while at least ``min_time_for_a_step_s`` remain. Each step commits on its own, so work done before
    a timeout is kept.
    """
    started = time.monotonic()
    partitions = create_partitions(db, months_ahead=months_ahead)

    left: list[float] = []  # the time left when the loop decided to start the step

    def time_left() -> float:
        assert time_left_s is not None
        left[:] = [time_left_s()]
        return left[0]

    def step() -> RefreshStep:
        # A step may take all the time the caller has left, not only the per-statement bound: one that always
        # outlasted that bound would be rolled back at every run, and the read model would never catch up (a
        # full nightly at 100k videos, a bulk chunk on a loaded database: 30-50 s).
        timeout_ms = max(int(left[0] * 1000), 1_000) if left else None
        return refresh_step(db, max_rows=max_rows_per_step, statement_timeout_ms=timeout_ms)

    status, steps = run_refresh_steps(step, time_left_s=time_left if time_left_s is not None else None,
                                      min_time_for_a_step_s=min_time_for_a_step_s)
    return RefreshOutcome(
        status=status,
        steps=len(steps),
        bulk_steps=sum(s.bulk for s in steps),
        rows=sum(s.rows for s in steps),
        videos=sum(s.videos for s in steps),
        late_videos=sum(s.late_videos for s in steps),
        watermark=steps[-1].watermark if steps else None,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
        partitions_created=partitions,
    )


def read_model_status(db: Database, role: Role = Role.READER) -> ReadModelStatus:
    with db.transaction(role) as conn:
        row = conn.execute(
            "select watermark, last_run_at, last_success_at, last_rows, last_duration_ms, oldest_pending_at,"
            "       lag_seconds from analytics.refresh_status()"
        ).fetchone()
    assert row is not None
    values = dict(zip(ReadModelStatus.model_fields, row, strict=True))
    for key in ("last_duration_ms", "lag_seconds"):
        value = values[key]
        values[key] = float(value) if isinstance(value, Decimal) else value
    return ReadModelStatus.model_validate(values)


def verify_read_model_sample(db: Database, *, sample: int = 100, video_ids: list[str] | None = None) -> VerifyReport:
    """The checks of ``verify_read_model`` for ``sample`` random videos (or the given ones): every read-model row of
    those videos against a recompute from their own snapshots, read through the per-video index, so it takes
    seconds whatever the size of the history."""
    if video_ids is None and sample < 1:
        raise ValueError(f"the sample must be at least 1 video, got {sample}")
    with db.transaction(Role.REFRESH) as conn:
        row = conn.execute("select analytics.verify_read_model_sample(%s, %s::uuid[])",
                           (sample, video_ids)).fetchone()
        # A random sample also checks one random campaign per SAMPLED_VIDEOS_PER_CAMPAIGN videos. (Not with given
        # videos: a campaign's kept days sum every video's daily rows, so they would report another video's.)
        campaigns = {} if video_ids is not None else _campaign_daily(
            conn, None, 1 + sample // SAMPLED_VIDEOS_PER_CAMPAIGN)
    assert row is not None
    return VerifyReport.model_validate({**row[0], **campaigns})


# verify --sample: a campaign's check sums all its video-days (a campaign of 5,000 videos over 100 days: 500k).
SAMPLED_VIDEOS_PER_CAMPAIGN = 100


def _campaign_daily(conn: psycopg.Connection, video_ids: list[str] | None, campaigns: int | None) -> dict[str, Any]:
    """verify_campaign_daily_growth(): every current campaign, those holding the given videos, or a random few."""
    row = conn.execute("select analytics.verify_campaign_daily_growth(%s::uuid[], %s)", (video_ids, campaigns)
                       ).fetchone()
    assert row is not None
    return dict(row[0])


def verify_read_model(db: Database) -> VerifyReport:
    with db.transaction(Role.REFRESH) as conn:
        row = conn.execute("select analytics.verify_read_model()").fetchone()
        campaigns = _campaign_daily(conn, None, None)
    assert row is not None
    return VerifyReport.model_validate({**row[0], **campaigns})
