"""Opaque keyset cursors: the last row's sort key and id, plus what the sort was, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError

from vidstats.dashboard.errors import BadRequestError


class Cursor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    s: str  # the sort it belongs to (a cursor of another sort is refused)
    k: int | str | None  # the last row's sort key (None: it sorted among the NULLs)
    id: UUID  # the last row's id (ties are ordered by id)
    u: date | None = None  # the period's last day, kept so paging across midnight stays consistent


def encode(cursor: Cursor) -> str:
    raw = cursor.model_dump_json(exclude_none=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, *, sort: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        cursor = Cursor.model_validate(json.loads(raw))
    except (binascii.Error, ValueError, UnicodeDecodeError, ValidationError, RecursionError) as exc:
        raise BadRequestError("query.cursor", "not a cursor returned by this endpoint") from exc
    if cursor.s != sort:
        raise BadRequestError("query.cursor", f"this cursor belongs to sort {cursor.s!r}, not {sort!r}")
    return cursor
