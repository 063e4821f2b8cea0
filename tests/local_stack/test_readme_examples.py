"""The README's curl examples work as written: each ```bash block starting with ``curl`` is run with bash and the
real curl against a local stack (the port and ``$TOKEN`` of that stack), in the README's order, and its answer
must have the status and the shape documented under it (``# → <status> <JSON>``: every key the example shows,
with the same kind of value; the example's values themselves are illustrations)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from vidstats.local.stack import LocalStack
from vidstats.workspaces import DEFAULT_WORKSPACE_ID

from tests.local_stack.conftest import wait_until

README = Path(__file__).resolve().parents[2] / "README.md"
README_ADDRESS = "localhost:8000"
_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)
_ANSWER = re.compile(r"^# → (\d{3}) (.+)$")


@dataclass(frozen=True)
class Example:
    command: str
    status: int
    shape: Any


def readme_examples(text: str) -> list[Example]:
    examples = []
    for block in _BLOCK.findall(text):
        if not block.startswith("curl"):
            continue
        command, _, answer = block.rstrip("\n").rpartition("\n")
        documented = _ANSWER.fullmatch(answer)
        assert documented, f"a README curl example without its answer (# → <status> <JSON>):\n{block}"
        examples.append(Example(command, int(documented.group(1)), json.loads(documented.group(2))))
    return examples


def shape_problems(documented: Any, actual: Any, where: str = "answer") -> list[str]:
    """How ``actual`` differs in shape from the documented example (None in the example: any value)."""
    if documented is None:
        return []
    if isinstance(documented, dict):
        if not isinstance(actual, dict):
            return [f"{where}: an object was documented, got {actual!r}"]
        problems = []
        for key, value in documented.items():
            if key not in actual:
                problems.append(f"{where}.{key}: documented, missing")
            else:
                problems += shape_problems(value, actual[key], f"{where}.{key}")
        return problems
    if isinstance(documented, list):
        if not isinstance(actual, list):
            return [f"{where}: a list was documented, got {actual!r}"]
        if documented and not actual:
            return [f"{where}: items were documented, the list is empty"]
        return shape_problems(documented[0], actual[0], f"{where}[0]") if documented else []
    kinds = {bool: (bool,), int: (int, float), float: (int, float), str: (str,)}
    expected = kinds[type(documented)]
    if not isinstance(actual, expected) or (isinstance(actual, bool) and bool not in expected):
        return [f"{where}: a {type(documented).__name__} was documented, got {actual!r}"]
    return []


def _idle(stack: LocalStack) -> bool:
    """Nothing queued for the processor and no invocation pending: what 'a few seconds later' means."""
    status = stack.status()
    queued = sum(depth["visible"] + depth["in_flight"] for depth in status["queues"].values())
    return queued == 0 and all(i["state"] in ("succeeded", "failed") for i in status["invocations"])


def test_the_readme_shows_its_curl_examples_with_their_answers() -> None:
    examples = readme_examples(README.read_text(encoding="utf-8"))
    commands = " ".join(e.command for e in examples)
    for route in ("/videos", "/status", "/exports", "/_local/status", "/page-views", "/page-views/openapi.json"):
        assert f"{README_ADDRESS}{route}" in commands, route
    assert all(README_ADDRESS in e.command for e in examples)


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's examples use curl")
def test_the_readmes_curl_examples_work_as_written_on_the_local_stack(external_stack: LocalStack,
                                                                      tmp_path: Path) -> None:
    assert external_stack.gateway is not None
    assert external_stack.dev_token
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "TOKEN": external_stack.dev_token,
           "WORKSPACE": str(DEFAULT_WORKSPACE_ID)}
    body_file = tmp_path / "body"
    for example in readme_examples(README.read_text(encoding="utf-8")):
        wait_until(lambda: _idle(external_stack), what="the stack to be idle")
        command = example.command.replace(README_ADDRESS, f"127.0.0.1:{external_stack.gateway.port}")
        # As written, plus curl's own options to read the status and body apart.
        run = subprocess.run(["bash", "-c", f"{command} -sS -o '{body_file}' -w '%{{http_code}}'"], env=env,
                             capture_output=True, text=True, timeout=60, check=False)
        assert run.returncode == 0, f"{example.command}\n{run.stderr}"
        body = body_file.read_text(encoding="utf-8")
        assert int(run.stdout) == example.status, f"{example.command}\n{run.stdout}: {body}"
        problems = shape_problems(example.shape, json.loads(body))
        assert not problems, f"{example.command}\n" + "\n".join(problems) + f"\n{body[:2000]}"


def test_a_shape_difference_is_named() -> None:
    documented = {"items": [{"totals": {"views": 1}}], "next_cursor": None}
    assert shape_problems(documented, {"items": [{"totals": {"views": 5}}], "next_cursor": "x"}) == []
    assert shape_problems(documented, {"items": []}) == ["answer.items: items were documented, the list is empty",
                                                         "answer.next_cursor: documented, missing"]
    assert shape_problems({"ok": True}, {"ok": 1}) == ["answer.ok: a bool was documented, got 1"]
