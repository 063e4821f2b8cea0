"""`POST /exports` on the local stack: the dashboard API invokes the export function through the local Lambda
Invoke API (as it does in AWS, asynchronously); without Google credentials the function writes CSV files into
the stack's exports folder, and the answer says where."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from vidstats.local.lambda_api import PREFIX
from vidstats.local.stack import LocalStack

from tests.local_stack.conftest import Api, wait_until


def _invocation(stack: LocalStack, function: str) -> dict[str, Any] | None:
    invocations: list[dict[str, Any]] = stack.status()["invocations"]
    return next((i for i in invocations if i["function"] == function and i["state"] in ("succeeded", "failed")),
                None)


def test_post_exports_runs_the_export_function_locally_and_says_where_the_csv_files_go(
        api: Api, external_stack: LocalStack) -> None:
    spring = api.post("/campaigns", {"name": "Spring launch", "starts_at": "2026-11-01T00:00:00Z"}, status=201)
    api.post("/campaigns", {"name": "Not asked for", "starts_at": "2026-11-01T00:00:00Z"}, status=201)

    accepted = api.post("/exports", {"campaign_ids": [spring["id"]], "include_all_videos": False}, status=202)

    exports_dir = external_stack.exports_dir
    assert str(exports_dir) in accepted["destination"]
    assert "/_local/status" in accepted["destination"]
    run = wait_until(lambda: _invocation(external_stack, "SheetsExportFunction"), what="the export's invocation")
    assert run["state"] == "succeeded", run["error"]
    assert run["invocation_type"] == "Event"
    assert run["result"]["request_id"] == accepted["export_id"]
    (written,) = run["result"]["csv"]  # only the campaign asked for, no "All videos"
    path = Path(written["path"])
    assert path.parent == exports_dir
    assert sorted(p.name for p in exports_dir.iterdir()) == [path.name]
    with path.open(encoding="utf-8") as handle:
        lines = list(csv.reader(handle))
    assert any("Spring launch" in cell for line in lines for cell in line)


def test_the_scheduled_export_runs_the_same_function(external_stack: LocalStack) -> None:
    result = external_stack.run_job("sheets_export")
    assert result["reason"] == "schedule"
    assert {Path(f["path"]).name for f in result["csv"]} == {"all-videos.csv"}  # no campaign yet
    assert (external_stack.exports_dir / "all-videos.csv").exists()


def test_the_local_invoke_api_answers_boto3_as_lambda_does(external_stack: LocalStack) -> None:
    assert external_stack.gateway is not None
    client = boto3.client("lambda", endpoint_url=external_stack.gateway.url + PREFIX, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")

    reply = client.invoke(FunctionName="MvRefreshFunction", Payload=b"{}")
    assert reply["StatusCode"] == 200
    assert "FunctionError" not in reply
    assert isinstance(json.loads(reply["Payload"].read()), dict)

    failed = client.invoke(FunctionName="SheetsExportFunction", Payload=json.dumps({"reason": "nonsense"}))
    assert failed["FunctionError"] == "Unhandled"
    assert "reason" in json.loads(failed["Payload"].read())["errorMessage"]

    with pytest.raises(ClientError) as missing:
        client.invoke(FunctionName="NoSuchFunction", InvocationType="Event", Payload=b"{}")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
