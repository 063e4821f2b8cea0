"""The queue processor's work on one SQS batch: parse, claim, fetch concurrently, write once, report.

Per batch:

1. Every body is parsed (``messages.parse_message``); a malformed one fails only its record.
2. The videos of all ``fetch_videos`` messages are claimed in one statement (``idempotency``): already done
   → skipped without a provider call; held by another live invocation → that record is retried later.
3. Claimed videos are fetched on a bounded thread pool; each platform's provider paces its requests
   (``RAPIDAPI_<P>_RPS``) and slows everyone on a 429. YouTube ids go 50 per call. An auth, quota or budget
   error stops further calls to that platform for this batch.
4. One transaction writes every snapshot of the batch (one ``INSERT``), what the outcomes change on the videos
   (a usual success changes nothing there: its snapshot is the last fetch) and the completion of their
   idempotency keys, pipelined (one round trip; ``pipelined``). If it fails, every record with a row in it
   fails, nothing remains.
5. Each video's outcome is recorded on ``videos`` (fetch health: last error and its class, failure counts,
   cleared by a success; the last success is the latest snapshot, ``analytics.last_fetch_at``; see
   ``videos_repository.record_fetch_outcomes``), and its record's fate follows the error's class
   (``providers.errors.ErrorClass``):

   * transient (throttle, "try again later", 5xx, timeout; already retried with backoff by the provider,
     which slowed its pace for the rest of the batch), out of time, write failure: the record fails and SQS
     retries it;
   * quota: the record fails and is held invisible until the quota resets (``BatchReport.not_before``);
   * gone, bad input, unreadable answer: done (a retry cannot change the answer). A gone video is marked
     gone once the platform said so on ``gone_after_days`` separate UTC days;
   * configuration (bad key, not subscribed, blocked user): one call, a loud error, and the records are
     done: retrying them every few minutes into the dead-letter queue helps nobody. The videos' health
     shows the error and what to fix; the next nightly run tries again.

The write also attaches each measured video to its creator as the answer names it (``bloggers_repository``).

``fetch_creator`` messages (blogger batch) are handled one by one after that, each in its own transaction, which
also writes the batch's outcome (``blogger_batches``); a failure no retry can fix (creator not found, provider
configuration) is recorded as the batch's outcome and its record succeeds.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from threading import Lock
from uuid import UUID

from vidstats.db import Database, Role
from vidstats.ingestion.blogger_batch import CreatorBatchResult, failure_reason, run_blogger_batch
from vidstats.ingestion.blogger_batches_repository import BatchRequest, FailureReason, record_failure
from vidstats.ingestion.bloggers_repository import Creator, KnownCreators, creator_ids
from vidstats.ingestion.idempotency import Claims, IdempotencyStore
from vidstats.ingestion.messages import (
    FetchCreatorMessage,
    FetchVideosMessage,
    MalformedMessageError,
    VideoRef,
    parse_message,
)
from vidstats.ingestion.pipelined import pipelined_transaction
from vidstats.ingestion.refresh_signal import RefreshSignal
from vidstats.ingestion.snapshots_repository import SnapshotRow, insert_snapshots
from vidstats.ingestion.videos_repository import FetchOutcome, record_fetch_outcomes
from vidstats.platforms import Platform
from vidstats.providers.base import VideoCounters, VideoProvider
from vidstats.providers.config import ProviderConfigurationError
from vidstats.providers.errors import (
    BudgetExhaustedError,
    ErrorClass,
    ProviderAuthError,
    ProviderConfigError,
    ProviderError,
    ProviderItemError,
    QuotaExhaustedError,
)
from vidstats.workspaces import DEFAULT_WORKSPACE_ID

log = logging.getLogger(__name__)

ProviderLookup = Callable[[Platform], VideoProvider]

# Errors after which no further call to that platform is worth making in this batch.
_STOPS_PLATFORM = (ProviderAuthError, ProviderConfigError, QuotaExhaustedError, BudgetExhaustedError)
YOUTUBE_IDS_PER_CALL = 50


@dataclass(frozen=True)
class Record:
    message_id: str
    body: str
    receive_count: int = 1  # SQS's ApproximateReceiveCount: this is the record's n-th delivery


class RetryLater(Exception):  # noqa: N818 - it is an outcome, not a bug
    """The record's work is not done (another invocation holds it, time ran out); SQS redelivers it."""


