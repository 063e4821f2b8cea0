"""Lambda entry point of the nightly refresh (ScheduleV2, default 03:00 UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal
from uuid import UUID

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict
from vidstats.db import Database
from vidstats.ingestion.fetch_queue import SqsFetchQueue
from vidstats.ingestion.idempotency import IdempotencyStore
from vidstats.ingestion.nightly import enqueue_nightly_refresh
from vidstats.settings import ingest_settings

logger = Logger(service="nightly_refresh")
metrics = Metrics(namespace="vidstats", service="nightly_refresh")


class NightlyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["schedule", "manual"] = "schedule"
    run_date: date | None = None  # defaults to today (UTC); same date → same request ids
    start_after: UUID | None = None  # resume a run that ran out of time


@lru_cache(maxsize=1)
def database() -> Database:
    return Database.from_settings(application_name="nightly_refresh")


@lru_cache(maxsize=1)
def queue() -> SqsFetchQueue:
    return SqsFetchQueue.from_env(ingest_settings().fetch_queue_url)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any] | None, context: LambdaContext) -> dict[str, Any]:
    request = NightlyRequest.model_validate(event or {})
    settings = ingest_settings()
    report = enqueue_nightly_refresh(
        database(),
        queue(),
        run_date=request.run_date or datetime.now(UTC).date(),
        message_size=settings.nightly_message_size,
        page_size=settings.nightly_page_size,
        grace=timedelta(days=settings.tracking_grace_days),
        time_left_s=lambda: context.get_remaining_time_in_millis() / 1000,
        start_after=request.start_after,
    )
    purged = IdempotencyStore(database(), window_s=settings.idempotency_window_s).purge_expired()
    metrics.add_metric(name="VideosEnqueued", unit=MetricUnit.Count, value=report.videos_enqueued)
    metrics.add_metric(name="TrackingStopped", unit=MetricUnit.Count, value=report.stopped)
    result = {
        "run_date": report.run_date.isoformat(), "videos_enqueued": report.videos_enqueued,
        "messages_sent": report.messages_sent, "stopped": report.stopped, "complete": report.complete,
        "last_id": str(report.last_id) if report.last_id else None, "seconds": report.seconds,
        "idempotency_keys_purged": purged,
    }
    logger.info("nightly refresh", extra=result)
    return result
