"""Lambda's SQS event source mapping, locally: poll a queue, invoke the handler with real SQS events.

As Lambda does:

- a batch is up to ``BatchSize`` messages, gathered for at most ``MaximumBatchingWindowInSeconds``;
- the handler gets ``{"Records": [...]}`` in SQS's event shape (``messageId``, ``receiptHandle``, ``body``,
  ``attributes.ApproximateReceiveCount`` ...);
- with ``ReportBatchItemFailures`` the records named in ``batchItemFailures`` stay on the queue and the rest
  are deleted; a response naming an unknown id, or a handler that raises, fails the whole batch;
- a failed record is not touched: it becomes visible again when the queue's visibility timeout passes, and
  the queue's redrive policy moves it to the dead-letter queue after ``maxReceiveCount`` receives.

One batch at a time (one warm "container"): the handlers keep one database connection per process.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vidstats.local.lambda_context import LocalLambdaContext
from vidstats.local.sqs import LOCAL_REGION, LocalQueue
from vidstats.local.template import SqsEventSpec

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class PollerStats:
    invocations: int = 0
    records: int = 0
    deleted: int = 0
    failed: int = 0
    handler_errors: int = 0


def sqs_record(message: dict[str, Any], queue: LocalQueue) -> dict[str, Any]:
    """One record of a Lambda SQS event, from a ReceiveMessage entry."""
    body = message.get("Body", "")
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": body,
        "attributes": {k: str(v) for k, v in (message.get("Attributes") or {}).items()},
        "messageAttributes": message.get("MessageAttributes") or {},
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.arn,
        "awsRegion": LOCAL_REGION,
    }


class SqsPoller:
    def __init__(self, client: Any, queue: LocalQueue, event: SqsEventSpec, handler: Handler, *,
                 function_name: str, timeout_s: float, memory_mb: int = 512, poll_wait_s: int = 1) -> None:
        self._client = client
        self.queue = queue
        self.event = event
        self._handler = handler
        self._function_name = function_name
        self._timeout_s = timeout_s
        self._memory_mb = memory_mb
        self._poll_wait_s = poll_wait_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = PollerStats()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"poller-{self.queue.logical_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("polling %s failed; retrying", self.queue.name)
                self._stop.wait(1.0)

    def _receive(self, count: int, wait_s: int) -> list[dict[str, Any]]:
        response = self._client.receive_message(
            QueueUrl=self.queue.url, MaxNumberOfMessages=min(count, 10), WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages") or []
        return messages

    def poll_once(self) -> int:
        """Gathers one batch (within the batching window), invokes the handler, settles it. Returns its size."""
        messages = self._receive(self.event.batch_size, self._poll_wait_s)
        if not messages:
            return 0
        deadline = time.monotonic() + self.event.batching_window_s
        while len(messages) < self.event.batch_size and time.monotonic() < deadline and not self._stop.is_set():
            more = self._receive(self.event.batch_size - len(messages), 0)
            if more:
                messages += more
            else:
                self._stop.wait(min(0.1, max(deadline - time.monotonic(), 0)))
        self.invoke(messages)
        return len(messages)

    def invoke(self, messages: list[dict[str, Any]]) -> None:
        records = [sqs_record(m, self.queue) for m in messages]
        ids = {r["messageId"] for r in records}
        context = LocalLambdaContext(function_name=self._function_name, timeout_s=self._timeout_s,
                                     memory_limit_in_mb=self._memory_mb)
        self.stats.invocations += 1
        self.stats.records += len(records)
        try:
            response = self._handler({"Records": records}, context)
        except Exception:
            log.exception("%s raised: the whole batch of %d returns after the visibility timeout",
                          self._function_name, len(records))
            self.stats.handler_errors += 1
            self.stats.failed += len(records)
            return
        failed = self._failed_ids(response, ids)
        done = [m for m in messages if m["MessageId"] not in failed]
        self.stats.failed += len(failed)
        self._delete(done)

    def _failed_ids(self, response: Any, ids: set[str]) -> set[str]:
        if not self.event.report_batch_item_failures:
            return set()
        items = response.get("batchItemFailures") if isinstance(response, dict) else None
        if not items:
            return set()
        failed = {str(item.get("itemIdentifier") or "") for item in items if isinstance(item, dict)}
        if len(failed) != len(items) or not failed <= ids:
            log.error("%s returned batchItemFailures naming unknown records: the whole batch fails",
                      self._function_name)
            return ids
        return failed

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            response = self._client.delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            self.stats.deleted += len(response.get("Successful") or [])
            for failure in response.get("Failed") or []:
                log.warning("could not delete a message from %s: %s", self.queue.name, failure.get("Message"))
