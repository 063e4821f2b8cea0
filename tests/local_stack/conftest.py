"""The local stack (`vidstats dev`) in-process on random ports, stopped after each test."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from vidstats.local.demo_provider import DEMO_CLOCK
from vidstats.local.stack import LocalStack, StackConfig
from vidstats.workspaces import DEFAULT_WORKSPACE_ID

from tests.conftest import IsolatedDatabase

CLEARED = ("DATABASE_URL", "RAPIDAPI_KEY", "RAPIDAPI_KEY_SECRET_ID", "RAPIDAPI_TIKTOK_KEY", "RAPIDAPI_INSTAGRAM_KEY",
           "RAPIDAPI_YOUTUBE_KEY", "AUTH_ISSUER", "SUPABASE_URL", "AUTH_DISABLED", "AUTH_JWT_SECRET",
           "GOOGLE_SERVICE_ACCOUNT_SECRET_ID", "SHEETS_EXPORT_TARGETS", "MV_REFRESH_FUNCTION_NAME")

StackFactory = Callable[..., LocalStack]


@pytest.fixture
def start_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StackFactory]:
    """Starts stacks (random ports, short batching window); every one started is stopped afterwards."""
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    started: list[LocalStack] = []

    def start(**overrides: Any) -> LocalStack:
        settings: dict[str, Any] = {
            "data_dir": tmp_path / "pgdata", "port": 0, "sqs_port": 0,
            "exports_dir": tmp_path / "exports", "batching_window_s": 0.2, "run_schedules": False,
        }
        stack = LocalStack(StackConfig(**{**settings, **overrides}))
        started.append(stack)
        return stack.start()

    yield start
    for stack in started:
        stack.stop()
    left = [t.name for t in threading.enumerate() if t.name.startswith(("poller-", "local-scheduler", "http-gateway"))]
    assert not left, f"threads still running after stop(): {left}"
    DEMO_CLOCK.set_offset(timedelta(0))


@pytest.fixture
def external_stack(start_stack: StackFactory, database: IsolatedDatabase) -> LocalStack:
    """A stack on the test's own migrated database (DATABASE_URL mode), so no server start is paid for."""
    return start_stack(database_url=database.owner_url)


class Api:
    def __init__(self, stack: LocalStack) -> None:
        assert stack.gateway is not None
        self.client = httpx.Client(base_url=stack.gateway.url, timeout=10,
                                   headers={"authorization": f"Bearer {stack.dev_token}",
                                            "x-workspace-id": str(DEFAULT_WORKSPACE_ID)})

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: Any, status: int = 200) -> Any:
        response = self.client.post(path, json=body)
        assert response.status_code == status, response.text
        return response.json()


@pytest.fixture
def api(external_stack: LocalStack) -> Iterator[Api]:
    client = Api(external_stack)
    yield client
    client.client.close()


def wait_until(condition: Callable[[], Any], *, timeout_s: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
