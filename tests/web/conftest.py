"""Browser tests: the real app in a subprocess on its own database, driven by headless Chromium.

The app runs `python -m ops.serve` against a database cloned from the test template (seeded
users and markets, see tests/conftest.py); its log goes to test-output/web-app.log and screenshots
of every screen to test-output/screenshots/. Without /usr/bin/chromium (Debian's package:
Playwright's own browser download is not reachable here) the browser tests skip and say why;
`make test` installs the package first.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from bench.bench_tablet import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import ROOT, TEST_PASSWORD, with_database

OUTPUT = ROOT / "test-output"
SHOTS = OUTPUT / "screenshots"
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1366, "height": 768}
# For page.evaluate scripts: `loaded(path)` is the URL the page itself loaded a module by (content-
# hashed, web/assets.py), so an import gets the page's own instance, not a second, bare copy.
LOADED_MODULE_JS = """const loaded = (path) => performance.getEntriesByType("resource").map((e) => e.name)
    .find((name) => new URL(name).pathname === path) || path;"""


def _chromium_missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM}: install Debian's `chromium` package (`make test` does)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (dev dependency)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _chromium_missing()
    if reason is None:
        return
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _admin(server_url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def web_db(server_url: str, template_db: str) -> AsyncIterator[str]:
    """A private copy of the template database for the app under test."""
    name = f"choso_web_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    yield with_database(server_url, name)
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class LiveServer:
    """The app running in a subprocess; `api()` gives an httpx client signed in as a seeded user."""

    def __init__(self, base: str, log: Path) -> None:
        self.base = base
        self.log = log
        self._tokens: dict[str, str] = {}

    async def token(self, username: str) -> str:
        if username not in self._tokens:
            async with httpx.AsyncClient(base_url=self.base, timeout=30) as c:
                form = {"username": username, "password": TEST_PASSWORD}
                res = await c.post("/api/auth/token", data=form)
                res.raise_for_status()
                self._tokens[username] = res.json()["access_token"]
        return self._tokens[username]

    async def api(self, username: str = "admin") -> httpx.AsyncClient:
        token = await self.token(username)
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.AsyncClient(base_url=self.base, timeout=30, headers=headers)


# The bank account-name lookup the app calls (vietqr.io-compatible POST /v2/lookup), on loopback.
LOOKUP_NAMES = {("970422", "1111222233"): "NGUYEN VAN BANK"}


class _LookupHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        name = LOOKUP_NAMES.get((body.get("bin"), body.get("accountNumber")))
        answer = (
            {"code": "00", "desc": "ok", "data": {"accountName": name}}
            if name
            else {"code": "01", "desc": "not found"}
        )
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def lookup_provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LookupHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def live_server(
    web_db: str, lookup_provider: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """`python -m ops.serve` on a free port: healthy before the first test, stopped at the end."""
    if _chromium_missing():
        pytest.skip(_chromium_missing() or "")
    OUTPUT.mkdir(exist_ok=True)
    for old in SHOTS.glob("FAILED-*.png") if SHOTS.exists() else []:
        old.unlink()
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": web_db,
        "DATA_DIR": str(tmp_path_factory.mktemp("web-app")),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DEMO_DATA": "false",
        "AUTO_MIGRATE": "false",
        "SECRET_KEY": "web-test-secret-key",
        "LOG_LEVEL": "INFO",
        "WORKERS": "1",
        "LOOKUP_BASE_URL": lookup_provider,
        "LOOKUP_CLIENT_ID": "web-tests",
        "LOOKUP_API_KEY": "web-tests-key",
    }
    log = OUTPUT / "web-app.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ops.serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the app exited with {proc.returncode}; see {log}")
                try:
                    if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not become healthy; see {log}")
                time.sleep(0.25)
            yield LiveServer(base, log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
async def browser():
    """One headless Chromium for the session."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        await b.close()


Page = object  # playwright.async_api.Page (imported lazily so collection works without playwright)


