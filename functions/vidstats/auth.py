"""Verifying Supabase Auth access tokens in the function, without a network call per request.

Accepted tokens:

- asymmetric (ES256 / RS256, Supabase's signing keys): checked against the project's JWKS, fetched over
  HTTPS once and cached (``AUTH_JWKS_TTL_S``, 10 minutes by default, like Supabase's own clients); an
  unknown ``kid`` triggers one early re-fetch (key rotation), at most every ``AUTH_JWKS_MIN_REFETCH_S``;
- legacy HS256 tokens, with the project's JWT secret (``AUTH_JWT_SECRET``, or ``AUTH_JWT_SECRET_ID``: a
  Secrets Manager secret holding it). Without a secret configured, HS256 tokens are refused.

Every token must carry ``exp`` (not passed), ``aud`` containing ``AUTH_AUDIENCE`` (``authenticated``),
``iss`` equal to the project's issuer (``https://<ref>.supabase.co/auth/v1``) and ``sub``; ``nbf`` and
``iat`` are honoured when present. Any other algorithm (``none`` included) is refused; the algorithm must
match the key's type, so a public key can never be used as an HMAC secret.

``AUTH_DISABLED=true`` turns verification off for local development only: it logs a loud warning, and it
is ignored (auth stays on) inside a deployed Lambda (``AWS_LAMBDA_FUNCTION_NAME`` set, not ``sam local``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    import httpx
    import jwt

logger = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = frozenset({"ES256", "RS256"})


class AuthError(Exception):
    """The request is not authenticated; the message says why (safe to return to the caller)."""


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    supabase_url: str | None = Field(default=None, validation_alias="SUPABASE_URL")
    issuer: str | None = Field(default=None, validation_alias="AUTH_ISSUER")
    audience: str = Field(default="authenticated", validation_alias="AUTH_AUDIENCE")
    jwks_url: str | None = Field(default=None, validation_alias="AUTH_JWKS_URL")
    jwt_secret: SecretStr | None = Field(default=None, validation_alias="AUTH_JWT_SECRET")
    jwt_secret_id: str | None = Field(default=None, validation_alias="AUTH_JWT_SECRET_ID")
    disabled: bool = Field(default=False, validation_alias="AUTH_DISABLED")
    leeway_s: int = Field(default=30, ge=0, le=300, validation_alias="AUTH_LEEWAY_S")
    jwks_ttl_s: int = Field(default=600, ge=10, validation_alias="AUTH_JWKS_TTL_S")
    jwks_min_refetch_s: float = Field(default=30.0, ge=0, validation_alias="AUTH_JWKS_MIN_REFETCH_S")

    def resolved_issuer(self) -> str | None:
        if self.issuer:
            return self.issuer.rstrip("/")
        if self.supabase_url:
            return self.supabase_url.rstrip("/") + "/auth/v1"
        return None

    def resolved_jwks_url(self) -> str | None:
        if self.jwks_url:
            return self.jwks_url
        issuer = self.resolved_issuer()
        return f"{issuer}/.well-known/jwks.json" if issuer else None

    def resolved_jwt_secret(self) -> str | None:
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if self.jwt_secret_id:
            from aws_lambda_powertools.utilities import parameters

            return str(parameters.get_secret(self.jwt_secret_id))
        return None

    def dev_mode(self) -> bool:
        """Auth off: only when asked for, and never in a deployed Lambda."""
        if not self.disabled:
            return False
        in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not os.environ.get("AWS_SAM_LOCAL")
        if in_lambda:
            logger.error("AUTH_DISABLED is set in a deployed Lambda: ignored, authentication stays ON")
            return False
        return True


class Claims(BaseModel):
    """The verified claims the API relies on (others are kept but not trusted for anything)."""

    model_config = ConfigDict(extra="allow")

    sub: str
    role: str | None = None
    email: str | None = None
    exp: int
    iss: str


# Dev mode (local only) is the instance's operator: an administrator (app_metadata.role), as the page-view report needs.
DEV_CLAIMS = Claims.model_validate({"sub": "00000000-0000-0000-0000-000000000000", "role": "dev", "exp": 0,
                                    "iss": "dev-mode", "app_metadata": {"role": "admin"}})


class JwksCache:
    """The project's signing keys by ``kid``: fetched once, reused until the TTL passes."""

    def __init__(self, url: str, *, ttl_s: float = 600, min_refetch_s: float = 30.0, timeout_s: float = 5.0,
                 client: httpx.Client | None = None) -> None:
        self._url = url
        self._ttl_s = ttl_s
        self._min_refetch_s = min_refetch_s
        self._timeout_s = timeout_s
        self._client = client
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> jwt.PyJWK:
        now = time.monotonic()
        with self._lock:
            fresh = self._fetched_at is not None and now - self._fetched_at < self._ttl_s
            may_refetch = self._fetched_at is None or now - self._fetched_at >= self._min_refetch_s
            if (not fresh or kid not in self._keys) and may_refetch:
                self._refresh(now)
            found = self._keys.get(kid)
        if found is None:
            raise AuthError("token signed with an unknown key")
        return found

    def _refresh(self, now: float) -> None:
        import httpx  # the JWKS is fetched once per container (cached): not worth its import at every cold start
        import jwt

        try:
            if self._client is not None:
                response = self._client.get(self._url, timeout=self._timeout_s)
            else:
                response = httpx.get(self._url, timeout=self._timeout_s)
            response.raise_for_status()
            data: Any = response.json()
            keys: dict[str, jwt.PyJWK] = {}
            for raw in data.get("keys", []) if isinstance(data, dict) else []:
                try:
                    parsed = jwt.PyJWK.from_dict(raw)
                except (jwt.PyJWTError, KeyError, TypeError, ValueError):
                    continue  # a key type this library cannot use: skip it, keep the others
                if parsed.key_id and parsed.algorithm_name in ASYMMETRIC_ALGORITHMS:
                    keys[parsed.key_id] = parsed
        except (httpx.HTTPError, ValueError) as exc:
            # Keep serving the keys we had (stale beats none); try again after min_refetch_s.
            logger.warning("could not fetch the JWKS from %s: %s", self._url, exc)
            self._fetched_at = now - self._ttl_s + self._min_refetch_s if self._keys else now
            return
        self.fetches += 1
        self._keys = keys
        self._fetched_at = now


