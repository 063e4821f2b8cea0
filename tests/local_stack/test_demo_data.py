"""`make demo`'s data shows what the product is for: real growth in every campaign, a video added mid-campaign,
an ended campaign, a gone video, a failing one and platforms without saves."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from vidstats.dashboard.campaigns import campaign_analytics
from vidstats.dashboard.models import AnalyticsMode
from vidstats.db import Database, Role
from vidstats.local.demo_data import (
    DEMO_FLASH_SALE_NAME,
    FLASH_SALE_DAYS,
    HISTORY_DAYS,
    MID_CAMPAIGN_DAY,
    later_that_day,
    load_demo_data,
)
from vidstats.read_model import verify_read_model

from tests.factories import member


def test_the_demo_shows_growth_in_every_campaign_and_every_fetch_health(db: Database) -> None:
    now = datetime.now(UTC)
    load = load_demo_data(db, now=now)
    assert load.created
    assert verify_read_model(db).ok

    launch = campaign_analytics(member(db), load.campaign_id, mode=AnalyticsMode.daily, date_from=None, date_to=None,
                                limit=200)
    assert launch.increments.views is not None
    assert launch.increments.views > 0
    assert all(v.increments.views is not None and v.increments.views > 0 for v in launch.videos)
    assert launch.series[-1].period_end == now.date()
    assert sum(p.views or 0 for p in launch.series) == launch.increments.views
    late = [v for v in launch.videos if v.platform.value == "youtube"]
    assert late
    assert all((now.date() - v.entered_at.date()).days == HISTORY_DAYS - MID_CAMPAIGN_DAY for v in late)
    assert all(v.totals.saves is None and v.increments.saves is None for v in late)  # YouTube reports no saves

    with member(db).transaction(Role.READER) as conn:
        sale_id = conn.execute("select id from analytics.campaigns where name = %s",
                               (DEMO_FLASH_SALE_NAME,)).fetchone()
        assert sale_id is not None
        states = dict(conn.execute("select fetch_health, count(*) from analytics.videos group by 1").fetchall())
    sale = campaign_analytics(member(db), sale_id[0], mode=AnalyticsMode.weekly, date_from=None, date_to=None,
                              limit=200)
    assert sale.campaign.ends_at is not None
    assert sale.date_to is not None
    ended_days_ago = HISTORY_DAYS - FLASH_SALE_DAYS[1]
    assert (now.date() - sale.date_to).days in {ended_days_ago, ended_days_ago + 1}
    assert sale.increments.views is not None
    assert sale.increments.views > 0
    assert states.get("gone") == 1
    assert states.get("failing") == 1
    assert isinstance(sale.date_from, date)


@pytest.mark.parametrize("hour_minute", [(0, 0), (12, 0), (21, 0), (23, 59)])
def test_the_mid_campaign_join_is_later_on_the_same_utc_day_at_any_hour(hour_minute: tuple[int, int]) -> None:
    at = datetime(2026, 11, 30, *hour_minute, tzinfo=UTC)
    joined = later_that_day(at)
    assert joined > at
    assert joined.date() == at.date()
