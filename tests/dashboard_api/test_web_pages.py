"""The web dashboard's files served by the dashboard API: public, cached by content, under a strict CSP; the API's
own routes keep asking for a token. And the campaign CSV download the page offers equals the export's file."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path
from uuid import UUID

import pytest
from vidstats.db import Database
from vidstats.export.run import export_to_csv
from vidstats.export.tables import ExportTarget
from vidstats.web_assets import WebAssets, content_security_policy

from tests.dashboard_api.conftest import Api
from tests.dashboard_api.seed import add_to_campaign, campaign, days_ago, refresh, snapshots, video, views

SCRIPT = "main-ABCD1234.js"


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A build of the page (as `make web` writes it) that the handler serves."""
    from dashboard_api import handler

    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(f'<!doctype html><script type="module" src="/assets/{SCRIPT}"></script>')
    (tmp_path / "assets" / SCRIPT).write_text("console.log('vidstats');" * 100)
    monkeypatch.setenv("SUPABASE_URL", "https://abcdefghijklmnop.supabase.co")
    monkeypatch.setenv("SUPABASE_PUBLISHABLE_KEY", "sb_publishable_abc")
    handler.web_assets.cache_clear()
    monkeypatch.setattr(handler, "web_assets", lambda: WebAssets.from_env(tmp_path))
    return tmp_path


def body_of(reply_body: object) -> bytes:
    assert isinstance(reply_body, str)
    return base64.b64decode(reply_body)


def raw(path: str, headers: dict[str, str] | None = None) -> dict[str, object]:
    from dashboard_api.handler import lambda_handler

    from tests.dashboard_api.conftest import http_event
    from tests.lambda_context import FakeLambdaContext

    result: dict[str, object] = lambda_handler(http_event("GET", path, headers=headers or {}),
                                               FakeLambdaContext())  # type: ignore[arg-type]
    return result


@pytest.mark.usefixtures("auth_env")
def test_the_page_is_public_revalidated_and_under_a_strict_csp(built: Path) -> None:
    page = raw("/")
    assert page["statusCode"] == 200
    headers = page["headers"]
    assert isinstance(headers, dict)
    assert headers["cache-control"] == "no-cache"
    assert headers["content-type"] == "text/html; charset=utf-8"
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "connect-src 'self' https://abcdefghijklmnop.supabase.co;" in csp
    assert "frame-ancestors 'none'" in csp
    assert body_of(page["body"]) == (built / "index.html").read_bytes()


@pytest.mark.usefixtures("auth_env")
def test_hashed_files_are_cached_for_a_year_and_gzipped_when_accepted(built: Path) -> None:
    plain = raw(f"/assets/{SCRIPT}")
    zipped = raw(f"/assets/{SCRIPT}", {"accept-encoding": "gzip, br"})
    for reply in (plain, zipped):
        assert reply["statusCode"] == 200
        headers = reply["headers"]
        assert isinstance(headers, dict)
        assert headers["cache-control"] == "public, max-age=31536000, immutable"
        assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert body_of(plain["body"]) == (built / "assets" / SCRIPT).read_bytes()
    assert zipped["headers"]["content-encoding"] == "gzip"  # type: ignore[index]
    assert gzip.decompress(body_of(zipped["body"])) == (built / "assets" / SCRIPT).read_bytes()
    assert len(body_of(zipped["body"])) < len(body_of(plain["body"]))


@pytest.mark.usefixtures("auth_env")
def test_unknown_or_crafted_asset_paths_serve_nothing(built: Path) -> None:
    assert raw("/assets/nothing-here.js")["statusCode"] == 404
    (built / "secret.txt").write_text("not public")
    for path in ("/assets/../secret.txt", "/assets/%2e%2e/secret.txt", "/assets/.hidden", "/secret.txt"):
        reply = raw(path)
        assert reply["statusCode"] in (401, 404), path  # never the file: not an asset name, so an API path
        assert "not public" not in str(reply.get("body"))


@pytest.mark.usefixtures("auth_env")
def test_the_sign_in_configuration_names_the_supabase_project(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reply = Api(None).get("/app-config.json")
    assert reply.status == 200
    assert reply.body == {"auth": {"supabase_url": "https://abcdefghijklmnop.supabase.co",
                                   "supabase_key": "sb_publishable_abc"}}
    monkeypatch.delenv("SUPABASE_PUBLISHABLE_KEY")
    assert WebAssets.from_env(built).config() == {"auth": None}


def test_a_malformed_supabase_url_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SUPABASE_URL", "https://evil.example.com\r\nX-Injected: 1")
    with pytest.raises(ValueError, match="SUPABASE_URL"):
        WebAssets.from_env(tmp_path)
    assert content_security_policy([]).count("connect-src 'self';") == 1


@pytest.mark.usefixtures("auth_env")
def test_without_a_build_the_page_says_how_to_make_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard_api import handler

    monkeypatch.setattr(handler, "web_assets", lambda: WebAssets.from_env(tmp_path / "missing"))
    reply = Api(None).get("/")
    assert reply.status == 503
    assert "make web" in reply.body


@pytest.mark.usefixtures("built")
def test_the_api_routes_still_need_a_token_and_the_docs_stay_public(api: Api) -> None:
    assert Api(None).get("/videos").status == 401
    assert Api(None).get("/campaigns/00000000-0000-4000-8000-000000000001/export.csv").status == 401
    assert Api(None).get("/openapi.json").status == 200
    assert api.get("/videos").status == 200
    paths = api.ok("/openapi.json")["paths"]
    assert "/campaigns/{campaign_id}/export.csv" in paths
    assert "/" not in paths  # the page is not an API operation


def test_the_campaign_csv_download_is_the_exports_file(api: Api, db: Database, tmp_path: Path) -> None:
    cid = campaign(db, "Spring, \"launch\"", days_ago(10))
    first, second = video(db, caption="=HYPERLINK(\"x\")"), video(db, caption="plain")
    for vid in (first, second):
        add_to_campaign(db, cid, vid, days_ago(9))
        snapshots(db, [(vid, days_ago(8), views(1000)), (vid, days_ago(2), views(5000))])
    refresh(db)
    reply = api.call("GET", f"/campaigns/{cid}/export.csv")
    assert reply.status == 200, reply
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert reply.headers["Content-Disposition"] == 'attachment; filename="spring-launch.csv"'
    target = ExportTarget(spreadsheet_id="local-csv-export", campaign_id=UUID(cid))
    ((written, rows),) = export_to_csv(db, [target], tmp_path)
    assert rows == 2
    assert reply.body == written.read_bytes().decode()
    assert "'=HYPERLINK" in reply.body  # the export's formula neutralisation applies to the download too


def test_the_csv_of_an_unknown_campaign_is_404(api: Api) -> None:
    reply = api.get("/campaigns/00000000-0000-4000-8000-000000000001/export.csv")
    assert reply.status == 404
    assert reply.body["errors"] == [{"field": "path.campaign_id", "message": "no such campaign"}]
