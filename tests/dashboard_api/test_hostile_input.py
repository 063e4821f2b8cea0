"""Hostile input against every operation of both APIs, generated from their served OpenAPI documents (so a
route added later is covered without a line here): undeclared, missing and malformed content types, nested,
oversized and non-UTF-8 bodies, duplicate keys, NaN and huge integers, extreme numbers, dates and strings in
every body field and query parameter. Every answer is a documented 4xx with the one error body."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.dashboard_api.conftest import http_event
from tests.dashboard_api.http_apis import HttpApi

EXTREME_VALUES: list[Any] = [
    10**30, -(10**30), 2**63, -(2**63) - 1, 1e308, -1e308, 0.5, True, None, [], {}, "",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01", "9999-12-31", "\x00", "\ud800",
    "a" * 100_000, "💥" * 1000, "' or 1=1 --", "../../etc/passwd",
]
EXTREME_QUERY = ["0001-01-01", "9999-12-31", "-1", "0", "99999999999999999999999", "1e400", "NaN", "\x00", "\ud800",
                 "a" * 10_000, "", "0001-01-01T00:00:00+14:00", "null", "[]"]


@dataclass
class Operation:
    method: str
    path: str  # the template, e.g. /videos/{video_id}
    spec: dict[str, Any]
    example: Any = None  # the request body's example; None: no body
    query: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def concrete_path(self) -> str:
        path = self.path
        for param in self.spec.get("parameters", []):
            if param["in"] == "path":
                path = path.replace("{" + param["name"] + "}", str(uuid.uuid4()))
        return path


def operations(document: dict[str, Any]) -> list[Operation]:
    schemas = document.get("components", {}).get("schemas", {})
    found = []
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            op = Operation(method.upper(), path, spec,
                           query=[p["name"] for p in spec.get("parameters", []) if p["in"] == "query"])
            if "requestBody" in spec:
                media = spec["requestBody"]["content"]["application/json"]
                schema = media["schema"]
                if "$ref" in schema:
                    schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
                examples = media.get("examples") or schema.get("examples") or [media.get("example")]
                op.example = examples[0]
                assert op.example is not None, f"{op.label}: its request body has no example"
            found.append(op)
    return found


def field_paths(example: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every field of an example body, nested ones too (through the first item of a list)."""
    if isinstance(example, dict):
        for key, value in example.items():
            yield (*prefix, key)
            yield from field_paths(value, (*prefix, key))
    elif isinstance(example, list) and example:
        yield (*prefix, 0)
        yield from field_paths(example[0], (*prefix, 0))


