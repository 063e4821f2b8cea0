"""Supabase Auth sign-in in a real browser: e-mail + password and the magic link, with supabase-js's own code.

The stack is configured for a Supabase project (SUPABASE_URL and its publishable key: /app-config.json names it
and the Content-Security-Policy lets the page reach it), and the page's requests to that project's Auth API
are answered by recorded GoTrue answers (``tests/fixtures/supabase_auth``) at the browser's network layer
(Playwright's ``page.route``). The access token a recorded answer carries is one the stack verifies (HS256,
the project's issuer), so a successful sign-in ends on the dashboard, read with that token.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Request, Route, expect
from vidstats.local.stack import LocalStack, mint_dev_token

from tests.supabase_auth import PROJECT_URL, RECORDED
from tests.web.conftest import started_stack

pytestmark = pytest.mark.xdist_group("web")

ISSUER = f"{PROJECT_URL}/auth/v1"
PUBLISHABLE_KEY = "sb_publishable_test-key-public-by-design"
JWT_SECRET = "test-project-jwt-secret-with-at-least-32-characters"


@pytest.fixture(scope="module")
def stack(supabase_like_server: str, migrated_template: str, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[LocalStack]:
    """The local stack as a deployment configured for a Supabase project (tokens from its Auth, HS256)."""
    with started_stack(supabase_like_server, migrated_template, tmp_path_factory.mktemp("web-supabase-stack"),
                       environ={"SUPABASE_URL": PROJECT_URL, "SUPABASE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
                                "AUTH_JWT_SECRET": JWT_SECRET}) as stack:
        yield stack


def recorded_answer(name: str) -> tuple[int, Any]:
    data = json.loads((RECORDED / f"{name}.json").read_text())
    return data["status"], data["body"]


def session_answer() -> Any:
    """The recorded password grant's answer, with a token this stack verifies (as the project's Auth signs)."""
    status, body = recorded_answer("token_password_200")
    assert status == 200
    body.update(access_token=mint_dev_token(JWT_SECRET, issuer=ISSUER, days=1, admin=False),
                expires_at=int(time.time()) + body["expires_in"], refresh_token=uuid.uuid4().hex[:12])
    return body


class GoTrue:
    """The project's Auth API as the page reaches it: each request recorded, answered from ``answers``
    (path and grant type -> recorded answer name), as GoTrue answers cross-origin (CORS, API version)."""

    def __init__(self, page: Page, answers: dict[str, str]) -> None:
        self.answers = answers
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str], Any]] = []
        page.route(f"{ISSUER}/**", self.answer)

    def answer(self, route: Route, request: Request) -> None:
        origin = request.headers.get("origin", "*")
        cors = {"access-control-allow-origin": origin, "access-control-allow-credentials": "true",
                "access-control-allow-headers": "authorization, apikey, content-type, x-client-info, "
                                                "x-supabase-api-version",
                "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
                "x-supabase-api-version": "2024-01-01"}
        if request.method == "OPTIONS":
            route.fulfill(status=204, headers=cors)
            return
        url = urlsplit(request.url)
        query = parse_qs(url.query)
        path = url.path.removeprefix("/auth/v1")
        self.requests.append((path, query, request.headers, request.post_data_json))
        key = f"{path}?grant_type={query['grant_type'][0]}" if "grant_type" in query else path
        name = self.answers.get(key)
        if name is None:
            route.fulfill(status=404, headers=cors, json={"code": "not_found", "message": f"unexpected {key}"})
            return
        status, body = (200, session_answer()) if name == "token_password_200" else recorded_answer(name)
        route.fulfill(status=status, headers=cors, json=body)


def open_sign_in(page: Page) -> None:
    page.goto("/")
    page.get_by_role("heading", name="Sign in", level=2).wait_for()


def test_password_sign_in_runs_supabase_js_against_gotrue_and_opens_the_dashboard(page: Page) -> None:
    gotrue = GoTrue(page, {"/token?grant_type=password": "token_password_200"})
    open_sign_in(page)
    page.get_by_label("E-mail").fill("dev@localhost")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("heading", name="Campaigns", level=1).wait_for()  # /me and /campaigns took the token
    ((path, query, headers, body),) = gotrue.requests
    assert (path, query["grant_type"]) == ("/token", ["password"])
    assert body == {"email": "dev@localhost", "password": "correct horse battery staple",
                    "gotrue_meta_security": {}}
    assert headers["apikey"] == PUBLISHABLE_KEY  # the publishable key, never a secret one
    # supabase-js keeps the session: a reload stays signed in without asking Auth again.
    page.reload()
    page.get_by_role("heading", name="Campaigns", level=1).wait_for()
    assert len(gotrue.requests) == 1
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in", level=2).wait_for()


def test_a_wrong_password_shows_gotrues_message_and_stays_on_sign_in(page: Page) -> None:
    GoTrue(page, {"/token?grant_type=password": "token_400_invalid_credentials"})
    open_sign_in(page)
    page.get_by_label("E-mail").fill("dev@localhost")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Invalid login credentials")
    expect(page.get_by_role("heading", name="Campaigns", level=1)).to_have_count(0)
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_enabled()  # try again


def test_the_magic_link_is_requested_for_existing_users_only_and_its_code_signs_in(page: Page, base_url: str
                                                                                   ) -> None:
    gotrue = GoTrue(page, {"/otp": "otp_200", "/token?grant_type=pkce": "token_password_200"})
    open_sign_in(page)
    page.get_by_label("E-mail").fill("dev@localhost")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.get_by_role("status")).to_have_text("We sent a sign-in link to dev@localhost.")
    ((path, query, _, body),) = gotrue.requests
    assert path == "/otp"
    assert query["redirect_to"] == [f"{base_url}/"]  # back to this dashboard
    assert body["email"] == "dev@localhost"
    assert body["create_user"] is False  # an e-mail with no account gets no account
    assert body["code_challenge_method"] == "s256"
    assert body["code_challenge"]
    # The e-mail's link: GoTrue verifies it and redirects to redirect_to with a one-time code; supabase-js
    # trades the code and the verifier it kept for a session.
    code = str(uuid.uuid4())
    page.goto(f"/?code={code}")
    page.get_by_role("heading", name="Campaigns", level=1).wait_for()
    path, query, _, body = gotrue.requests[-1]
    assert (path, query["grant_type"]) == ("/token", ["pkce"])
    assert body["auth_code"] == code
    assert body["code_verifier"]
    assert "code=" not in page.url  # the code leaves the address bar


def test_a_magic_link_for_an_unknown_address_shows_gotrues_refusal(page: Page) -> None:
    GoTrue(page, {"/otp": "otp_422_otp_disabled"})
    open_sign_in(page)
    page.get_by_label("E-mail").fill("stranger@example.com")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.get_by_role("status")).to_have_text("Signups not allowed for otp")
    expect(page.get_by_role("heading", name="Campaigns", level=1)).to_have_count(0)

