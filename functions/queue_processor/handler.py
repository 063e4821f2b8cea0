"""Lambda entry point of the queue processor: an SQS batch in, ``batchItemFailures`` out.

The batch's work is done as a whole by ``vidstats.ingestion.processor.IngestProcessor`` (one claim, concurrent fetches,
one write); each failed record is then named in the partial batch response (``batchItemFailures``), so SQS
redelivers exactly the failed records (and the dead-letter queue takes them after the configured receive count).

Cold start: boto3 (~0.3 s) is imported only when a refresh signal or a hold-back is actually sent, httpx when
the first batch needs the providers. Powertools' ``BatchProcessor`` is not used: importing it loads Powertools'
parser models of every event source (~0.3 s whenever pydantic is loaded) to produce what is a one-line response
here, since the processor has already decided every record's fate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from vidstats.db import Database
from vidstats.ingestion.fetch_queue import SqsFetchQueue
from vidstats.ingestion.idempotency import IdempotencyStore
from vidstats.ingestion.processor import BatchReport, IngestProcessor, Record
from vidstats.ingestion.refresh_signal import RefreshSignal
from vidstats.settings import ingest_settings

if TYPE_CHECKING:
    from vidstats.ingestion.provider_registry import ProviderRegistry

logger = Logger(service="queue_processor")
metrics = Metrics(namespace="vidstats", service="queue_processor")


@lru_cache(maxsize=1)
def database() -> Database:
    return Database.from_settings(application_name="queue_processor")


@lru_cache(maxsize=1)
def providers() -> ProviderRegistry:
    # One client and one provider per platform for the container's lifetime: connection reuse, pacing
    # and quota blocks carry over between warm invocations.
    import httpx
    from vidstats.ingestion.provider_registry import ProviderRegistry

    return ProviderRegistry.from_environment(httpx.Client(http2=False))


class LazyLambdaClient:
    """A boto3 Lambda client made on the first ``invoke``: most batches never signal mv_refresh."""

    @cached_property
    def _client(self) -> Any:
        import boto3  # type: ignore[import-untyped]

        return boto3.client("lambda")

    def invoke(self, **kwargs: Any) -> Any:
        return self._client.invoke(**kwargs)


@lru_cache(maxsize=1)
def ingest_processor() -> IngestProcessor:
    settings = ingest_settings()
    signal = None
    if settings.mv_refresh_function_name:
        signal = RefreshSignal(database(), LazyLambdaClient(), settings.mv_refresh_function_name,
                               min_rows=settings.mv_refresh_min_rows, debounce_s=settings.mv_refresh_debounce_s)
    return IngestProcessor(
        database(),
        providers(),
        idempotency=IdempotencyStore(database(), window_s=settings.idempotency_window_s),
        concurrency=settings.fetch_concurrency,
        write_reserve_s=settings.write_reserve_s,
        refresh_signal=signal,
        gone_after_days=settings.gone_after_days,
        max_receive_count=settings.fetch_max_receive_count,
    )


@lru_cache(maxsize=1)
def fetch_queue() -> SqsFetchQueue:
    return SqsFetchQueue.from_env(ingest_settings().fetch_queue_url)


def hold_back_until_retry_can_succeed(records: list[dict[str, Any]], report: BatchReport) -> None:
    """Failed records that no retry helps before an instant (a spent quota) stay invisible until then."""
    delays = report.redelivery_delays(datetime.now(UTC))
    receipts = {r["receiptHandle"]: delays[r["messageId"]] for r in records
                if r.get("messageId") in delays and r.get("receiptHandle")}
    if not receipts:
        return
    try:
        queue = fetch_queue()
    except RuntimeError as exc:  # no queue URL configured: they come back after the usual visibility timeout
        logger.warning("cannot hold back records: %s", exc)
        return
    held = queue.hold(receipts)
    logger.info("held back records until the provider quota resets",
                extra={"held": held, "max_delay_s": max(receipts.values())})


def _receive_count(record: dict[str, Any]) -> int:
    try:
        return max(int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1), 1)
    except ValueError:
        return 1


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or []
    report = ingest_processor().process(
        [Record(message_id=r["messageId"], body=r.get("body") or "", receive_count=_receive_count(r))
         for r in records],
        time_left_s=lambda: context.get_remaining_time_in_millis() / 1000,
    )

    # All failed is reported as all failed (not raised): the response says exactly which records to retry.
    response = {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records
                                      if r["messageId"] in report.failures]}
    hold_back_until_retry_can_succeed(records, report)
    metrics.add_metric(name="SnapshotsWritten", unit=MetricUnit.Count, value=report.snapshots_written)
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=len(report.failures))
    metrics.add_metric(name="DuplicateFetchesSkipped", unit=MetricUnit.Count, value=report.provider_calls_skipped)
    logger.info("batch processed", extra={"records": len(records), "failed": len(report.failures),
                                          "snapshots": report.snapshots_written, "gone": report.gone,
                                          "configuration_errors": report.configuration_errors,
                                          "skipped": report.provider_calls_skipped})
    return response
