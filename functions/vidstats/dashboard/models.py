"""Inputs and outputs of the dashboard API: every request body, query and response is one of these."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from vidstats.error_body import ErrorBody as ErrorBody  # re-exported: one error shape for all APIs
from vidstats.error_body import FieldProblem as FieldProblem

# Dates and instants the API accepts: wide enough for any campaign, narrow enough that date arithmetic
# (a period's first day, the day after an instant) can never overflow.
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)


def _date_in_range(value: date) -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"must be between {MIN_DATE} and {MAX_DATE}")
    return value


def _instant_in_range(value: datetime) -> datetime:
    _date_in_range(value.date())
    return value


ApiDate = Annotated[date, AfterValidator(_date_in_range)]
ApiInstant = Annotated[AwareDatetime, AfterValidator(_instant_in_range)]
# Postgres text cannot hold NUL; anything else is fine.
NO_NUL = r"^[^\x00]*$"
SearchText = Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)]
CampaignName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]*[^\x00\s][^\x00]*$")]


class Platform(StrEnum):
    tiktok = "tiktok"
    instagram = "instagram"
    youtube = "youtube"


class TrackingState(StrEnum):
    active = "active"
    stopped = "stopped"
    gone = "gone"


class FetchHealthState(StrEnum):
    """``videos.fetch_health`` (one SQL definition): failing = fetches failed on 2+ UTC days since the last
    success; gone = the platform answered gone on GONE_AFTER_DAYS separate days."""

    tracking = "tracking"
    failing = "failing"
    gone = "gone"
    stopped = "stopped"


class FetchErrorClass(StrEnum):
    gone = "gone"
    transient = "transient"
    quota = "quota"
    configuration = "configuration"
    bad_input = "bad_input"
    invalid_response = "invalid_response"


class Metric(StrEnum):
    views = "views"
    likes = "likes"
    comments = "comments"
    reposts = "reposts"
    saves = "saves"


METRICS: tuple[str, ...] = tuple(m.value for m in Metric)


class VideoSort(StrEnum):
    """Totals (latest counters, highest first), growth over the period of ``metric``, or newest tracked."""

    views = "views"
    likes = "likes"
    comments = "comments"
    reposts = "reposts"
    saves = "saves"
    growth = "growth"
    recent = "recent"


class Period(StrEnum):
    """Growth windows in UTC days ending on ``until`` (today by default), both ends included."""

    d1 = "1d"
    d7 = "7d"
    d30 = "30d"

    @property
    def days(self) -> int:
        return int(self.value.removesuffix("d"))


class Granularity(StrEnum):
    daily = "daily"
    weekly = "weekly"


class ViewsKind(StrEnum):
    views = "views"
    plays = "plays"  # Instagram play counts (replays included), several times its view counts


class AnalyticsMode(StrEnum):
    totals = "totals"
    daily = "daily"
    weekly = "weekly"


# defer_build: a model's validator is built when first used, not at import. The dashboard has ~50 models and a
# request uses a handful: building them all made up a third of the function's cold start (bench.cold_start).
class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, defer_build=True)


class Totals(_Out):
    """Absolute counters of the latest snapshot; null when the platform did not report one (or never fetched)."""

    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    reposts: int | None = None
    saves: int | None = None


class Increments(_Out):
    """Growth: the sum of the snapshots' contributions over the days in question (each snapshot adds what its
    counter grew since the video's previous value of the same kind). Null: nothing was measured (the platform
    does not report that counter, or no snapshot fell in those days); 0 means measured, no growth."""

    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    reposts: int | None = None
    saves: int | None = None


class PeriodInfo(_Out):
    days: int
    date_from: date
    date_to: date


class BloggerRef(_Out):
    id: UUID
    username: str | None = Field(description="The creator's handle, as the platform last stated it")
    display_name: str | None = Field(default=None, description="The creator's name as shown on the platform")


class VideoRow(_Out):
    id: UUID
    platform: Platform
    external_video_id: str
    url: str
    caption: str | None
    published_at: datetime | None
    blogger: BloggerRef | None
    tracking_state: TrackingState
    tracking_started_at: datetime
    totals: Totals
    views_kind: ViewsKind | None = Field(description="What the latest views count: views, or plays (Instagram)")
    stats_at: datetime | None = Field(description="When the latest snapshot (the totals) was taken")
    increments: Increments = Field(description="Growth over the page's period")


class VideoPage(_Out):
    items: list[VideoRow]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")
    sort: VideoSort
    metric: Metric
    period: PeriodInfo
    data_as_of: datetime | None = Field(description="The read model reflects snapshots up to this instant")


class CampaignMembership(_Out):
    campaign_id: UUID
    name: str
    added_at: datetime


class TrackingInfo(_Out):
    state: TrackingState
    started_at: datetime
    stopped_at: datetime | None
    last_fetched_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


class FetchHealth(_Out):
    state: FetchHealthState = Field(description="tracking; failing: fetches failed on 2 or more UTC days since "
                                                "the last success; gone; stopped")
    last_success_at: datetime | None = Field(description="The last successful fetch")
    last_error_class: FetchErrorClass | None = Field(
        description="What the last failure meant (cleared by a success): gone, transient (retried), quota (held "
                    "until it resets), configuration (a setting to fix), bad_input, invalid_response")
    last_error: str | None = Field(description="The last failure's message (cleared by a success)")
    last_error_at: datetime | None
    consecutive_failures: int = Field(description="Failed fetches since the last success")
    failure_days: int = Field(description="Distinct UTC days with a failed fetch since the last success")


class VideoDetail(_Out):
    id: UUID
    platform: Platform
    external_video_id: str
    url: str
    caption: str | None
    published_at: datetime | None
    blogger: BloggerRef | None
    tracking: TrackingInfo
    health: FetchHealth
    totals: Totals
    views_kind: ViewsKind | None = Field(description="What the latest views count: views, or plays (Instagram)")
    stats_at: datetime | None
    growth_1d: Increments
    growth_7d: Increments
    growth_30d: Increments
    campaigns: list[CampaignMembership]
    data_as_of: datetime | None


class SeriesPoint(_Out):
    period_start: date = Field(description="The UTC day, or the first day of the ISO week inside the range "
                                           "(its Monday, unless the range starts later that week)")
    period_end: date = Field(description="The same day, or the last day of the week inside the range "
                                         "(its Sunday, unless the range ends earlier that week)")
    views: int | None = Field(description="Growth in the period; null: nothing measured")
    likes: int | None
    comments: int | None
    reposts: int | None
    saves: int | None
    snapshots: int = Field(description="Snapshots counted in the period")


class VideoIncrements(_Out):
    video_id: UUID
    granularity: Granularity
    date_from: date
    date_to: date
    points: list[SeriesPoint]
    data_as_of: datetime | None


class VideoSnapshot(_Out):
    """One fetch's absolute counters, as stored."""

    id: int
    taken_at: datetime = Field(description="When the counters were fetched")
    views: int | None = Field(description="null: the platform did not report it")
    likes: int | None
    comments: int | None
    reposts: int | None
    saves: int | None
    views_kind: Literal["views", "plays"] = Field(description="What views counts (Instagram: plays or views)")


