"""Lambda entry point of the dashboard API (API Gateway HTTP API, payload 2.0): routing, auth, errors.

Thin on purpose: the guard in ``lambda_handler`` authenticates and authorizes every request before any route
runs (the one authorization point of this layer; Postgres' row-level security is the other); each feature's
routes (``routes/``, one Powertools router per resource) validate their input and call one function of
``vidstats.dashboard``. Every route but ``/health``, ``/openapi.json``, ``/docs``, the web dashboard's files and
``/shared/...`` needs a Supabase Auth access token (``Authorization: Bearer``).
"""

from __future__ import annotations

import json
import math
import os
import pathlib
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext
from psycopg import errors as pg_errors
from vidstats.auth import AuthError, authenticator
from vidstats.budgets import BudgetExceededError
from vidstats.dashboard import access
from vidstats.dashboard.errors import ApiError
from vidstats.dashboard.models import Health
from vidstats.error_body import ErrorBody
from vidstats.http_api import (
    FieldProblem,
    error_response,
    gate,
    install_error_handlers,
    plain_error,
    problems_of,
    strict_json_loads,
)
from vidstats.page_views.routes import page_views_router
from vidstats.web_assets import WebAssets

from dashboard_api.dependencies import current_caller, current_claims, database, read_database
from dashboard_api.routes import bloggers, campaigns, exports, meta, share_links, videos, workspace
from dashboard_api.routes.share_links import SHARE_PREFIX

__all__ = ["app", "database", "lambda_handler", "openapi_document", "read_database", "web_assets"]

logger = Logger(service="dashboard_api")

TITLE = "vidstats dashboard API"
VERSION = "1.0.0"
DESCRIPTION = """Views, likes, comments, reposts and saves of the TikTok, Instagram and YouTube videos of your
influencer campaigns, and how much each grew per day and per week.

- **Read**: `GET /videos` (filter, sort by totals or growth, page with `next_cursor`), one video and its daily or
  weekly series, campaigns with their totals and their growth inside the campaign window, creators
  (`/bloggers`), the page-view report.
- **Track**: `POST /videos` with video URLs, `POST /bloggers` for a creator's latest videos, campaigns
  (`POST /campaigns`, `POST /campaigns/{id}/videos`). Counters arrive within a minute and every night after.
- **Export**: `POST /exports` writes the workspace's Google Sheets (or, locally, CSV files) now; its spreadsheets:
  `/workspace/export-targets` (owners and editors).
- **Manage the workspace**: members and invitations by e-mail (`/workspace/members`, owners), the budget
  (`/workspace/budget`: caps on tracked videos and on-demand fetches per day; a command over a cap is 429).

Numbers come from a read model refreshed every 5 minutes: every analytics answer carries `data_as_of`, and
`GET /status` tells how fresh it is. Authenticate with a Supabase Auth access token:
`Authorization: Bearer <token>`.

**Share links**: an owner or editor makes a campaign's read-only link (`POST /campaigns/{id}/share-links`); whoever
holds its token reads that campaign's analytics and videos without an account (`GET /shared/{token}`,
`GET /shared/{token}/videos`), until it is revoked or expires (then 404, as for an unknown token).

**Page views** (`/page-views/report`) are an operator feature: readable only with an instance administrator's token
(`app_metadata.role` = `admin`, which only the Supabase service role can set); anyone else gets 403.

**Workspaces**: everything but `/me`, `/health`, `/shared/...` and the page-view report belongs to a workspace,
named by the `X-Workspace-Id` header (your workspaces and your role in each: `GET /me`). Any member reads; only
owners and editors run commands and manage share links (a viewer's is 403). Not a member of the named workspace,
or of none: 403. Another workspace's ids answer 404, as if they did not exist.

Every error has the same body: `status`, `title` and `errors`, each naming the `field` (`query.limit`,
`body.urls`, `header.content-type` ...) and what is wrong with it.
"""
PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/docs"})
# The web dashboard (vidstats.web_assets), public too: its page, sign-in configuration and hashed files.
WEB_PATHS = frozenset({"/", "/app-config.json", "/assets/{file}"})


