"""Schemathesis against each API's own served OpenAPI document, in-process (a WSGI shim turns each request
into an API Gateway v2 event for the Lambda handler), run by its engine as its CLI does: every phase that
applies (the documents' examples; coverage: boundary values and negative data such as wrong types, missing
required fields and undeclared content types; fuzzing; stateful, on the links schemathesis infers), with
positive and negative generation. No request gets a 5xx; every response matches its documented schema."""

from __future__ import annotations

import schemathesis
from schemathesis.engine import Status, events, from_schema

from tests.dashboard_api.http_apis import HttpApi, as_wsgi

EXAMPLES_PER_OPERATION = 20
CHECKS = ["not_a_server_error", "response_schema_conformance"]


def run_schemathesis(api: HttpApi) -> tuple[list[str], dict[str, int], set[str]]:
    """(failures, requests per phase, operations tested)."""
    schema = schemathesis.openapi.from_wsgi(api.openapi_path, as_wsgi(api))
    schema.config.generation.update(modes=list(schemathesis.GenerationMode), max_examples=EXAMPLES_PER_OPERATION,
                                    deterministic=True, database="none")
    schema.config.checks.update(included_check_names=CHECKS)
    if api.needs_token:
        schema.config.update(headers=api.auth_headers())
    failures: list[str] = []
    calls: dict[str, int] = {}
    operations: set[str] = set()
    phase = ""
    for event in from_schema(schema).execute():
        if isinstance(event, events.PhaseStarted):
            phase = event.phase.name.value
        elif isinstance(event, events.ScenarioFinished):
            operations.add(event.recorder.label)
            calls[phase] = calls.get(phase, 0) + len(event.recorder.interactions)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status is Status.FAILURE:
                        case = event.recorder.cases[case_id].value
                        failures.append(f"{phase} {event.recorder.label} {check.name}: {check.failure_info} "
                                        f"(body={case.body!r:.200}, query={case.query}, headers={case.headers})")
            if event.status is Status.ERROR:
                failures.append(f"{phase} {event.recorder.label}: error {event}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"{phase}: {event}")
    return failures, calls, operations


def test_no_generated_request_gets_a_5xx_or_an_off_schema_response(served: HttpApi) -> None:
    failures, calls, operations = run_schemathesis(served)
    assert failures == []
    paths = served.openapi()["paths"]
    documented = {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}
    with_body = [op for ops in paths.values() for op in ops.values() if "requestBody" in op]
    assert operations - {"Stateful tests"} == documented
    assert calls.get("examples", 0) >= len(with_body), calls  # every request body has an example
    for phase in ("coverage", "fuzzing"):
        assert calls.get(phase, 0) >= len(documented), (phase, calls)
    print(f"{served.name}: {calls}")
