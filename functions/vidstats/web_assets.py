"""The web dashboard's built files (``web/``, bundled by esbuild), served by the dashboard API at ``/``.

The build writes ``index.html`` and content-hashed files under ``assets/`` into one folder (the dashboard function
ships it): ``index.html`` is revalidated on every load (``no-cache``), a hashed file never changes, so browsers
keep it a year. Every answer carries a strict Content-Security-Policy: scripts and styles from this origin only
(no inline script), API calls to this origin and the project's Supabase Auth. ``/app-config.json`` tells the page
how to sign in (the Supabase URL and its publishable key, public by design; absent locally).

Standard library only: a dashboard cold start pays for none of this until a page is asked for.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

INDEX = "index.html"
CONFIG_PATH = "/app-config.json"
ASSET = re.compile(r"^/assets/[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
YEAR = 31_536_000
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".html": "text/html; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
                 ".png": "image/png", ".woff2": "font/woff2", ".map": "application/json", ".txt": "text/plain"}
COMPRESSIBLE = (".js", ".css", ".html", ".json", ".svg", ".map", ".txt")
NOT_BUILT = "The web dashboard is not built in this deployment: run `make web` (make dev, make test and make build " \
            "run it)."


def supabase_origin(url: str | None) -> str | None:
    """``https://<ref>.supabase.co`` from the project URL, or None when unset; a malformed one is refused (it
    goes into a response header)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?", parts.netloc):
        raise ValueError(f"SUPABASE_URL must be an http(s) URL, got {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(connect: list[str]) -> str:
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "font-src 'self'", "connect-src " + " ".join(["'self'", *connect]), "object-src 'none'",
        "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ])


@dataclass
class WebAssets:
    root: Path
    supabase_url: str | None = None
    supabase_key: str | None = None
    _gzipped: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def from_env(cls, root: Path) -> WebAssets:
        url = os.environ.get("SUPABASE_URL") or None
        supabase_origin(url)  # refuse a malformed one at the first page, loudly
        return cls(root=root, supabase_url=url.rstrip("/") if url else None,
                   supabase_key=os.environ.get("SUPABASE_PUBLISHABLE_KEY") or None)

    def serves(self, method: str, path: str) -> bool:
        return method in ("GET", "HEAD") and (path in ("/", CONFIG_PATH) or bool(ASSET.match(path)))

    def headers(self, content_type: str, cache: str) -> dict[str, str]:
        origin = supabase_origin(self.supabase_url)
        return {"content-type": content_type, "cache-control": cache,
                "content-security-policy": content_security_policy([origin] if origin else []),
                "x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
                "x-frame-options": "DENY"}

    def config(self) -> dict[str, Any]:
        """What the page needs to sign in: Supabase Auth when both the URL and the publishable key are set."""
        auth = ({"supabase_url": self.supabase_url, "supabase_key": self.supabase_key}
                if self.supabase_url and self.supabase_key else None)
        return {"auth": auth}

    def respond(self, path: str, headers: dict[str, str]) -> dict[str, Any]:
        """The API Gateway (payload 2.0) result for ``path``; ``headers`` are the request's, lower-cased."""
        if path == CONFIG_PATH:
            return {"statusCode": 200, "headers": self.headers("application/json", "no-cache"),
                    "body": json.dumps(self.config())}
        if path == "/":
            name, cache = INDEX, "no-cache"
        else:
            name, cache = path.removeprefix("/"), f"public, max-age={YEAR}, immutable"
        file = self.root / name
        if not file.is_file():
            if name == INDEX:
                return self._text(503, NOT_BUILT)
            return self._text(404, "No such file")
        suffix = file.suffix.lower()
        result_headers = self.headers(CONTENT_TYPES.get(suffix, "application/octet-stream"), cache)
        body = file.read_bytes()
        if suffix in COMPRESSIBLE:
            result_headers["vary"] = "accept-encoding"
            if "gzip" in headers.get("accept-encoding", "").lower():
                body = self._gzip(name, body)
                result_headers["content-encoding"] = "gzip"
        return {"statusCode": 200, "headers": result_headers, "isBase64Encoded": True,
                "body": base64.b64encode(body).decode()}

    def _gzip(self, name: str, body: bytes) -> bytes:
        if name == INDEX:  # small, and rebuilt without a new name: never cached here
            return gzip.compress(body, mtime=0)
        if name not in self._gzipped:
            self._gzipped[name] = gzip.compress(body, compresslevel=9, mtime=0)
        return self._gzipped[name]

    def _text(self, status: int, text: str) -> dict[str, Any]:
        return {"statusCode": status, "headers": self.headers("text/plain; charset=utf-8", "no-cache"),
                "body": text}
