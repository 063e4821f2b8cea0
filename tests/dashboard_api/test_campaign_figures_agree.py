"""One definition of campaign growth: the dashboard API's campaign analytics (every mode and range; without
per-video rows too, read from the campaign's days kept by the refresh), the CSV export and an oracle written here
from the raw snapshots agree exactly, over random histories with unknown and hidden counters, views and plays,
late snapshots, videos added mid-campaign and campaigns that ended."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vidstats.db import Database, Role
from vidstats.export.csv_files import write_csv
from vidstats.export.tables import campaign_table, snapshot
from vidstats.read_model import verify_read_model

from tests.dashboard_api import seed
from tests.dashboard_api.conftest import Api
from tests.factories import member
from tests.increments_oracle import METRICS, Value, contributions, stored_snapshots, total

DAYS = 12
counter = st.one_of(st.none(), st.integers(min_value=0, max_value=10_000))
snapshot_rows = st.lists(st.tuples(
    st.integers(min_value=0, max_value=2),  # video
    st.integers(min_value=0, max_value=DAYS * 24 - 1),  # hour since the start of the history
    st.tuples(counter, counter, counter, counter, counter),
    st.sampled_from(["views", "views", "plays"]),
), max_size=14)
window = st.tuples(
    st.integers(min_value=0, max_value=DAYS * 24),  # campaign start, hours
    st.one_of(st.none(), st.integers(min_value=1, max_value=DAYS * 24)),  # its length (None: open-ended)
    st.lists(st.integers(min_value=-48, max_value=DAYS * 24), min_size=3, max_size=3),  # each video's added_at
)
ranges = st.tuples(st.one_of(st.none(), st.integers(0, DAYS)), st.one_of(st.none(), st.integers(0, DAYS)))


def history_start() -> datetime:
    return datetime.combine(seed.today() - timedelta(days=DAYS - 1), time(0), tzinfo=UTC)


def oracle(snapshots: list[Any], entries: dict[str, datetime], exit_at: datetime | None, first: date, last: date
           ) -> dict[str, dict[date, tuple[Value, ...]]]:
    """Per video and UTC day in [first, last]: the contributions of its snapshots after its entry and before the
    end, each metric summed (None when nothing is known)."""
    counted: dict[str, dict[date, list[tuple[Value, ...]]]] = defaultdict(lambda: defaultdict(list))
    for c in contributions([s for s in snapshots if s.video in entries]):
        at = c.snapshot.created_at
        if entries[c.snapshot.video] < at and (exit_at is None or at < exit_at) and first <= at.date() <= last:
            counted[c.snapshot.video][at.date()].append(c.values)
    return {video: {day: tuple(total(v[i] for v in values) for i in range(len(METRICS)))
                    for day, values in days.items()} for video, days in counted.items()}


def sums(rows: list[tuple[Value, ...]]) -> tuple[Value, ...]:
    return tuple(total(r[i] for r in rows) for i in range(len(METRICS)))


def metrics(obj: dict[str, Any]) -> tuple[Value, ...]:
    return tuple(obj[m] for m in METRICS)


@pytest.mark.usefixtures("api_env")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=snapshot_rows, after=snapshot_rows, campaign_window=window, date_range=ranges)
def test_api_export_and_oracle_agree_on_every_campaign_figure(
        api: Api, db: Database, tmp_path: Path, before: list[Any], after: list[Any],
        campaign_window: tuple[int, int | None, list[int]], date_range: tuple[int | None, int | None]) -> None:
    start = history_start()
    videos = [seed.video(db) for _ in range(3)]

    def rows(spec: list[Any]) -> list[Any]:
        return [(videos[v], start + timedelta(hours=h), values, kind) for v, h, values, kind in spec]

    # Some history before the campaign exists, some after (in any time order: late rows), refreshed each time.
    seed.snapshots(db, rows(before))
    seed.refresh(db)
    starts_h, length_h, added_h = campaign_window
    starts_at = start + timedelta(hours=starts_h)
    ends_at = None if length_h is None else starts_at + timedelta(hours=length_h)
    cid = seed.campaign(db, "Property", starts_at, ends_at)
    entries = {}
    for video, hours in zip(videos, added_h, strict=True):
        seed.add_to_campaign(db, cid, video, start + timedelta(hours=hours))
        entries[video] = max(starts_at, start + timedelta(hours=hours))
    seed.snapshots(db, rows(after))
    seed.refresh(db)
    report = verify_read_model(db)
    assert report.ok, report
    with db.transaction(Role.INGEST) as conn:  # the oracle reads the raw snapshots
        conn.execute("set local role none")
        history = stored_snapshots(conn)

    today = seed.today()
    for mode in ("totals", "daily", "weekly"):
        query: dict[str, Any] = {"mode": mode}
        if date_range[0] is not None:
            query["from"] = str(start.date() + timedelta(days=date_range[0]))
        if date_range[1] is not None:
            query["to"] = str(start.date() + timedelta(days=date_range[1]))
        reply = api.get(f"/campaigns/{cid}/analytics", **query)
        if reply.status == 400:  # from after to
            assert query["from"] > query["to"]
            return
        a = reply.body
        assert reply.status == 200, reply
        # Without per-video rows the figures come from the campaign's days kept by the refresh: the same numbers.
        fast = api.get(f"/campaigns/{cid}/analytics", **query, limit=0).body
        assert (fast["increments"], fast["series"], fast["videos"]) == (a["increments"], a["series"], [])
        if a["date_from"] is None:  # nothing can count (not started yet, or the range misses the campaign)
            expected_days: dict[str, dict[date, tuple[Value, ...]]] = {}
            first, last = date.max, date.min
        else:
            first, last = date.fromisoformat(a["date_from"]), date.fromisoformat(a["date_to"])
            assert first >= starts_at.date()
            assert last <= today
            expected_days = oracle(history, entries, ends_at, first, last)

        per_video = {v["video_id"]: metrics(v["increments"]) for v in a["videos"]}
        assert per_video == {v: sums(list(expected_days.get(v, {}).values())) for v in videos}
        assert metrics(a["increments"]) == sums([r for days in expected_days.values() for r in days.values()])
        if mode == "totals" or a["date_from"] is None:
            assert a["series"] == []
            continue
        by_day: dict[date, list[tuple[Value, ...]]] = defaultdict(list)
        for days in expected_days.values():
            for day, values in days.items():
                by_day[day].append(values)
        points = a["series"]
        assert points[0]["period_start"] == str(first)
        assert points[-1]["period_end"] == str(last)
        for point, following in zip(points, [*points[1:], None], strict=True):
            p_first, p_last = date.fromisoformat(point["period_start"]), date.fromisoformat(point["period_end"])
            if mode == "daily":
                assert p_first == p_last
            else:  # an ISO week, cut to the range
                assert p_first.weekday() == 0 or p_first == first
                assert p_last.weekday() == 6 or p_last == last
                assert (p_last - p_first).days <= 6
            if following is not None:  # contiguous: no day missing, none twice
                assert date.fromisoformat(following["period_start"]) == p_last + timedelta(days=1)
            inside = [v for d, values in by_day.items() if p_first <= d <= p_last for v in values]
            assert metrics(point) == sums(inside), point
        assert sums([metrics(p) for p in points]) == metrics(a["increments"])  # the series sum to the growth

    # The CSV export of the campaign (as of today, the whole campaign) says the same, video by video.
    whole = oracle(history, entries, ends_at, starts_at.date(), today)
    with snapshot(db) as conn:
        table = campaign_table(conn, UUID(cid), today)
        path = tmp_path / f"{cid}.csv"
        write_csv(table, path)
    lines = list(csv.reader(path.open(encoding="utf-8")))
    header = lines.index([c.title for c in table.columns])
    url_column, first_growth = 1, [c.title for c in table.columns].index("Views growth in campaign")
    urls = dict(zip((seed_url(db, v) for v in videos), videos, strict=True))
    exported = {urls[line[url_column]]: tuple(int(x) if x else None for x in line[first_growth:first_growth + 5])
                for line in lines[header + 1:]}
    assert exported == {v: sums(list(whole.get(v, {}).values())) for v in videos}
    summary = next(line for line in lines if line[0] == "Growth in campaign")
    assert tuple(int(x) if x else None for x in summary[1:6]) == sums(
        [r for days in whole.values() for r in days.values()])


def seed_url(db: Database, video_id: str) -> str:
    with member(db).transaction(Role.READER) as conn:
        row = conn.execute("select url from analytics.videos where id = %s", (video_id,)).fetchone()
    assert row is not None
    return str(row[0])