class WriteFailed(Exception):  # noqa: N818
    """The batch's single write failed; nothing of it remains."""


@dataclass
class _Item:
    key: str
    message_id: str
    ref: VideoRef
    result: VideoCounters | ProviderItemError | Exception | None = None


# SQS keeps a received message invisible for at most 12 hours.
MAX_REDELIVERY_DELAY_S = 12 * 3600 - 300


@dataclass
class BatchReport:
    failures: dict[str, Exception] = field(default_factory=dict)  # message id -> why
    # Failed messages that no retry can help before an instant (a spent plan quota resets then).
    not_before: dict[str, datetime] = field(default_factory=dict)
    snapshots_written: int = 0
    provider_calls_skipped: int = 0  # videos already done (idempotency)
    gone: int = 0  # gone answers (the video is marked gone after enough separate days)
    configuration_errors: int = 0  # videos not fetched because a setting is wrong (records done, not retried)

    def fail(self, message_id: str, error: Exception) -> None:
        self.failures.setdefault(message_id, error)
        if isinstance(error, QuotaExhaustedError) and error.retry_at is not None:
            held = self.not_before.get(message_id)
            self.not_before[message_id] = error.retry_at if held is None else max(held, error.retry_at)

    def redelivery_delays(self, now: datetime) -> dict[str, int]:
        """Seconds each held message should stay invisible, so it comes back when it can succeed.

        Without this, a message redelivered after the usual visibility timeout hits the same spent quota
        until the receive count sends it to the dead-letter queue; held, it spends one receive per reset.
        """
        return {message_id: min(max(math.ceil((at - now).total_seconds()), 0), MAX_REDELIVERY_DELAY_S)
                for message_id, at in self.not_before.items()}


