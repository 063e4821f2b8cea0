"""Cursors are opaque and tamper-evident: an edited, forged or foreign cursor is a 400 naming the cursor,
never a 500 or a wrong page."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from vidstats.dashboard import cursor as cursors
from vidstats.db import Database

from tests.dashboard_api import seed
from tests.dashboard_api.conftest import Api


def _forge(payload: dict[str, object]) -> str:
    """A cursor with a valid MAC around fields the server never produced."""
    raw = json.dumps(payload).encode()
    mac = cursors._mac(raw)
    b64 = base64.urlsafe_b64encode
    return f"{b64(raw).decode().rstrip('=')}.{b64(mac).decode().rstrip('=')}"


@pytest.fixture
def first_page(api: Api, db: Database) -> dict[str, object]:
    for _ in range(3):
        seed.video(db)
    page: dict[str, object] = api.ok("/videos", limit=1)
    assert page["next_cursor"] is not None
    return page


def _assert_cursor_refused(api: Api, **query: object) -> str:
    reply = api.get("/videos", **query)
    assert reply.status == 400, reply
    (problem,) = reply.body["errors"]
    assert problem["field"] == "query.cursor"
    return str(problem["message"])


@pytest.mark.usefixtures("api_env")
def test_an_edited_cursor_is_refused(api: Api, first_page: dict[str, object]) -> None:
    token = str(first_page["next_cursor"])
    body, _, mac = token.partition(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["k"] = 10**12
    edited = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    assert "next_cursor" in _assert_cursor_refused(api, limit=1, cursor=f"{edited}.{mac}")
    assert api.get("/videos", limit=1, cursor=token).status == 200  # the genuine one still works


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize("until", ["0001-01-01", "9999-12-31", "1999-12-31"])
def test_a_cursor_with_an_out_of_range_day_is_refused_even_with_a_valid_mac(api: Api, until: str) -> None:
    forged = _forge({"s": "views:views:7d", "k": 5, "id": str(uuid.uuid4()), "u": until, "q": ""})
    _assert_cursor_refused(api, cursor=forged)


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize("key", [2**63, "0001-01-01T00:00:00+14:00", "2026-01-01T00:00:00", True, 1.5])
def test_a_cursor_with_an_impossible_key_is_refused(api: Api, key: object) -> None:
    forged = _forge({"s": "recent:views:7d", "k": key, "id": str(uuid.uuid4()), "u": None, "q": ""})
    _assert_cursor_refused(api, sort="recent", cursor=forged)


@pytest.mark.usefixtures("api_env")
def test_a_cursor_of_another_query_is_refused(api: Api, db: Database) -> None:
    alice = seed.blogger(db, "alice")
    for _ in range(3):
        seed.video(db, blogger=alice)
    token = api.ok("/videos", limit=1, platform="tiktok")["next_cursor"]
    assert token is not None
    message = _assert_cursor_refused(api, limit=1, platform="youtube", cursor=token)
    assert "another query" in message
    _assert_cursor_refused(api, limit=1, cursor=token)  # the filter dropped
    assert api.get("/videos", limit=2, platform="tiktok", cursor=token).status == 200  # page size may change


@pytest.mark.usefixtures("api_env")
def test_a_bloggers_cursor_is_bound_to_its_query(api: Api, db: Database) -> None:
    for name in ("a", "b", "c"):
        seed.video(db, blogger=seed.blogger(db, name))  # a workspace sees a creator through its videos
    token = api.ok("/bloggers", limit=1)["next_cursor"]
    assert token is not None
    assert api.get("/bloggers", limit=1, cursor=token).status == 200
    reply = api.get("/bloggers", limit=1, period="30d", cursor=token)
    assert reply.status == 400, reply
    assert reply.body["errors"][0]["field"] == "query.cursor"
