"""Importing a handler (a Lambda cold start) loads no heavy client: each is imported where and when it is used.

Each import runs in a fresh interpreter, so what another test imported does not hide an eager import.
``python -m bench.cold_start`` measures what the imports cost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench.cold_start import FUNCTIONS, SUBJECTS

HANDLERS = [s.name for s in SUBJECTS if s.baseline is not None]
# Loaded only by the code path that needs them: AWS clients, HTTP clients, Google, token verification, and
# Powertools' OpenAPI models (documentation routes) and parser models (its BatchProcessor).
HEAVY = ("boto3", "botocore.client", "httpx", "gspread", "google.auth", "google.oauth2", "requests", "jwt",
         "cryptography", "aws_lambda_powertools.event_handler.openapi.models",
         "aws_lambda_powertools.utilities.parser.models")


def _modules_after_importing(module: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(FUNCTIONS), "AWS_DEFAULT_REGION": "eu-west-1"}
    out = subprocess.run([sys.executable, "-c", f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"],
                         env=env, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_the_bench_measures_every_function_of_the_template() -> None:
    from vidstats.local.template import load_template

    resources = load_template()["Resources"].values()
    handlers = {r["Properties"]["Handler"].split(".")[0] for r in resources if r["Type"] == "AWS::Serverless::Function"}
    assert handlers == set(HANDLERS)


@pytest.mark.parametrize("handler", HANDLERS)
def test_importing_a_handler_loads_no_heavy_client(handler: str) -> None:
    loaded = _modules_after_importing(f"{handler}.handler")
    assert f"{handler}.handler" in loaded
    assert [m for m in HEAVY if m in loaded] == []


def test_the_check_sees_an_eager_import() -> None:
    # The same probe on a module that imports them eagerly: the check above can fail.
    loaded = _modules_after_importing("vidstats.export.sheets")
    assert {"gspread", "google.auth", "requests"} <= loaded