def cors_config() -> CORSConfig:
    """``DASHBOARD_CORS_ORIGINS``: comma-separated origins allowed to call the API from a browser (``*``: any;
    tokens travel in the Authorization header, never in cookies, so no credentials mode)."""
    origins = [o.strip() for o in os.environ.get("DASHBOARD_CORS_ORIGINS", "*").split(",") if o.strip()] or ["*"]
    return CORSConfig(allow_origin=origins[0], extra_origins=origins[1:], max_age=600,
                      allow_headers=["Authorization", "Content-Type", "X-Workspace-Id"])


class DashboardResolver(APIGatewayHttpResolver):
    """Powertools' resolver, whose OpenAPI document (served at /openapi.json and shown by Swagger UI at /docs)
    says that a share link's routes need no token: Powertools drops an empty per-route security list, so the
    global bearer requirement would otherwise be shown on them."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        for path, item in (schema.paths or {}).items():
            if path.startswith(SHARE_PREFIX):
                for method in ("get", "put", "post", "delete", "patch"):
                    operation = getattr(item, method, None)
                    if operation is not None:
                        operation.security = []
        return schema


app = DashboardResolver(enable_validation=True, cors=cors_config(), json_body_deserializer=strict_json_loads)
for feature in (meta, videos, campaigns, bloggers, share_links, exports, workspace):
    app.include_router(feature.router)
# Seed 003's analytics service: the page-view report, read through this API's own (read) connection.
app.include_router(page_views_router(read_database))


@lru_cache(maxsize=1)
def web_assets() -> WebAssets:
    """The web dashboard's built files (``make web`` writes them into ``static/`` beside this module)."""
    return WebAssets.from_env(pathlib.Path(__file__).resolve().parent / "static")


# ---- the guard: which requests need what -------------------------------------------------------------------

# The routes that belong to a workspace (X-Workspace-Id); the guard in lambda_handler authorizes each request.
WORKSPACE_PREFIXES = ("/videos", "/campaigns", "/bloggers", "/exports", "/status", "/workspace")
# Operator features: instance administrators only (access.require_instance_admin).
ADMIN_PREFIXES = ("/page-views",)


def is_workspace_route(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in WORKSPACE_PREFIXES)


def is_admin_route(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in ADMIN_PREFIXES)


def is_share_route(path: str) -> bool:
    return path.startswith(SHARE_PREFIX)


def editors_only(method: str, path: str) -> bool:
    """Commands, and reading a campaign's share links (their existence is for those who manage them)."""
    return method not in ("GET", "HEAD") or path.endswith("/share-links")


# ---- errors ----------------------------------------------------------------------------------------------


@app.exception_handler(ApiError)  # type: ignore[untyped-decorator]
def handle_api_error(exc: ApiError) -> Response[str]:
    return error_response(exc.status, exc.title, [FieldProblem(field=field, message=message)
                                                  for field, message in [(exc.field, exc.message), *exc.more]])


@app.exception_handler(pg_errors.InsufficientPrivilege)  # type: ignore[untyped-decorator]
def handle_insufficient_privilege(exc: pg_errors.InsufficientPrivilege) -> Response[str]:
    """Postgres refused a write for the caller (e.g. their role changed since the guard checked)."""
    logger.warning("refused by Postgres for the caller", extra={"error": str(exc).splitlines()[0]})
    return error_response(403, "Forbidden", [FieldProblem(field=access.HEADER_FIELD,
                                                          message="you may not change this workspace")])


@app.exception_handler(BudgetExceededError)  # type: ignore[untyped-decorator]
def handle_budget_exceeded(exc: BudgetExceededError) -> Response[str]:
    """A command over one of the workspace's caps: which cap, its limit, the use, and when it frees up."""
    body = ErrorBody(status=429, title="Budget exceeded",
                     errors=[FieldProblem(field=f"budget.{exc.cap}", message=exc.message)]).model_dump(mode="json")
    body["budget"] = {"cap": exc.cap, "limit": exc.limit, "used": exc.used, "requested": exc.requested,
                      "frees_at": exc.frees_at.isoformat().replace("+00:00", "Z") if exc.frees_at else None}
    headers: dict[str, str] = {}
    if exc.frees_at is not None:
        headers["Retry-After"] = str(max(1, math.ceil((exc.frees_at - datetime.now(UTC)).total_seconds())))
    return Response(status_code=429, content_type="application/json", body=json.dumps(body), headers=headers)


