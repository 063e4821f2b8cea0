"""Runs the real Supabase CLI (pinned in package.json, installed into node_modules) against a test database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from vidstats.local.embedded import for_go_clients

REPO_ROOT = Path(__file__).resolve().parents[1]
SUPABASE_CLI = REPO_ROOT / "node_modules" / ".bin" / "supabase"


def run_supabase(*args: str, db_url: str, workdir: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    if not SUPABASE_CLI.exists():
        pytest.fail("The Supabase CLI is missing: run `npm install` (make test does) to install it.")
    return subprocess.run(
        [str(SUPABASE_CLI), *args, "--db-url", for_go_clients(db_url)],
        cwd=workdir, capture_output=True, text=True, timeout=120, check=False,
    )
