"""API Gateway HTTP API (payload 2.0), locally: each HTTP request becomes a v2 event for the real handler.

The routes are template.yaml's ``HttpApi`` events: exact paths first (``GET /health``, ``POST /page-views``),
then greedy ones (``ANY /{proxy+}``). Every API of the template is served on the same local port. Not
emulated: the gateway's JWT authorizer (the dashboard function verifies every token itself), IAM (SigV4)
auth of the page-views API, throttling. Each function runs one request at a time (one warm container: the
handlers keep one database connection per process).

Paths under ``/_local/`` are the local stack's own controls (on-demand schedule runs, queue status); they
are not part of any deployed API; ``mounts`` serve AWS APIs the functions call (Lambda's Invoke) under them.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from vidstats.local.lambda_context import LOCAL_ACCOUNT, LocalLambdaContext
from vidstats.local.template import RouteSpec

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]
Control = Callable[[str, str, bytes], tuple[int, Any]]  # (method, path, body) -> (status, JSON-able)
# (method, path below the mount, headers, body) -> (status, headers, body): an AWS API served locally
Mount = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]
CONTROL_PREFIX = "/_local/"
TEXT_TYPES = re.compile(r"^(text/|application/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+json)", re.I)


@dataclass
class LocalFunction:
    name: str
    handler: Handler
    timeout_s: float
    memory_mb: int = 512
    lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, event: dict[str, Any]) -> Any:
        return self.invoke_raw(event, LocalLambdaContext(function_name=self.name, timeout_s=self.timeout_s,
                                                         memory_limit_in_mb=self.memory_mb))

    def invoke_raw(self, event: dict[str, Any], context: Any) -> Any:
        """One invocation at a time per function, as one warm container serves one request at a time."""
        with self.lock:
            return self.handler(event, context)


@dataclass(frozen=True)
class Route:
    spec: RouteSpec
    function: LocalFunction
    pattern: re.Pattern[str]
    greedy: bool

    @classmethod
    def of(cls, spec: RouteSpec, function: LocalFunction) -> Route:
        regex, greedy = "", False
        for part in re.split(r"(\{[^}]+\})", spec.path):
            if part.startswith("{") and part.endswith("+}"):
                regex += f"(?P<{part[1:-2]}>.+)"
                greedy = True
            elif part.startswith("{"):
                regex += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += re.escape(part)
        return cls(spec, function, re.compile(regex), greedy)

    @property
    def route_key(self) -> str:
        return f"{self.spec.method} {self.spec.path}"


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        # API Gateway picks the most specific route: exact paths before parameters before greedy ones.
        self.routes = sorted(routes, key=lambda r: (r.greedy, "{" in r.spec.path, r.spec.method == "ANY"))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.spec.method not in ("ANY", method):
                continue
            found = route.pattern.fullmatch(path)
            if found:
                return route, found.groupdict()
        return None


def http_api_event(method: str, target: str, headers: list[tuple[str, str]], body: bytes, *, route_key: str,
                   path_parameters: dict[str, str], source_ip: str, api_id: str) -> dict[str, Any]:
    """The payload 2.0 event API Gateway sends for this request."""
    parts = urlsplit(target)
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": merged,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT, "apiId": api_id, "domainName": merged.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {"method": method, "path": parts.path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": merged.get("user-agent", "")},
            "requestId": uuid.uuid4().hex, "routeKey": route_key, "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"), "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        content_type = merged.get("content-type", "application/json")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and TEXT_TYPES.match(content_type):
            event["body"] = text
        else:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def http_response(result: Any) -> tuple[int, dict[str, str], list[str], bytes]:
    """A v2 handler result as (status, headers, cookies, body); a bare value is a 200 JSON body, as in AWS."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, {"content-type": "application/json"}, [], json.dumps(result).encode()
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ",".join(str(v) for v in values)
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    return int(result["statusCode"]), headers, [str(c) for c in result.get("cookies") or []], body


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A browser closing a kept-alive connection is not an error worth a traceback.
        log.debug("connection from %s ended abruptly", client_address, exc_info=True)


class LocalHttpGateway:
    def __init__(self, routes: RouteTable, *, host: str = "127.0.0.1", port: int = 8000,
                 control: Control | None = None, mounts: dict[str, Mount] | None = None) -> None:
        self.routes = routes
        self._control = control
        self._mounts = dict(mounts or {})
        gateway = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                gateway.serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("%s - %s", self.address_string(), format % args)

        self._server = _Server((host, port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        method = request.command.upper()
        length = int(request.headers.get("content-length") or 0)
        body = request.rfile.read(length) if length else b""
        path = urlsplit(request.path).path
        try:
            for prefix, mount in self._mounts.items():
                if path.startswith(prefix + "/"):
                    status, headers, payload = mount(method, path[len(prefix):], dict(request.headers.items()), body)
                    self._write(request, status, headers, [], payload)
                    return
            if path.startswith(CONTROL_PREFIX) and self._control is not None:
                status, payload = self._control(method, path[len(CONTROL_PREFIX):], body)
                self._write(request, status, {"content-type": "application/json"}, [],
                            json.dumps(payload, default=str, indent=2).encode())
                return
            found = self.routes.match("GET" if method == "HEAD" else method, path)
            if found is None:
                self._write(request, 404, {"content-type": "application/json"}, [], b'{"message":"Not Found"}')
                return
            route, params = found
            event = http_api_event(method, request.path, list(request.headers.items()), body,
                                   route_key=route.route_key, path_parameters=params,
                                   source_ip=request.client_address[0], api_id=route.spec.api)
            status, headers, cookies, payload = http_response(route.function.invoke(event))
            self._write(request, status, headers, cookies, b"" if method == "HEAD" else payload)
        except Exception:
            log.exception("%s %s failed", method, request.path)
            # What API Gateway answers when the integration fails.
            self._write(request, 500, {"content-type": "application/json"}, [],
                        b'{"message":"Internal Server Error"}')
        finally:
            log.info("%s %s (%.0f ms)", method, request.path, (time.monotonic() - started) * 1000)

    @staticmethod
    def _write(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], cookies: list[str],
               body: bytes) -> None:
        request.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                request.send_header(name, value)
        for cookie in cookies:
            request.send_header("Set-Cookie", cookie)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)
