"""Where a running ``vidstats dev`` serves, recorded in its data dir so the CLI finds it without variables."""

from __future__ import annotations

import json
from pathlib import Path

SERVICES_FILE = "services.json"


def write_services(data_dir: Path, services: dict[str, str]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / SERVICES_FILE).write_text(json.dumps(services, indent=2) + "\n", encoding="utf-8")


def read_services(data_dir: Path) -> dict[str, str] | None:
    """The services of the stack running on ``data_dir`` (written at its start, removed at its stop)."""
    try:
        services = json.loads((data_dir / SERVICES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {str(k): str(v) for k, v in services.items()} if isinstance(services, dict) else None


def remove_services(data_dir: Path) -> None:
    (data_dir / SERVICES_FILE).unlink(missing_ok=True)
