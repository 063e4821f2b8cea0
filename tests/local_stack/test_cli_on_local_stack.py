"""The CLI finds a running local stack without any variable (``vidstats dev`` records where its services are
in its data dir), and a configuration problem is one line on stderr with exit status 2."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from vidstats.local.services import SERVICES_FILE

from tests.local_stack.conftest import StackFactory

TIKTOK_URL = "https://www.tiktok.com/@someone/video/7301234567890123456"


def vidstats(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own with an empty environment (only PATH and HOME)."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-m", "vidstats.cli", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_track_status_and_export_find_the_local_stack_with_no_environment(start_stack: StackFactory,
                                                                          tmp_path: Path) -> None:
    stack = start_stack()
    data_dir = str(stack.config.data_dir)
    services = json.loads((stack.config.data_dir / SERVICES_FILE).read_text())
    assert stack.gateway is not None
    assert services["api_url"] == stack.gateway.url

    tracked = vidstats("track", TIKTOK_URL, "--data-dir", data_dir, cwd=tmp_path)
    assert tracked.returncode == 0, tracked.stderr
    assert "fetch enqueued" in tracked.stdout

    status = vidstats("status", "--data-dir", data_dir, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert {"last_refresh_at", "data_as_of", "lag_seconds"} <= set(json.loads(status.stdout))  # GET /status's names

    exported = vidstats("export", "--csv", str(tmp_path / "csv"), "--data-dir", data_dir, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert any((tmp_path / "csv").glob("*.csv"))

    stack.stop()
    assert not (stack.config.data_dir / SERVICES_FILE).exists()


def test_track_without_a_stack_or_queue_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = vidstats("track", TIKTOK_URL, "--data-dir", str(tmp_path / "none"), "--database-url",
                      "postgresql://nobody@127.0.0.1:1/x", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "make dev" in result.stderr


def test_an_unreachable_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = vidstats("status", "--database-url", "postgresql://nobody@127.0.0.1:1/x", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "cannot reach the database" in result.stderr


def test_the_generated_secret_lives_in_the_data_dir_with_mode_0600(start_stack: StackFactory) -> None:
    stack = start_stack()
    secret = stack.config.data_dir / "jwt-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert str(secret) in stack.auth_label
    assert not (stack.config.data_dir.parent / "jwt-secret").exists()


def test_a_secret_from_the_environment_is_used(start_stack: StackFactory) -> None:
    import jwt

    stack = start_stack(environ={**os.environ, "AUTH_JWT_SECRET": "s" * 40})
    assert stack.dev_token is not None
    jwt.decode(stack.dev_token, "s" * 40, algorithms=["HS256"], audience="authenticated")
    assert not (stack.config.data_dir / "jwt-secret").exists()


def test_a_second_dev_on_the_same_data_dir_says_so_and_leaves_the_first_alone(start_stack: StackFactory,
                                                                              tmp_path: Path) -> None:
    first = start_stack()
    services = (first.config.data_dir / SERVICES_FILE).read_text()
    second = vidstats("dev", "--data-dir", str(first.config.data_dir), "--port", "0", "--sqs-port", "0", cwd=tmp_path)
    assert second.returncode == 2
    assert second.stderr.startswith("vidstats dev: already running on ")
    assert len(second.stderr.strip().splitlines()) == 1
    assert (first.config.data_dir / SERVICES_FILE).read_text() == services  # the CLI still finds the first


def test_a_taken_port_is_one_line_and_exit_2(start_stack: StackFactory, tmp_path: Path) -> None:
    first = start_stack()
    assert first.sqs is not None
    sqs_port = first.sqs.endpoint_url.rpartition(":")[2]
    second = vidstats("dev", "--data-dir", str(tmp_path / "other"), "--port", "0", "--sqs-port", sqs_port,
                      cwd=tmp_path)
    assert second.returncode == 2
    assert second.stderr.strip() == f"vidstats dev: port {sqs_port} (the local SQS) is in use: stop what uses it, " \
                                    "or choose another with --sqs-port"
