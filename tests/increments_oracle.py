"""The read model's semantics computed in plain Python, independently of the SQL, for property tests."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

METRICS = ("views", "likes", "comments", "reposts", "saves")


@dataclass(frozen=True)
class Snapshot:
    id: int
    video: str
    created_at: datetime  # aware, UTC
    values: tuple[int | None, ...]  # in METRICS order


Row = tuple[int, int, int, int, int, int]  # five deltas and the snapshot count


def daily_increments(snapshots: list[Snapshot]) -> dict[tuple[str, date], Row]:
    by_video: dict[str, list[Snapshot]] = defaultdict(list)
    for snapshot in snapshots:
        by_video[snapshot.video].append(snapshot)
    result: dict[tuple[str, date], list[int]] = {}
    for video, rows in by_video.items():
        last: list[int | None] = [None] * len(METRICS)
        for s in sorted(rows, key=lambda r: (r.created_at, r.id)):
            key = (video, s.created_at.date())
            acc = result.setdefault(key, [0] * (len(METRICS) + 1))
            acc[-1] += 1
            for i, value in enumerate(s.values):
                if value is None:
                    continue
                previous = last[i]
                if previous is not None:
                    acc[i] += value - previous
                last[i] = value
    return {k: tuple(v) for k, v in result.items()}  # type: ignore[misc]


def weekly_increments(daily: dict[tuple[str, date], Row]) -> dict[tuple[str, date], Row]:
    result: dict[tuple[str, date], list[int]] = {}
    for (video, day), row in daily.items():
        week_start = day - timedelta(days=day.weekday())
        acc = result.setdefault((video, week_start), [0] * len(row))
        for i, value in enumerate(row):
            acc[i] += value
    return {k: tuple(v) for k, v in result.items()}  # type: ignore[misc]
