"""Supabase Auth's admin API (the ``supabase`` package): invite a user by e-mail, or find one who exists.

Needs the project's URL and its service-role key, which may do anything in the project: it comes from Secrets
Manager (``SUPABASE_SERVICE_ROLE_KEY_SECRET_ID``) or, locally, ``SUPABASE_SERVICE_ROLE_KEY``, and is never
logged (a ``SecretStr``; errors name the setting, not the value). ``supabase`` is imported on first use: the
dashboard's cold start does not pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from supabase import Client

# How many users one page of GET /admin/users holds while looking an address up (GoTrue's own maximum is higher).
LOOKUP_PAGE_SIZE = 1000
LOOKUP_MAX_PAGES = 100


class AuthAdminSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    # The project's URL (https://<ref>.supabase.co); by default AUTH_ISSUER without its /auth/v1.
    url: str | None = Field(default=None, validation_alias="SUPABASE_URL")
    issuer: str | None = Field(default=None, validation_alias="AUTH_ISSUER")
    service_role_key: SecretStr | None = Field(default=None, validation_alias="SUPABASE_SERVICE_ROLE_KEY")
    service_role_key_secret_id: str | None = Field(default=None,
                                                    validation_alias="SUPABASE_SERVICE_ROLE_KEY_SECRET_ID")
    # Where the invitation's link lands once the user has set their password (default: the project's Site URL).
    invite_redirect_url: str | None = Field(default=None, validation_alias="INVITE_REDIRECT_URL")

    def project_url(self) -> str | None:
        if self.url:
            return self.url.rstrip("/")
        if self.issuer and self.issuer.rstrip("/").endswith("/auth/v1"):
            return self.issuer.rstrip("/")[: -len("/auth/v1")]
        return None

    def resolve_key(self) -> str | None:
        if self.service_role_key is not None:
            return self.service_role_key.get_secret_value()
        if self.service_role_key_secret_id:
            from aws_lambda_powertools.utilities import parameters  # deployed only; cached by Powertools

            return str(parameters.get_secret(self.service_role_key_secret_id))
        return None


class AuthAdminNotConfiguredError(RuntimeError):
    pass


class AuthAdminError(Exception):
    """Supabase Auth refused or failed. ``kind``: ``invalid_email`` (the address), ``rate_limited`` (its e-mail
    or request limits: try later), ``unavailable`` (anything else: its status and message)."""

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


@dataclass(frozen=True)
class AuthUser:
    id: UUID
    email: str | None
    confirmed: bool  # False: invited (or signed up) and not yet confirmed: the membership shows as pending
    invited: bool  # True: this call sent the invitation


class AuthAdmin:
    """The few admin calls membership needs, on a ``supabase`` client made with the service-role key."""

    def __init__(self, client: Client, *, redirect_to: str | None = None) -> None:
        self._admin = client.auth.admin
        self._redirect_to = redirect_to

    @classmethod
    def from_settings(cls, settings: AuthAdminSettings | None = None, **client_options: Any) -> AuthAdmin:
        settings = settings or AuthAdminSettings()
        url, key = settings.project_url(), settings.resolve_key()
        if not url or not key:
            raise AuthAdminNotConfiguredError(
                "invitations by e-mail are not configured: set SUPABASE_SERVICE_ROLE_KEY_SECRET_ID (a Secrets "
                "Manager secret holding the project's service-role key) and AUTH_ISSUER or SUPABASE_URL")
        from supabase import ClientOptions, create_client

        options = ClientOptions(auto_refresh_token=False, persist_session=False, **client_options)
        return cls(create_client(url, key, options), redirect_to=settings.invite_redirect_url)

    def invite_or_find(self, email: str) -> AuthUser:
        """Invites ``email`` (a new user, pending until they accept), or, when Supabase Auth already knows the
        address, returns that user (``invited`` False)."""
        from supabase import AuthApiError, AuthError

        options: dict[str, Any] = {"redirect_to": self._redirect_to} if self._redirect_to else {}
        try:
            answer = self._admin.invite_user_by_email(email, options)  # type: ignore[arg-type]
        except AuthApiError as exc:
            if exc.code in ("email_exists", "user_already_exists"):
                found = self.find(email)
                if found is not None:
                    return found
            raise _classified(exc) from None
        except AuthError as exc:  # network, timeouts: no status
            raise AuthAdminError("unavailable", f"Supabase Auth could not be reached: {exc.message}") from None
        user = answer.user
        return AuthUser(UUID(str(user.id)), user.email, user.email_confirmed_at is not None, True)

    def find(self, email: str) -> AuthUser | None:
        """The user with this address (case-insensitive), walking the admin user list page by page."""
        from supabase import AuthApiError, AuthError

        wanted = email.strip().lower()
        try:
            for page in range(1, LOOKUP_MAX_PAGES + 1):
                users = self._admin.list_users(page=page, per_page=LOOKUP_PAGE_SIZE)
                for user in users:
                    if (user.email or "").lower() == wanted:
                        return AuthUser(UUID(str(user.id)), user.email, user.email_confirmed_at is not None, False)
                if len(users) < LOOKUP_PAGE_SIZE:
                    return None
        except AuthApiError as exc:
            raise _classified(exc) from None
        except AuthError as exc:
            raise AuthAdminError("unavailable", f"Supabase Auth could not be reached: {exc.message}") from None
        return None


def _classified(exc: Any) -> AuthAdminError:
    status, code, message = exc.status, exc.code, exc.message
    if status == 429 or (code or "").startswith("over_"):
        return AuthAdminError("rate_limited", f"Supabase Auth's rate limit ({code or status}): {message}; "
                                              "try again later", status)
    if status in (400, 422):
        return AuthAdminError("invalid_email", f"Supabase Auth refused the address ({code or status}): {message}",
                              status)
    return AuthAdminError("unavailable", f"Supabase Auth answered {status} ({code}): {message}", status)


@lru_cache(maxsize=1)
def auth_admin() -> AuthAdmin:
    """One client per warm Lambda (its HTTP connections are reused)."""
    return AuthAdmin.from_settings()