def handle_validation_error(exc: RequestValidationError) -> Response[str]:
    status, problems = problems_of(exc)
    return error_response(status, "Malformed JSON body" if status == 400 else "Validation failed", problems)


install_error_handlers(app, logger, handle_validation_error)


# ---- public ----------------------------------------------------------------------------------------------


@app.get("/health", summary="Liveness (no auth, no database)", tags=["meta"])
def health() -> Health:
    return Health(status="ok")


@app.get("/openapi.json", include_in_schema=False)
def openapi_json() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=openapi_document())


def openapi_document() -> str:
    return app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION, **_security())


def _security() -> dict[str, Any]:
    # Powertools' OpenAPI models take ~0.35 s to import: only the documentation routes pay for them, on use.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {"security_schemes": {"bearerAuth": HTTPBearer(bearerFormat="JWT")}, "security": [{"bearerAuth": []}]}


@lru_cache(maxsize=1)
def enable_docs() -> None:
    """Swagger UI at /docs, registered by its first request (Powertools' swagger imports the OpenAPI models)."""
    app.enable_swagger(path="/docs", title=TITLE, version=VERSION, description=DESCRIPTION, **_security())


# ---- entry point -----------------------------------------------------------------------------------------


def _route_path(event: dict[str, Any]) -> str:
    path = str(event.get("rawPath") or "/")
    stage = (event.get("requestContext") or {}).get("stage")
    if stage and stage != "$default" and path.startswith(f"/{stage}/"):
        path = path[len(stage) + 1:]
    return path.rstrip("/") or "/"


def _cors_headers(origin: str | None) -> dict[str, str]:
    """The CORS headers Powertools would add, so a browser can read the 401 too."""
    cors = app._cors
    if cors is None or origin is None:
        return {}
    allowed = cors.allowed_origin(origin)
    return cors.to_dict(allowed) if allowed else {}


def _plain_error(event: dict[str, Any], status: int, title: str, field: str, message: str,
                 extra_headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An error answered before the resolver runs (auth, refused body), with the CORS headers a browser needs."""
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    return plain_error(event, status, title, field, message,
                       {**(extra_headers or {}), **_cors_headers(headers.get("origin"))})


def _unauthorized(event: dict[str, Any], message: str) -> dict[str, Any]:
    return _plain_error(event, 401, "Unauthorized", "header.authorization", message,
                        {"WWW-Authenticate": 'Bearer realm="vidstats"'})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    claims_set = current_claims.set(None)
    caller_set = current_caller.set(None)
    try:
        return _handle(event, context)
    finally:  # nothing of this request's identity outlives it
        current_caller.reset(caller_set)
        current_claims.reset(claims_set)


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    path = _route_path(event)
    if web_assets().serves(method, path):  # the web dashboard's page and files: public
        return web_assets().respond(path, {k.lower(): v for k, v in (event.get("headers") or {}).items()})
    if method != "OPTIONS" and path not in PUBLIC_PATHS and not is_share_route(path):
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        try:
            claims = authenticator().authenticate(headers.get("authorization"))
        except AuthError as exc:
            logger.info("unauthorized request", extra={"reason": str(exc), "path": event.get("rawPath")})
            return _unauthorized(event, str(exc))
        current_claims.set(claims.model_dump())
        if is_admin_route(path):
            try:
                access.require_instance_admin(claims.model_dump())
            except ApiError as exc:
                return _plain_error(event, exc.status, exc.title, exc.field, exc.message)
        elif is_workspace_route(path):
            try:  # the one authorization point: the caller's membership and role in the named workspace
                caller = access.authorize(database(), claims.model_dump(), headers.get(access.WORKSPACE_HEADER),
                                          edits=editors_only(method, path), needs=access.required_role(method, path))
            except ApiError as exc:
                return _plain_error(event, exc.status, exc.title, exc.field, exc.message)
            current_caller.set(caller)
    refused = gate(event)
    if refused is not None:
        return _plain_error(event, *refused)
    if path == "/docs":
        enable_docs()
    return app.resolve(event, context)


if __name__ == "__main__":  # `python -m dashboard_api.handler > openapi.json`
    print(json.dumps(json.loads(openapi_document()), indent=2))
