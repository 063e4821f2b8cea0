"""Inputs and outputs of the page-view services."""

from __future__ import annotations

import datetime as dt
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vidstats.error_body import ErrorBody as ErrorBody  # re-exported: one error shape for all APIs
from vidstats.error_body import FieldProblem as FieldProblem

MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)
MAX_NAME_LENGTH = 512
MAX_BATCH_ITEMS = 5_000
MAX_COUNT = 1_000_000

# 1..512 characters, not only whitespace, no NUL (Postgres text cannot hold it). Kept exactly as sent.
PageName = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"^[^\x00]*[^\x00\s][^\x00]*$",
                                description="The page's name, exactly as it should be reported (1-512 chars)")]


class PageViewSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # How far ahead of the server clock an increment's hour may start (clients' clock skew).
    max_future_s: int = Field(default=900, ge=0, le=86_400, validation_alias="PAGE_VIEWS_MAX_FUTURE_S")


@lru_cache(maxsize=1)
def page_view_settings() -> PageViewSettings:
    return PageViewSettings()


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PageViewIncrement(_In):
    """Views of one page: at an instant (``timestamp``) or in a UTC hour (``date`` + ``hour``)."""

    name: PageName
    timestamp: AwareDatetime | None = Field(default=None, description="When the views happened (with a timezone)")
    date: dt.date | None = Field(default=None, description="UTC day of the views (with `hour`)")
    hour: int | None = Field(default=None, ge=0, le=23, description="UTC hour of the views (with `date`)")
    count: int = Field(ge=1, le=MAX_COUNT, description="How many views to add")

    @field_validator("timestamp")
    @classmethod
    def _timestamp_in_range(cls, value: datetime | None) -> datetime | None:
        # Checked before converting to UTC: 0001-01-01T00:00+14:00 has no UTC date to convert to.
        if value is not None and value.date() < MIN_DATE:
            raise ValueError(f"{value.isoformat()} is before {MIN_DATE}")
        if value is not None and value.date() > MAX_DATE:
            raise ValueError(f"{value.isoformat()} is in the future")
        return value

    @model_validator(mode="after")
    def _one_point_in_time_not_in_the_future(self) -> Self:
        if self.timestamp is not None:
            if self.date is not None or self.hour is not None:
                raise ValueError(f"page {self.name!r}: give either timestamp or date + hour, not both")
        elif self.date is None or self.hour is None:
            raise ValueError(f"page {self.name!r}: give a timestamp, or both date and hour")
        bucket_date, bucket_hour = self.bucket
        # The instant itself, or the start of the given hour.
        start = self.timestamp or datetime(bucket_date.year, bucket_date.month, bucket_date.day, bucket_hour,
                                           tzinfo=UTC)
        limit = datetime.now(UTC) + timedelta(seconds=page_view_settings().max_future_s)
        if start > limit:
            raise ValueError(f"page {self.name!r}: {start.isoformat()} is in the future (more than "
                             f"{page_view_settings().max_future_s} s ahead of the server clock)")
        if bucket_date < MIN_DATE:
            raise ValueError(f"page {self.name!r}: {bucket_date} is before {MIN_DATE}")
        return self

    @property
    def bucket(self) -> tuple[dt.date, int]:
        """The UTC (date, hour) the views count in."""
        if self.timestamp is not None:
            utc = self.timestamp.astimezone(UTC)
            return utc.date(), utc.hour
        assert self.date is not None
        assert self.hour is not None
        return self.date, self.hour


class PageViewBatch(_In):
    """Increments written all together or not at all."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"increments": [
        {"name": "/pricing", "timestamp": "2026-11-01T10:15:00Z", "count": 3},
        {"name": "/blog/launch", "date": "2026-11-01", "hour": 10, "count": 12},
    ]}]})

    increments: list[PageViewIncrement] = Field(min_length=1, max_length=MAX_BATCH_ITEMS)


class PageViewsRecorded(BaseModel):
    accepted: int = Field(description="Items in the batch")
    views: int = Field(description="Views added, all items together")
    buckets: int = Field(description="Distinct (page, UTC date, hour) rows the batch added to")
    new_pages: int = Field(description="Pages seen for the first time")


# ---- report ----------------------------------------------------------------------------------------------


class ReportGranularity(StrEnum):
    hour = "hour"
    day = "day"


class ReportQuery(_In):
    name: str | None = None
    prefix: str | None = None
    date_from: date
    date_to: date
    hour_from: int = Field(default=0, ge=0, le=23)
    hour_to: int = Field(default=23, ge=0, le=23)
    granularity: ReportGranularity = ReportGranularity.day
    top: int | None = Field(default=None, ge=1, le=100)
    limit: int = Field(default=1_000, ge=1, le=10_000)


class ReportRow(BaseModel):
    name: str
    date: dt.date
    hour: int | None = Field(description="UTC hour; null when granularity is day")
    views: int


class PageTotal(BaseModel):
    rank: int
    name: str
    views: int


class PageViewsReport(BaseModel):
    granularity: ReportGranularity
    date_from: date
    date_to: date
    hour_from: int
    hour_to: int
    top: list[PageTotal] | None = Field(description="With `top`: the pages with the most views in the period, "
                                                    "ranked (ties by name); rows cover only these pages")
    rows: list[ReportRow] = Field(description="Views per page and day or hour, by name, date, hour; a missing "
                                              "row means no views")
    truncated: bool = Field(description="More rows matched than `limit`")
    data_as_of: datetime | None = Field(description="The report reflects every view recorded before this "
                                                    "instant (null before the first refresh)")


# ---- the Wolf --------------------------------------------------------------------------------------------


class PageViewsRefreshStep(BaseModel):
    """What one call of analytics.refresh_page_views_report() did."""

    status: str  # "ok", or "busy" when another refresh or an in-flight writer held it off
    caught_up: bool
    rows: int = 0
    watermark: int | None = None
    duration_ms: float = 0.0
    message: str | None = None


class PageViewsRefreshOutcome(BaseModel):
    status: str  # "caught_up", "busy" or "out_of_time"
    steps: int
    rows: int
    watermark: int | None
    duration_ms: float


class PageViewsReportStatus(BaseModel):
    watermark: int
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_rows: int
    last_duration_ms: float
    oldest_pending_at: datetime | None  # None when the report is caught up
    lag_seconds: float
