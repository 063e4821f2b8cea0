"""What every HTTP API of vidstats shares: one error body, a strict JSON reader, and a gate that answers a
hostile request with a 4xx before Powertools parses it.

Powertools' request validation accepts form and multipart bodies on JSON routes (and fails with a
``ValueError`` on a multipart type without a boundary), and lets ``json.loads`` raise ``RecursionError`` or
the integer-digits ``ValueError``: each would be a 500. Here the declared content type (JSON) is the only one
let through, and every way a body can fail to be JSON is a ``JSONDecodeError``, which Powertools reports as a
validation error (400 "Malformed JSON body"). Whatever still escapes a route is logged and answered in the
same error shape, so a client never sees another body.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from vidstats.error_body import ErrorBody as ErrorBody  # re-exported: the error shape of every API
from vidstats.error_body import FieldProblem as FieldProblem

JSON = "application/json"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
MAX_JSON_DEPTH = 32  # no request body of ours nests more than a few levels
DEFAULT_MAX_BODY_BYTES = 1_000_000




def error_doc(description: str) -> OpenAPIResponse:
    """An OpenAPI response entry for an error status."""
    return {"description": description, "content": {JSON: {"model": ErrorBody}}}


BODY_ERRORS: dict[int, OpenAPIResponse] = {
    413: error_doc("The body is larger than this route accepts"),
    415: error_doc("The body is not `application/json`"),
}


def error_response(status: int, title: str, problems: list[FieldProblem]) -> Response[str]:
    body = ErrorBody(status=status, title=title, errors=problems)
    return Response(status_code=status, content_type=JSON, body=body.model_dump_json())


def problems_of(exc: RequestValidationError) -> tuple[int, list[FieldProblem]]:
    """The status (400 for a body that is not JSON, else 422) and the problems, one per field."""
    status = 422
    problems = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        message = str(err.get("msg", "invalid"))
        if err.get("type") == "json_invalid":
            status = 400
            loc = loc[:1]  # Powertools appends the character offset; it is in the message
            detail = (err.get("ctx") or {}).get("error")
            message = f"not valid JSON: {detail}" if detail else "not valid JSON"
        problems.append(FieldProblem(field=".".join(loc) or "request", message=message))
    return status, problems or [FieldProblem(field="request", message="invalid")]


# ---- JSON ---------------------------------------------------------------------------------------------------


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Text no Postgres column can hold: NUL, and lone UTF-16 surrogates ("\\ud800" is valid JSON, not UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _check_shape(value: Any) -> None:
    """Depth, and no text Postgres cannot store."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                raise ValueError("a string holds NUL (\\u0000) or a lone UTF-16 surrogate (\\ud800-\\udfff)")
        elif isinstance(item, dict):
            stack.extend((v, depth + 1) for v in [*item.keys(), *item.values()])
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def strict_json_loads(text: str | bytes) -> Any:
    """``json.loads`` refusing what parsers disagree on or what costs too much: duplicate keys, NaN and
    Infinity, nesting deeper than ``MAX_JSON_DEPTH``, integers too long to convert. Every refusal is a
    ``JSONDecodeError`` (Powertools' request validation turns it into a 400)."""
    doc = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    try:
        value = json.loads(doc, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
        _check_shape(value)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise json.JSONDecodeError(reason, doc, 0) from exc
    return value


# ---- the gate -----------------------------------------------------------------------------------------------


def _headers(event: dict[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def _is_json(content_type: str) -> bool:
    media, *params = (part.strip().lower() for part in content_type.split(";"))
    if media != JSON:
        return False
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            return False
    return True


def _body_bytes(event: dict[str, Any]) -> bytes | None:
    """The raw body; None when a base64 body does not decode."""
    body = event.get("body")
    if not body:
        return b""
    if not event.get("isBase64Encoded"):
        return str(body).encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(str(body), validate=True)
    except (binascii.Error, ValueError):
        return None


def gate(event: dict[str, Any], *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
         ) -> tuple[int, str, str, str] | None:
    """Why this request must be refused before routing, as (status, title, field, message); None: let it in.

    Only methods that carry a body are checked: their body, if any, must be UTF-8 JSON declared as
    ``application/json``, and not larger than ``max_body_bytes``."""
    for where in ("query", "path"):
        for name, value in (event.get(f"{where}StringParameters" if where == "query" else "pathParameters")
                            or {}).items():
            if _UNSTORABLE.search(f"{name}{value}"):
                return 422, "Validation failed", f"{where}.{name}", "holds NUL or text that is not UTF-8"
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    if method not in BODY_METHODS:
        return None
    content_type = _headers(event).get("content-type", "").strip()
    raw = _body_bytes(event)
    if (content_type and not _is_json(content_type)) or (not content_type and raw):
        got = f"got {content_type[:60]!r}" if content_type else "none was given"
        return (415, "Unsupported media type", "header.content-type",
                f"send the body as JSON with content-type: application/json ({got})")
    if raw is None:
        return 400, "Malformed JSON body", "body", "the body is not valid base64"
    if len(raw) > max_body_bytes:
        return (413, "Payload too large", "body",
                f"the body is {len(raw)} bytes; this route accepts at most {max_body_bytes}")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return 400, "Malformed JSON body", "body", "the body is not UTF-8"
    return None


def plain_error(event: dict[str, Any], status: int, title: str, field: str, message: str,
                headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway v2 response answered before the resolver runs, shaped like the resolver's errors."""
    body = ErrorBody(status=status, title=title, errors=[FieldProblem(field=field, message=message)])
    return {"statusCode": status, "headers": {"Content-Type": JSON, **(headers or {})},
            "body": body.model_dump_json(), "isBase64Encoded": False}


def install_error_handlers(app: APIGatewayHttpResolver, logger: Logger,
                           on_validation_error: Callable[[RequestValidationError], Response[str]]) -> None:
    """The resolver's handlers for what Powertools raises itself, and for anything a route did not expect."""

    app.exception_handler(RequestValidationError)(on_validation_error)

    @app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
    def _unsupported(_: RequestUnsupportedContentType) -> Response[str]:
        return error_response(415, "Unsupported media type", [FieldProblem(
            field="header.content-type", message="send the body as JSON with content-type: application/json")])

    @app.not_found
    def _not_found(_: Exception) -> Response[str]:
        return error_response(404, "Not found", [FieldProblem(field="path", message="no such route")])

    @app.exception_handler(ServiceError)  # type: ignore[untyped-decorator]
    def _service_error(exc: ServiceError) -> Response[str]:
        return error_response(exc.status_code, "Bad request" if exc.status_code == 400 else "Error",
                              [FieldProblem(field="request", message=str(exc.msg))])

    @app.exception_handler(Exception)  # type: ignore[untyped-decorator]
    def _unexpected(exc: Exception) -> Response[str]:
        logger.exception("unexpected error", extra={"error_type": type(exc).__name__})
        return error_response(500, "Internal error", [FieldProblem(
            field="request", message="the server failed to handle this request; it has been logged")])
