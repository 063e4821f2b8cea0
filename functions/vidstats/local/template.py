"""template.yaml read as data: the one source of truth for queues, schedules, routes and timeouts, locally too.

``load_template`` keeps CloudFormation's short-form tags (``!Ref X`` becomes ``{"!Ref": "X"}``); the helpers
below resolve what the local stack needs (``!Ref`` to a parameter's default, ``!GetAtt X.Arn``) and leave the
rest alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[3] / "template.yaml"


class CloudFormationLoader(yaml.SafeLoader):
    """Reads !Ref, !GetAtt, !Sub ... as plain data (tag name kept) so the template can be inspected."""


def _tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {f"!{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)  # noqa: S506
    return template


class TemplateError(ValueError):
    """template.yaml does not hold what the local stack needs (a missing resource, an unresolvable value)."""


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    visibility_timeout_s: int = 30
    retention_s: int = 345_600
    dead_letter_target: str | None = None  # logical id of the DLQ
    max_receive_count: int | None = None


@dataclass(frozen=True)
class SqsEventSpec:
    queue: str  # logical id
    batch_size: int = 10
    batching_window_s: float = 0.0
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = None


@dataclass(frozen=True)
class ScheduleSpec:
    name: str  # the event's logical name, e.g. "Every5Minutes"
    expression: str
    timezone: str = "UTC"
    enabled: bool = True
    input: str | None = None


@dataclass(frozen=True)
class RouteSpec:
    method: str  # "GET", "POST", or "ANY"
    path: str  # "/health", "/{proxy+}"
    api: str  # logical id of the HttpApi
    auth: str | None = None  # "NONE" for an open route, else the API's default


@dataclass
class FunctionSpec:
    logical_id: str
    handler: str  # module.path.function
    timeout_s: int
    memory_mb: int
    environment: dict[str, Any] = field(default_factory=dict)
    sqs_events: list[SqsEventSpec] = field(default_factory=list)
    schedules: list[ScheduleSpec] = field(default_factory=list)
    routes: list[RouteSpec] = field(default_factory=list)


@dataclass
class LocalTemplate:
    """What the local stack runs, with every parameter at its default (or an override)."""

    parameters: dict[str, Any]
    queues: dict[str, QueueSpec]
    functions: dict[str, FunctionSpec]

    def function(self, logical_id: str) -> FunctionSpec:
        try:
            return self.functions[logical_id]
        except KeyError:
            raise TemplateError(f"template.yaml has no function {logical_id}") from None

    def function_by_handler_module(self, module: str) -> FunctionSpec | None:
        return next((f for f in self.functions.values() if f.handler.rsplit(".", 1)[0] == module), None)


class _Resolver:
    def __init__(self, parameters: dict[str, Any]) -> None:
        self.parameters = parameters

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            tag, inner = next(iter(value.items()))
            if tag == "!Ref" and isinstance(inner, str):
                if inner in self.parameters:
                    return self.parameters[inner]
                return {"!Ref": inner}  # a resource: the caller knows what it names
            if tag == "!GetAtt":
                target = inner.split(".", 1) if isinstance(inner, str) else list(inner)
                return {"!GetAtt": target}
        return value

    def scalar(self, value: Any, what: str) -> Any:
        resolved = self(value)
        if isinstance(resolved, dict):
            raise TemplateError(f"{what}: cannot resolve {value!r} locally")
        return resolved


def parse_template(template: dict[str, Any], overrides: dict[str, Any] | None = None) -> LocalTemplate:
    parameters: dict[str, Any] = {
        name: spec.get("Default") for name, spec in (template.get("Parameters") or {}).items()
    }
    parameters.update(overrides or {})
    resolve = _Resolver(parameters)
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    queues: dict[str, QueueSpec] = {}
    functions: dict[str, FunctionSpec] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        kind = resource.get("Type")
        props = resource.get("Properties") or {}
        if kind == "AWS::SQS::Queue":
            redrive = props.get("RedrivePolicy") or {}
            target = resolve(redrive.get("deadLetterTargetArn")) if redrive else None
            dlq = target["!GetAtt"][0] if isinstance(target, dict) and "!GetAtt" in target else None
            max_receives = resolve.scalar(redrive["maxReceiveCount"], f"{logical_id} maxReceiveCount") \
                if redrive else None
            queues[logical_id] = QueueSpec(
                logical_id=logical_id,
                visibility_timeout_s=int(resolve.scalar(props.get("VisibilityTimeout", 30), logical_id)),
                retention_s=int(resolve.scalar(props.get("MessageRetentionPeriod", 345_600), logical_id)),
                dead_letter_target=dlq,
                max_receive_count=int(max_receives) if max_receives is not None else None,
            )
        elif kind == "AWS::Serverless::Function":
            functions[logical_id] = _function(logical_id, props, globals_fn, resolve)
    return LocalTemplate(parameters=parameters, queues=queues, functions=functions)


def _function(logical_id: str, props: dict[str, Any], globals_fn: dict[str, Any], resolve: _Resolver
              ) -> FunctionSpec:
    env = {**((globals_fn.get("Environment") or {}).get("Variables") or {}),
           **((props.get("Environment") or {}).get("Variables") or {})}
    spec = FunctionSpec(
        logical_id=logical_id,
        handler=str(props.get("Handler") or globals_fn.get("Handler")),
        timeout_s=int(resolve.scalar(props.get("Timeout", globals_fn.get("Timeout", 3)), f"{logical_id} Timeout")),
        memory_mb=int(resolve.scalar(props.get("MemorySize", globals_fn.get("MemorySize", 128)), logical_id)),
        environment={k: resolve(v) for k, v in env.items()},
    )
    for name, event in (props.get("Events") or {}).items():
        kind = event.get("Type")
        ep = event.get("Properties") or {}
        if kind == "SQS":
            queue = resolve(ep["Queue"])
            queue_id = queue["!GetAtt"][0] if isinstance(queue, dict) and "!GetAtt" in queue else str(queue)
            scaling = ep.get("ScalingConfig") or {}
            concurrency = resolve.scalar(scaling["MaximumConcurrency"], f"{logical_id} MaximumConcurrency") \
                if "MaximumConcurrency" in scaling else None
            spec.sqs_events.append(SqsEventSpec(
                queue=queue_id,
                batch_size=int(resolve.scalar(ep.get("BatchSize", 10), f"{logical_id} BatchSize")),
                batching_window_s=float(resolve.scalar(ep.get("MaximumBatchingWindowInSeconds", 0), logical_id)),
                report_batch_item_failures="ReportBatchItemFailures" in (ep.get("FunctionResponseTypes") or []),
                maximum_concurrency=int(concurrency) if concurrency is not None else None,
            ))
        elif kind in ("ScheduleV2", "Schedule"):
            expression = resolve.scalar(ep.get("ScheduleExpression") or ep.get("Schedule"),
                                        f"{logical_id}.{name} ScheduleExpression")
            state = resolve.scalar(ep.get("State", "ENABLED"), f"{logical_id}.{name} State")
            enabled = ep.get("Enabled", True) and str(state).upper() == "ENABLED"
            spec.schedules.append(ScheduleSpec(
                name=name, expression=str(expression),
                timezone=str(resolve.scalar(ep.get("ScheduleExpressionTimezone", "UTC"), logical_id)),
                enabled=bool(enabled), input=ep.get("Input"),
            ))
        elif kind == "HttpApi":
            api = resolve(ep.get("ApiId"))
            api_id = api["!Ref"] if isinstance(api, dict) and "!Ref" in api else str(api)
            auth = (ep.get("Auth") or {}).get("Authorizer")
            spec.routes.append(RouteSpec(method=str(ep.get("Method", "ANY")).upper(), path=str(ep.get("Path", "/")),
                                         api=api_id, auth=str(auth) if auth else None))
    return spec


def local_template(overrides: dict[str, Any] | None = None, path: Path = TEMPLATE_PATH) -> LocalTemplate:
    return parse_template(load_template(path), overrides)
