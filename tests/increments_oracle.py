"""The read model's semantics computed in plain Python, independently of the SQL, for property tests.

A snapshot's contribution to a metric is None when the metric is None (unknown), 0 for the first value of its
kind (views and plays are separate series), else the value minus the last earlier value of the same kind.
Every figure sums contributions; a sum of nothing but None is None.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import psycopg

METRICS = ("views", "likes", "comments", "reposts", "saves")

Value = int | None
Row = tuple[Value, Value, Value, Value, Value, int]  # five sums and the snapshot count


@dataclass(frozen=True)
class Snapshot:
    id: int
    video: str
    created_at: datetime  # aware, UTC
    values: tuple[int | None, ...]  # in METRICS order
    views_kind: str = "views"


@dataclass(frozen=True)
class Contribution:
    snapshot: Snapshot
    values: tuple[Value, ...]  # in METRICS order


def add(a: Value, b: Value) -> Value:
    """NULL-skipping addition: the sum of unknowns is unknown, unknown plus x is x."""
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def total(values: Iterable[Value]) -> Value:
    result: Value = None
    for value in values:
        result = add(result, value)
    return result


def contributions(snapshots: list[Snapshot]) -> list[Contribution]:
    by_video: dict[str, list[Snapshot]] = defaultdict(list)
    for snapshot in snapshots:
        by_video[snapshot.video].append(snapshot)
    result: list[Contribution] = []
    for rows in by_video.values():
        last: dict[tuple[int, str], int] = {}  # (metric index, kind) -> last value
        for s in sorted(rows, key=lambda r: (r.created_at, r.id)):
            values: list[Value] = []
            for i, value in enumerate(s.values):
                kind = s.views_kind if i == 0 else ""
                if value is None:
                    values.append(None)
                    continue
                previous = last.get((i, kind))
                values.append(0 if previous is None else value - previous)
                last[(i, kind)] = value
            result.append(Contribution(s, tuple(values)))
    return result


def _sum_rows(groups: dict[tuple[str, date], list[Contribution]]) -> dict[tuple[str, date], Row]:
    return {key: (*(total(c.values[i] for c in group) for i in range(len(METRICS))), len(group))  # type: ignore[misc]
            for key, group in groups.items()}


def daily_increments(snapshots: list[Snapshot]) -> dict[tuple[str, date], Row]:
    groups: dict[tuple[str, date], list[Contribution]] = defaultdict(list)
    for c in contributions(snapshots):
        groups[(c.snapshot.video, c.snapshot.created_at.date())].append(c)
    return _sum_rows(groups)


def weekly_increments(daily: dict[tuple[str, date], Row]) -> dict[tuple[str, date], Row]:
    result: dict[tuple[str, date], Row] = {}
    for (video, day), row in daily.items():
        week_start = day - timedelta(days=day.weekday())
        acc = result.get((video, week_start))
        result[(video, week_start)] = row if acc is None else (  # type: ignore[assignment]
            *(add(a, b) for a, b in zip(acc[:-1], row[:-1], strict=True)), acc[-1] + row[-1])
    return result


def stored_snapshots(conn: psycopg.Connection) -> list[Snapshot]:
    """Every snapshot in the database (read as the owner: the oracle's input)."""
    rows = conn.execute(
        "select id, video_id::text, created_at, views, likes, comments, reposts, saves, views_kind"
        " from analytics.video_statistics").fetchall()
    return [Snapshot(id=r[0], video=r[1], created_at=r[2].astimezone(UTC), values=tuple(r[3:8]), views_kind=r[8])
            for r in rows]