@pytest.fixture
async def new_page(
    request: pytest.FixtureRequest, browser, live_server: LiveServer
) -> AsyncIterator[Callable[..., Awaitable[Page]]]:
    """`await new_page(viewport=PHONE, service_workers="block")` -> a page in a fresh context.

    Console errors from our own scripts fail the test (a CSP violation or an uncaught exception
    shows up there); failed network requests while offline are expected and ignored.
    """
    contexts = []
    problems: list[str] = []

    async def make(
        viewport: dict | None = None,
        service_workers: str = "block",
        locale: str = "vi-VN",
        **kw: object,
    ):
        ctx = await browser.new_context(
            viewport=viewport or PHONE,
            base_url=live_server.base,
            service_workers=service_workers,
            locale=locale,
            **kw,
        )
        contexts.append(ctx)
        page = await ctx.new_page()
        page.set_default_timeout(15000)

        def on_console(msg) -> None:
            text = msg.text
            expected = ("Failed to load resource", "ERR_INTERNET_DISCONNECTED")
            if msg.type == "error" and not any(e in text for e in expected):
                problems.append(text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
        return page

    yield make
    if request.node.stash.get(_CALL_FAILED, False):
        SHOTS.mkdir(parents=True, exist_ok=True)
        for i, ctx in enumerate(contexts):
            for j, page in enumerate(ctx.pages):
                path = SHOTS / f"FAILED-{request.node.name}-{i}-{j}.png"
                try:
                    await page.screenshot(path=str(path), full_page=True)
                except Exception:  # noqa: BLE001 - a failed test's picture is best effort
                    await page.screenshot(path=str(path))
    for ctx in contexts:
        await ctx.close()
    assert not problems, f"errors in the browser console: {problems}"


STRAY_TEXT_JS = """() => {
  if (!document.body || !document.body.dataset.page) return [];  // our pages only (not the API docs)
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.data.trim();
    if (["null", "undefined", "NaN"].includes(text) || text.includes("[object ")) found.push(text);
  }
  return found;
}"""


async def shot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot of the current screen under test-output/screenshots/.

    full_page=False takes the viewport only: for pages as tall as the API docs' (Swagger's is
    about 18,000 pixels, ReDoc's longer), a full-page capture can outlast Playwright's timeout on a
    loaded machine (it failed CI once).
    """
    # A value the page drew as text by mistake ("null" under every sign went unseen for a stop):
    # no text of our pages is ever the word null, undefined or NaN alone, or an object's name.
    stray = await page.evaluate(STRAY_TEXT_JS)
    assert not stray, f"{name}: the page shows {stray}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or {"width": 0, "height": 0}
    path = SHOTS / f"{name}-{size['width']}x{size['height']}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


async def until(page, expression: str, seconds: float = 15.0) -> None:
    """Wait until a JS expression is true (wait_for_function needs 'unsafe-eval': CSP says no)."""
    deadline = time.monotonic() + seconds
    while not await page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {seconds}s: {expression}")
        await asyncio.sleep(0.1)


async def sign_in(page, username: str = "volunteer", path: str = "/") -> None:
    """Sign in through the form, as a person would."""
    await page.goto(path)
    await page.fill("#username", username)
    await page.fill("#password", TEST_PASSWORD)
    await page.click("#signin-button")
    await page.wait_for_selector("#username", state="detached")


# Everything the app can leave on the device, as one JSON text: IndexedDB (every database and
# store), localStorage, sessionStorage and every Cache Storage entry with its body.
DEVICE_STORAGE_JS = """async () => {
  const out = { local: { ...localStorage }, session: { ...sessionStorage }, idb: {}, caches: [] };
  const names = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : ["choso"];
  for (const name of names) {
    const db = await new Promise((ok, bad) => {
      const r = indexedDB.open(name);
      r.onsuccess = () => ok(r.result);
      r.onerror = () => bad(r.error);
    });
    for (const store of Array.from(db.objectStoreNames)) {
      out.idb[`${name}/${store}`] = await new Promise((ok, bad) => {
        const r = db.transaction(store).objectStore(store).getAll();
        r.onsuccess = () => ok(r.result);
        r.onerror = () => bad(r.error);
      });
    }
    db.close();
  }
  if (self.caches) {
    for (const key of await caches.keys()) {
      const cache = await caches.open(key);
      for (const req of await cache.keys()) {
        const res = await cache.match(req);
        out.caches.push([req.url, res ? await res.text() : ""]);
      }
    }
  }
  return JSON.stringify(out);
}"""


async def device_storage(page) -> dict:
    """What the app keeps on the device (see DEVICE_STORAGE_JS), parsed."""
    return json.loads(await page.evaluate(DEVICE_STORAGE_JS))


async def open_menu_and_sign_out(page) -> None:
    """Tap the account menu, then "Đăng xuất"."""
    await page.click("#topbar details.menu > summary")
    await page.click("#topbar .menu-body button:has-text('Đăng xuất')")
