"""The web dashboard in a real browser: one local stack with the demo data and one Chromium per module.

Chromium is the npm package ``@sparticuz/chromium`` (a real headless Chromium shipped inside the package, unpacked
once into the temporary directory), driven by Python's Playwright. Its Lambda-oriented flags that would weaken
the page's security (``--disable-web-security``...) are dropped, so the Content-Security-Policy and CORS apply,
and so is ``--single-process``, which ends the browser with the first context closed.
Screenshots go to ``tests/web/artefacts`` (not committed).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright
from vidstats.local.stack import LocalStack, StackConfig
from vidstats.workspaces import DEFAULT_WORKSPACE_ID

from tests.conftest import _create_database, _drop_database
from tests.local_stack.conftest import CLEARED

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
BUILT = ROOT / "functions" / "dashboard_api" / "static" / "index.html"
ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
UNSAFE_FLAGS = ("--disable-web-security", "--allow-running-insecure-content", "--disable-site-isolation-trials",
                "--single-process")  # Lambda's one-process mode dies with its first closed context
WIDTHS = (1280, 390)


def chromium_executable() -> tuple[str, list[str]]:
    """The binary of @sparticuz/chromium (unpacked on first use) and the flags it needs."""
    if not (WEB / "node_modules" / "@sparticuz" / "chromium").is_dir():
        pytest.fail("web/node_modules is missing: run `make web` (make test does)")
    script = ("import c from '@sparticuz/chromium'; const p = await c.executablePath(); "
              "console.log(JSON.stringify({path: p, args: c.args}))")
    out = subprocess.run(["node", "--input-type=module", "-e", script], cwd=WEB, capture_output=True, text=True,
                         check=True, timeout=120)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    return found["path"], [a for a in found["args"] if a not in UNSAFE_FLAGS]


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    path, args = chromium_executable()
    browser = playwright.chromium.launch(executable_path=path, args=args, headless=True)
    yield browser
    browser.close()


@contextlib.contextmanager
def started_stack(server: str, template: str, folder: Path, *, environ: dict[str, str] | None = None,
                  demo: bool = False) -> Iterator[LocalStack]:
    """The local stack serving the built web dashboard, on its own database and random ports, with ``environ``
    set (and the developer's own settings cleared) while it runs."""
    if not BUILT.exists():
        pytest.fail(f"{BUILT.relative_to(ROOT)} is missing: run `make web` (make test does)")
    database = _create_database(server, template=template)
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in CLEARED:
            monkeypatch.delenv(name, raising=False)
        for name, value in (environ or {}).items():
            monkeypatch.setenv(name, value)
        stack = LocalStack(StackConfig(database_url=database.owner_url, data_dir=folder / "pgdata", port=0,
                                       sqs_port=0, exports_dir=folder / "exports", batching_window_s=0.2,
                                       run_schedules=False, demo=demo))
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()
    _drop_database(server, database.name)


@pytest.fixture(scope="module")
def stack(supabase_like_server: str, migrated_template: str, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[LocalStack]:
    """`make demo` on its own database and random ports."""
    with started_stack(supabase_like_server, migrated_template, tmp_path_factory.mktemp("web-stack"),
                       demo=True) as stack:
        yield stack


@pytest.fixture(scope="module")
def base_url(stack: LocalStack) -> str:
    assert stack.gateway is not None
    return stack.gateway.url


@pytest.fixture(scope="module")
def api(stack: LocalStack, base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=20,
                      headers={"authorization": f"Bearer {stack.dev_token}",
                               "x-workspace-id": str(DEFAULT_WORKSPACE_ID)}) as client:
        yield client


class PageProblems:
    """Console errors and CSP violations of a page: a test ends with none."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.messages.append(message.text)


@contextlib.contextmanager
def dashboard_page(browser: Browser, base_url: str, *, language: str | None = None) -> Iterator[Page]:
    """A new browser context (no session) on the dashboard, 1280 px wide; fails on any console error.
    ``language``: what the browser reports as ``navigator.language`` (by default en-US)."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                  locale="en-US", timezone_id="UTC")
    if language is not None:
        context.add_init_script(
            f"Object.defineProperty(Navigator.prototype, 'language', {{get: () => {json.dumps(language)}}})")
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = PageProblems()
    page.on("console", problems.console)
    page.on("pageerror", lambda error: problems.messages.append(f"page error: {error}"))
    try:
        yield page
    finally:
        context.close()
    # A 401/404 answer is logged by the browser as a failed resource load: those are the tests' own business.
    real = [m for m in problems.messages if "Failed to load resource" not in m]
    assert real == []


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    with dashboard_page(browser, base_url) as page:
        yield page


def sign_in(page: Page, email: str = "dev@localhost") -> None:
    """The local stack's development sign-in as one of its users (the developer: an admin, the Default
    workspace's owner; or a demo member, owner@ / editor@ / viewer@demo.localhost)."""
    page.goto("/")
    page.get_by_role("button", name=f"Development sign-in as {email}").click()
    page.get_by_role("heading", name="Campaigns", level=1).wait_for()


def screenshot(page: Page, name: str) -> dict[int, int]:
    """The current screen at every width, full page, into the artefacts folder; returns how wide the page was
    at each width (wider than the window: the page scrolls sideways)."""
    ARTEFACTS.mkdir(exist_ok=True)
    widths = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        # The charts follow their box's width (ResizeObserver): two frames later they are redrawn.
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        widths[width] = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(ARTEFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    return widths


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current screen."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (rightly) refuses an injected <script>.
        source = (WEB / "node_modules" / "axe-core" / "axe.min.js").read_text()
        page.evaluate("source => { (0, eval)(source); }", source)
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result if v["impact"] in ("serious", "critical")]


os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
