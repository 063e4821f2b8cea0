"""Opaque keyset cursors: the last row's sort key and id, what the sort was and a digest of the query they
belong to, as base64url JSON with a MAC.

A cursor is checked three ways before any of it is used: the MAC (an edited cursor is refused), every
field re-validated as strictly as a query parameter (a forged one cannot reach date arithmetic or SQL with
an out-of-range value), and the query digest (a cursor of another query is a 400, never a wrong page).
The MAC key is fixed, so it detects edits, not a determined forger; the strict fields are what make a
forged cursor harmless (at worst it positions a page of rows the caller may read anyway).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator

from vidstats.dashboard.errors import BadRequestError
from vidstats.dashboard.models import MAX_DATE, MIN_DATE, ApiDate

_KEY = b"vidstats dashboard cursor v1"
_MAC_BYTES = 12
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
NOT_A_CURSOR = "not a cursor returned by this endpoint: pass `next_cursor` of the previous page unchanged"

SortKey = StrictInt | Annotated[str, Field(max_length=40)] | None


class Cursor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    s: str = Field(max_length=100)  # the sort it belongs to (a cursor of another sort is refused)
    k: SortKey  # the last row's sort key: a counter, an ISO instant, or None (it sorted among the NULLs)
    id: UUID  # the last row's id (ties are ordered by id)
    u: ApiDate | None = None  # the period's last day, kept so paging across midnight stays consistent
    q: str = Field(default="", max_length=32)  # digest of the query's filters

    @model_validator(mode="after")
    def _key_in_range(self) -> Self:
        if isinstance(self.k, int) and not BIGINT_MIN <= self.k <= BIGINT_MAX:
            raise ValueError("key out of range")
        if isinstance(self.k, str):
            instant = datetime.fromisoformat(self.k)  # ValueError: not an instant
            if instant.tzinfo is None or not MIN_DATE <= instant.date() <= MAX_DATE:
                raise ValueError("key out of range")
        return self


def query_digest(query: Mapping[str, Any] | None) -> str:
    """A short digest of a query's filters (not the cursor or the page size)."""
    if not query:
        return ""
    canonical = json.dumps(sorted((k, v) for k, v in query.items()), default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: bytes) -> bytes:
    return hmac.new(_KEY, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode(cursor: Cursor, *, query: Mapping[str, Any] | None = None) -> str:
    bound = cursor.model_copy(update={"q": query_digest(query)})
    payload = bound.model_dump_json(exclude_none=False).encode()
    return f"{_b64(payload)}.{_b64(_mac(payload))}"


def decode(token: str, *, sort: str, query: Mapping[str, Any] | None = None) -> Cursor:
    try:
        body, _, mac = token.partition(".")
        payload = _unb64(body)
        if not hmac.compare_digest(_unb64(mac), _mac(payload)):
            raise ValueError("bad MAC")
        cursor = Cursor.model_validate(json.loads(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError, ValidationError, RecursionError) as exc:
        raise BadRequestError("query.cursor", NOT_A_CURSOR) from exc
    if cursor.s != sort:
        raise BadRequestError("query.cursor", f"this cursor belongs to sort {cursor.s!r}, not {sort!r}")
    if cursor.q != query_digest(query):
        raise BadRequestError("query.cursor", "this cursor belongs to another query: repeat the parameters of the "
                                              "first page, or leave the cursor out to start again")
    return cursor