class VerifiedTokens:
    """Tokens this function verified in the last ``ttl_s`` seconds, with their claims: a dashboard screen sends
    the same token with each of its requests, and checking its signature again (~0.5 ms) tells nothing new. A
    token is immutable (its signature covers every claim) and Supabase cannot revoke one before it expires, so a
    cached answer holds until the token's own expiry, which is checked on every use; ``ttl_s`` bounds how long a
    token stays accepted after its signing key is withdrawn from the JWKS."""

    def __init__(self, ttl_s: float = 60.0, max_tokens: int = 512) -> None:
        self._ttl_s = ttl_s
        self._max_tokens = max_tokens
        self._tokens: dict[str, tuple[Claims, float]] = {}

    def get(self, token: str, leeway_s: int) -> Claims | None:
        hit = self._tokens.get(token)
        if hit is None:
            return None
        claims, verified_at = hit
        now = time.time()
        if now - verified_at > self._ttl_s or now > claims.exp + leeway_s:
            del self._tokens[token]  # verified again (an expired token: refused as expired)
            return None
        return claims

    def put(self, token: str, claims: Claims) -> None:
        if len(self._tokens) >= self._max_tokens:
            self._tokens.clear()
        self._tokens[token] = (claims, time.time())


class TokenVerifier:
    def __init__(self, *, issuer: str | None, audience: str, jwks: JwksCache | None, hs256_secret: str | None,
                 leeway_s: int = 30) -> None:
        self._verified = VerifiedTokens()
        self._issuer = issuer
        self._audience = audience
        self._jwks = jwks
        self._hs256_secret = hs256_secret
        self._leeway_s = leeway_s

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> TokenVerifier:
        jwks_url = settings.resolved_jwks_url()
        return cls(
            issuer=settings.resolved_issuer(),
            audience=settings.audience,
            jwks=JwksCache(jwks_url, ttl_s=settings.jwks_ttl_s, min_refetch_s=settings.jwks_min_refetch_s)
            if jwks_url else None,
            hs256_secret=settings.resolved_jwt_secret(),
            leeway_s=settings.leeway_s,
        )

    def verify(self, token: str) -> Claims:
        # PyJWT loads cryptography (~40 ms of CPU): paid by the first token verified, not by the import of the
        # handler (health checks, CORS preflights and the documentation never verify one).
        import jwt

        if self._issuer is None:
            raise AuthError("authentication is not configured (no issuer)")
        verified = self._verified.get(token, self._leeway_s)
        if verified is not None:
            return verified
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError("malformed token") from exc
        alg = header.get("alg")
        key: Any
        if alg == "HS256":
            if not self._hs256_secret:
                raise AuthError("HS256 tokens are not accepted by this deployment")
            key = self._hs256_secret
        elif alg in ASYMMETRIC_ALGORITHMS:
            kid = header.get("kid")
            if not isinstance(kid, str) or self._jwks is None:
                raise AuthError("token has no usable key id")
            jwk = self._jwks.key(kid)
            if jwk.algorithm_name != alg:
                raise AuthError("token algorithm does not match its key")
            key = jwk.key
        else:
            raise AuthError(f"token algorithm {alg!r} is not accepted")
        try:
            payload = jwt.decode(
                token, key, algorithms=[alg], audience=self._audience, issuer=self._issuer,
                leeway=self._leeway_s, options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthError("token audience not accepted") from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthError("token issuer not accepted") from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthError("token signature invalid") from exc
        except jwt.PyJWTError as exc:
            raise AuthError(f"token invalid: {exc}") from exc
        try:
            claims = Claims.model_validate(payload)
        except ValueError as exc:
            raise AuthError("token claims invalid") from exc
        self._verified.put(token, claims)
        return claims


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("missing Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization header must be 'Bearer <token>'")
    return token.strip()


class Authenticator:
    """What the API calls per request: a verifier, or dev mode (no verification) when configured."""

    def __init__(self, settings: AuthSettings) -> None:
        self.dev_mode = settings.dev_mode()
        self._settings = settings
        self._verifier: TokenVerifier | None = None
        if self.dev_mode:
            logger.warning(
                "!!! AUTHENTICATION IS DISABLED (AUTH_DISABLED=true): every request is accepted without a "
                "token. Local development only; never deploy this setting. !!!")

    def authenticate(self, authorization: str | None) -> Claims:
        if self.dev_mode:
            return DEV_CLAIMS
        token = bearer_token(authorization)
        if self._verifier is None:
            self._verifier = TokenVerifier.from_settings(self._settings)
        return self._verifier.verify(token)


@lru_cache(maxsize=1)
def authenticator() -> Authenticator:
    return Authenticator(AuthSettings())
