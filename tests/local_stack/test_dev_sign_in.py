"""`make dev` serves the web dashboard at / and signs its user in with one click; a deployed API cannot."""

from __future__ import annotations

import httpx
from vidstats.workspaces import DEFAULT_WORKSPACE_ID

from tests.conftest import IsolatedDatabase
from tests.dashboard_api.conftest import http_event
from tests.lambda_context import FakeLambdaContext
from tests.local_stack.conftest import StackFactory


def test_the_local_stack_signs_the_web_dashboard_in_with_a_development_token(start_stack: StackFactory,
                                                                            database: IsolatedDatabase) -> None:
    stack = start_stack(database_url=database.owner_url)
    assert stack.gateway is not None
    url = stack.gateway.url
    assert f"Web dashboard   {url}/" in "\n".join(stack.describe())  # what `make dev` prints
    listed = httpx.get(f"{url}/_local/dev-sign-in")
    assert listed.status_code == 200
    # The developer (an instance administrator), and the demo workspace's owner, editor and viewer.
    assert [u["email"] for u in listed.json()["users"]] == [
        "dev@localhost", "owner@demo.localhost", "editor@demo.localhost", "viewer@demo.localhost"]
    for email, me_role in (("dev@localhost", "owner"), ("viewer@demo.localhost", "viewer")):
        minted = httpx.post(f"{url}/_local/dev-sign-in", json={"email": email})
        assert minted.status_code == 200
        headers = {"authorization": f"Bearer {minted.json()['access_token']}"}
        assert [w["role"] for w in httpx.get(f"{url}/me", headers=headers).json()["workspaces"]] == [me_role]
        headers["x-workspace-id"] = str(DEFAULT_WORKSPACE_ID)
        assert httpx.get(f"{url}/videos", headers=headers).status_code == 200
    unknown = httpx.post(f"{url}/_local/dev-sign-in", json={"email": "someone@example.com"})
    assert unknown.status_code == 404
    malformed = httpx.post(f"{url}/_local/dev-sign-in", content=b"{not json")
    assert malformed.status_code == 400
    assert "email" in malformed.json()["message"]
    assert httpx.get(f"{url}/videos", headers={"authorization": "Bearer forged"}).status_code == 401

    page = httpx.get(f"{url}/")
    assert page.status_code in (200, 503)  # 503: `make web` has not run in this checkout
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert httpx.get(f"{url}/app-config.json").json() == {"auth": None}  # no Supabase project locally


def test_the_deployed_function_has_no_development_sign_in() -> None:
    from dashboard_api.handler import lambda_handler

    for method in ("GET", "POST"):
        result = lambda_handler(http_event(method, "/_local/dev-sign-in"), FakeLambdaContext())  # type: ignore[arg-type]
        assert result["statusCode"] == 401  # an API path like any other: no token, no answer
