"""`vidstats dev` makes the demo workspace's owner, editor and viewer and prints a token for each, so every role
can be tried on the local stack (with --demo, on the demo data)."""

from __future__ import annotations

from typing import Any

import httpx
from vidstats.local.demo_data import DEMO_CAMPAIGN_NAME
from vidstats.local.stack import DEMO_MEMBERS, LocalStack
from vidstats.workspaces import DEFAULT_WORKSPACE_ID

from tests.conftest import IsolatedDatabase
from tests.local_stack.conftest import StackFactory


def client(stack: LocalStack, token: str | None) -> httpx.Client:
    assert stack.gateway is not None
    headers = {"x-workspace-id": str(DEFAULT_WORKSPACE_ID)}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=stack.gateway.url, timeout=10, headers=headers)


def printed_tokens(stack: LocalStack) -> dict[str, str]:
    """The tokens of the `export TOKEN_OWNER=… TOKEN_EDITOR=… TOKEN_VIEWER=… WORKSPACE=…` line it prints."""
    startup = "\n".join(stack.describe())
    (line,) = [line.strip() for line in startup.splitlines() if line.strip().startswith("export TOKEN_OWNER=")]
    pairs = dict(part.split("=", 1) for part in line.removeprefix("export ").split())
    assert pairs.pop("WORKSPACE") == str(DEFAULT_WORKSPACE_ID)
    return {name.removeprefix("TOKEN_").lower(): token for name, token in pairs.items()}


def test_the_demo_workspace_has_an_owner_an_editor_and_a_viewer_each_with_a_printed_token(
        start_stack: StackFactory, database: IsolatedDatabase) -> None:
    stack = start_stack(database_url=database.owner_url, demo=True)
    tokens = printed_tokens(stack)
    assert set(tokens) == {"owner", "editor", "viewer"}
    assert tokens == stack.demo_tokens
    emails = {role: email for role, _, email in DEMO_MEMBERS}
    campaign: dict[str, Any] = {"name": "Tried by the {}", "starts_at": "2026-11-01T00:00:00Z"}
    for role, token in tokens.items():
        with client(stack, token) as api:
            me = api.get("/me").json()
            assert me["email"] == emails[role]
            assert [(w["id"], w["role"]) for w in me["workspaces"]] == [(str(DEFAULT_WORKSPACE_ID), role)]
            names = {c["name"] for c in api.get("/campaigns").json()["items"]}
            assert DEMO_CAMPAIGN_NAME in names  # --demo: the workspace holds the demo data
            created = api.post("/campaigns", json={**campaign, "name": campaign["name"].format(role)})
            assert created.status_code == (403 if role == "viewer" else 201), created.text
            links = api.get(f"/campaigns/{next(iter(api.get('/campaigns').json()['items']))['id']}/share-links")
            assert links.status_code == (403 if role == "viewer" else 200), links.text
            # The page-view report is the operator's (the development token's), not a member's.
            assert api.get("/page-views/report").status_code == 403
    with client(stack, stack.dev_token) as operator:
        assert operator.get("/page-views/report").status_code == 200


def test_without_demo_data_the_members_are_the_default_workspaces(external_stack: LocalStack) -> None:
    with client(external_stack, printed_tokens(external_stack)["viewer"]) as viewer:
        assert viewer.get("/videos").status_code == 200
        assert viewer.post("/videos", json={"urls": ["https://www.tiktok.com/@a/video/7000000000000000001"]}
                           ).status_code == 403
    with client(external_stack, None) as anonymous:
        assert anonymous.get("/videos").status_code == 401
