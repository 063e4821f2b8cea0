"""template.yaml is valid CloudFormation after the SAM transform, and holds the settings the code relies on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads !Ref, !GetAtt, !Sub ... as plain data (tag name kept) so tests can inspect the template."""


def _tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {f"!{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _tag)


def load_template() -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CloudFormationLoader)  # noqa: S506
    return template


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