class VideoSnapshotPage(_Out):
    video_id: UUID
    items: list[VideoSnapshot] = Field(description="Newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null: no more")


class Campaign(_Out):
    id: UUID
    name: str
    starts_at: datetime
    ends_at: datetime | None
    created_at: datetime
    video_count: int


class CampaignDetail(Campaign):
    totals: Totals = Field(description="Sum of the latest counters of the campaign's videos")
    data_as_of: datetime | None


class CampaignSummary(Campaign):
    """A campaign with its figures over the requested range: what its analytics answers for the same range."""

    date_from: date | None = Field(description="First day counted (null: none)")
    date_to: date | None = Field(description="Last day counted (null: none)")
    totals: Totals = Field(description="Sum of the latest counters of the campaign's videos")
    increments: Increments = Field(description="Growth inside the campaign window and the range, per the counting "
                                               "rule: GET /campaigns/{id}/analytics' increments for the same range")


class CampaignPage(_Out):
    items: list[CampaignSummary]
    next_cursor: str | None


class CampaignVideoBreakdown(_Out):
    video_id: UUID
    platform: Platform
    external_video_id: str
    url: str
    caption: str | None
    added_at: datetime
    entered_at: datetime = Field(description="When its campaign growth starts: the later of the campaign's start "
                                             "and added_at")
    counted_from: date | None = Field(description="First UTC day with counted growth in the range (null: none)")
    counted_to: date | None = Field(description="Last UTC day with counted growth in the range (null: none)")
    totals: Totals
    increments: Increments = Field(description="Its growth in the campaign within the range")


