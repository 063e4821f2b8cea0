"""Benchmark: what importing each Lambda handler costs over the libraries no handler can avoid.

    .venv/bin/python -m bench.cold_start [--runs 7]

A Lambda cold start imports the handler module before the first event; this measures that import, each time
in a fresh interpreter (a new process, as a new container is), the runs of every subject interleaved so a busy
moment of the machine hits all of them alike, and reports the median. The baseline, measured in the same run,
is what every handler needs anyway: Powertools' logger, psycopg and pydantic (``BaseModel``: ``import pydantic``
alone loads next to nothing, pydantic imports its machinery lazily); the HTTP functions' baseline adds
Powertools' event handler (their router). Target: every handler within 150 ms of its baseline. Interpreter
start-up is not counted (the same for all, and Lambda's runtime pays it before the handler import).

The verdict uses the CPU time of the import (``time.process_time``): an import is CPU-bound once its files are
cached, and on a machine shared with other work wall time swings two- to threefold from run to run while CPU
time stays within a few percent. Wall-clock medians are printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"
TARGET_MS = 150.0

BASELINE = "from aws_lambda_powertools import Logger\nimport psycopg\nfrom pydantic import BaseModel"
HTTP_BASELINE = BASELINE + "\nfrom aws_lambda_powertools.event_handler import APIGatewayHttpResolver"


@dataclass(frozen=True)
class Subject:
    name: str
    code: str
    baseline: str | None = None  # the subject whose figure this one is compared with


SUBJECTS = (
    Subject("baseline", BASELINE),
    Subject("baseline (http)", HTTP_BASELINE),
    Subject("mv_refresh", "import mv_refresh.handler", "baseline"),
    Subject("queue_processor", "import queue_processor.handler", "baseline"),
    Subject("nightly_refresh", "import nightly_refresh.handler", "baseline"),
    Subject("sheets_export", "import sheets_export.handler", "baseline"),
    Subject("dashboard_api", "import dashboard_api.handler", "baseline (http)"),
    Subject("page_views_increments", "import page_views_increments.handler", "baseline (http)"),
)

# Times the import inside the child, so interpreter start-up is left out.
PROBE = """
import time
cpu, wall = time.process_time(), time.perf_counter()
exec(compile({code!r}, "<cold start>", "exec"))
print(time.process_time() - cpu, time.perf_counter() - wall)
"""


def lambda_like_environment() -> dict[str, str]:
    """What a deployed function has at import time (no secrets needed: handlers read them on first use)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "POWERTOOLS_"))}
    env.update({
        "PYTHONPATH": str(FUNCTIONS),  # byte code is written and reused, as the deployed artefact's is
        "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "eu-west-1"),
        "POWERTOOLS_METRICS_NAMESPACE": "vidstats",
        "DATABASE_URL_SECRET_ID": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
        "AUTH_ISSUER": "https://abcdefghijklmnop.supabase.co/auth/v1",
    })
    return env


def measure_once(subject: Subject, env: dict[str, str]) -> tuple[float, float]:
    """CPU and wall-clock seconds the subject's import took in a new interpreter."""
    out = subprocess.run([sys.executable, "-c", PROBE.format(code=subject.code)], env=env, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{subject.name}: import failed\n{out.stderr}")
    cpu, wall = out.stdout.strip().splitlines()[-1].split()
    return float(cpu), float(wall)


def measure(runs: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Milliseconds per run and subject: CPU time, wall time."""
    env = lambda_like_environment()
    for subject in SUBJECTS:  # a first, uncounted import compiles and caches the byte code
        measure_once(subject, env)
    cpu: dict[str, list[float]] = {s.name: [] for s in SUBJECTS}
    wall: dict[str, list[float]] = {s.name: [] for s in SUBJECTS}
    for _ in range(runs):
        for subject in SUBJECTS:
            cpu_s, wall_s = measure_once(subject, env)
            cpu[subject.name].append(cpu_s * 1000)
            wall[subject.name].append(wall_s * 1000)
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per subject (median reported)")
    parser.add_argument("--json", action="store_true", help="print the medians as JSON instead of a table")
    args = parser.parse_args()

    cpu, wall = measure(args.runs)
    medians = {name: statistics.median(values) for name, values in cpu.items()}
    wall_medians = {name: statistics.median(values) for name, values in wall.items()}
    if args.json:
        print(json.dumps({"cpu_ms": medians, "wall_ms": wall_medians}))
        return
    header = ("import", "CPU ms", "min-max", "baseline", "baseline ms", "difference ms", f"<= {TARGET_MS:.0f}",
              "wall ms", "wall difference")
    rows = []
    missed = []
    for subject in SUBJECTS:
        values = cpu[subject.name]
        spread = f"{min(values):.0f}-{max(values):.0f}"
        if subject.baseline is None:
            rows.append((subject.name, f"{medians[subject.name]:.0f}", spread, "", "", "", "",
                         f"{wall_medians[subject.name]:.0f}", ""))
            continue
        difference = medians[subject.name] - medians[subject.baseline]
        ok = difference <= TARGET_MS
        if not ok:
            missed.append(subject.name)
        rows.append((subject.name, f"{medians[subject.name]:.0f}", spread, subject.baseline,
                     f"{medians[subject.baseline]:.0f}", f"{difference:+.0f}", "yes" if ok else "NO",
                     f"{wall_medians[subject.name]:.0f}",
                     f"{wall_medians[subject.name] - wall_medians[subject.baseline]:+.0f}"))
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    print(f"{args.runs} fresh interpreters per import, medians (CPU time decides); Python {sys.version.split()[0]}")
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    print("targets met" if not missed else f"TARGETS MISSED: {', '.join(missed)}")


if __name__ == "__main__":
    main()
