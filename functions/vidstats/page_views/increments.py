"""The increments writer: a batch of page views, aggregated in memory, added in one transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date

from vidstats.db import Database, Role
from vidstats.page_views.models import PageViewIncrement, PageViewsRecorded

Bucket = tuple[str, date, int]


def aggregate(increments: Iterable[PageViewIncrement]) -> dict[Bucket, int]:
    """Views per (name, UTC date, hour), in the order the database locks them (name, then date, hour)."""
    totals: Counter[Bucket] = Counter()
    for item in increments:
        bucket_date, bucket_hour = item.bucket
        totals[(item.name, bucket_date, bucket_hour)] += item.count
    return dict(sorted(totals.items()))


def record_increments(db: Database, increments: list[PageViewIncrement]) -> PageViewsRecorded:
    """Adds every increment or none (one transaction under the increments service's role).

    ``analytics.add_page_views`` creates missing pages and upserts the rows in one fixed order, so concurrent
    batches over the same pages and hours neither deadlock nor lose a view.
    """
    buckets = aggregate(increments)
    names = [name for name, _, _ in buckets]
    dates = [day for _, day, _ in buckets]
    hours = [hour for _, _, hour in buckets]
    views = list(buckets.values())
    with db.transaction(Role.PAGE_VIEWS) as conn:
        row = conn.execute("select analytics.add_page_views(%s::text[], %s::date[], %s::smallint[], %s::bigint[])",
                           (names, dates, hours, views)).fetchone()
    assert row is not None
    result = row[0]
    return PageViewsRecorded(accepted=len(increments), views=sum(views), buckets=int(result["buckets"]),
                             new_pages=int(result["new_pages"]))