class IngestProcessor:
    def __init__(
        self,
        db: Database,
        providers: ProviderLookup,
        *,
        idempotency: IdempotencyStore,
        concurrency: int = 8,
        write_reserve_s: float = 10.0,
        refresh_signal: RefreshSignal | None = None,
        gone_after_days: int = 2,
        max_receive_count: int | None = None,
        known_creators: KnownCreators | None = None,
    ) -> None:
        self._db = db
        # Creators found stored as answers state them: a batch saying nothing new about them skips their read.
        self._known_creators = known_creators if known_creators is not None else KnownCreators()
        self._gone_after_days = gone_after_days
        self._providers = providers
        self._idempotency = idempotency
        self._concurrency = concurrency
        self._write_reserve_s = write_reserve_s
        self._refresh_signal = refresh_signal
        # The queue's redrive receive count: a blogger batch failing on its last delivery is recorded as failed.
        self._max_receive_count = max_receive_count
        self._executor: ThreadPoolExecutor | None = None

    # --- entry point --------------------------------------------------------------------------------

    def process(self, records: Sequence[Record], *, time_left_s: Callable[[], float] = lambda: 3600.0
                ) -> BatchReport:
        report = BatchReport()
        videos: list[tuple[str, FetchVideosMessage]] = []
        creators: list[tuple[Record, FetchCreatorMessage]] = []
        for record in records:
            try:
                message = parse_message(record.body)
            except MalformedMessageError as exc:
                log.error("malformed message %s: %s", record.message_id, exc,
                          extra={"message_id": record.message_id})
                report.fail(record.message_id, exc)
                continue
            if isinstance(message, FetchVideosMessage):
                videos.append((record.message_id, message))
            else:
                creators.append((record, message))

        # A claimant token per unit of work (the videos' one write, each creator's own): committing a token
        # completes every claim it holds (see idempotency).
        if videos:
            self._process_videos(videos, report, uuid.uuid4().hex, time_left_s)
        for record, creator in creators:
            last = self._max_receive_count is not None and record.receive_count >= self._max_receive_count
            self._process_creator(record.message_id, creator, report, uuid.uuid4().hex, time_left_s,
                                  last_delivery=last)

        if report.snapshots_written and self._refresh_signal is not None:
            self._refresh_signal.rows_written(report.snapshots_written)
        return report

    # --- fetch_videos -------------------------------------------------------------------------------

    def _process_videos(self, messages: list[tuple[str, FetchVideosMessage]], report: BatchReport, token: str,
                        time_left_s: Callable[[], float]) -> None:
        items: list[_Item] = []
        for message_id, message in messages:
            request = str(message.request_id)  # once per message, not per video: a nightly batch has 500
            items += [_Item(key=f"{request}:{ref.video_id}", message_id=message_id, ref=ref) for ref in message.videos]
        lock_s = max(time_left_s(), 1.0) + 30.0
        try:
            claims = self._claim([i.key for i in items], lock_s=lock_s, token=token)
        except Exception as exc:
            log.exception("could not claim the batch's work items")
            for message_id, _ in messages:
                report.fail(message_id, exc)
            return

        todo: list[_Item] = []
        seen: set[str] = set()
        for item in items:
            if item.key in claims.done:
                report.provider_calls_skipped += 1
            elif item.key in claims.busy:
                report.fail(item.message_id, RetryLater(f"video {item.ref.video_id} is being fetched elsewhere"))
            elif item.key not in seen:  # the same request id twice in one batch (a redelivery): once
                seen.add(item.key)
                todo.append(item)

        self._fetch_all(todo, time_left_s)

        rows: list[SnapshotRow] = []
        outcomes: list[FetchOutcome] = []
        creators: list[tuple[UUID, Creator]] = []  # each measured video's author, as its answer names it
        done_keys: list[str] = []
        carried: set[str] = set()  # message ids with something in the write
        release: list[str] = []
        for item in todo:
            result = item.result
            video_id = item.ref.video_id
            if isinstance(result, VideoCounters):
                rows.append(SnapshotRow.from_counters(video_id, result))
                outcomes.append(FetchOutcome(video_id, ok=True, caption=result.caption,
                                             published_at=result.published_at))
                creator = Creator.from_counters(result)
                if creator is not None:
                    creators.append((video_id, creator))
                done_keys.append(item.key)
                carried.add(item.message_id)
            elif isinstance(result, ProviderItemError):
                gone = result.error_class is ErrorClass.GONE
                report.gone += gone
                outcomes.append(FetchOutcome(video_id, ok=False, error=str(result), gone=gone,
                                             error_class=result.error_class.value))
                done_keys.append(item.key)
                carried.add(item.message_id)
                log.warning("video %s not measured: %s", video_id, result,
                            extra={"message_id": item.message_id, "reason": result.reason.value,
                                   "error_class": result.error_class.value})
            elif isinstance(result, ProviderError) and result.error_class is ErrorClass.CONFIGURATION:
                # Logged loudly once per batch (``_fetch_all``); the record is done, not retried into the DLQ.
                report.configuration_errors += 1
                outcomes.append(FetchOutcome(video_id, ok=False, error=str(result),
                                             error_class=result.error_class.value))
                done_keys.append(item.key)
                carried.add(item.message_id)
            else:
                error = result if isinstance(result, Exception) else RetryLater("not fetched")
                report.fail(item.message_id, error)
                release.append(item.key)
                if isinstance(error, ProviderError):
                    outcomes.append(FetchOutcome(video_id, ok=False, error=str(error),
                                                 error_class=error.error_class.value))
                    carried.add(item.message_id)

        ids: dict[tuple[str, str], UUID] = {}
        if outcomes:
            try:
                with pipelined_transaction(self._db, Role.INGEST) as conn:
                    # The creators first (their ids are read back): each video's is set with its bookkeeping.
                    if creators:
                        ids = creator_ids(conn, [creator for _, creator in creators], known=self._known_creators)
                        blogger_of = {video_id: ids[creator.key] for video_id, creator in creators}
                        # Built anew, not ``_replace``d (half the cost; blogger_id is the last field).
                        outcomes = [o if (blogger := blogger_of.get(o.video_id)) is None
                                    else FetchOutcome(*o[:-1], blogger) for o in outcomes]
                    insert_snapshots(conn, rows)
                    record_fetch_outcomes(conn, outcomes, gone_after_days=self._gone_after_days)
                    self._idempotency.complete(conn, token=token, unfinished=release)
            except Exception as exc:
                log.exception("the batch write of %d snapshot rows failed (or its commit went unconfirmed)", len(rows))
                self._known_creators.forget_all()  # e.g. a creator row gone meanwhile: the retry reads them again
                failure = WriteFailed(f"writing {len(rows)} snapshots failed: {type(exc).__name__}: {exc}")
                for message_id in carried:
                    report.fail(message_id, failure)
                release.extend(done_keys)
            else:
                report.snapshots_written += len(rows)
                release = []  # dropped by the write itself
                if creators:
                    self._known_creators.remember([creator for _, creator in creators], ids)
        if release:
            try:
                self._idempotency.release(release, token=token)
            except Exception:
                log.warning("could not release %d claims; they expire on their own", len(release))

    def _claim(self, keys: list[str], *, lock_s: float, token: str) -> Claims:
        try:
            return self._idempotency.claim(keys, lock_s=lock_s, token=token)
        except Exception:
            # A warm container's idle connection may have been closed by the pooler: reconnect once. The
            # token makes a repeated claim safe even if the first one committed.
            log.warning("claim failed; retrying once on a new connection", exc_info=True)
            self._db.close()
            return self._idempotency.claim(keys, lock_s=lock_s, token=token)

    def _fetch_all(self, items: list[_Item], time_left_s: Callable[[], float]) -> None:
        by_platform: dict[Platform, list[_Item]] = defaultdict(list)
        for item in items:
            by_platform[item.ref.platform].append(item)
        tasks: list[tuple[Platform, list[_Item]]] = []
        for platform, platform_items in by_platform.items():
            size = YOUTUBE_IDS_PER_CALL if platform is Platform.YOUTUBE else 1
            tasks += [(platform, platform_items[i : i + size]) for i in range(0, len(platform_items), size)]
        stopped: dict[Platform, ProviderError] = {}
        stop_lock = Lock()
        for platform in by_platform:
            # Each batch starts at the configured pace; transient failures slow it for this batch only.
            try:
                begin_batch = getattr(self._providers(platform), "begin_batch", None)
            except Exception:  # reported by the fetch below, for each of its records
                begin_batch = None
            if begin_batch is not None:
                begin_batch()

        def run(task: tuple[Platform, list[_Item]]) -> None:
            platform, chunk = task
            with stop_lock:
                stop = stopped.get(platform)
            if stop is not None:
                for item in chunk:
                    item.result = stop
                return
            if time_left_s() < self._write_reserve_s:
                for item in chunk:
                    item.result = RetryLater("out of time before fetching; left for the next delivery")
                return
            ids = [item.ref.external_video_id for item in chunk]
            results: dict[str, VideoCounters | ProviderItemError | Exception]
            try:
                try:
                    provider = self._providers(platform)
                except ProviderConfigurationError as exc:  # e.g. no RapidAPI key for this platform
                    raise ProviderConfigError(platform, str(exc)) from None
                results = dict(provider.fetch_videos(ids))
            except ProviderError as exc:
                if isinstance(exc, _STOPS_PLATFORM):
                    with stop_lock:
                        stopped.setdefault(platform, exc)
                    log.error("%s: stopping calls to this platform for this batch: %s", platform.value, exc,
                              extra={"error_class": exc.error_class.value})
                else:
                    log.warning("%s fetch failed: %s", platform.value, exc)
                results = {**dict.fromkeys(ids, exc), **exc.partial}
            except Exception as exc:  # a bug or configuration problem: fail these records, keep the rest
                log.exception("%s fetch crashed", platform.value)
                results = dict.fromkeys(ids, exc)
            for item in chunk:
                item.result = results.get(item.ref.external_video_id) or RetryLater("no result from provider")

        if len(tasks) == 1:
            run(tasks[0])
        elif tasks:
            list(self._pool().map(run, tasks))

    def _pool(self) -> ThreadPoolExecutor:
        # Kept for the container's lifetime: starting threads on every batch costs more than the batch.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="fetch")
        return self._executor

    # --- fetch_creator ------------------------------------------------------------------------------

    def _process_creator(self, message_id: str, message: FetchCreatorMessage, report: BatchReport, token: str,
                         time_left_s: Callable[[], float], *, last_delivery: bool = False) -> None:
        key = str(message.request_id)
        try:
            claims = self._claim([key], lock_s=max(time_left_s(), 1.0) + 30.0, token=token)
        except Exception as exc:
            report.fail(message_id, exc)
            return
        if key in claims.done:
            report.provider_calls_skipped += 1
            return
        if key in claims.busy:
            report.fail(message_id, RetryLater(f"creator listing {key} is being fetched elsewhere"))
            return
        try:
            result: CreatorBatchResult = run_blogger_batch(
                self._db,
                self._providers(message.platform),
                message.platform,
                message.creator,
                limit=message.limit,
                campaign_id=message.campaign_id,
                on_commit=lambda conn: self._idempotency.complete(conn, token=token),
                batch_id=message.request_id,
                workspace_id=message.workspace_id,
            )
        except Exception as exc:
            log.error("creator listing %s/%s failed: %s", message.platform.value, message.creator, exc,
                      extra={"message_id": message_id})
            if self._record_creator_failure(message, exc, token, last_delivery=last_delivery):
                return  # failed for good, and recorded so: a redelivery cannot help
            report.fail(message_id, exc)
            try:
                self._idempotency.release([key], token=token)
            except Exception:
                log.warning("could not release claim %s", key)
            return
        report.snapshots_written += result.snapshots

    def _record_creator_failure(self, message: FetchCreatorMessage, error: Exception, token: str, *,
                                last_delivery: bool) -> bool:
        """Writes the failure into the batch's outcome; True when no retry can fix it (its claim completes).

        A retryable failure on the queue's last delivery is recorded as failed too (the provider kept failing),
        but its record still fails, into the dead-letter queue: a redrive may yet make the batch done.
        """
        request = BatchRequest(message.request_id, message.platform, message.creator, message.limit,
                               message.campaign_id, message.workspace_id or DEFAULT_WORKSPACE_ID)
        final = failure_reason(error)
        recorded = final or (FailureReason.PROVIDER_ERROR if last_delivery else None)
        try:
            with self._db.transaction(Role.INGEST) as conn:
                record_failure(conn, request, str(error), recorded)
                if final is not None:
                    self._idempotency.complete(conn, token=token)
        except Exception:
            log.exception("could not record the outcome of blogger batch %s", message.request_id)
            return False  # retried: the next delivery records it
        return final is not None


def monotonic_deadline(seconds: float) -> Callable[[], float]:
    """A ``time_left_s`` for code running outside Lambda (CLI, benchmark)."""
    end = time.monotonic() + seconds
    return lambda: end - time.monotonic()
