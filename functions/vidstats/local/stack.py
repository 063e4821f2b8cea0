"""The whole product on one machine: ``vidstats dev`` starts and wires every part template.yaml declares.

- PostgreSQL: the embedded server on a persistent folder (or ``DATABASE_URL``), migrations applied;
- SQS: moto's server on 127.0.0.1 with the template's queues, dead-letter queue and redrive policy;
- the queue processor: the template's SQS event source mapping, emulated (``poller``);
- the schedules: mv_refresh, nightly refresh, Sheets export at the template's cadences (``scheduler``),
  with on-demand runs at ``POST /_local/run/<name>``; without Google credentials the export writes CSV
  (``csv_export``) into ``<data dir>/exports``;
- the HTTP APIs on 127.0.0.1 (``http_gateway``): the dashboard API (``/docs``) and ``POST /page-views``;
- Lambda's Invoke API (``lambda_api``, ``AWS_ENDPOINT_URL_LAMBDA``), so ``POST /exports`` starts the export
  function asynchronously as in AWS.

The handlers are the real ones, imported from ``functions/``, configured through the environment exactly
as in Lambda (``DATABASE_URL``, ``FETCH_QUEUE_URL``, ``AUTH_*``...). Providers: RapidAPI when a key is
configured, else the labelled demo provider. ``stop()`` stops every part, keeps the data, and restores the
environment.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import secrets
import sys
import time
import uuid
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from vidstats.db import Database
from vidstats.local.csv_export import csv_export_handler
from vidstats.local.http_gateway import LocalFunction, LocalHttpGateway, Route, RouteTable
from vidstats.local.lambda_api import PREFIX as LAMBDA_PREFIX
from vidstats.local.lambda_api import LocalLambdaApi
from vidstats.local.poller import SqsPoller
from vidstats.local.scheduler import Job, Scheduler
from vidstats.local.services import SERVICES_FILE, read_services, remove_services, write_services
from vidstats.local.sqs import LOCAL_CREDENTIALS, LocalSqs
from vidstats.local.template import LocalTemplate, QueueSpec, local_template
from vidstats.workspaces import DEFAULT_WORKSPACE_ID

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEV_DIR = PROJECT_ROOT / ".dev"
LOCAL_ISSUER = "http://127.0.0.1/vidstats-dev/auth/v1"
DEV_USER_ID = "00000000-0000-4000-8000-00000000de00"
DEV_USER = {"id": DEV_USER_ID, "email": "dev@localhost"}
# The demo workspace's members, one per role (`vidstats dev` prints a token for each): (role, user id, e-mail).
DEMO_MEMBERS = (("owner", "00000000-0000-4000-8000-00000000de01", "owner@demo.localhost"),
                ("editor", "00000000-0000-4000-8000-00000000de02", "editor@demo.localhost"),
                ("viewer", "00000000-0000-4000-8000-00000000de03", "viewer@demo.localhost"))
PROCESSOR = "QueueProcessorFunction"
EXPORT = "SheetsExportFunction"
RAPIDAPI_KEY_VARIABLES = ("RAPIDAPI_KEY", "RAPIDAPI_KEY_SECRET_ID", "RAPIDAPI_TIKTOK_KEY", "RAPIDAPI_INSTAGRAM_KEY",
                          "RAPIDAPI_YOUTUBE_KEY")
JOB_NAMES = {"MvRefreshFunction": "mv_refresh", "NightlyRefreshFunction": "nightly_refresh",
             "SheetsExportFunction": "sheets_export"}


@dataclass
class StackConfig:
    data_dir: Path = DEV_DIR / "pgdata"
    database_url: str | None = None  # an external database instead of the embedded one
    host: str = "127.0.0.1"
    port: int = 8000  # 0: any free port
    sqs_port: int = 9324  # 0: any free port
    demo: bool = False
    auth: str = "token"  # "token": HS256 development tokens; "off": AUTH_DISABLED (loud warning)
    exports_dir: Path | None = None  # where the export writes CSV without Google credentials: <data_dir>/exports
    parameters: dict[str, Any] = field(default_factory=dict)  # template parameter overrides
    queue_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # e.g. visibility_timeout_s
    batching_window_s: float | None = None  # override MaximumBatchingWindowInSeconds
    run_schedules: bool = True  # False: only on-demand runs (tests)
    environ: MutableMapping[str, str] = field(default_factory=lambda: os.environ)


def rapidapi_configured(env: MutableMapping[str, str]) -> bool:
    return any(env.get(name) for name in RAPIDAPI_KEY_VARIABLES)


def _handler_modules(template: LocalTemplate) -> dict[str, str]:
    return {fn.logical_id: fn.handler for fn in template.functions.values()}


def load_handler(handler: str) -> Callable[[dict[str, Any], Any], Any] | None:
    """The handler function, or None when its module is not in this checkout (a function still being built)."""
    module_name, _, attr = handler.rpartition(".")
    if importlib.util.find_spec(module_name.split(".")[0]) is None or importlib.util.find_spec(module_name) is None:
        return None
    module = importlib.import_module(module_name)
    function: Callable[[dict[str, Any], Any], Any] = getattr(module, attr)
    return function


def reset_process_state(modules: list[ModuleType]) -> None:
    """Closes and forgets what the handlers cached (connections, settings, clients), as a cold start would:
    in the handler modules, the other modules of their function's package (a handler's routes and
    dependencies), and the shared settings."""
    import vidstats.auth
    import vidstats.settings

    packages = {module.__name__.partition(".")[0] for module in modules}
    package_modules = [module for name, module in list(sys.modules.items())
                       if module is not None and name.partition(".")[0] in packages and module not in modules]
    for module in [*modules, *package_modules, vidstats.settings, vidstats.auth]:
        for name, value in list(vars(module).items()):
            if not (callable(value) and hasattr(value, "cache_clear") and hasattr(value, "cache_info")):
                continue
            if value.cache_info().currsize:
                cached = value()
                if isinstance(cached, Database):
                    cached.close()
                executor = getattr(cached, "_executor", None)
                if executor is not None:
                    executor.shutdown(wait=True)
            value.cache_clear()
            log.debug("cleared %s.%s", module.__name__, name)


def mint_dev_token(secret: str, *, issuer: str = LOCAL_ISSUER, days: int = 30, sub: str = DEV_USER_ID,
                   email: str = "dev@localhost", admin: bool = True) -> str:
    """A development access token; the developer's own (the default) is also the instance's administrator
    (``app_metadata.role``, as an operator's token would be), the demo members' are not."""
    import jwt

    now = int(time.time())
    claims: dict[str, object] = {"sub": sub, "aud": "authenticated", "iss": issuer, "role": "authenticated",
                                 "email": email, "iat": now, "exp": now + days * 86400}
    if admin:
        claims["app_metadata"] = {"role": "admin", "provider": "email"}
    return jwt.encode(claims, secret, algorithm="HS256")


class LocalSecretError(RuntimeError):
    """The stored development secret cannot be trusted (not a private regular file of this user)."""


class LocalStackError(RuntimeError):
    """The stack cannot start as configured (one line for the user, no traceback)."""


class StackAlreadyRunningError(LocalStackError):
    """Another ``vidstats dev`` serves this data dir (its database, its services.json)."""


def ensure_port_free(host: str, port: int, what: str, option: str) -> None:
    """Refuses a taken port up front: moto's server thread would otherwise exit and leave its start waiting."""
    if not port:
        return
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is free
        try:
            probe.bind((host, port))
        except OSError:
            raise LocalStackError(f"port {port} ({what}) is in use: stop what uses it, or choose another with "
                                  f"{option}") from None


def running_stack(data_dir: Path) -> dict[str, str] | None:
    """The services of another live process's stack on ``data_dir`` (a file left by a killed one is ignored)."""
    services = read_services(data_dir)
    if services is None or not services.get("pid", "").isdigit() or int(services["pid"]) == os.getpid():
        return None
    try:
        os.kill(int(services["pid"]), 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return services


def dev_jwt_secret(data_dir: Path) -> tuple[str, Path]:
    """The local HS256 secret and its file, ``<data dir>/jwt-secret``: created once with mode 0600 (tokens stay
    valid across restarts), and read back only if it is still a regular file of this user that nobody else
    can read or write."""
    path = data_dir / "jwt-secret"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        info = path.lstat()
        import stat

        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise LocalSecretError(f"{path} is not a private file of this user (mode 0600): delete it to make a "
                                   "new one") from None
        return path.read_text(encoding="utf-8").strip(), path
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(secret + "\n")
    return secret, path




class LocalStack:
    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.exports_dir = (self.config.exports_dir or self.config.data_dir / "exports").resolve()
        self.template: LocalTemplate | None = None
        self.database_url = ""
        self.database_label = ""
        self.provider_label = ""
        self.auth_label = ""
        self.dev_token: str | None = None
        self._dev_signing: tuple[str, str] | None = None  # (secret, issuer) of the development tokens
        self.demo_tokens: dict[str, str] = {}  # role -> token of the demo workspace's member with that role
        self.sqs: LocalSqs | None = None
        self.poller: SqsPoller | None = None
        self.scheduler: Scheduler | None = None
        self.gateway: LocalHttpGateway | None = None
        self.lambda_api: LocalLambdaApi | None = None
        self.functions: dict[str, LocalFunction] = {}
        self.demo_summary: str | None = None
        self.started_in_s = 0.0
        self._server: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._modules: list[ModuleType] = []
        self._owner_db: Database | None = None
        self._wrote_services = False

    # ---- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> LocalStack:
        started = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.started_in_s = time.monotonic() - started
        return self

    def _start(self) -> None:
        config = self.config
        env = config.environ
        other = running_stack(config.data_dir)
        if other is not None:
            raise StackAlreadyRunningError(  # checked before any part starts: nothing of the running one is touched
                f"already running on {config.data_dir} (pid {other['pid']}, API {other.get('api_url')}): use it, stop "
                "it (Ctrl-C in its terminal), or start another with --data-dir, --port and --sqs-port")
        ensure_port_free(config.host, config.port, "the HTTP APIs", "--port")
        ensure_port_free(config.host, config.sqs_port, "the local SQS", "--sqs-port")
        template = self.template = local_template(config.parameters)
        for logical_id, changes in config.queue_overrides.items():
            spec = template.queues[logical_id]
            template.queues[logical_id] = QueueSpec(**{**spec.__dict__, **changes})

        self._start_database()
        region = env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1"
        self.sqs = LocalSqs(host=config.host, port=config.sqs_port, region=region)
        self.sqs.start()
        queues = self.sqs.create_queues(template)
        processor_spec = template.function(PROCESSOR)
        queue_id = processor_spec.sqs_events[0].queue

        settings: dict[str, str] = {
            "DATABASE_URL": self.database_url,
            "FETCH_QUEUE_URL": queues[queue_id].url,
            "AWS_ENDPOINT_URL_SQS": self.sqs.endpoint_url,
            "AWS_DEFAULT_REGION": region,
            "POWERTOOLS_METRICS_DISABLED": env.get("POWERTOOLS_METRICS_DISABLED", "true"),
            "POWERTOOLS_LOG_LEVEL": env.get("POWERTOOLS_LOG_LEVEL") or str(template.parameters.get("LogLevel")),
        }
        if not env.get("AWS_ACCESS_KEY_ID") and not env.get("AWS_PROFILE"):
            settings.update(LOCAL_CREDENTIALS)
        if rapidapi_configured(env):
            self.provider_label = "RapidAPI (a key is configured)"
            settings["VIDSTATS_DEMO_PROVIDER"] = "false"
        else:
            self.provider_label = "DEMO provider: synthetic counters (no RAPIDAPI_KEY configured)"
            settings["VIDSTATS_DEMO_PROVIDER"] = "true"
        settings.update(self._auth_settings())
        self._apply_env(settings)

        handlers = {logical_id: load_handler(handler) for logical_id, handler in _handler_modules(template).items()}
        self._modules = [importlib.import_module(h.rpartition(".")[0])
                         for lid, h in _handler_modules(template).items() if handlers[lid] is not None]
        reset_process_state(self._modules)  # start cold, with this environment
        for logical_id, handler in handlers.items():
            if handler is not None:
                function_spec = template.function(logical_id)
                if logical_id == EXPORT and not self._google_configured():
                    handler = csv_export_handler(self.database_url, self.exports_dir)
                self.functions[logical_id] = LocalFunction(logical_id, handler, function_spec.timeout_s,
                                                           function_spec.memory_mb)

        self._dev_memberships()
        if config.demo:
            from vidstats.local.demo_data import load_demo_data

            load = load_demo_data(self.owner_database())
            self.demo_summary = (f"loaded: {load.videos} videos, {load.snapshots} snapshots over {load.days + 1} days"
                                 if load.created else "already loaded (kept)")
            self.demo_summary += f"; campaign {load.campaign_id}"

        event = processor_spec.sqs_events[0]
        if config.batching_window_s is not None:
            event = type(event)(**{**event.__dict__, "batching_window_s": config.batching_window_s})
        self.poller = SqsPoller(self.sqs.client(), queues[queue_id], event, self.functions[PROCESSOR].invoke_raw,
                                function_name=PROCESSOR, timeout_s=processor_spec.timeout_s,
                                memory_mb=processor_spec.memory_mb)
        self.poller.start()

        self.scheduler = Scheduler(self._jobs())
        if config.run_schedules:
            self.scheduler.start()

        routes = [Route.of(route, self.functions[fn.logical_id])
                  for fn in template.functions.values() if fn.logical_id in self.functions for route in fn.routes]
        self.lambda_api = LocalLambdaApi(self.functions, region=region)
        self.gateway = LocalHttpGateway(RouteTable(routes), host=config.host, port=config.port, control=self._control,
                                        mounts={LAMBDA_PREFIX: self.lambda_api.serve})
        # The functions reach each other through the Invoke API, as in AWS (the gateway's port is known now).
        invoke_settings = {"AWS_ENDPOINT_URL_LAMBDA": self.gateway.url + LAMBDA_PREFIX}
        if EXPORT in self.functions:
            invoke_settings["SHEETS_EXPORT_FUNCTION_NAME"] = EXPORT
            invoke_settings["SHEETS_EXPORT_DESTINATION"] = self._export_destination()
        self._apply_env(invoke_settings)
        self.lambda_api.start()
        self.gateway.start()
        self._write_services(settings)

    def _google_configured(self) -> bool:
        return bool(self.config.environ.get("GOOGLE_SERVICE_ACCOUNT_SECRET_ID"))

    def _export_destination(self) -> str:
        """What ``POST /exports`` answers about where the export writes and how to follow it."""
        assert self.gateway is not None
        follow = f"the run's outcome: GET {self.gateway.url}/_local/status (invocations)"
        if self._google_configured():
            return f"Google Sheets (the workspace's export targets); {follow}"
        return f"CSV files in {self.exports_dir} (no Google credentials configured locally); {follow}"

    def _write_services(self, settings: dict[str, str]) -> None:
        """Where everything runs, for the CLI (``vidstats track`` ... find this stack without any variable)."""
        assert self.gateway is not None
        services = {"api_url": self.gateway.url, "database_url": self.database_url,
                    "fetch_queue_url": settings["FETCH_QUEUE_URL"], "sqs_endpoint": settings["AWS_ENDPOINT_URL_SQS"],
                    "region": settings["AWS_DEFAULT_REGION"], "exports_dir": str(self.exports_dir),
                    "pid": str(os.getpid())}
        write_services(self.config.data_dir, services)
        self._wrote_services = True

    def stop(self) -> None:
        """Stops every part (the data stays in the data folder) and restores the environment."""
        for part in (self.gateway, self.lambda_api, self.scheduler, self.poller, self.sqs):
            if part is not None:
                try:
                    part.stop()
                except Exception:
                    log.exception("stopping %s failed", type(part).__name__)
        self.gateway = self.lambda_api = self.scheduler = self.poller = self.sqs = None
        if self._wrote_services:  # never another stack's (a second start on the same data dir fails)
            remove_services(self.config.data_dir)
            self._wrote_services = False
        reset_process_state(self._modules)
        if self._owner_db is not None:
            self._owner_db.close()
            self._owner_db = None
        if self._server is not None:
            self._server.cleanup()
            self._server = None
        for name, value in self._saved_env.items():
            if value is None:
                self.config.environ.pop(name, None)
            else:
                self.config.environ[name] = value
        self._saved_env = {}

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # ---- parts -----------------------------------------------------------------------------------------

    def _start_database(self) -> None:
        external = self.config.database_url or self.config.environ.get("DATABASE_URL")
        if external:
            from vidstats.migrations import migrate

            migrate(external)
            self.database_url = external
            self.database_label = "DATABASE_URL (migrated)"
            return
        from vidstats.cli import start_local_database

        self._server, self.database_url = start_local_database(self.config.data_dir.resolve())
        self.database_label = f"embedded PostgreSQL, data in {self.config.data_dir}"

    def _auth_settings(self) -> dict[str, str]:
        env = self.config.environ
        if self.config.auth == "off":
            self.auth_label = "OFF (AUTH_DISABLED=true): every request is accepted without a token. Local only."
            return {"AUTH_DISABLED": "true"}
        if env.get("AUTH_ISSUER") or env.get("SUPABASE_URL"):
            issuer = env.get("AUTH_ISSUER") or f"{env.get('SUPABASE_URL', '').rstrip('/')}/auth/v1"
            self.auth_label = f"Supabase Auth tokens from {issuer}"
            if env.get("AUTH_JWT_SECRET"):
                self._mint_tokens(env["AUTH_JWT_SECRET"], issuer)
            return {"AUTH_DISABLED": "false"}
        if env.get("AUTH_JWT_SECRET"):  # a secret given without an issuer: used, with the local issuer
            self._mint_tokens(env["AUTH_JWT_SECRET"], LOCAL_ISSUER)
            self.auth_label = "ON: HS256 tokens signed with AUTH_JWT_SECRET (from the environment)"
            return {"AUTH_DISABLED": "false", "AUTH_ISSUER": LOCAL_ISSUER, "AUTH_AUDIENCE": "authenticated"}
        secret, path = dev_jwt_secret(self.config.data_dir.resolve())
        self._mint_tokens(secret, LOCAL_ISSUER)
        self.auth_label = f"ON: HS256 development tokens (secret in {path}, mode 0600)"
        return {"AUTH_DISABLED": "false", "AUTH_ISSUER": LOCAL_ISSUER, "AUTH_JWT_SECRET": secret,
                "AUTH_AUDIENCE": "authenticated"}

    def _mint_tokens(self, secret: str, issuer: str) -> None:
        self._dev_signing = (secret, issuer)
        self.dev_token = mint_dev_token(secret, issuer=issuer)
        self.demo_tokens = {role: mint_dev_token(secret, issuer=issuer, sub=user_id, email=email, admin=False)
                            for role, user_id, email in DEMO_MEMBERS}

    def _apply_env(self, settings: dict[str, str]) -> None:
        env = self.config.environ
        for name, value in settings.items():
            self._saved_env.setdefault(name, env.get(name))
            env[name] = value

    def _dev_memberships(self) -> None:
        """The development token's user (and, without auth, the dev-mode user) own the Default workspace, where
        the demo data and `vidstats track` land: the demo workspace, with one member per role, so every role
        can be tried."""
        from vidstats.auth import DEV_CLAIMS
        from vidstats.workspaces import WorkspaceRole, add_member

        conn = self.owner_database().connection()
        with conn.transaction():
            # With their e-mail, as an invitation records it: the members list (and the web's Members screen)
            # names them.
            add_member(conn, DEFAULT_WORKSPACE_ID, uuid.UUID(DEV_USER_ID), WorkspaceRole.OWNER, email=DEV_USER["email"])
            add_member(conn, DEFAULT_WORKSPACE_ID, uuid.UUID(DEV_CLAIMS.sub), WorkspaceRole.OWNER)
            for role, user_id, email in DEMO_MEMBERS:
                add_member(conn, DEFAULT_WORKSPACE_ID, uuid.UUID(user_id), WorkspaceRole(role), email=email)

    def owner_database(self) -> Database:
        """A connection as the login user (the project owner), outside any function role."""
        if self._owner_db is None:
            self._owner_db = Database(self.database_url, application_name="vidstats-dev")
        return self._owner_db

    def _jobs(self) -> list[Job]:
        assert self.template is not None
        jobs: list[Job] = []
        for logical_id, name in JOB_NAMES.items():
            spec = self.template.functions.get(logical_id)
            if spec is None or not spec.schedules or logical_id not in self.functions:
                continue
            schedule = spec.schedules[0]
            payload = json.loads(schedule.input) if schedule.input else {}
            jobs.append(Job(name=name, expression=schedule.expression, run=self._invoker(logical_id, payload),
                            enabled=schedule.enabled))
        return jobs

    def _invoker(self, logical_id: str, payload: dict[str, Any]) -> Callable[[], Any]:
        function = self.functions[logical_id]
        return lambda: function.invoke(dict(payload))

    # ---- on-demand triggers and status ------------------------------------------------------------------

    def run_job(self, name: str) -> Any:
        assert self.scheduler is not None
        return self.scheduler.run_now(name)

    def status(self) -> dict[str, Any]:
        assert self.sqs is not None
        assert self.scheduler is not None
        assert self.poller is not None
        assert self.lambda_api is not None
        return {
            "queues": {q.name: self.sqs.depth(lid) for lid, q in self.sqs.queues.items()},
            "queue_processor": self.poller.stats.__dict__,
            "schedules": [{"name": j.name, "expression": j.expression, "enabled": j.enabled,
                           "next_run": j.next_at, "runs": j.runs, "last_error": j.last_error}
                          for j in self.scheduler.jobs.values()],
            "invocations": self.lambda_api.status(),  # through the local Invoke API (POST /exports), latest first
        }

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        if method == "GET" and path == "status":
            return 200, self.status()
        if path == "dev-sign-in" and method in ("GET", "POST"):
            return self._dev_sign_in(method, body)
        if method == "POST" and path.startswith("run/"):
            name = path.removeprefix("run/")
            if self.scheduler is None or name not in self.scheduler.jobs:
                return 404, {"message": f"no schedule {name!r}", "schedules": sorted(JOB_NAMES.values())}
            try:
                return 200, {"schedule": name, "result": self.run_job(name)}
            except Exception as exc:
                return 500, {"schedule": name, "error": f"{type(exc).__name__}: {exc}"}
        return 404, {"message": "GET /_local/status, POST /_local/run/<mv_refresh|nightly_refresh|sheets_export>, "
                                "GET|POST /_local/dev-sign-in"}

    def _dev_sign_in(self, method: str, body: bytes) -> tuple[int, Any]:
        """The web dashboard's one-click sign-in in ``make dev``: GET lists the development users (the developer,
        an instance administrator, and the demo workspace's owner, editor and viewer), POST ``{"email"}`` mints
        that user's token (as the printed ones). Only the local stack serves ``/_local/``: a deployed API has
        none."""
        if self.config.auth == "off":
            return 200, {"users": [DEV_USER], "access_token": None, "auth": "off"}
        if self._dev_signing is None:
            return 404, {"message": "no development sign-in: tokens come from the configured Supabase Auth"}
        users = {DEV_USER["email"]: (DEV_USER_ID, True)}
        users.update({email: (user_id, False) for _, user_id, email in DEMO_MEMBERS})
        listed = [{"id": user_id, "email": email, "role": role} for role, user_id, email in DEMO_MEMBERS]
        if method == "GET":
            return 200, {"users": [DEV_USER, *listed]}
        try:
            email = json.loads(body or b"{}").get("email") or DEV_USER["email"]
        except (ValueError, AttributeError):
            return 400, {"message": 'the body is {"email": "<one of GET /_local/dev-sign-in\'s users>"}'}
        if email not in users:
            return 404, {"message": f"no development user {str(email)[:100]!r}", "users": sorted(users)}
        user_id, admin = users[email]
        secret, issuer = self._dev_signing
        days = 1
        token = mint_dev_token(secret, issuer=issuer, days=days, sub=user_id, email=email, admin=admin)
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": days * 86400,
                     "user": {"id": user_id, "email": email}}

    @staticmethod
    def _cli() -> str:
        """How to call the CLI from another terminal: its path in the virtualenv unless it is on PATH."""
        import shutil
        import sys

        local = Path(sys.prefix) / "bin" / "vidstats"
        if shutil.which("vidstats") == str(local) or not local.exists():
            return "vidstats"
        try:
            return str(local.relative_to(Path.cwd()))
        except ValueError:
            return str(local)

    # ---- what runs where -------------------------------------------------------------------------------

    def describe(self) -> list[str]:
        assert self.gateway is not None
        assert self.sqs is not None
        assert self.scheduler is not None
        url = self.gateway.url
        lines = [
            f"vidstats dev: ready in {self.started_in_s:.1f} s",
            f"  Web dashboard   {url}/   (open it in a browser: \"Development sign-in\")",
            f"  Dashboard API   {url}   (Swagger UI: {url}/docs, OpenAPI: {url}/openapi.json)",
        ]
        if "PageViewsIncrementsFunction" in self.functions:
            lines.append(f"  Page views      POST {url}/page-views   (IAM auth not emulated locally)")
        lines += [
            f"  PostgreSQL      {self.database_label}",
            f"                  psql '{self.database_url}'",
            f"  SQS (moto)      {self.sqs.endpoint_url}",
        ]
        for queue in self.sqs.queues.values():
            redrive = (f", to {self.sqs.queues[queue.spec.dead_letter_target].name} after "
                       f"{queue.spec.max_receive_count} receives") if queue.spec.dead_letter_target else ""
            lines.append(f"                  {queue.url}  (visibility {queue.spec.visibility_timeout_s} s{redrive})")
        if self.poller is not None:
            ev = self.poller.event
            lines.append(f"  Queue processor batches of {ev.batch_size}, window {ev.batching_window_s:g} s, "
                         f"partial batch responses: {'on' if ev.report_batch_item_failures else 'off'}")
        lines.append("  Schedules       (template.yaml; run one now: curl -X POST "
                     f"{url}/_local/run/<name>; status: {url}/_local/status)")
        for name, expression, next_at in self.scheduler.describe():
            when = next_at.strftime("%Y-%m-%d %H:%M:%S UTC") if next_at else "on demand only"
            lines.append(f"                  {name:<16} {expression:<22} next: {when}")
        if "sheets_export" in self.scheduler.jobs and not self._google_configured():
            lines.append("                  (no Google credentials: sheets_export and POST /exports write CSV to "
                         f"{self.exports_dir})")
        lines.append(f"  Provider        {self.provider_label}")
        if self.demo_summary:
            lines.append(f"  Demo data       {self.demo_summary}")
        lines.append(f"  Auth            {self.auth_label}")
        if self.dev_token:
            # One line to paste into another terminal: the README's curl examples use $TOKEN and $WORKSPACE.
            lines += ["  Development token (valid 30 days; Swagger UI: Authorize, paste what follows TOKEN=, and send"
                      f" X-Workspace-Id {DEFAULT_WORKSPACE_ID}; for curl in another terminal, paste the whole line):",
                      f"    export TOKEN={self.dev_token} WORKSPACE={DEFAULT_WORKSPACE_ID}",
                      f"    curl -H \"Authorization: Bearer $TOKEN\" -H \"X-Workspace-Id: $WORKSPACE\" {url}/videos"]
            if self.demo_tokens:
                members = ", ".join(f"{role} {email}" for role, _, email in DEMO_MEMBERS)
                exports = " ".join(f"TOKEN_{role.upper()}={token}" for role, token in self.demo_tokens.items())
                lines += [f"  Demo workspace  {DEFAULT_WORKSPACE_ID}: {members} (the token above is its owner"
                          " and the instance's administrator); to try each role, paste:",
                          f"    export {exports} WORKSPACE={DEFAULT_WORKSPACE_ID}"]
        elif self.config.auth == "off":
            lines.append("  !!! AUTHENTICATION IS DISABLED: never use AUTH_DISABLED outside this machine !!!")
        lines.append(f"  Track a video   curl -X POST {url}/videos -H \"Authorization: Bearer $TOKEN\" "
                     "-H \"X-Workspace-Id: $WORKSPACE\" "
                     "-H 'content-type: application/json' -d '{\"urls\": [\"https://www.tiktok.com/@user/video/<id>\"]}'")
        data_dir = "" if self.config.data_dir.resolve() == DEV_DIR.joinpath("pgdata").resolve() else (
            f" --data-dir {self.config.data_dir}")
        lines.append(f"  CLI             {self._cli()} track URL... | status | refresh | verify | export --csv DIR"
                     f"{data_dir}   (it finds this stack through {self.config.data_dir / SERVICES_FILE})")
        lines.append("Press Ctrl-C to stop; the data is kept for the next start.")
        return lines
