"""Every route but /health, /openapi.json and /docs needs a valid Supabase Auth access token; every way a
token can be wrong is a 401. The JWKS is served by respx (the real httpx client, replayed transport)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from vidstats.auth import DEV_CLAIMS, authenticator
from vidstats.db import Database

from tests.dashboard_api.conftest import HS256_SECRET, ISSUER, JWKS_URL, Api, hs256_token
from tests.factories import join_workspace

EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _jwk(public_key: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = ECAlgorithm if alg == "ES256" else RSAAlgorithm
    jwk: dict[str, Any] = json.loads(algorithm.to_jwk(public_key))
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


JWKS = {"keys": [_jwk(EC_KEY.public_key(), "ec-1", "ES256"), _jwk(RSA_KEY.public_key(), "rsa-1", "RS256")]}


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "7c2a0a1e-0000-4000-8000-000000000001", "aud": "authenticated", "iss": ISSUER,
            "role": "authenticated", "iat": now, "exp": now + 3600, **overrides}


def es256(key: Any = EC_KEY, kid: str = "ec-1", **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), key, algorithm="ES256", headers={"kid": kid})


def rs256(**overrides: Any) -> str:
    return jwt.encode(claims(**overrides), RSA_KEY, algorithm="RS256", headers={"kid": "rsa-1"})


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def tampered() -> str:
    header, _, signature = es256().split(".")
    return ".".join([header, _b64(claims(sub="someone-else", role="service_role")), signature])


def alg_none() -> str:
    return ".".join([_b64({"alg": "none", "typ": "JWT"}), _b64(claims()), ""])


def hs256_with_public_key_as_secret() -> str:
    pem = RSA_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"})
    payload = _b64(claims())
    import hashlib
    import hmac

    signature = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


@pytest.fixture
def jwks() -> Iterator[respx.Route]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock.get(JWKS_URL).mock(return_value=httpx.Response(200, json=JWKS))


@pytest.mark.usefixtures("api_env")
def test_asymmetric_tokens_are_verified_against_the_jwks_fetched_once(jwks: respx.Route) -> None:
    for token in (es256(), rs256(), es256(), rs256(), es256()):
        assert Api(token).get("/status").status == 200
    assert jwks.call_count == 1


@pytest.mark.usefixtures("api_env")
def test_legacy_hs256_tokens_are_verified_with_the_jwt_secret(jwks: respx.Route) -> None:
    assert Api(hs256_token()).get("/status").status == 200
    assert jwks.call_count == 0


@pytest.mark.usefixtures("api_env")
def test_an_unknown_key_id_refetches_the_jwks_once_for_rotated_keys(
        jwks: respx.Route, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_JWKS_MIN_REFETCH_S", "0")
    authenticator.cache_clear()
    assert Api(es256()).get("/status").status == 200
    rotated = {"keys": [*JWKS["keys"], _jwk(OTHER_EC_KEY.public_key(), "ec-2", "ES256")]}
    jwks.mock(return_value=httpx.Response(200, json=rotated))
    assert Api(es256(key=OTHER_EC_KEY, kid="ec-2")).get("/status").status == 200
    assert jwks.call_count == 2


BAD_TOKENS: dict[str, Callable[[], str]] = {
    "expired": lambda: es256(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
    "wrong audience": lambda: es256(aud="anon"),
    "wrong issuer": lambda: es256(iss="https://evil.supabase.co/auth/v1"),
    "wrong signature": lambda: es256(key=OTHER_EC_KEY),
    "alg none": alg_none,
    "tampered payload": tampered,
    "unknown key id": lambda: es256(kid="nobody"),
    "hs256 with the wrong secret": lambda: jwt.encode(claims(), "x" * 40, algorithm="HS256"),
    "hs256 signed with the public key (alg confusion)": hs256_with_public_key_as_secret,
    "expired hs256": lambda: hs256_token(exp=int(time.time()) - 3600),
    "no exp": lambda: jwt.encode({k: v for k, v in claims().items() if k != "exp"}, HS256_SECRET,
                                 algorithm="HS256"),
    "no sub": lambda: jwt.encode({k: v for k, v in claims().items() if k != "sub"}, HS256_SECRET,
                                 algorithm="HS256"),
    "not before in the future": lambda: rs256(nbf=int(time.time()) + 3600),
    "garbage": lambda: "not.a.jwt",
    "HS512": lambda: jwt.encode(claims(), HS256_SECRET + "x" * 40, algorithm="HS512"),
}


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_every_bad_token_is_401(jwks: respx.Route, case: str) -> None:
    reply = Api(BAD_TOKENS[case]()).get("/videos")
    assert reply.status == 401, reply
    assert reply.body["errors"][0]["field"] == "header.authorization"
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "token abc"])
def test_a_missing_or_malformed_authorization_header_is_401(authorization: str | None) -> None:
    api = Api(None)
    headers = {} if authorization is None else {"authorization": authorization}
    reply = api.call("GET", "/videos", headers=headers)
    assert reply.status == 401, reply


@pytest.mark.usefixtures("api_env")
def test_auth_is_checked_before_validation_and_routing() -> None:
    assert Api(None).get("/videos", limit=100000).status == 401
    assert Api(None).get("/no/such/route").status == 401


@pytest.mark.usefixtures("api_env")
@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/docs"])
def test_health_openapi_and_docs_need_no_token(path: str) -> None:
    assert Api(None).get(path).status == 200


@pytest.mark.usefixtures("api_env")
def test_swagger_ui_and_the_openapi_document_show_a_share_links_routes_without_the_token_lock() -> None:
    documented = Api(None).get("/openapi.json").body
    swagger_spec = Api(None).call("GET", "/docs", query={"format": "json"}).body
    for spec in (documented, swagger_spec):
        assert spec["security"] == [{"bearerAuth": []}]
        assert spec["paths"]["/shared/{token}"]["get"]["security"] == []
        assert spec["paths"]["/shared/{token}/videos"]["get"]["security"] == []
        assert "security" not in spec["paths"]["/videos"]["get"]  # the global requirement applies


@pytest.mark.usefixtures("api_env")
def test_the_jwks_endpoint_failing_is_a_401_not_a_500() -> None:
    with respx.mock() as mock:
        mock.get(JWKS_URL).mock(return_value=httpx.Response(503))
        assert Api(es256()).get("/status").status == 401


@pytest.mark.usefixtures("api_env")
def test_dev_mode_disables_auth_only_when_asked_and_says_so(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, db: Database) -> None:
    join_workspace(db, user_id=DEV_CLAIMS.sub)  # the dev-mode user is still a member of the workspace it reads
    monkeypatch.setenv("AUTH_DISABLED", "true")
    authenticator.cache_clear()
    with caplog.at_level("WARNING"):
        assert Api(None).get("/status").status == 200
    assert "AUTHENTICATION IS DISABLED" in caplog.text

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "vidstats-dashboard")  # deployed: ignored
    authenticator.cache_clear()
    assert Api(None).get("/status").status == 401


@pytest.mark.usefixtures("api_env")
def test_cors_preflight_needs_no_token_and_errors_carry_cors_headers() -> None:
    origin = {"origin": "https://dashboard.example.com"}
    preflight = Api(None).call("OPTIONS", "/videos", headers={**origin, "access-control-request-method": "GET"})
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] in {"*", origin["origin"]}  # default: any origin
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    denied = Api(None).call("GET", "/videos", headers=origin)
    assert denied.status == 401
    assert denied.headers["Access-Control-Allow-Origin"] == preflight.headers["Access-Control-Allow-Origin"]
    ok = Api(hs256_token()).call("GET", "/status", headers=origin)
    assert ok.status == 200
    assert ok.headers["Access-Control-Allow-Origin"] == preflight.headers["Access-Control-Allow-Origin"]


def test_a_token_verified_once_is_accepted_again_without_its_signature_checked_until_it_expires(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from vidstats.auth import AuthError, TokenVerifier

    verifier = TokenVerifier(issuer=ISSUER, audience="authenticated", jwks=None, hs256_secret=HS256_SECRET,
                             leeway_s=0)
    expires = int(time.time()) + 2
    token = jwt.encode(claims(exp=expires), HS256_SECRET, algorithm="HS256")
    decoded: list[str] = []
    real_decode = jwt.decode

    def counted_decode(token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted_decode)
    first = verifier.verify(token)
    assert verifier.verify(token) == first
    assert decoded == [token]  # the signature was checked once
    # Another token (a tampered copy included) is verified on its own.
    header, _, signature = token.split(".")
    with pytest.raises(AuthError, match="signature"):
        verifier.verify(".".join([header, _b64(claims(sub="someone-else", exp=expires)), signature]))
    # Past its expiry the cached token is verified again, and refused as expired.
    time.sleep(max(0.0, expires + 0.2 - time.time()))
    with pytest.raises(AuthError, match="expired"):
        verifier.verify(token)
    # A minute after it was verified a token is verified again (a key withdrawn from the JWKS stops it by then).
    later = jwt.encode(claims(), HS256_SECRET, algorithm="HS256")
    verifier.verify(later)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)
    verifier.verify(later)
    assert decoded.count(later) == 2
