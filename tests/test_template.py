"""template.yaml is valid CloudFormation after the SAM transform, and holds the settings the code relies on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from vidstats.local.template import TEMPLATE_PATH as TEMPLATE
from vidstats.local.template import load_template

# Reserved concurrency is opt-in (ReservedConcurrency): accounts with a small concurrency quota reject any.
RESERVED_ONE = {"!If": ["ReserveConcurrency", 1, {"!Ref": "AWS::NoValue"}]}


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

    template = long_form(load_template())
    template["Globals"]["Function"]["CodeUri"] = "s3://artifacts/functions.zip"  # as `sam package` leaves them
    template["Resources"]["DependenciesLayer"]["Properties"]["ContentUri"] = "s3://artifacts/layer.zip"
    return template  # type: ignore[no-any-return]


def test_failed_fetches_end_in_the_dead_letter_queue() -> None:
    queue = load_template()["Resources"]["FetchQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"!GetAtt": "FetchDeadLetterQueue.Arn"}
    assert queue["RedrivePolicy"]["maxReceiveCount"] == {"!Ref": "FetchMaxReceiveCount"}
    assert int(queue["VisibilityTimeout"]) >= 6 * 60


def test_secrets_are_passed_as_secret_ids_never_as_values() -> None:
    env = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert "DATABASE_URL" not in env
    assert env["DATABASE_URL_SECRET_ID"] == {"!Ref": "DatabaseUrlSecretArn"}


def test_mv_refresh_runs_on_a_configurable_schedule_one_at_a_time() -> None:
    template = load_template()
    function = template["Resources"]["MvRefreshFunction"]["Properties"]
    schedule = function["Events"]["Every5Minutes"]
    assert schedule["Type"] == "ScheduleV2"
    assert schedule["Properties"]["ScheduleExpression"] == {"!Ref": "RefreshSchedule"}
    assert template["Parameters"]["RefreshSchedule"]["Default"] == "rate(5 minutes)"
    assert function["ReservedConcurrentExecutions"] == RESERVED_ONE
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
    assert function["ReservedConcurrentExecutions"] == RESERVED_ONE
    assert function["Timeout"] >= 300


def test_dashboard_api_verifies_tokens_in_the_function_and_the_gateway_authorizer_is_opt_in(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard_api.handler import PUBLIC_PATHS, WEB_PATHS
    from samtranslator.translator.transform import transform

    template = load_template()
    assert template["Parameters"]["GatewayJwtAuthorizer"]["Default"] == "false"
    assert template["Conditions"]["UseGatewayJwtAuthorizer"] == {
        "!Equals": [{"!Ref": "GatewayJwtAuthorizer"}, "true"]}
    api = template["Resources"]["DashboardHttpApi"]["Properties"]
    assert "Auth" not in api  # SAM cannot make it conditional: the routes' security is in the definition
    body = api["DefinitionBody"]
    scheme = body["components"]["securitySchemes"]["SupabaseJwt"]["x-amazon-apigateway-authorizer"]
    assert scheme["type"] == "jwt"
    assert scheme["jwtConfiguration"]["issuer"] == {"!Ref": "SupabaseAuthIssuer"}
    assert scheme["jwtConfiguration"]["audience"] == [{"!Ref": "SupabaseAuthAudience"}]
    protected = body["paths"]["/{proxy+}"]["x-amazon-apigateway-any-method"]
    assert protected["security"] == {"!If": ["UseGatewayJwtAuthorizer", [{"SupabaseJwt": []}], []]}
    public = {path for path, methods in body["paths"].items()
              if all("security" not in m for m in methods.values())}
    assert public == PUBLIC_PATHS | WEB_PATHS  # the gateway never asks a token for what the function serves without one
    assert template["Parameters"]["SupabaseAuthAudience"]["Default"] == "authenticated"
    assert "Authorization" in api["CorsConfiguration"]["AllowHeaders"]

    function = template["Resources"]["DashboardApiFunction"]["Properties"]
    assert function["Handler"] == "dashboard_api.handler.lambda_handler"
    events = function["Events"].values()
    assert all(e["Type"] == "HttpApi" and e["Properties"]["PayloadFormatVersion"] == "2.0" for e in events)
    assert all(e["Properties"]["ApiId"] == {"!Ref": "DashboardHttpApi"} for e in events)
    assert {e["Properties"]["Path"] for e in events} == {"/{proxy+}", *PUBLIC_PATHS, *WEB_PATHS}
    env = function["Environment"]["Variables"]
    assert env["AUTH_ISSUER"] == {"!Ref": "SupabaseAuthIssuer"}
    assert "AUTH_JWT_SECRET" not in env  # only ever a secret id
    assert "AUTH_DISABLED" not in env
    assert env["SUPABASE_PUBLISHABLE_KEY"] == {"!Ref": "SupabasePublishableKey"}
    assert env["FETCH_QUEUE_URL"] == {"!Ref": "FetchQueue"}
    assert {"SQSSendMessagePolicy": {"QueueName": {"!GetAtt": "FetchQueue.QueueName"}}} in function["Policies"]

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # the transform resolves pseudo parameters
    long_form = load_template_for_transform()
    resources = transform(long_form, {}, _NoManagedPolicies())["Resources"]
    assert resources["DashboardHttpApi"]["Type"] == "AWS::ApiGatewayV2::Api"
    assert resources["DashboardApiFunction"]["Type"] == "AWS::Lambda::Function"
    paths = resources["DashboardHttpApi"]["Properties"]["Body"]["paths"]
    # Every route reaches the function; CloudFormation resolves the condition inside the body at deploy time.
    assert paths["/{proxy+}"]["x-amazon-apigateway-any-method"]["security"] == {
        "Fn::If": ["UseGatewayJwtAuthorizer", [{"SupabaseJwt": []}], []]}
    for path, method in [("/{proxy+}", "x-amazon-apigateway-any-method"),
                         *((p, "get") for p in PUBLIC_PATHS | WEB_PATHS)]:
        assert paths[path][method]["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
        assert path == "/{proxy+}" or "security" not in paths[path][method]


def test_page_view_increments_have_their_own_iam_authorized_api_route_and_bounded_function(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from samtranslator.translator.transform import transform

    template = load_template()
    api = template["Resources"]["PageViewsHttpApi"]["Properties"]
    assert api["Auth"] == {"EnableIamAuthorizer": True, "DefaultAuthorizer": "AWS_IAM"}
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"!Ref": "PageViewsThrottleRateLimit"}

    function = template["Resources"]["PageViewsIncrementsFunction"]["Properties"]
    assert function["Handler"] == "page_views_increments.handler.lambda_handler"
    assert function["ReservedConcurrentExecutions"] == {
        "!If": ["ReserveConcurrency", {"!Ref": "PageViewsMaximumConcurrency"}, {"!Ref": "AWS::NoValue"}]}
    assert template["Resources"]["PageViewsIncrementsFunction"]["Condition"] == "PageViewsOn"
    assert template["Resources"]["PageViewsHttpApi"]["Condition"] == "PageViewsOn"
    assert template["Outputs"]["PageViewsApiUrl"]["Condition"] == "PageViewsOn"
    assert function["Environment"]["Variables"]["PAGE_VIEWS_MAX_FUTURE_S"] == {"!Ref": "PageViewsMaxFutureSeconds"}
    events = function["Events"]
    assert {e["Type"] for e in events.values()} == {"HttpApi"}
    assert events["PostPageViews"]["Properties"] == {"ApiId": {"!Ref": "PageViewsHttpApi"}, "Path": "/page-views",
                                                     "Method": "POST", "PayloadFormatVersion": "2.0"}
    # Its OpenAPI document, the only other route, is public (no SigV4 needed to read how to call the API).
    assert events["GetPageViewsOpenApi"]["Properties"] == {
        "ApiId": {"!Ref": "PageViewsHttpApi"}, "Path": "/page-views/openapi.json", "Method": "GET",
        "PayloadFormatVersion": "2.0", "Auth": {"Authorizer": "NONE"}}
    # Only the database secret: the function needs nothing else from AWS.
    assert function["Policies"] == [
        {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"!Ref": "DatabaseUrlSecretArn"}}}]

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    long_form = load_template_for_transform()
    resources = transform(long_form, {}, _NoManagedPolicies())["Resources"]
    assert resources["PageViewsIncrementsFunction"]["Type"] == "AWS::Lambda::Function"
    paths = resources["PageViewsHttpApi"]["Properties"]["Body"]["paths"]
    assert sorted(paths) == ["/page-views", "/page-views/openapi.json"]
    # The routes exist with the (conditional) function: SAM wraps them in the function's condition.
    route = _when("PageViewsOn", paths["/page-views"])
    assert list(route) == ["post"]
    assert _when("PageViewsOn", route["post"])["security"] == [{"AWS_IAM": []}]
    document = _when("PageViewsOn", paths["/page-views/openapi.json"])
    assert list(document) == ["get"]
    # SAM's mark of a route without authorizer, overriding the API's default AWS_IAM.
    assert _when("PageViewsOn", document["get"])["security"] == [{"NONE": []}]


def _when(condition: str, value: Any) -> Any:
    """The value a `Fn::If [condition, value, AWS::NoValue]` the transform wrapped takes when the condition holds."""
    name, then, otherwise = value["Fn::If"]
    assert (name, otherwise) == (condition, {"Ref": "AWS::NoValue"})
    return then


def test_page_view_increments_handler_is_importable_as_configured() -> None:
    import importlib

    handler = load_template()["Resources"]["PageViewsIncrementsFunction"]["Properties"]["Handler"]
    module, _, attribute = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), attribute))


ROOT = TEMPLATE.parent
FUNCTIONS = ROOT / "functions"
FULL_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vidstats/database-url-AbC123"
PARTIAL_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vidstats/database-url"


def _makefile_variable(name: str) -> str:
    for line in (FUNCTIONS / "Makefile").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key.rstrip(" :?") == name:
            return value.strip()
    raise AssertionError(f"functions/Makefile does not set {name}")


def test_functions_are_packed_for_the_templates_runtime_and_architecture() -> None:
    template = load_template()
    function_globals = template["Globals"]["Function"]
    version = _makefile_variable("LAMBDA_PYTHON_VERSION")
    assert function_globals["Runtime"] == f"python{version}"
    assert function_globals["Architectures"] == ["arm64"]
    assert _makefile_variable("LAMBDA_ARCH") == "aarch64"
    layer = template["Resources"]["DependenciesLayer"]
    assert layer["Properties"]["CompatibleRuntimes"] == [function_globals["Runtime"]]
    assert layer["Properties"]["CompatibleArchitectures"] == function_globals["Architectures"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert function_globals["Layers"] == [{"!Ref": "DependenciesLayer"}]


def test_each_function_is_built_from_its_own_handler_package_by_the_makefile() -> None:
    makefile = (FUNCTIONS / "Makefile").read_text()
    functions = {logical_id: resource for logical_id, resource in load_template()["Resources"].items()
                 if resource["Type"] == "AWS::Serverless::Function"}
    assert len(functions) == 6
    for logical_id, resource in functions.items():
        assert resource["Metadata"] == {"BuildMethod": "makefile"}, logical_id
        package = resource["Properties"]["Handler"].split(".")[0]
        assert (FUNCTIONS / package / "handler.py").exists()
        assert f"build-{logical_id}:\n\t$(call copy_function,{package})\n" in makefile


def _dev_only() -> list[str]:
    """What functions/Makefile leaves out of every function (paths relative to functions/)."""
    out = subprocess.run(["make", "--no-print-directory", "-s", "-C", str(FUNCTIONS), "print-DEV_ONLY"],
                         capture_output=True, text=True, check=True).stdout
    return [path.rstrip("/") for path in out.split()]


def test_developer_only_modules_stay_out_of_the_artefact_and_no_function_imports_them() -> None:
    import ast

    dev_only = _dev_only()
    assert {"vidstats/local/stack.py", "vidstats/local/embedded.py", "vidstats/cli.py"} <= set(dev_only)
    assert "vidstats/local/demo_provider.py" not in dev_only  # lazily imported by the provider registry
    dev_modules = {path.removesuffix(".py").replace("/", ".") for path in dev_only}
    for source in FUNCTIONS.rglob("*.py"):
        relative = source.relative_to(FUNCTIONS).as_posix()
        if any(relative == d or relative.startswith(d + "/") for d in dev_only):
            continue
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not any(name == m or name.startswith(m + ".") for m in dev_modules), \
                    f"{relative} imports developer-only {name}: it would fail in Lambda"


def _lock() -> dict[str, str]:
    """functions/requirements.txt as {normalized name: version}; every entry carries hashes."""
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    entries = (FUNCTIONS / "requirements.txt").read_text().replace("\\\n", " ").splitlines()
    for entry in entries:
        entry = entry.split("#", 1)[0].strip()
        if not entry:
            continue
        requirement, _, options = entry.partition(" --hash=")
        name, _, version = requirement.split(";")[0].strip().partition("==")
        assert version, f"not an exact pin: {entry[:80]}"
        assert options, f"no hashes: {entry[:80]}"
        pins[canonicalize_name(name)] = version
    return pins


def test_the_lock_pins_every_declared_runtime_dependency_and_only_what_they_need() -> None:
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    declared = [Requirement(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
                ["dependencies"]]
    lock = _lock()
    for requirement in declared:
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{name} is declared but not locked: run `make lock`"
        assert requirement.specifier.contains(lock[name], prereleases=True), \
            f"{name}=={lock[name]} does not satisfy {requirement}: run `make lock`"
    assert "supabase" in lock  # vidstats.auth_admin: invitations through Supabase Auth's admin API
    assert {"pyjwt", "cryptography"} <= set(lock)  # PyJWT[crypto]: ES256/RS256 verification


def test_every_third_party_module_the_functions_import_is_a_declared_dependency() -> None:
    import ast
    import importlib.metadata
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    declared = {canonicalize_name(Requirement(r).name)
                for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]}
    dev_only = _dev_only()
    ours = {p.name for p in FUNCTIONS.iterdir() if p.is_dir()}
    providers = importlib.metadata.packages_distributions()
    imported: set[str] = set()
    for source in FUNCTIONS.rglob("*.py"):
        relative = source.relative_to(FUNCTIONS).as_posix()
        if any(relative == d or relative.startswith(d + "/") for d in dev_only):
            continue
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in ours and m not in sys.stdlib_module_names and m != "__future__"}
    assert third_party  # the scan sees the imports
    for module in sorted(third_party):
        distributions = {canonicalize_name(d) for d in providers.get(module, [])}
        assert distributions & declared, f"`import {module}` ({distributions or 'not installed'}) is not declared " \
                                         "in [project].dependencies"


def test_a_first_deployment_needs_only_the_database_rapidapi_and_auth_parameters() -> None:
    parameters = load_template()["Parameters"]
    required = [name for name, spec in parameters.items() if "Default" not in spec]
    # `sam deploy --guided` prompts in template order: the required ones come first.
    assert required == ["DatabaseUrlSecretArn", "RapidApiKeySecretArn", "SupabaseAuthIssuer"]
    assert list(parameters)[:3] == required
    readme = (ROOT / "README.md").read_text()
    deploying = readme[readme.index("## Deploying"):]
    deploying = deploying[:deploying.index("\n## ", 1)]
    for name in required:
        assert f"`{name}`" in deploying


def test_optional_features_default_off_or_on_without_anything_to_give() -> None:
    template = load_template()
    parameters = template["Parameters"]
    assert parameters["GoogleServiceAccountSecretArn"]["Default"] == ""
    assert parameters["ReservedConcurrency"]["Default"] == "false"
    assert parameters["PageViewsEnabled"]["Default"] == "true"
    assert template["Conditions"]["SheetsExportEnabled"] == {
        "!Not": [{"!Equals": [{"!Ref": "GoogleServiceAccountSecretArn"}, ""]}]}
    assert template["Resources"]["SheetsExportFunction"]["Condition"] == "SheetsExportEnabled"
    dashboard = template["Resources"]["DashboardApiFunction"]["Properties"]
    # Without the export function the variable is absent, and POST /exports answers that exports are off.
    assert dashboard["Environment"]["Variables"]["SHEETS_EXPORT_FUNCTION_NAME"] == {
        "!If": ["SheetsExportEnabled", {"!Ref": "SheetsExportFunction"}, {"!Ref": "AWS::NoValue"}]}
    assert {"!If": ["SheetsExportEnabled", {"LambdaInvokePolicy": {"FunctionName": {"!Ref": "SheetsExportFunction"}}},
                    {"!Ref": "AWS::NoValue"}]} in dashboard["Policies"]
    for logical_id, resource in template["Resources"].items():
        reserved = resource.get("Properties", {}).get("ReservedConcurrentExecutions")
        assert reserved is None or reserved["!If"][0] == "ReserveConcurrency", logical_id


@pytest.mark.parametrize("features", [
    {},
    {"GoogleServiceAccountSecretArn": FULL_SECRET_ARN, "ReservedConcurrency": "true", "GatewayJwtAuthorizer": "true"},
    {"PageViewsEnabled": "false"},
    {"AlarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:on-call", "AlarmEmail": "ops@example.com"},
    {"AlarmEmail": "ops@example.com"},
    {"DatabaseReadUrlSecretArn": FULL_SECRET_ARN, "SnapshotRetentionDays": "400",
     "GoogleServiceAccountSecretArn": FULL_SECRET_ARN},
])
def test_sam_transform_accepts_the_template_with_optional_features_on_or_off(
        monkeypatch: pytest.MonkeyPatch, features: dict[str, str]) -> None:
    from samtranslator.translator.transform import transform

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    parameters = {"DatabaseUrlSecretArn": FULL_SECRET_ARN, "RapidApiKeySecretArn": FULL_SECRET_ARN,
                  "SupabaseAuthIssuer": "https://abc.supabase.co/auth/v1", **features}
    output = transform(load_template_for_transform(), parameters, _NoManagedPolicies())
    resources = output["Resources"]
    assert resources["SheetsExportFunction"]["Condition"] == "SheetsExportEnabled"
    assert resources["PageViewsIncrementsFunction"]["Condition"] == "PageViewsOn"
    # SAM carries a function's condition to what it generates for it: nothing dangles when the feature is off.
    for logical_id, resource in resources.items():
        if logical_id.startswith("SheetsExportFunction"):
            assert resource.get("Condition") == "SheetsExportEnabled", logical_id
        if logical_id.startswith(("PageViewsIncrementsFunction", "PageViewsHttpApi")):
            assert resource.get("Condition") == "PageViewsOn", logical_id


def test_a_read_replica_and_retention_are_optional_and_off_by_default() -> None:
    template = load_template()
    parameters = template["Parameters"]
    assert parameters["DatabaseReadUrlSecretArn"]["Default"] == ""
    assert parameters["SnapshotRetentionDays"]["Default"] == ""
    refresh = template["Resources"]["MvRefreshFunction"]["Properties"]["Environment"]["Variables"]
    assert refresh["SNAPSHOT_RETENTION_DAYS"] == {"!Ref": "SnapshotRetentionDays"}
    for function in ("DashboardApiFunction", "SheetsExportFunction"):
        properties = template["Resources"][function]["Properties"]
        assert properties["Environment"]["Variables"]["DATABASE_READ_URL_SECRET_ID"] == {
            "!If": ["HasReadReplica", {"!Ref": "DatabaseReadUrlSecretArn"}, {"!Ref": "AWS::NoValue"}]}
        assert {"!If": ["HasReadReplica", {"AWSSecretsManagerGetSecretValuePolicy": {
            "SecretArn": {"!Ref": "DatabaseReadUrlSecretArn"}}}, {"!Ref": "AWS::NoValue"}]} in properties["Policies"]


def test_secret_arn_parameters_accept_only_the_full_arn_the_policies_grant() -> None:
    import re

    template = load_template()
    parameters = template["Parameters"]
    secret_parameters = {name for name in parameters if name.endswith("SecretArn")}
    assert secret_parameters == {"DatabaseUrlSecretArn", "RapidApiKeySecretArn", "GoogleServiceAccountSecretArn",
                                 "SupabaseJwtSecretArn", "DatabaseReadUrlSecretArn", "SupabaseServiceRoleKeySecretArn"}
    for name in secret_parameters:
        pattern = parameters[name]["AllowedPattern"]
        assert re.fullmatch(pattern, FULL_SECRET_ARN), name
        assert not re.fullmatch(pattern, PARTIAL_SECRET_ARN), name
        assert not re.fullmatch(pattern, FULL_SECRET_ARN + "x"), name
        assert "6 characters" in parameters[name]["ConstraintDescription"]
        assert bool(re.fullmatch(pattern, "")) == ("Default" in parameters[name]), name

    def policies(value: Any) -> list[Any]:
        if isinstance(value, dict):
            if "AWSSecretsManagerGetSecretValuePolicy" in value:
                return [value["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]]
            return [p for v in value.values() for p in policies(v)]
        if isinstance(value, list):
            return [p for v in value for p in policies(v)]
        return []

    granted = policies(template["Resources"])
    assert granted
    assert all(arn == {"!Ref": arn["!Ref"]} and arn["!Ref"] in secret_parameters for arn in granted)


def test_the_readme_asks_for_the_runtimes_python_to_build() -> None:
    runtime = load_template()["Globals"]["Function"]["Runtime"]
    version = runtime.removeprefix("python")
    readme = (ROOT / "README.md").read_text()
    deploying = readme[readme.index("## Deploying"):]
    assert f"Python {version}" in deploying
    assert f"`{runtime}`" in deploying


# ---- alarms ------------------------------------------------------------------------------------------------

ALARM_TOPIC = {"!If": ["HasAlarmTopic", {"!Ref": "AlarmTopicArn"}, {"!Ref": "AlarmTopic"}]}


def _alarms() -> dict[str, dict[str, Any]]:
    return {name: r for name, r in load_template()["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def _dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in alarm["Properties"]["Dimensions"]}


def test_every_alarm_notifies_the_given_topic_or_the_stacks_own() -> None:
    template = load_template()
    alarms = _alarms()
    assert alarms
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [ALARM_TOPIC], name
        assert alarm["Properties"]["OKActions"] == [ALARM_TOPIC], name
    parameters = template["Parameters"]
    assert parameters["AlarmTopicArn"]["Default"] == ""
    assert parameters["AlarmEmail"]["Default"] == ""
    conditions = template["Conditions"]
    assert conditions["HasAlarmTopic"] == {"!Not": [{"!Equals": [{"!Ref": "AlarmTopicArn"}, ""]}]}
    assert conditions["CreateAlarmTopic"] == {"!Equals": [{"!Ref": "AlarmTopicArn"}, ""]}
    resources = template["Resources"]
    assert resources["AlarmTopic"]["Condition"] == "CreateAlarmTopic"
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["TopicArn"] == ALARM_TOPIC


def test_a_message_in_the_dead_letter_queue_raises_an_alarm() -> None:
    alarm = _alarms()["FetchDeadLetterQueueAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert _dimensions(_alarms()["FetchDeadLetterQueueAlarm"]) == {
        "QueueName": {"!GetAtt": "FetchDeadLetterQueue.QueueName"}}
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")


def test_read_model_lag_over_the_threshold_or_no_refresh_report_raises_an_alarm() -> None:
    alarm = _alarms()["ReadModelLagAlarm"]
    properties = alarm["Properties"]
    # As mv_refresh publishes it (tests/test_mv_refresh.py checks the emitted namespace and dimensions).
    function = load_template()["Resources"]["MvRefreshFunction"]["Properties"]
    assert (properties["Namespace"], properties["MetricName"]) == ("vidstats", "ReadModelLag")
    assert _dimensions(alarm) == {"service": function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]}
    assert properties["Threshold"] == {"!Ref": "ReadModelLagAlarmSeconds"}
    assert properties["ComparisonOperator"] == "GreaterThanThreshold"
    assert properties["TreatMissingData"] == "breaching"  # a refresh that stopped reporting is lag too


def test_every_function_has_an_errors_and_a_throttles_alarm_existing_when_it_does() -> None:
    resources = load_template()["Resources"]
    functions = {name for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert len(functions) == 6
    alarms = _alarms()
    for function in functions:
        for metric in ("Errors", "Throttles"):
            alarm = alarms[f"{function.removesuffix('Function')}{metric}Alarm"]
            assert (alarm["Properties"]["Namespace"], alarm["Properties"]["MetricName"]) == ("AWS/Lambda", metric)
            assert _dimensions(alarm) == {"FunctionName": {"!Ref": function}}
            assert alarm.get("Condition") == resources[function].get("Condition"), function


def test_a_platform_quota_under_the_reserve_raises_an_alarm_on_the_metric_the_providers_publish() -> None:
    from vidstats.platforms import Platform
    from vidstats.providers.http import QUOTA_METRIC, QUOTA_METRIC_NAMESPACE

    processor = load_template()["Resources"]["QueueProcessorFunction"]["Properties"]
    service = processor["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    quota_alarms = [a for a in _alarms().values() if a["Properties"]["MetricName"] == QUOTA_METRIC]
    assert {_dimensions(a)["platform"] for a in quota_alarms} == {p.value for p in Platform}
    for alarm in quota_alarms:
        properties = alarm["Properties"]
        assert _dimensions(alarm) == {"service": service, "platform": _dimensions(alarm)["platform"]}
        assert properties["Namespace"] == QUOTA_METRIC_NAMESPACE
        assert (properties["Statistic"], properties["ComparisonOperator"]) == ("Minimum", "LessThanThreshold")
        assert properties["Threshold"] == {"!Ref": "ProviderQuotaAlarmReserve"}
        assert properties["TreatMissingData"] == "notBreaching"


def test_the_readme_documents_the_alarm_parameters() -> None:
    readme = (ROOT / "README.md").read_text()
    deploying = readme[readme.index("## Deploying"):]
    deploying = deploying[:deploying.index("\n## ", 1)]
    for name in ("AlarmTopicArn", "AlarmEmail", "ReadModelLagAlarmSeconds", "ProviderQuotaAlarmReserve"):
        assert f"`{name}`" in deploying, name
