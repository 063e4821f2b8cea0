"""POST /exports: starts the Sheets export function asynchronously and answers at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.dashboard_api.conftest import Api
from tests.factories import TEST_WORKSPACE_ID


@pytest.fixture
def export_function(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """SheetsExportFunction on moto's Lambda; yields the Invoke calls the API makes."""
    import boto3  # type: ignore[import-untyped]
    from dashboard_api import dependencies
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("SHEETS_EXPORT_FUNCTION_NAME", "SheetsExportFunction")
    with mock_aws(config={"lambda": {"use_docker": False}}):
        iam = boto3.client("iam", region_name="eu-west-1")
        role = iam.create_role(RoleName="export", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        lambda_client = boto3.client("lambda", region_name="eu-west-1")
        lambda_client.create_function(FunctionName="SheetsExportFunction", Runtime="python3.12", Role=role,
                                      Handler="sheets_export.handler.lambda_handler", Code={"ZipFile": b"zip"})
        invocations: list[dict[str, Any]] = []

        class RecordingInvoker:
            def invoke(self, **kwargs: Any) -> dict[str, Any]:
                invocations.append(kwargs)
                return dict(lambda_client.invoke(**kwargs))  # moto checks the function exists

        dependencies.export_invoker.cache_clear()
        monkeypatch.setattr(dependencies, "export_invoker", RecordingInvoker)
        yield invocations


def test_an_export_is_started_in_the_background_and_answered_at_once(
    api: Api, export_function: list[dict[str, Any]]
) -> None:
    campaign = api.call("POST", "/campaigns", body={"name": "Spring", "starts_at": "2026-11-01T00:00:00Z"}).body
    reply = api.call("POST", "/exports", body={"campaign_ids": [campaign["id"]], "include_all_videos": False})
    assert reply.status == 202, reply
    (call,) = export_function
    assert call["FunctionName"] == "SheetsExportFunction"
    assert call["InvocationType"] == "Event"
    assert json.loads(call["Payload"]) == {"reason": "on_demand", "request_id": reply.body["export_id"],
                                           "workspace_id": str(TEST_WORKSPACE_ID),
                                           "campaign_ids": [campaign["id"]], "include_all_videos": False}
    # Where it writes and where to follow it: by default the function's CloudWatch log group.
    assert reply.body["destination"].endswith("/aws/lambda/SheetsExportFunction")


def test_the_deployment_says_where_its_export_writes(api: Api, export_function: list[dict[str, Any]],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHEETS_EXPORT_DESTINATION", "CSV files in /srv/exports")
    reply = api.call("POST", "/exports", body={})
    assert reply.status == 202, reply
    assert reply.body["destination"] == "CSV files in /srv/exports"


def test_an_unknown_campaign_is_404_and_starts_nothing(api: Api, export_function: list[dict[str, Any]]) -> None:
    reply = api.call("POST", "/exports", body={"campaign_ids": ["00000000-0000-4000-8000-000000000000"]})
    assert reply.status == 404
    assert reply.body["errors"][0]["field"] == "body.campaign_ids"
    assert export_function == []


def test_without_an_export_function_configured_the_api_says_what_to_set(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dashboard_api import dependencies

    monkeypatch.delenv("SHEETS_EXPORT_FUNCTION_NAME", raising=False)
    dependencies.export_invoker.cache_clear()
    reply = api.call("POST", "/exports", body={})
    assert reply.status == 409
    assert "SHEETS_EXPORT_FUNCTION_NAME" in reply.body["errors"][0]["message"]
