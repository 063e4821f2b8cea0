"""The one place that talks to the fetch queue: sending messages (``SendMessageBatch``), holding received
ones back (``ChangeMessageVisibilityBatch``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from vidstats.ingestion.messages import FetchCreatorMessage, FetchVideosMessage, dump_message

log = logging.getLogger(__name__)

SQS_BATCH = 10  # SendMessageBatch takes at most 10 entries (and 256 KiB)

Message = FetchVideosMessage | FetchCreatorMessage


class FetchQueue(Protocol):
    def send(self, messages: Sequence[Message]) -> int:
        """Sends every message (or raises); returns how many were sent."""
        ...


class EnqueueError(RuntimeError):
    """Some messages could not be sent after retries."""


class SqsFetchQueue:
    """``FetchQueue`` on SQS: batches of 10, failed entries retried a few times with backoff."""

    def __init__(self, client: Any, queue_url: str, *, max_attempts: int = 4, backoff_s: float = 0.2) -> None:
        self._client = client
        self._queue_url = queue_url
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s

    @classmethod
    def from_env(cls, queue_url: str | None) -> SqsFetchQueue:
        import boto3  # type: ignore[import-untyped]

        if not queue_url:
            raise RuntimeError("FETCH_QUEUE_URL is not set: the fetch queue")
        return cls(boto3.client("sqs"), queue_url)

    def send(self, messages: Sequence[Message]) -> int:
        sent = 0
        for start in range(0, len(messages), SQS_BATCH):
            sent += self._send_batch(messages[start : start + SQS_BATCH])
        return sent

    def _send_batch(self, batch: Iterable[Message]) -> int:
        pending = {str(i): dump_message(message) for i, message in enumerate(batch)}
        total = len(pending)
        for attempt in range(1, self._max_attempts + 1):
            response = self._client.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": entry_id, "MessageBody": body} for entry_id, body in pending.items()],
            )
            failed = response.get("Failed") or []
            retry = {f["Id"]: pending[f["Id"]] for f in failed if not f.get("SenderFault")}
            fatal = [f for f in failed if f.get("SenderFault")]
            if fatal:
                raise EnqueueError(f"SQS refused {len(fatal)} message(s): {fatal[0].get('Message')}")
            if not retry:
                return total
            pending = retry
            log.warning("SendMessageBatch: %d entries failed, attempt %d", len(retry), attempt)
            time.sleep(self._backoff_s * 2 ** (attempt - 1))
        raise EnqueueError(f"{len(pending)} message(s) not sent after {self._max_attempts} attempts")

    def hold(self, delays: Mapping[str, int]) -> int:
        """Keeps received messages invisible (``ChangeMessageVisibilityBatch``): ``delays`` maps a receipt handle
        to seconds. Returns how many were held; failures are logged, not raised (such a message comes back
        after the queue's usual visibility timeout)."""
        entries = [{"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
                   for i, (handle, seconds) in enumerate(delays.items())]
        held = 0
        for start in range(0, len(entries), SQS_BATCH):
            chunk = entries[start : start + SQS_BATCH]
            try:
                response = self._client.change_message_visibility_batch(QueueUrl=self._queue_url, Entries=chunk)
            except Exception:
                log.warning("could not hold back %d message(s)", len(chunk), exc_info=True)
                continue
            failed = response.get("Failed") or []
            for failure in failed:
                log.warning("could not hold back a message: %s", failure.get("Message"))
            held += len(chunk) - len(failed)
        return held


class ListQueue:
    """An in-process ``FetchQueue`` (CLI dry runs and tests)."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def send(self, messages: Sequence[Message]) -> int:
        self.messages.extend(messages)
        return len(messages)
