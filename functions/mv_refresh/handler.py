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

logger = Logger(service="mv_refresh")
metrics = Metrics(namespace="vidstats", service="mv_refresh")

# Leave room to commit the last step and report before Lambda's timeout.
SAFETY_MARGIN_S = 10.0


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

    metrics.add_metric(name="RefreshedRows", unit=MetricUnit.Count, value=outcome.rows)
    metrics.add_metric(name="RefreshDuration", unit=MetricUnit.Milliseconds, value=outcome.duration_ms)
    metrics.add_metric(name="ReadModelLag", unit=MetricUnit.Seconds, value=status.lag_seconds)
    logger.info("read model refresh", extra={"reason": request.reason, **outcome.model_dump(),
                                             "lag_seconds": status.lag_seconds})
    return {"refresh": outcome.model_dump(), "lag_seconds": status.lag_seconds, "page_views": page_views}


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
