"""A campaign's read-only share links: made, listed and revoked by the workspace's owners and editors; opened by
anyone holding the token, without an account, for that campaign's analytics and its videos only.

The token is 256 random bits (``secrets``), shown once when the link is made; only its sha256 is stored. A
link's reader runs as ``vidstats_share`` with the token's hash as its identity (``Caller.share_link``): Postgres'
policies show it the rows of the link's campaign only while the link is neither revoked nor expired, and the
figures come from the same functions as the authenticated routes (``campaigns.campaign_analytics``,
``videos.list_videos``), so a client sees exactly what the agency sees.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import psycopg
from pydantic import ConfigDict, Field

from vidstats.dashboard import campaigns, videos
from vidstats.dashboard.errors import BadRequestError, NotFoundError
from vidstats.dashboard.models import (
    AnalyticsMode,
    ApiInstant,
    CampaignAnalytics,
    VideoPage,
    VideoQuery,
    _In,
    _Out,
)
from vidstats.db import Caller, Database, Role

TOKEN_BYTES = 32  # 256 bits
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
NOT_FOUND = ("path.token", "no such share link (unknown, revoked or expired)")


class ShareLinkState(StrEnum):
    active = "active"
    expired = "expired"
    revoked = "revoked"


class ShareLinkCreate(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [{}, {"expires_at": "2027-01-31T00:00:00Z"}]})

    expires_at: ApiInstant | None = Field(default=None, description="The link stops working then (default: never)")


class ShareLink(_Out):
    id: UUID
    campaign_id: UUID
    state: ShareLinkState
    created_at: datetime
    created_by: UUID | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ShareLinkCreated(ShareLink):
    token: str = Field(description="The secret: shown this once, never stored (only its hash is)")
    path: str = Field(description="Where the link opens the campaign (relative to the API's base URL): "
                                  "`GET {path}` and `GET {path}/videos`, without a token")


class ShareLinkList(_Out):
    items: list[ShareLink]


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


LINK_COLUMNS = "id, campaign_id, created_at, created_by, expires_at, revoked_at"


def _link(row: Any, now: datetime) -> ShareLink:
    state = ShareLinkState.revoked if row[5] is not None else \
        ShareLinkState.expired if row[4] is not None and row[4] <= now else ShareLinkState.active
    return ShareLink(id=row[0], campaign_id=row[1], created_at=row[2], created_by=row[3], expires_at=row[4],
                     revoked_at=row[5], state=state)


def _campaign_exists(conn: psycopg.Connection, campaign_id: UUID) -> None:
    if conn.execute("select 1 from analytics.campaigns where id = %s", (campaign_id,)).fetchone() is None:
        raise NotFoundError("path.campaign_id", "no such campaign")


def create_share_link(db: Database, campaign_id: UUID, body: ShareLinkCreate) -> ShareLinkCreated:
    now = datetime.now(UTC)
    if body.expires_at is not None and body.expires_at <= now:
        raise BadRequestError("body.expires_at", "must be in the future")
    token = new_token()
    with db.transaction(Role.READER) as conn:
        _campaign_exists(conn, campaign_id)
        row = conn.execute(
            f"insert into analytics.campaign_share_links (campaign_id, token_hash, created_by, expires_at)"
            f" values (%s, decode(%s, 'hex'), analytics.current_user_id(), %s) returning {LINK_COLUMNS}",
            (campaign_id, token_hash(token), body.expires_at)).fetchone()
    assert row is not None
    return ShareLinkCreated(**_link(row, now).model_dump(), token=token, path=f"/shared/{token}")


def list_share_links(db: Database, campaign_id: UUID) -> ShareLinkList:
    """The campaign's links, newest first (revoked and expired ones too: their state says so)."""
    now = datetime.now(UTC)
    with db.transaction(Role.READER) as conn:
        _campaign_exists(conn, campaign_id)
        rows = conn.execute(f"select {LINK_COLUMNS} from analytics.campaign_share_links where campaign_id = %s"
                            " order by created_at desc, id", (campaign_id,)).fetchall()
    return ShareLinkList(items=[_link(r, now) for r in rows])


def revoke_share_link(db: Database, campaign_id: UUID, link_id: UUID) -> ShareLink:
    """The link stops working at once; revoking a revoked link changes nothing."""
    now = datetime.now(UTC)
    with db.transaction(Role.READER) as conn:
        _campaign_exists(conn, campaign_id)
        conn.execute("update analytics.campaign_share_links set revoked_at = now()"
                     " where id = %s and campaign_id = %s and revoked_at is null", (link_id, campaign_id))
        row = conn.execute(f"select {LINK_COLUMNS} from analytics.campaign_share_links"
                           " where id = %s and campaign_id = %s", (link_id, campaign_id)).fetchone()
    if row is None:
        raise NotFoundError("path.link_id", "no such share link")
    return _link(row, now)


# ---- what a link opens ---------------------------------------------------------------------------------------


def share_reader(db: Database, token: str) -> tuple[Database, UUID]:
    """The database as the link's reader, and its campaign; NotFoundError for an unknown, revoked or expired
    token (the same answer for each: a guess learns nothing)."""
    if not TOKEN_PATTERN.match(token):
        raise NotFoundError(*NOT_FOUND)
    reader = db.as_caller(Caller.share_link(token_hash(token)))
    with reader.transaction(Role.READER) as conn:
        row = conn.execute("select analytics.current_share_campaign_id()").fetchone()
    if row is None or row[0] is None:
        raise NotFoundError(*NOT_FOUND)
    campaign_id: UUID = row[0]
    return reader, campaign_id


def shared_campaign_analytics(db: Database, token: str, *, mode: AnalyticsMode, date_from: date | None,
                              date_to: date | None,
                              limit: int) -> CampaignAnalytics:
    reader, campaign_id = share_reader(db, token)
    return campaigns.campaign_analytics(reader, campaign_id, mode=mode, date_from=date_from, date_to=date_to,
                                        limit=limit)


def shared_campaign_videos(db: Database, token: str, query: VideoQuery) -> VideoPage:
    """``GET /videos?campaign_id=`` of the link's campaign (the same rows, sorts and cursors)."""
    reader, campaign_id = share_reader(db, token)
    return videos.list_videos(reader, query.model_copy(update={"campaign_id": campaign_id}))
