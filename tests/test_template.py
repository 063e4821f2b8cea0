"""template.yaml is valid CloudFormation after the SAM transform, and holds the settings the code relies on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from vidstats.local.template import TEMPLATE_PATH as TEMPLATE
from vidstats.local.template import load_template


def test_template_passes_cfn_lint_with_the_sam_transform() -> None:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), str(TEMPLATE)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_transform_produces_the_shared_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    from samtranslator.translator.transform import transform

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # the transform resolves pseudo parameters

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    template = load_template_for_transform()
    template["Globals"]["Function"]["CodeUri"] = "s3://artifacts/functions.zip"  # as `sam package` leaves it
    output = transform(template, {}, _NoManagedPolicies())
    resources = output["Resources"]
    assert resources["FetchQueue"]["Type"] == "AWS::SQS::Queue"
    assert resources["FetchDeadLetterQueue"]["Type"] == "AWS::SQS::Queue"
    assert resources["MvRefreshFunction"]["Type"] == "AWS::Lambda::Function"
    assert resources["MvRefreshFunctionEvery5Minutes"]["Type"] == "AWS::Scheduler::Schedule"


def load_template_for_transform() -> dict[str, Any]:
    # samtranslator wants intrinsic functions in their long form ({"Ref": ...}), as in JSON templates.
    def long_form(value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1 and next(iter(value)).startswith("!"):
                tag, inner = next(iter(value.items()))
                name = tag[1:]
                if name == "GetAtt" and isinstance(inner, str):
                    inner = inner.split(".", 1)
                return {"Ref" if name == "Ref" else f"Fn::{name}": long_form(inner)}
            return {k: long_form(v) for k, v in value.items()}
        if isinstance(value, list):
            return [long_form(v) for v in value]
        return value

    return long_form(load_template())  # type: ignore[no-any-return]


def test_failed_fetches_end_in_the_dead_letter_queue() -> None:
    queue = load_template()["Resources"]["FetchQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"!GetAtt": "FetchDeadLetterQueue.Arn"}
    assert queue["RedrivePolicy"]["maxReceiveCount"] == {"!Ref": "FetchMaxReceiveCount"}
    assert int(queue["VisibilityTimeout"]) >= 6 * 60


def test_secrets_are_passed_as_secret_ids_never_as_values() -> None:
    env = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert "DATABASE_URL" not in env
    assert env["DATABASE_URL_SECRET_ID"] == {"!Ref": "DatabaseUrlSecretArn"}


def test_function_requirements_equal_the_project_dependencies() -> None:
    import tomllib

    root = TEMPLATE.parent
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    requirements = [line.strip() for line in (root / "functions" / "requirements.txt").read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
    assert sorted(requirements) == sorted(declared)


def test_mv_refresh_runs_on_a_configurable_schedule_one_at_a_time() -> None:
    template = load_template()
    function = template["Resources"]["MvRefreshFunction"]["Properties"]
    schedule = function["Events"]["Every5Minutes"]
    assert schedule["Type"] == "ScheduleV2"
    assert schedule["Properties"]["ScheduleExpression"] == {"!Ref": "RefreshSchedule"}
    assert template["Parameters"]["RefreshSchedule"]["Default"] == "rate(5 minutes)"
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["Handler"] == "mv_refresh.handler.lambda_handler"


def test_queue_visibility_is_at_least_six_times_the_processor_timeout() -> None:
    resources = load_template()["Resources"]
    timeout = int(resources["QueueProcessorFunction"]["Properties"]["Timeout"])
    assert timeout == 60
    assert int(resources["FetchQueue"]["Properties"]["VisibilityTimeout"]) >= 6 * timeout


def test_processor_reports_batch_item_failures_with_bounded_concurrency() -> None:
    function = load_template()["Resources"]["QueueProcessorFunction"]["Properties"]
    assert function["Handler"] == "queue_processor.handler.lambda_handler"
    event = function["Events"]["FetchMessages"]
    assert event["Type"] == "SQS"
    props = event["Properties"]
    assert props["Queue"] == {"!GetAtt": "FetchQueue.Arn"}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= int(props["BatchSize"]) <= 10
    assert props["ScalingConfig"]["MaximumConcurrency"] == {"!Ref": "ProcessorMaximumConcurrency"}
    policies = function["Policies"]
    assert {"LambdaInvokePolicy": {"FunctionName": {"!Ref": "MvRefreshFunction"}}} in policies
    secrets = [p["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"] for p in policies
               if "AWSSecretsManagerGetSecretValuePolicy" in p]
    assert {"!Ref": "DatabaseUrlSecretArn"} in secrets
    assert {"!Ref": "RapidApiKeySecretArn"} in secrets


def test_failed_processor_messages_go_to_the_dead_letter_queue_after_the_receive_count() -> None:
    template = load_template()
    redrive = template["Resources"]["FetchQueue"]["Properties"]["RedrivePolicy"]
    assert redrive == {"deadLetterTargetArn": {"!GetAtt": "FetchDeadLetterQueue.Arn"},
                       "maxReceiveCount": {"!Ref": "FetchMaxReceiveCount"}}
    dlq = template["Resources"]["FetchDeadLetterQueue"]["Properties"]
    assert int(dlq["MessageRetentionPeriod"]) > int(template["Resources"]["FetchQueue"]["Properties"]
                                                     ["MessageRetentionPeriod"])


def test_nightly_refresh_runs_at_three_utc_and_may_send_to_the_queue() -> None:
    template = load_template()
    function = template["Resources"]["NightlyRefreshFunction"]["Properties"]
    assert function["Handler"] == "nightly_refresh.handler.lambda_handler"
    schedule = function["Events"]["Nightly"]
    assert schedule["Type"] == "ScheduleV2"
    assert schedule["Properties"]["ScheduleExpression"] == {"!Ref": "NightlyRefreshSchedule"}
    assert template["Parameters"]["NightlyRefreshSchedule"]["Default"] == "cron(0 3 * * ? *)"
    assert {"SQSSendMessagePolicy": {"QueueName": {"!GetAtt": "FetchQueue.QueueName"}}} in function["Policies"]
    assert function["Environment"]["Variables"]["FETCH_QUEUE_URL"] == {"!Ref": "FetchQueue"}


def test_sam_transform_produces_the_ingestion_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    from samtranslator.translator.transform import transform

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    template = load_template_for_transform()
    template["Globals"]["Function"]["CodeUri"] = "s3://artifacts/functions.zip"
    resources = transform(template, {}, _NoManagedPolicies())["Resources"]
    mapping = resources["QueueProcessorFunctionFetchMessages"]
    assert mapping["Type"] == "AWS::Lambda::EventSourceMapping"
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert resources["NightlyRefreshFunctionNightly"]["Type"] == "AWS::Scheduler::Schedule"


def test_sheets_export_runs_on_a_configurable_schedule_and_reads_its_google_key_from_secrets_manager() -> None:
    template = load_template()
    function = template["Resources"]["SheetsExportFunction"]["Properties"]
    assert function["Handler"] == "sheets_export.handler.lambda_handler"
    schedule = function["Events"]["Daily"]
    assert schedule["Type"] == "ScheduleV2"
    assert schedule["Properties"]["ScheduleExpression"] == {"!Ref": "SheetsExportSchedule"}
    assert schedule["Properties"]["State"] == {"!Ref": "SheetsExportScheduleState"}
    assert schedule["Properties"]["Input"] == '{"reason": "schedule"}'
    env = function["Environment"]["Variables"]
    assert env["GOOGLE_SERVICE_ACCOUNT_SECRET_ID"] == {"!Ref": "GoogleServiceAccountSecretArn"}
    assert env["SHEETS_EXPORT_TARGETS"] == {"!Ref": "SheetsExportTargets"}
    assert {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"!Ref": "GoogleServiceAccountSecretArn"}}} \
        in function["Policies"]
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["Timeout"] >= 300


def test_dashboard_api_is_an_http_api_with_a_jwt_authorizer_and_public_docs_and_health(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard_api.handler import PUBLIC_PATHS
    from samtranslator.translator.transform import transform

    template = load_template()
    api = template["Resources"]["DashboardHttpApi"]["Properties"]
    authorizer = api["Auth"]["Authorizers"]["SupabaseJwt"]
    assert api["Auth"]["DefaultAuthorizer"] == "SupabaseJwt"
    assert authorizer["JwtConfiguration"]["issuer"] == {"!Ref": "SupabaseAuthIssuer"}
    assert authorizer["JwtConfiguration"]["audience"] == [{"!Ref": "SupabaseAuthAudience"}]
    assert template["Parameters"]["SupabaseAuthAudience"]["Default"] == "authenticated"
    assert "Authorization" in api["CorsConfiguration"]["AllowHeaders"]

    function = template["Resources"]["DashboardApiFunction"]["Properties"]
    assert function["Handler"] == "dashboard_api.handler.lambda_handler"
    events = function["Events"].values()
    assert all(e["Type"] == "HttpApi" and e["Properties"]["PayloadFormatVersion"] == "2.0" for e in events)
    assert all(e["Properties"]["ApiId"] == {"!Ref": "DashboardHttpApi"} for e in events)
    public = {e["Properties"]["Path"] for e in events if e["Properties"].get("Auth", {}).get("Authorizer") == "NONE"}
    assert public == PUBLIC_PATHS  # the gateway lets through exactly what the function serves without a token
    env = function["Environment"]["Variables"]
    assert env["AUTH_ISSUER"] == {"!Ref": "SupabaseAuthIssuer"}
    assert "AUTH_JWT_SECRET" not in env  # only ever a secret id
    assert "AUTH_DISABLED" not in env
    assert env["FETCH_QUEUE_URL"] == {"!Ref": "FetchQueue"}
    assert {"SQSSendMessagePolicy": {"QueueName": {"!GetAtt": "FetchQueue.QueueName"}}} in function["Policies"]

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # the transform resolves pseudo parameters
    long_form = load_template_for_transform()
    long_form["Globals"]["Function"]["CodeUri"] = "s3://artifacts/functions.zip"
    resources = transform(long_form, {}, _NoManagedPolicies())["Resources"]
    assert resources["DashboardHttpApi"]["Type"] == "AWS::ApiGatewayV2::Api"
    assert resources["DashboardApiFunction"]["Type"] == "AWS::Lambda::Function"


def test_page_view_increments_have_their_own_iam_authorized_api_route_and_bounded_function(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from samtranslator.translator.transform import transform

    template = load_template()
    api = template["Resources"]["PageViewsHttpApi"]["Properties"]
    assert api["Auth"] == {"EnableIamAuthorizer": True, "DefaultAuthorizer": "AWS_IAM"}
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"!Ref": "PageViewsThrottleRateLimit"}

    function = template["Resources"]["PageViewsIncrementsFunction"]["Properties"]
    assert function["Handler"] == "page_views_increments.handler.lambda_handler"
    assert function["ReservedConcurrentExecutions"] == {"!Ref": "PageViewsMaximumConcurrency"}
    assert function["Environment"]["Variables"]["PAGE_VIEWS_MAX_FUTURE_S"] == {"!Ref": "PageViewsMaxFutureSeconds"}
    (event,) = function["Events"].values()
    assert event["Type"] == "HttpApi"
    assert event["Properties"] == {"ApiId": {"!Ref": "PageViewsHttpApi"}, "Path": "/page-views", "Method": "POST",
                                   "PayloadFormatVersion": "2.0"}
    # Only the database secret: the function needs nothing else from AWS.
    assert function["Policies"] == [
        {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"!Ref": "DatabaseUrlSecretArn"}}}]

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    long_form = load_template_for_transform()
    long_form["Globals"]["Function"]["CodeUri"] = "s3://artifacts/functions.zip"
    resources = transform(long_form, {}, _NoManagedPolicies())["Resources"]
    assert resources["PageViewsIncrementsFunction"]["Type"] == "AWS::Lambda::Function"
    paths = resources["PageViewsHttpApi"]["Properties"]["Body"]["paths"]
    assert list(paths) == ["/page-views"]
    assert list(paths["/page-views"]) == ["post"]
    assert paths["/page-views"]["post"]["security"] == [{"AWS_IAM": []}]


def test_page_view_increments_handler_is_importable_as_configured() -> None:
    import importlib

    handler = load_template()["Resources"]["PageViewsIncrementsFunction"]["Properties"]["Handler"]
    module, _, attribute = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), attribute))
