"""The sheets_export Lambda: credentials from Secrets Manager (moto), scheduled and on-demand events, and the
clear errors a misconfiguration gets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
import responses
from aws_lambda_powertools.utilities import parameters
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto import mock_aws
from pydantic import ValidationError
from vidstats.db import Database
from vidstats.export.sheets import SheetsExportError

from tests.conftest import IsolatedDatabase, handler_connected_to
from tests.lambda_context import FakeLambdaContext
from tests.sheets_export.conftest import ACCOUNT, SPREADSHEET_ID
from tests.sheets_export.seed import small_catalogue
from tests.sheets_export.sheets_api import SheetsApi, recorded

SECRET = "vidstats/google-service-account"
TOKEN_URI = "https://oauth2.googleapis.com/token"


def service_account_key() -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "agency-123", "private_key_id": "0123456789abcdef",
            "private_key": pem, "client_email": ACCOUNT, "client_id": "104857600000000000000",
            "token_uri": TOKEN_URI}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="eu-west-1")
    parameters.clear_caches()  # type: ignore[no-untyped-call]


@pytest.fixture
def handler_env(monkeypatch: pytest.MonkeyPatch, database: IsolatedDatabase) -> Iterator[None]:
    from sheets_export import handler

    monkeypatch.setenv("GOOGLE_SERVICE_ACCOUNT_SECRET_ID", SECRET)
    with handler_connected_to(handler, database, monkeypatch):
        yield


@pytest.fixture
def google(aws: Any) -> Iterator[tuple[responses.RequestsMock, SheetsApi]]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        api = SheetsApi(mock)
        api.add_spreadsheet(SPREADSHEET_ID)
        yield mock, api


def configure(monkeypatch: pytest.MonkeyPatch, ids: dict[str, str]) -> None:
    monkeypatch.setenv("SHEETS_EXPORT_TARGETS", json.dumps([
        {"spreadsheet_id": SPREADSHEET_ID},
        {"spreadsheet_id": SPREADSHEET_ID, "campaign_id": ids["campaign"], "worksheet": "Launch"}]))


def grant_tokens(mock: responses.RequestsMock) -> None:
    mock.add(responses.POST, TOKEN_URI, json={"access_token": "ya29.a0-test", "expires_in": 3599,
                                               "token_type": "Bearer"})


@pytest.mark.usefixtures("handler_env")
def test_a_scheduled_run_signs_in_with_the_secret_key_and_writes_every_target(
        db: Database, aws: Any, google: tuple[responses.RequestsMock, SheetsApi],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from sheets_export.handler import lambda_handler

    mock, api = google
    aws.create_secret(Name=SECRET, SecretString=json.dumps(service_account_key()))
    grant_tokens(mock)
    configure(monkeypatch, small_catalogue(db))

    result = lambda_handler({"reason": "schedule"}, FakeLambdaContext())

    assert (result["rows"], result["errors"]) == (5, [])
    assert result["spreadsheets"][0]["worksheets"] == [{"title": "All videos", "rows": 3},
                                                       {"title": "Launch", "rows": 2}]
    assert result["write_requests"] == 3
    assert len(api.calls) == 4
    assert mock.calls[0].request.url == TOKEN_URI
    assert all(c.request.headers["Authorization"] == "Bearer ya29.a0-test" for c in mock.calls[1:])
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    names = {m["Name"] for doc in emitted for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"ExportedRows", "SheetsWriteRequests", "ExportFailures"} <= names


@pytest.mark.usefixtures("handler_env")
def test_an_on_demand_export_of_one_campaign_writes_only_that_worksheet(
        db: Database, aws: Any, google: tuple[responses.RequestsMock, SheetsApi],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from sheets_export.handler import lambda_handler

    mock, _ = google
    aws.create_secret(Name=SECRET, SecretString=json.dumps(service_account_key()))
    grant_tokens(mock)
    ids = small_catalogue(db)
    configure(monkeypatch, ids)

    result = lambda_handler({"reason": "on_demand", "request_id": "exp-42", "campaign_ids": [ids["campaign"]],
                             "include_all_videos": False}, FakeLambdaContext())

    assert result["request_id"] == "exp-42"
    assert result["spreadsheets"][0]["worksheets"] == [{"title": "Launch", "rows": 2}]


@pytest.mark.usefixtures("handler_env")
def test_an_on_demand_export_of_an_unconfigured_campaign_is_refused(
        db: Database, aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from sheets_export.handler import lambda_handler

    configure(monkeypatch, small_catalogue(db))
    with pytest.raises(SheetsExportError, match=r"have no export target: add them to the workspace's targets"):
        lambda_handler({"reason": "on_demand", "campaign_ids": ["6f1c2d3e-0000-4000-8000-000000000000"]},
                       FakeLambdaContext())


@pytest.mark.usefixtures("handler_env")
def test_an_unknown_event_field_is_rejected(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from sheets_export.handler import lambda_handler

    with pytest.raises(ValidationError):
        lambda_handler({"reason": "schedule", "spreadsheet": "x"}, FakeLambdaContext())


@pytest.mark.usefixtures("handler_env")
def test_missing_credentials_configuration_names_the_variable_to_set(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from sheets_export.handler import lambda_handler

    configure(monkeypatch, small_catalogue(db))
    monkeypatch.delenv("GOOGLE_SERVICE_ACCOUNT_SECRET_ID")
    with pytest.raises(SheetsExportError, match="set GOOGLE_SERVICE_ACCOUNT_SECRET_ID"):
        lambda_handler({}, FakeLambdaContext())


@pytest.mark.usefixtures("handler_env")
@pytest.mark.parametrize(("secret", "message"), [
    (None, f"cannot read secret {SECRET}"),
    ("not json at all", f"secret {SECRET} is not JSON"),
    (json.dumps({"type": "service_account", "client_email": ACCOUNT}),
     "does not hold a Google service-account key (missing private_key, token_uri)"),
    (json.dumps({"type": "service_account", "client_email": ACCOUNT, "private_key": "-----BEGIN nonsense",
                 "token_uri": TOKEN_URI}), f"create a new JSON key for {ACCOUNT}"),
])
def test_an_unusable_secret_says_what_is_wrong_with_it(
        db: Database, aws: Any, monkeypatch: pytest.MonkeyPatch, secret: str | None, message: str) -> None:
    from sheets_export.handler import lambda_handler

    if secret is not None:
        aws.create_secret(Name=SECRET, SecretString=secret)
    configure(monkeypatch, small_catalogue(db))
    with pytest.raises(SheetsExportError, match="Nothing was written") as raised:
        lambda_handler({}, FakeLambdaContext())
    assert message in str(raised.value)


@pytest.mark.usefixtures("handler_env")
def test_a_revoked_key_is_reported_with_the_account_and_the_secret_to_fix(
        db: Database, aws: Any, google: tuple[responses.RequestsMock, SheetsApi],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from sheets_export.handler import lambda_handler

    mock, api = google
    aws.create_secret(Name=SECRET, SecretString=json.dumps(service_account_key()))
    mock.add(responses.POST, TOKEN_URI, status=400, json=recorded("token_invalid_grant.json"))
    configure(monkeypatch, small_catalogue(db))

    with pytest.raises(SheetsExportError) as raised:
        lambda_handler({}, FakeLambdaContext())

    assert f"Google rejected the credentials of {ACCOUNT} (secret {SECRET})" in str(raised.value)
    assert "Nothing was written" in str(raised.value)
    assert api.calls == []


@pytest.mark.usefixtures("handler_env")
def test_with_a_read_replica_the_export_reads_from_it(
        database: IsolatedDatabase, replica_database: IsolatedDatabase, aws: Any,
        google: tuple[responses.RequestsMock, SheetsApi], monkeypatch: pytest.MonkeyPatch) -> None:
    from sheets_export import handler
    from vidstats.settings import database_settings

    mock, _api = google
    aws.create_secret(Name=SECRET, SecretString=json.dumps(service_account_key()))
    grant_tokens(mock)
    replica = Database(replica_database.owner_url)
    configure(monkeypatch, small_catalogue(replica))  # the catalogue is only on the "replica"
    replica.close()
    monkeypatch.setenv("DATABASE_READ_URL", replica_database.owner_url)
    database_settings.cache_clear()
    handler.read_database.cache_clear()

    result = handler.lambda_handler({"reason": "schedule"}, FakeLambdaContext())

    assert (result["rows"], result["errors"]) == (5, [])
    with database.connect_owner() as conn:  # the writer has none of it
        assert conn.execute("select count(*) from analytics.videos").fetchone() == (0,)
