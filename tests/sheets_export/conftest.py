from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from google.oauth2.credentials import Credentials

from tests.sheets_export.sheets_api import SheetsApi

SPREADSHEET_ID = "1qpyC0XzvTcKT6EISywvqESX3A0MwQoFDE8p-Bll4hps"
ACCOUNT = "vidstats-export@agency-123.iam.gserviceaccount.com"


def dummy_credentials() -> Credentials:
    """An access token that is never refreshed: requests carry it, no Google sign-in happens."""
    return Credentials(token="dummy")  # type: ignore[no-untyped-call]


class FakeClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sheets_api(clock: FakeClock) -> Iterator[SheetsApi]:
    """The API counting its per-minute quota on the same clock the export waits on."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield SheetsApi(mock, clock=clock)