def with_value(example: Any, path: tuple[Any, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(example))
    target = copy
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copy


def hostile_requests(op: Operation) -> Iterator[tuple[str, dict[str, Any]]]:
    """(what, event overrides) for one operation."""
    if op.example is not None:
        good = json.dumps(op.example)
        for content_type in ("multipart/form-data", "multipart/form-data; boundary=x", "text/plain",
                             "application/x-www-form-urlencoded", "application/json; charset=latin-1",
                             "application/jsonx", ";", "application/xml"):
            yield f"content-type {content_type!r}", {"content_type": content_type, "body": good}
        yield "no content-type", {"content_type": None, "body": good}
        yield "form body", {"content_type": "application/x-www-form-urlencoded", "body": "name=x&urls=y"}
        yield "1000 nested [", {"body": "[" * 1000}
        yield "1000 nested objects", {"body": '{"a":' * 1000 + "1" + "}" * 1000}
        yield "5 MB body", {"body": json.dumps({"x": "a" * 5_000_000})}
        yield "not UTF-8", {"raw": b'{"name": "\xff\xfe"}'}
        yield "not base64", {"body": "%%%", "base64": True}
        yield "empty body", {"body": ""}
        yield "null", {"body": "null"}
        yield "an array", {"body": "[1, 2]"}
        yield "NaN", {"body": '{"x": NaN}'}
        yield "5000-digit integer", {"body": '{"x": ' + "9" * 5000 + "}"}
        if isinstance(op.example, dict) and op.example:
            key = next(iter(op.example))
            yield "duplicate key", {"body": good[:-1] + f", {json.dumps(key)}: {json.dumps(op.example[key])}}}"}
        for path in field_paths(op.example):
            for value in EXTREME_VALUES:
                yield (f"body.{'.'.join(map(str, path))}={value!r:.30}",
                       {"body": json.dumps(with_value(op.example, path, value))})
    for name in op.query:
        for value in EXTREME_QUERY:
            yield f"query.{name}={value!r:.30}", {"query": {name: value}}


def call(api: HttpApi, op: Operation, overrides: dict[str, Any]) -> dict[str, Any]:
    headers = api.auth_headers()
    content_type = overrides.get("content_type", "application/json")
    if content_type is not None:
        headers["content-type"] = content_type
    event = http_event(op.method, op.concrete_path(), headers=headers)
    if "query" in overrides:  # as API Gateway passes them: decoded
        event["queryStringParameters"] = overrides["query"]
        event["rawQueryString"] = urlencode(overrides["query"], errors="surrogatepass")
    if content_type is None:
        del event["headers"]["content-type"]
    if "raw" in overrides:
        event["body"], event["isBase64Encoded"] = base64.b64encode(overrides["raw"]).decode(), True
    elif "body" in overrides:
        event["body"] = overrides["body"]
        event["isBase64Encoded"] = bool(overrides.get("base64"))
    return api.invoke(event)


def test_every_operation_answers_hostile_input_with_a_documented_4xx_in_the_error_shape(served: HttpApi) -> None:
    ops = operations(served.openapi())
    assert ops
    problems: list[str] = []
    tried = 0
    for op in ops:
        documented = {int(code) for code in op.spec.get("responses", {}) if code.isdigit()}
        for what, overrides in hostile_requests(op):
            tried += 1
            result = call(served, op, overrides)
            status = int(result["statusCode"])
            where = f"{op.label} with {what}"
            if status >= 500:
                problems.append(f"{where}: {status} {str(result.get('body'))[:300]}")
                continue
            if what.startswith(("content-type", "no content-type", "form body")) and status != 415:
                problems.append(f"{where}: {status}, not 415")
            if status not in documented:
                problems.append(f"{where}: {status} is not documented ({sorted(documented)})")
            if status >= 400:
                body = json.loads(result["body"])
                if set(body) != {"status", "title", "errors"} or body["status"] != status or not body["errors"] \
                        or any(set(e) != {"field", "message"} for e in body["errors"]):
                    problems.append(f"{where}: not the error shape: {str(body)[:300]}")
                elif max(len(e["message"]) for e in body["errors"]) > 600:
                    problems.append(f"{where}: a message of {max(len(e['message']) for e in body['errors'])} chars")
    assert problems == [], f"{len(problems)} of {tried} requests:\n" + "\n".join(problems[:40])
    assert tried > 60 * len([op for op in ops if op.example is not None])


@pytest.mark.usefixtures("served")
def test_a_refused_content_type_is_415_naming_the_accepted_one(served: HttpApi) -> None:
    op = next(op for op in operations(served.openapi()) if op.example is not None)
    result = call(served, op, {"content_type": "multipart/form-data", "body": json.dumps(op.example)})
    assert result["statusCode"] == 415
    (problem,) = json.loads(result["body"])["errors"]
    assert problem["field"] == "header.content-type"
    assert "application/json" in problem["message"]


def test_bodies_nested_too_deeply_or_with_duplicate_keys_are_400(served: HttpApi) -> None:
    op = next(op for op in operations(served.openapi()) if isinstance(op.example, dict) and op.example)
    key = next(iter(op.example))
    for body in ("[" * 1000, good := json.dumps(op.example), good[:-1] + f', "{key}": null}}'):
        result = call(served, op, {"body": body})
        if body == good:
            assert result["statusCode"] != 400
            continue
        assert result["statusCode"] == 400, result
        assert json.loads(result["body"])["title"].startswith("Malformed JSON body")
