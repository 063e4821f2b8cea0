"""Lambda entry point: parse the trigger, run the incremental refresh within the time left, report figures."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field
from vidstats.db import Database, Role
from vidstats.page_views.refresh import page_views_report_status, refresh_page_views_report
from vidstats.read_model import read_model_status, refresh_read_model
from vidstats.retention import run_retention
from vidstats.settings import RetentionSettings

logger = Logger(service="mv_refresh")
metrics = Metrics(namespace="vidstats", service="mv_refresh")

# Leave room to commit the last step and report before Lambda's timeout.
SAFETY_MARGIN_S = 10.0
# Retention compacts about 25k snapshot rows a second on 2 loaded cores (bench.retention): a month partition
# larger than this would not fit one run's time; `vidstats retention run` compacts it without a time limit.
RETENTION_MAX_PARTITION_ROWS = 2_000_000


class RefreshRequest(BaseModel):
    """The schedule's Input, or a writer's signal after a significant batch."""

    model_config = ConfigDict(extra="forbid")

    reason: Literal["schedule", "writer_signal", "manual"] = "schedule"
    max_rows_per_step: int = Field(default=100_000, ge=1, le=1_000_000)
    months_ahead: int = Field(default=3, ge=0, le=24)


@lru_cache(maxsize=1)
def database() -> Database:
    return Database.from_settings(application_name="mv_refresh")


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any] | None, context: LambdaContext) -> dict[str, Any]:
    request = RefreshRequest.model_validate(event or {})
    page_views = refresh_page_views(request, context)
    outcome = refresh_read_model(
        database(),
        max_rows_per_step=request.max_rows_per_step,
        months_ahead=request.months_ahead,
        time_left_s=lambda: context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_S,
    )
    status = read_model_status(database(), Role.REFRESH)
    retention = compact_old_snapshots(outcome.status, context)

    metrics.add_metric(name="RefreshedRows", unit=MetricUnit.Count, value=outcome.rows)
    metrics.add_metric(name="RefreshDuration", unit=MetricUnit.Milliseconds, value=outcome.duration_ms)
    metrics.add_metric(name="ReadModelLag", unit=MetricUnit.Seconds, value=status.lag_seconds)
    logger.info("read model refresh", extra={"reason": request.reason, **outcome.model_dump(),
                                             "lag_seconds": status.lag_seconds})
    return {"refresh": outcome.model_dump(), "lag_seconds": status.lag_seconds, "page_views": page_views,
            "retention": retention}


def compact_old_snapshots(refresh_status: str, context: LambdaContext) -> dict[str, Any] | None:
    """Snapshot retention, only when SNAPSHOT_RETENTION_DAYS is set, and only once the read model is caught
    up (a month is compacted only after every row of it is reflected): the partitions still due, one at a time,
    while time is left. Most runs find none and cost one catalog query."""
    days = RetentionSettings().snapshot_retention_days
    if days is None or refresh_status != "caught_up":
        return None

    def time_left() -> float:
        return context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_S

    outcome = run_retention(database(), days=days, time_left_s=time_left,
                            statement_timeout_ms=max(int(time_left() * 1000), 1_000),
                            max_partition_rows=RETENTION_MAX_PARTITION_ROWS)
    if outcome.partitions:
        metrics.add_metric(name="RetentionRowsRemoved", unit=MetricUnit.Count, value=outcome.rows_removed)
        logger.info("snapshot retention", extra=outcome.model_dump(mode="json"))
    return outcome.model_dump(mode="json")


def refresh_page_views(request: RefreshRequest, context: LambdaContext) -> dict[str, Any]:
    """Brings page_views_report up to date first, within at most half the time left, so neither read model can
    starve the other; the video read model then has the rest."""
    def time_left() -> float:
        return context.get_remaining_time_in_millis() / 1000 - SAFETY_MARGIN_S

    reserved = time_left() / 2
    outcome = refresh_page_views_report(database(), max_rows_per_step=request.max_rows_per_step,
                                        time_left_s=lambda: time_left() - reserved)
    status = page_views_report_status(database(), Role.REFRESH)
    metrics.add_metric(name="PageViewsRefreshedRows", unit=MetricUnit.Count, value=outcome.rows)
    metrics.add_metric(name="PageViewsRefreshDuration", unit=MetricUnit.Milliseconds, value=outcome.duration_ms)
    metrics.add_metric(name="PageViewsReportLag", unit=MetricUnit.Seconds, value=status.lag_seconds)
    logger.info("page views report refresh", extra={"reason": request.reason, **outcome.model_dump(),
                                                    "lag_seconds": status.lag_seconds})
    return {"refresh": outcome.model_dump(), "lag_seconds": status.lag_seconds}
