"""Lambda's Invoke API, locally: what a handler's ``boto3.client("lambda").invoke(...)`` reaches in ``vidstats dev``.

The stack points ``AWS_ENDPOINT_URL_LAMBDA`` here (a path on the local HTTP gateway), so the functions invoke
each other exactly as in AWS (the dashboard API starting the Sheets export with ``InvocationType=Event``).
``Event`` invocations are queued and run one after another on a worker thread, answered 202 at once with the
invocation's request id (the context's ``aws_request_id``, as in Lambda); ``RequestResponse`` runs in the
caller's thread and answers the result (a failure as ``X-Amz-Function-Error: Unhandled``). The latest
invocations and their outcome are kept for ``GET /_local/status``. Not emulated: the two retries Lambda makes
of a failed asynchronous invocation, destinations.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import traceback
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vidstats.local.http_gateway import LocalFunction
from vidstats.local.lambda_context import LocalLambdaContext

log = logging.getLogger(__name__)

PREFIX = "/_local/lambda"
_INVOKE = re.compile(r"/2015-03-31/functions/(?P<name>[^/]+)/invocations")
KEPT = 50  # invocations listed in the status


@dataclass
class Invocation:
    request_id: str
    function: str
    invocation_type: str
    state: str = "queued"  # queued, running, succeeded, failed
    queued_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    finished_at: str | None = None
    result: Any = None
    error: str | None = None


RawReply = tuple[int, dict[str, str], bytes]


class LocalLambdaApi:
    def __init__(self, functions: Mapping[str, LocalFunction], *, region: str = "us-east-1") -> None:
        self.functions = functions
        self.region = region
        self.invocations: deque[Invocation] = deque(maxlen=KEPT)
        self._queue: queue.Queue[tuple[Invocation, dict[str, Any]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="local-lambda-async", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Lets the queued invocations finish first (an export already accepted is not lost at Ctrl-C)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def status(self) -> list[dict[str, Any]]:
        return [dict(vars(i)) for i in reversed(self.invocations)]

    def serve(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> RawReply:
        """One Invoke API request (``path`` below :data:`PREFIX`)."""
        found = _INVOKE.fullmatch(path)
        if method != "POST" or found is None:
            return _error(404, "UnknownOperationException", f"{method} {path}: only Invoke is served locally")
        name = found.group("name").rpartition(":function:")[2] or found.group("name")
        function = self.functions.get(name)
        if function is None:
            return _error(404, "ResourceNotFoundException",
                          f"Function not found: {name} (local functions: {', '.join(sorted(self.functions))})")
        try:
            event = json.loads(body) if body else {}
        except ValueError:
            return _error(400, "InvalidRequestContentException", "Could not parse request body into json")
        lowered = {k.lower(): v for k, v in headers.items()}
        kind = lowered.get("x-amz-invocation-type", "RequestResponse")
        invocation = Invocation(request_id=str(uuid.uuid4()), function=name, invocation_type=kind)
        reply_headers = {"x-amzn-RequestId": invocation.request_id, "content-type": "application/json"}
        if kind == "DryRun":
            return 204, reply_headers, b""
        if kind == "Event":
            self.invocations.append(invocation)
            self._queue.put((invocation, event))
            return 202, reply_headers, b""
        if kind != "RequestResponse":
            return _error(400, "InvalidParameterValueException", f"unknown InvocationType {kind!r}")
        self.invocations.append(invocation)
        self._run(invocation, event)
        if invocation.state == "failed":
            reply_headers["X-Amz-Function-Error"] = "Unhandled"
            payload = {"errorMessage": invocation.error, "errorType": "Unhandled"}
            return 200, reply_headers, json.dumps(payload).encode()
        return 200, reply_headers, json.dumps(invocation.result, default=str).encode()

    def _run(self, invocation: Invocation, event: dict[str, Any]) -> None:
        function = self.functions[invocation.function]
        context = LocalLambdaContext(function_name=function.name, timeout_s=function.timeout_s,
                                     memory_limit_in_mb=function.memory_mb, region=self.region,
                                     aws_request_id=invocation.request_id)
        invocation.state = "running"
        try:
            invocation.result = function.invoke_raw(event, context)
            invocation.state = "succeeded"
        except Exception as exc:
            invocation.error = f"{type(exc).__name__}: {exc}"
            invocation.state = "failed"
            log.error("%s invocation %s failed:\n%s", invocation.function, invocation.request_id,
                      traceback.format_exc())
        finally:
            invocation.finished_at = datetime.now(UTC).isoformat(timespec="seconds")

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            self._run(*item)


def _error(status: int, error_type: str, message: str) -> RawReply:
    # botocore reads a REST-JSON error's code from this header.
    return status, {"x-amzn-ErrorType": error_type, "content-type": "application/json"}, json.dumps(
        {"Type": "User", "message": message}).encode()
