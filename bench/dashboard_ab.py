"""Benchmark: GET /videos' sorts of two (or more) checkouts of this repository, interleaved on one database.

    .venv/bin/python -m bench.dashboard_ab --scale 1M before=/tmp/main after=.
    .venv/bin/python -m bench.dashboard_ab --scale 5M before=/tmp/main after=. unprepared=.@DATABASE_PREPARE=off

Loads the scale as ``bench.dashboard`` does (50,000 videos, 100 workspaces), migrated by this checkout, then
starts one worker process per ``name=DIR[@VAR=VALUE,...]`` (that checkout's code, those environment variables)
and, sort by sort, has them take turns: 10 calls each until every one made ``--repeat``. The machine's load
changes over a run; taken in turns, each side sees the same. First every worker's page of every sort is compared
(they must be identical), last each worker's CPU per call (its own, and its Postgres backend's, from /proc): a
measure that the load hardly moves. A checkout older than this one runs on this one's migrations.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

CHUNK = 10


def worker(config: dict[str, str]) -> None:
    """Answers 'pages', 'time <case> <n>' and 'cpu <case> <n>' on stdin, one JSON line each."""
    import jwt

    from bench.dashboard import BENCH_USER, ISSUER, SECRET, event, videos_cases

    os.environ.update(DATABASE_URL=config["url"], AUTH_ISSUER=ISSUER, AUTH_JWT_SECRET=SECRET,
                      POWERTOOLS_LOG_LEVEL="WARNING")
    from dashboard_api import handler

    token = jwt.encode({"sub": BENCH_USER, "aud": "authenticated", "iss": ISSUER, "exp": int(time.time()) + 86400},
                       SECRET, algorithm="HS256")
    context = type("Ctx", (), {"function_name": "bench", "memory_limit_in_mb": 512, "aws_request_id": "b",
                               "invoked_function_arn": "arn:aws:lambda:eu-west-1:1:function:bench"})()

    def call(query: dict[str, str]) -> dict[str, Any]:
        workspace = config["small"] if query.get("workspace") == "small" else config["workspace"]
        result = handler.lambda_handler(
            event("/videos", {k: v for k, v in query.items() if k != "workspace"}, token, workspace), context)
        assert result["statusCode"] == 200, result
        return json.loads(result["body"])  # type: ignore[no-any-return]

    cases = videos_cases(call, config["campaign"])

    def backend_cpu_ms(pid: int) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")

    print("ready", flush=True)
    for line in sys.stdin:
        command, _, rest = line.strip().partition(" ")
        if command == "pages":
            print(json.dumps({name: [i["id"] for i in call(q)["items"]] for name, q in cases.items()}), flush=True)
            continue
        name, count = rest.rsplit(" ", 1)
        n = int(count)
        if command == "time":
            samples = []
            for _ in range(n):
                started = time.perf_counter()
                call(cases[name])
                samples.append((time.perf_counter() - started) * 1000)
            print(json.dumps(samples), flush=True)
        else:  # cpu
            pid = handler.database().connection().info.backend_pid
            server, own = backend_cpu_ms(pid), time.process_time()
            for _ in range(n):
                call(cases[name])
            print(json.dumps([(time.process_time() - own) * 1000 / n, (backend_cpu_ms(pid) - server) / n]),
                  flush=True)


class Worker:
    def __init__(self, spec: str, config_path: Path) -> None:
        directory, _, extra = spec.partition("@")
        root = Path(directory).resolve()
        env = {**os.environ, "PYTHONPATH": f"{root / 'functions'}{os.pathsep}{root}",
               **dict(item.split("=", 1) for item in extra.split(",") if item)}
        # This file as a script (the checkout may predate it), with that checkout's code on the path.
        self.process = subprocess.Popen([sys.executable, __file__, "--worker", str(config_path)],
                                        cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._read() == "ready"

    def _read(self) -> str:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        return stdout.readline().strip()

    def ask(self, command: str) -> Any:
        stdin: IO[str] | None = self.process.stdin
        assert stdin is not None
        stdin.write(command + "\n")
        stdin.flush()
        return json.loads(self._read())

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkouts", nargs="*", help="name=DIR[@VAR=VALUE,...]")
    parser.add_argument("--scale", default="1M", choices=["1M", "5M"])
    parser.add_argument("--repeat", type=int, default=100, help="calls per sort and checkout")
    parser.add_argument("--cases", help="only these sorts (comma-separated names, as printed)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(Path(args.worker).read_text()))
        return
    if not args.checkouts or any("=" not in spec for spec in args.checkouts):
        parser.error("name at least one checkout as name=DIR")

    import psycopg

    from bench.dashboard import SCALES, load
    from bench.support import bench_database

    with tempfile.TemporaryDirectory(prefix="vidstats-bench-ab-") as tmp, \
            bench_database(Path(tmp) / args.scale) as url, psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        workspace, small = load(conn, SCALES[args.scale])
        campaign = conn.execute("select id from analytics.campaigns where name = 'bench'").fetchone()
        assert campaign is not None
        print(f"[{args.scale}] loaded in {time.perf_counter() - started:.0f} s", flush=True)
        config_path = Path(tmp) / "config.json"
        config_path.write_text(json.dumps({"url": url, "workspace": workspace, "small": small,
                                           "campaign": str(campaign[0])}))
        workers = {spec.split("=", 1)[0]: Worker(spec.split("=", 1)[1], config_path) for spec in args.checkouts}
        try:
            pages = {name: w.ask("pages") for name, w in workers.items()}
            first = next(iter(pages.values()))
            assert all(p == first for p in pages.values()), "the checkouts' pages differ"
            print(f"every sort's page identical in {', '.join(workers)}", flush=True)
            measured = [case for case in first if not args.cases or case in args.cases.split(",")]
            header = ["sort"] + [f"{name} p50 / p95 ms" for name in workers]
            table = []
            for case in measured:
                samples: dict[str, list[float]] = {name: [] for name in workers}
                for w in workers.values():
                    w.ask(f"time {case} 5")  # warm: plans, caches
                while min(len(s) for s in samples.values()) < args.repeat:
                    for name, w in workers.items():
                        samples[name] += w.ask(f"time {case} {CHUNK}")
                cells = []
                for name in workers:
                    ordered = sorted(samples[name])
                    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
                    cells.append(f"{statistics.median(ordered):.1f} / {p95:.1f}")
                table.append([case, *cells])
                print(f"[{args.scale}] {case}: " + "; ".join(f"{n} {c}" for n, c in zip(workers, cells, strict=True)),
                      flush=True)
            cpu_header = ["sort"] + [f"{name} CPU ms (python + postgres)" for name in workers]
            cpu_table = []
            for case in measured:
                cells = []
                for w in workers.values():
                    own, server = w.ask(f"cpu {case} {args.repeat}")
                    cells.append(f"{own:.1f} + {server:.1f}")
                cpu_table.append([case, *cells])
        finally:
            for w in workers.values():
                w.close()
    for head, rows in ((header, table), (cpu_header, cpu_table)):
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
        print(" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
        print("-+-".join("-" * w for w in widths))
        for r in rows:
            print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
