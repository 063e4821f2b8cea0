"""Supabase Auth's admin API replayed at the HTTP layer (respx): recorded GoTrue answers, so the real ``supabase``
client code runs, from the request it builds to the errors it raises."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from vidstats.auth_admin import auth_admin

PROJECT_URL = "https://abcdefghijklmnop.supabase.co"
SERVICE_ROLE_KEY = "sb_secret_test-service-role-key-never-logged"
RECORDED = Path(__file__).parent / "fixtures" / "supabase_auth"


def recorded(name: str) -> httpx.Response:
    data: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text())
    headers = {"x-supabase-api-version": "2024-01-01", **data.get("headers", {})}
    return httpx.Response(data["status"], json=data["body"], headers=headers)


def recorded_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text())["body"]
    return body


@pytest.fixture
def supabase_auth(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    """The admin API configured (project URL, service-role key) and mocked; routes: ``invite``, ``users``."""
    monkeypatch.setenv("SUPABASE_URL", PROJECT_URL)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", SERVICE_ROLE_KEY)
    auth_admin.cache_clear()
    with respx.mock(base_url=f"{PROJECT_URL}/auth/v1", assert_all_called=False) as router:
        router.post("/invite", name="invite").mock(return_value=recorded("invite_200"))
        router.get("/admin/users", name="users").mock(return_value=recorded("admin_users_page"))
        yield router
    auth_admin.cache_clear()