class CampaignAnalytics(_Out):
    campaign: Campaign
    mode: AnalyticsMode
    date_from: date | None = Field(description="First day counted (null: none)")
    date_to: date | None = Field(description="Last day counted (null: none)")
    counting_rule: str
    totals: Totals = Field(description="Latest absolute counters, summed over the campaign's videos")
    increments: Increments = Field(description="Growth inside the campaign window, per the counting rule")
    series: list[SeriesPoint] = Field(description="Per day (daily) or per ISO week (weekly); empty for totals")
    videos: list[CampaignVideoBreakdown] = Field(description="Per video, highest counted view growth first")
    videos_truncated: bool
    data_as_of: datetime | None


class BloggerSummary(_Out):
    id: UUID
    platform: Platform
    platform_user_id: str = Field(description="The platform's id of the creator (TikTok user id, Instagram pk, "
                                              "YouTube channel id); the handle until the platform has named it")
    username: str | None = Field(description="The handle, as the platform last stated it")
    display_name: str | None = Field(default=None, description="The name shown on the profile, as last stated")
    profile_url: str | None
    created_at: datetime
    video_count: int
    totals: Totals
    increments: Increments


class BloggerPage(_Out):
    items: list[BloggerSummary]
    next_cursor: str | None
    period: PeriodInfo
    data_as_of: datetime | None


class BloggerDetail(BloggerSummary):
    period: PeriodInfo
    videos: list[VideoRow] = Field(description="Its videos, most viewed first (at most 200)")
    data_as_of: datetime | None


class ReadModelFreshness(_Out):
    data_as_of: datetime | None
    last_refresh_at: datetime | None
    last_success_at: datetime | None
    oldest_pending_at: datetime | None = Field(description="Oldest snapshot not reflected yet; null: caught up")
    lag_seconds: float = Field(description="How far behind the numbers are: the read model's lag, plus the read "
                                           "replica's replay lag when reads go to one")
    replica_lag_seconds: float | None = Field(
        default=None, description="The read replica's replay lag (DATABASE_READ_URL); null: reads go to the primary")
    last_rows: int
    last_duration_ms: float
    failing_videos: int = Field(default=0, description="Tracked videos whose fetches failed on 2 or more UTC days "
                                                       "since their last success (GET /videos?health=failing)")


class Health(_Out):
    status: Literal["ok"]


# ---- commands -------------------------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class CampaignCreate(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Spring launch", "starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-04-01T00:00:00Z"}]})

    name: CampaignName
    starts_at: ApiInstant
    ends_at: ApiInstant | None = Field(default=None, description="Exclusive end; null: open-ended")

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        starts_at = info.data.get("starts_at")
        if value is not None and starts_at is not None and value <= starts_at:
            raise ValueError("must be after starts_at")
        return value


class CampaignUpdate(_In):
    """Only the fields present change; ``ends_at: null`` makes the campaign open-ended."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "Spring launch (extended)", "ends_at": "2026-04-15T00:00:00Z"}]})

    name: CampaignName | None = None
    starts_at: ApiInstant | None = None
    ends_at: ApiInstant | None = None


class CampaignVideosAdd(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"video_ids": ["8b0e4f6a-1c2d-4e5f-9a7b-3c6d2e1f0a95"], "added_at": "2026-03-05T00:00:00Z"}]})

    video_ids: list[UUID] = Field(min_length=1, max_length=500)
    added_at: ApiInstant | None = Field(
        default=None, description="From when their growth counts for the campaign (default: now)")


class CampaignVideosAdded(_Out):
    campaign_id: UUID
    added: list[UUID]
    already_present: list[UUID] = Field(description="Already in the campaign: left unchanged (added_at kept)")


class TrackingStopped(_Out):
    video_id: UUID
    tracking: TrackingInfo


class WorkspaceOut(_Out):
    id: UUID = Field(description="Send it as the `X-Workspace-Id` header of workspace-scoped requests")
    name: str
    role: Literal["owner", "editor", "viewer"] = Field(
        description="owner: members and everything; editor: campaigns, tracking, exports; viewer: reads only")


class MeOut(_Out):
    user_id: str = Field(description="The token's `sub`: the Supabase Auth user id")
    email: str | None
    workspaces: list[WorkspaceOut] = Field(description="The workspaces you are a member of (none: empty)")


class VideoQuery(_In):
    """GET /videos, as the domain takes it (the route's query parameters, validated)."""

    platform: Platform | None = None
    campaign_id: UUID | None = None
    blogger_id: UUID | None = None
    tracking_state: TrackingState | None = None
    health: FetchHealthState | None = None
    q: SearchText | None = None
    sort: VideoSort = VideoSort.views
    metric: Metric = Metric.views
    period: Period = Period.d7
    until: ApiDate | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = None
