"""The volunteer app on a 3G tablet in a market hall: what a volunteer waits for, and what it costs.

    python -m bench --only tablet
    BENCH_TABLET_RUNS=7 python -m bench --only tablet
    BENCH_TABLET_BASELINE=main python -m bench --only tablet   # that version too, runs alternating
    BENCH_TABLET_ROOT=/tmp/checkout python -m bench --only tablet   # another source tree
    BENCH_TABLET_DEBUG=1 ...                   # every request and page timing on stderr
    BENCH_TABLET_TRACE=dir ...                 # a Chromium trace of each warm start, into dir

Debian's Chromium (Playwright) opens the volunteer app (`/`) served by `python -m ops.serve` on a
fresh database with the demo data, under Chromium's own network emulation (CDP
Network.emulateNetworkConditions: 300 ms round trip, 1.6 Mbit/s down, 750 kbit/s up) and a 4x
slower CPU (Emulation.setCPUThrottlingRate). The service worker gets the same network emulation
(it is a target of its own: emulation set on the page does not reach its fetches).

Each run, in a fresh browser context (empty HTTP cache, no service worker):
  cold      navigate to / -> the sign-in form is usable (inputs there, enabled, visible, painted)
  sign-in   type the user name and password as a person would, tap "Đăng nhập" -> the worklist is
            usable (search box and stall rows painted); the volunteer has one market
  warm      close the tab, open / again in the same context (service worker installed) -> the
            worklist is usable; every request of the warm start is recorded
  save      open "Đăng ký sạp mới", fill it, tap "Lưu sạp" -> the sign preview (QR image) is painted
Times are taken in the page (performance.now(): navigation start, or the moment of the tap) when a
MutationObserver sees the screen ready, plus one frame. Bytes are what the emulated network carried
(CDP loadingFinished.encodedDataLength, headers included) for requests that were not answered by the
service worker or the HTTP cache. The app shell is the page, its style sheet and icons and the
modules the sign-in form and the worklist import statically (read from the served files); the
page's other downloads (the other screens, loaded while the volunteer types) are reported next to
it, and what the service worker then caches for offline use apart. The figures are the median over
the runs; nothing is asserted. The service worker's emulation is set as soon as Chromium reports
the worker, so the first requests of its install may escape it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import asyncpg
import httpx

from bench import harness

CHROMIUM = os.environ.get("CHOSO_CHROMIUM", "/usr/bin/chromium")
# Chromium as every browser bench and the browser tests launch it (bench_pages, tests/web/conftest.py).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABLET = {"width": 768, "height": 1024}
# The 3G: 1.6 Mbit/s down, 750 kbit/s up, 300 ms round trip; a 4x slower CPU.
NETWORK = {
    "offline": False,
    "latency": 300,
    "downloadThroughput": 1_600_000 / 8,
    "uploadThroughput": 750_000 / 8,
}
CPU_SLOWDOWN = 4
# BENCH_TABLET_TRACE=<dir>: a Chromium trace of each warm start (the tracing adds a cost of its own).
TRACE_CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "v8.execute",
    "blink",
    "loading",
    "toplevel",
    "navigation",
]
USERNAME = "benchtablet"
PASSWORD = "bench-tablet-password-2026"
MARKET = "Chợ Hàn"
# Typing speed of a volunteer on a tablet keyboard (ms per key) while the sign-in form is up.
TYPING_MS = 120

# Marks when a screen is ready (seen by a MutationObserver, then one frame later: painted).
MARKS_JS = """
(() => {
  if (window.__bench) return;
  const B = { marks: {}, seen: {}, starts: {}, armed: { signin: true, worklist: true, worklist_app: true }, pending: {} };
  Object.defineProperty(window, "__bench", { value: B });
  const usable = (el) => !!el && !el.disabled && el.tabIndex >= 0 && el.getClientRects().length > 0;
  const byId = (id) => document.getElementById(id);
  const checks = {
    signin: () => usable(byId("username")) && usable(byId("password")) && usable(byId("signin-button")),
    // Cheap tests first: measuring layout (getClientRects) at every change would slow the page.
    worklist: () => !!document.querySelector("#worklist .stall-row") && usable(byId("search")),
    // The same, drawn by the app itself (not the list instant.js shows while the modules load).
    worklist_app: () => !!document.body && !document.body.hasAttribute("data-snapshot") && !!document.querySelector("#worklist .stall-row") && usable(byId("search")),
    sign: () => {
      const img = document.querySelector("#sign img.qr");
      return !!img && img.complete && img.naturalWidth > 0;
    },
  };
  function check() {
    for (const name of Object.keys(checks)) {
      if (!B.armed[name] || B.pending[name] || B.marks[name] !== undefined) continue;
      if (!checks[name]()) continue;
      B.pending[name] = true;
      B.seen[name] = performance.now();
      requestAnimationFrame(() => setTimeout(() => {
        B.marks[name] = performance.now();
        B.pending[name] = false;
      }, 0));
    }
  }
  B.arm = (name) => {
    delete B.marks[name];
    B.pending[name] = false;
    B.armed[name] = true;
    B.starts[name] = performance.now();
    check();
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["disabled", "src", "hidden", "data-snapshot"],
  });
  document.addEventListener("load", check, true);
  // For BENCH_TABLET_DEBUG: when the main thread was busy, and when the app first drew.
  B.long = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) B.long.push([Math.round(e.startTime), Math.round(e.duration)]);
    }).observe({ type: "longtask", buffered: true });
  } catch { /* no long task API */ }
  new MutationObserver((_, obs) => {
    if (document.getElementById("topbar") && document.getElementById("topbar").firstChild) {
      B.topbar = Math.round(performance.now());
      obs.disconnect();
    }
  }).observe(document, { subtree: true, childList: true });
})();
"""


@dataclass
class Transfer:
    """One request as the emulated network saw it."""

    url: str
    source: str  # "page" or "sw"
    status: int = 0
    encoding: str = ""
    bytes: int = 0
    cached: bool = False  # answered by the HTTP cache (memory or disk)
    by_sw: bool = False  # the page's request answered by the service worker
    done: bool = False
    started: float = 0.0
    ended: float = 0.0

    @property
    def path(self) -> str:
        rest = self.url.split("://", 1)[-1]
        return "/" + rest.split("/", 1)[1] if "/" in rest else "/"

    @property
    def is_data(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def on_wire(self) -> bool:
        return not self.cached and not self.by_sw and not self.url.startswith("data:")


@dataclass
class Traffic:
    """Requests of the page and of the service worker, from CDP Network events."""

    items: dict[tuple[str, str], Transfer] = field(default_factory=dict)
    last_event: float = field(default_factory=time.monotonic)

    def on_event(self, source: str, method: str, params: dict[str, Any]) -> None:
        self.last_event = time.monotonic()
        key = (source, params.get("requestId", ""))
        if method == "Network.requestWillBeSent":
            if key in self.items and params.get("redirectResponse"):
                key = (source, key[1] + "#" + str(len(self.items)))
            self.items[key] = Transfer(
                url=params["request"]["url"], source=source, started=time.monotonic()
            )
            return
        item = self.items.get(key)
        if item is None:
            return
        if method == "Network.responseReceived":
            res = params["response"]
            item.status = int(res.get("status", 0))
            headers = {k.lower(): v for k, v in (res.get("headers") or {}).items()}
            item.encoding = headers.get("content-encoding", "")
            item.by_sw = bool(res.get("fromServiceWorker"))
            item.cached = item.cached or bool(
                res.get("fromDiskCache") or res.get("fromPrefetchCache")
            )
        elif method == "Network.requestServedFromCache":
            item.cached = True
        elif method == "Network.loadingFinished":
            item.bytes = int(params.get("encodedDataLength", 0))
            item.done = True
            item.ended = time.monotonic()
        elif method == "Network.loadingFailed":
            item.done = True
            item.ended = time.monotonic()

    def pending(self) -> int:
        return sum(1 for i in self.items.values() if not i.done)

    def take(self) -> list[Transfer]:
        """Everything recorded so far; starts a new record."""
        items = list(self.items.values())
        self.items = {}
        return items

    async def quiet(self, seconds: float = 1.0, within: float = 60.0) -> None:
        """Wait until nothing is in flight and nothing happened for `seconds`."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.pending() == 0 and time.monotonic() - self.last_event >= seconds:
                return
            await asyncio.sleep(0.1)


def _dump(label: str, items: list[Transfer]) -> None:
    """The requests of a phase, as a timeline on stderr (BENCH_TABLET_DEBUG=1)."""
    if not os.environ.get("BENCH_TABLET_DEBUG"):
        return
    t0 = min((i.started for i in items), default=0.0)
    print(f"  -- {label}", file=sys.stderr)
    for i in sorted(items, key=lambda i: i.started):
        how = "sw-answered" if i.by_sw else "cache" if i.cached else f"{i.bytes}B {i.encoding}"
        print(f"  {i.started - t0:7.3f} {i.ended - t0:7.3f} {i.source:4} {i.status} {how:>16} "
              f"{i.path[:90]}", file=sys.stderr)  # fmt: skip


async def _page_timing(page: Any, label: str) -> dict[str, Any]:
    """Navigation timing (ms from navigation start), long tasks and the app's first drawing."""
    got: dict[str, Any] = await page.evaluate(
        """() => {
          const n = performance.getEntriesByType("navigation")[0] || {};
          const r = (x) => Math.round(x || 0);
          return { responseStart: r(n.responseStart), responseEnd: r(n.responseEnd),
                   domInteractive: r(n.domInteractive), dcl: r(n.domContentLoadedEventEnd),
                   topbar: __bench.topbar, long: __bench.long, marks: __bench.marks,
                   seen: __bench.seen, paints: performance.getEntriesByType("paint").map((e) =>
                     [e.name, r(e.startTime)]),
                   res: performance.getEntriesByType("resource").map((e) =>
                     [e.name.split("/").pop().split("?")[0], r(e.startTime), r(e.responseEnd)]) };
        }"""
    )
    if os.environ.get("BENCH_TABLET_DEBUG"):
        print(f"  -- {label} page: {json.dumps(got)}", file=sys.stderr)
    return got


def _kb(items: list[Transfer], *, data: bool | None = None, source: str | None = None) -> float:
    total = sum(
        i.bytes
        for i in items
        if i.on_wire
        and (data is None or i.is_data == data)
        and (source is None or i.source == source)
    )
    return round(total / 1024, 1)


class ServiceWorkerThrottle:
    """Network emulation (and event capture) for service workers, attached as they appear.

    Playwright's CDP sessions are for pages; a service worker is a target of its own, reached from
    the browser session (Target.attachToTarget, messages through Target.sendMessageToTarget)."""

    def __init__(self, browser_session: Any, traffic: Traffic) -> None:
        self.session = browser_session
        self.traffic = traffic
        self.attached: dict[str, str] = {}  # targetId -> sessionId
        self._id = 0

    async def start(self) -> None:
        self.session.on("Target.targetCreated", self._on_target)
        self.session.on("Target.receivedMessageFromTarget", self._on_message)
        self.session.on("Target.detachedFromTarget", self._on_detached)
        await self.session.send("Target.setDiscoverTargets", {"discover": True})
        for info in (await self.session.send("Target.getTargets"))["targetInfos"]:
            await self._attach(info)

    def _on_target(self, event: dict[str, Any]) -> None:
        asyncio.get_running_loop().create_task(self._attach(event["targetInfo"]))

    def _on_detached(self, event: dict[str, Any]) -> None:
        for target, session in list(self.attached.items()):
            if session == event.get("sessionId"):
                del self.attached[target]

    async def _attach(self, info: dict[str, Any]) -> None:
        if info.get("type") != "service_worker" or info["targetId"] in self.attached:
            return
        self.attached[info["targetId"]] = ""
        try:
            got = await self.session.send(
                "Target.attachToTarget", {"targetId": info["targetId"], "flatten": False}
            )
        except Exception:  # noqa: BLE001 - the worker may already be gone
            self.attached.pop(info["targetId"], None)
            return
        session = got["sessionId"]
        self.attached[info["targetId"]] = session
        await self._send(session, "Network.enable", {})
        await self._send(session, "Network.emulateNetworkConditions", NETWORK)

    async def _send(self, session: str, method: str, params: dict[str, Any]) -> None:
        self._id += 1
        message = json.dumps({"id": self._id, "method": method, "params": params})
        try:
            await self.session.send(
                "Target.sendMessageToTarget", {"sessionId": session, "message": message}
            )
        except Exception:  # noqa: BLE001 - detached meanwhile
            pass

    def _on_message(self, event: dict[str, Any]) -> None:
        message = json.loads(event["message"])
        method = message.get("method", "")
        if method.startswith("Network."):
            self.traffic.on_event("sw", method, message.get("params", {}))


async def _throttled_page(context: Any, traffic: Traffic) -> Any:
    page = await context.new_page()
    page.set_default_timeout(60_000)
    page.on("pageerror", lambda exc: print(f"  tablet: page error: {exc}", file=sys.stderr))
    page.on(
        "console",
        lambda msg: (
            print(f"  tablet: console: {msg.text}", file=sys.stderr)
            if msg.type == "error"
            else None
        ),
    )
    cdp = await context.new_cdp_session(page)
    for method in (
        "Network.requestWillBeSent",
        "Network.responseReceived",
        "Network.requestServedFromCache",
        "Network.loadingFinished",
        "Network.loadingFailed",
    ):
        cdp.on(method, lambda params, m=method: traffic.on_event("page", m, params))
    await cdp.send("Network.enable")
    await cdp.send("Network.emulateNetworkConditions", NETWORK)
    await cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    return page


async def _mark(page: Any, name: str, within: float = 60.0) -> float:
    """Seconds from the mark's start (navigation start, or the tap) to the screen being ready."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        got = await page.evaluate(
            "(n) => [window.__bench.marks[n], window.__bench.starts[n] || 0]", name
        )
        if got[0] is not None:
            return round((got[0] - got[1]) / 1000, 3)
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{name}: not ready after {within}s")


async def _one_run(browser: Any, sw: ServiceWorkerThrottle, traffic: Traffic, base: str, n: int,
                   market_id: int, shell: set[str]) -> dict[str, Any]:  # fmt: skip
    context = await browser.new_context(
        base_url=base, viewport=TABLET, locale="vi-VN", service_workers="allow"
    )
    await context.add_init_script(MARKS_JS)
    try:
        traffic.take()
        # Cold: nothing cached, no service worker yet.
        page = await _throttled_page(context, traffic)
        await page.goto("/", wait_until="commit")
        cold = await _mark(page, "signin")
        cold_timing = await _page_timing(page, "cold")
        # A person types while the form is up; then taps "Đăng nhập".
        await page.type("#username", USERNAME, delay=TYPING_MS)
        await page.type("#password", PASSWORD, delay=TYPING_MS)
        await page.evaluate(
            "() => { __bench.arm('worklist'); __bench.arm('worklist_app'); document.getElementById('signin-button').click(); }"
        )
        signin = await _mark(page, "worklist")
        await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        await traffic.quiet(1.5)
        cold_items = traffic.take()
        _dump("cold + sign-in", cold_items)

        # Warm: the app opened again from the home screen.
        await page.close()
        page = await _throttled_page(context, traffic)
        trace = os.environ.get("BENCH_TABLET_TRACE")
        if trace:
            await browser.start_tracing(
                page=page, path=f"{trace}/warm-{n}-{uuid.uuid4().hex[:6]}.json",
                categories=TRACE_CATEGORIES,
            )  # fmt: skip
        await page.goto("/", wait_until="commit")
        warm = await _mark(page, "worklist")
        warm_app = await _mark(page, "worklist_app")
        if trace:
            await browser.stop_tracing()
        warm_timing = await _page_timing(page, "warm")
        await traffic.quiet(1.0)
        warm_items = traffic.take()
        _dump("warm", warm_items)

        # "Lưu sạp": a new stall with an account and consent to print its sign.
        await page.evaluate(f"() => {{ window.location.hash = '#/m/{market_id}/new'; }}")
        await page.wait_for_selector("#register-form")
        await page.fill("#f-stall_code", f"BT-{n}-{uuid.uuid4().hex[:6]}")
        await page.fill("#f-name", "Bench Thị Máy")
        await page.fill("#f-bank", "vietcom")
        await page.wait_for_selector("#f-bank-list .option")
        await page.keyboard.press("Enter")
        await page.fill("#f-acct", f"99{uuid.uuid4().int % 10**8:08d}")
        await page.check("#f-purpose-registration")
        await page.check("#f-purpose-qr_sign")
        await traffic.quiet(0.5)
        traffic.take()
        await page.evaluate(
            "() => { __bench.arm('sign'); document.getElementById('save-stall').click(); }"
        )
        save = await _mark(page, "sign")
        await traffic.quiet(0.5)
        save_items = traffic.take()
        _dump("save", save_items)
    finally:
        await context.close()

    shell_cold = [i for i in cold_items if i.source == "page" and not i.is_data and i.on_wire]
    token = [i for i in cold_items if i.path == "/api/auth/token" and i.done]
    warm_shell = [i for i in warm_items if not i.is_data and i.on_wire and i.path != "/sw.js"]
    return {
        "cold_signin_s": cold,
        "signin_worklist_s": signin,
        "warm_worklist_s": warm,
        "warm_app_worklist_s": warm_app,
        "save_sign_s": save,
        "token_s": round(token[0].ended - token[0].started, 3) if token else 0.0,
        "cold_html_ms": cold_timing["responseEnd"],
        "warm_html_ms": warm_timing["responseEnd"],
        "warm_parsed_ms": warm_timing["domInteractive"],
        "warm_app_ms": warm_timing["topbar"] or 0,
        # Ours alone: from the page parsed (the new tab's renderer started, which varies by
        # several tenths of a second from run to run on this machine) to the worklist usable.
        "warm_after_parse_ms": round(warm * 1000 - warm_timing["domInteractive"]),
        "shell_kb": _kb([i for i in shell_cold if _in_shell(i, shell)]),
        "shell_requests": sum(1 for i in shell_cold if _in_shell(i, shell)),
        "app_kb": _kb(cold_items, data=False, source="page"),
        "app_requests": len(shell_cold),
        "shell_uncompressed": sorted(
            {i.path for i in shell_cold if not i.encoding and i.bytes > 1500}
        ),
        "precache_kb": _kb(cold_items, data=False, source="sw"),
        "cold_data_kb": _kb(cold_items, data=True),
        "warm_shell_kb": _kb(warm_items, data=False),
        "warm_shell_requests": len(warm_shell),
        "warm_shell_paths": sorted({i.path for i in warm_shell}),
        "warm_sw_update_checks": sum(1 for i in warm_items if i.path == "/sw.js" and i.on_wire),
        "warm_data_kb": _kb(warm_items, data=True),
        "warm_data_requests": sum(1 for i in warm_items if i.is_data and i.on_wire),
        "save_data_requests": sum(1 for i in save_items if i.is_data and i.on_wire),
    }


_STATIC_IMPORT = re.compile(
    r"""^\s*(?:import\s*|(?:import|export)\b[^;'"(]*?\bfrom\s*)["']([^"']+)["']""", re.M
)


async def _static_graph(base: str, roots: list[str]) -> set[str]:
    """Paths (query left out) of the modules `roots` import statically, directly or not, roots
    included: what the page must have before that code runs."""
    seen: set[str] = set()
    todo = list(roots)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        while todo:
            url = todo.pop()
            path = urlsplit(url).path
            if path in seen:
                continue
            seen.add(path)
            text = (await client.get(url)).text
            todo += [
                urljoin(base + url, spec)[len(base) :] for spec in _STATIC_IMPORT.findall(text)
            ]
    return seen


async def _app_shell(base: str) -> set[str]:
    """The app shell: the page, its style sheet and icons, and the modules the sign-in form
    (the page's module) and the worklist (views/worklist.js) import statically."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        page = (await client.get("/")).text
    entry = re.search(r'<script type="module" src="([^"]+)"', page)
    if entry is None:
        raise RuntimeError("no module script in the page")
    signin = await _static_graph(base, [entry[1]])
    return signin | await _static_graph(base, ["/static/js/views/worklist.js"])


def _in_shell(item: Transfer, shell: set[str]) -> bool:
    path = urlsplit(item.path).path
    return path in shell or path == "/" or not path.endswith(".js")


async def _add_volunteer(url: str) -> int:
    """A volunteer with one market (the app opens its worklist) and a password; the market's id."""
    from core.auth import hash_password

    conn = await asyncpg.connect(url)
    try:
        market_id = await conn.fetchval("SELECT id FROM market WHERE name = $1", MARKET)
        if market_id is None:
            raise RuntimeError(f"no market {MARKET!r}: the demo data did not load")
        async with conn.transaction():
            user_id = await conn.fetchval(
                "INSERT INTO app_user (username, password_hash, role) VALUES ($1, $2, 'volunteer') "
                "RETURNING id",
                USERNAME,
                hash_password(PASSWORD),
            )
            await conn.execute(
                "INSERT INTO user_market (user_id, market_id) VALUES ($1, $2)", user_id, market_id
            )
        return int(market_id)
    finally:
        await conn.close()


class _Server(harness.ServerProcess):
    """ops.serve from a source tree (ours, or BENCH_TABLET_ROOT for a side-by-side run)."""

    def __init__(self, root: Path, **kw: Any) -> None:
        super().__init__(**kw)
        self.root = root

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.root
        )


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 3 if key.endswith("_s") else 1)


TIMINGS = (
    "cold_signin_s",
    "signin_worklist_s",
    "warm_worklist_s",
    "warm_app_worklist_s",
    "save_sign_s",
    "token_s",
)
SIZES = ("shell_kb", "app_kb", "precache_kb", "cold_data_kb", "warm_shell_kb", "warm_data_kb")
MILLIS = ("cold_html_ms", "warm_html_ms", "warm_parsed_ms", "warm_app_ms", "warm_after_parse_ms")
COUNTS = ("shell_requests", "app_requests", "warm_shell_requests", "warm_sw_update_checks", "warm_data_requests",
          "save_data_requests")  # fmt: skip


@dataclass
class _Side:
    """One version of the app in a run: its server, its volunteer's market and its results."""

    label: str
    root: Path
    server: Any = None
    database: str = ""
    base: str = ""
    market_id: int = 0
    setup_s: float = 0.0
    shell: set[str] = field(default_factory=set)
    results: list[dict[str, Any]] = field(default_factory=list)


async def _serve(side: _Side, *, data_dir: Path, server_url: str) -> None:
    """Start `ops.serve` from the side's source tree on a fresh database with the demo data."""
    side.database = f"choso_tablet_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    tag = re.sub(r"[^\w.-]", "_", side.label)
    await harness.admin_sql(server_url, f'CREATE DATABASE "{side.database}"')
    url = harness.with_database(server_url, side.database)
    port = harness.free_port()
    env = harness.app_env(
        database_url=url,
        data_dir=data_dir / f"tablet-app-{tag}",
        port=port,
        workers=1,
        extra={"AUTO_MIGRATE": "true", "DEMO_DATA": "true", "PYTHONPATH": str(side.root)},
    )
    side.server = _Server(
        side.root,
        name=f"app-{tag}",
        argv=[harness.PYTHON, "-m", "ops.serve"],
        env=env,
        port=port,
        log_path=data_dir / "logs" / f"tablet-app-{tag}.log",
    )
    started = time.perf_counter()
    side.server.start()
    await side.server.wait_ready(within_s=900)  # migrations and the demo markets first
    side.setup_s = round(time.perf_counter() - started, 1)
    side.market_id = await _add_volunteer(url)
    side.base = f"http://127.0.0.1:{port}"


async def _run(
    *, runs: int, sides: list[_Side], data_dir: Path, server_url: str
) -> list[dict[str, Any]]:
    """Every side served at once, their runs alternating (before, after, after, before, ...), so
    that a machine whose speed drifts during the run weighs on each side alike."""
    from playwright.async_api import async_playwright

    load_before = os.getloadavg()
    try:
        for side in sides:
            await _serve(side, data_dir=data_dir, server_url=server_url)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                traffic = Traffic()
                sw = ServiceWorkerThrottle(await browser.new_browser_cdp_session(), traffic)
                await sw.start()
                for side in sides:
                    # The server's first answers compute what it keeps in memory (hashes,
                    # compressed files): a deployment has done that long before a volunteer comes.
                    await _warm_up(browser, side.base)
                    side.shell = await _app_shell(side.base)
                for n in range(runs):
                    for side in sides if n % 2 == 0 else sides[::-1]:
                        one = await _one_run(browser, sw, traffic, side.base, n, side.market_id,
                                             side.shell)  # fmt: skip
                        print(f"  tablet {side.label} run {n + 1}/{runs}: {json.dumps(one)}",
                              file=sys.stderr)  # fmt: skip
                        side.results.append(one)
            finally:
                await browser.close()
    finally:
        for side in sides:
            if side.server is not None:
                side.server.stop()
            if side.database:
                await harness.drop_database(server_url, side.database)
    load_after = os.getloadavg()
    return [_summary(side, runs, (load_before, load_after)) for side in sides]


def _summary(side: _Side, runs: int, load: tuple[Any, Any]) -> dict[str, Any]:
    results = side.results
    summary: dict[str, Any] = {
        "runs": runs, "setup_s": side.setup_s, "root": str(side.root), "label": side.label,
    }  # fmt: skip
    for key in TIMINGS + SIZES + COUNTS + MILLIS:
        summary[key] = _median(results, key)
    for key in TIMINGS:
        values = sorted(r[key] for r in results)
        summary[f"{key}_range"] = [values[0], values[-1]]
    summary["shell_uncompressed"] = sorted({p for r in results for p in r["shell_uncompressed"]})
    summary["warm_shell_paths"] = sorted({p for r in results for p in r["warm_shell_paths"]})
    summary["load_avg"] = [round(load[0][0], 1), round(load[1][0], 1)]
    summary["per_run"] = results
    return summary


async def _warm_up(browser: Any, base: str) -> None:
    context = await browser.new_context(base_url=base, service_workers="block")
    try:
        page = await context.new_page()
        await page.goto("/")
        await page.wait_for_selector("#username")
        await page.request.get("/sw.js")
    finally:
        await context.close()


def _baseline_tree(ref: str) -> Path:
    """The source tree of a git ref (e.g. main), exported under var/bench to run side by side."""
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"],
        cwd=harness.ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    target = harness.ROOT / "var" / "bench" / f"tablet-baseline-{sha[:12]}"
    if not (target / "main.py").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", sha], cwd=harness.ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _spread(s: dict[str, Any], key: str) -> str:
    low, high = s[f"{key}_range"]
    return f"median of {s['runs']} ({low}-{high} s)"


def _rows(s: dict[str, Any], before: dict[str, Any] | None) -> list[dict[str, Any]]:
    def was(key: str, unit: str) -> str:
        if before is None:
            return ""
        ratio = round(before[key] / s[key], 1) if s[key] else float("inf")
        return f"; before ({before['label']}): {before[key]} {unit}, {ratio}x"

    load = f"load {s['load_avg'][0]}->{s['load_avg'][1]} on {os.cpu_count()} cores"
    return [
        {"name": "tablet_cold_signin", "value": s["cold_signin_s"],
         "figures": f"{_spread(s, 'cold_signin_s')}, {load}{was('cold_signin_s', 's')}"},
        {"name": "tablet_signin", "value": s["signin_worklist_s"],
         "figures": f"{_spread(s, 'signin_worklist_s')}; of it POST /api/auth/token (argon2 on "
                    f"the server) {s['token_s']} s{was('signin_worklist_s', 's')}"},
        {"name": "tablet_warm_start", "value": s["warm_worklist_s"],
         "figures": f"{_spread(s, 'warm_worklist_s')}; page from the device in "
                    f"{s['warm_html_ms']:.0f} ms, parsed at {s['warm_parsed_ms']:.0f} ms (a new tab's "
                    f"renderer starting), app drawing at {s['warm_app_ms']:.0f} ms; parsed -> "
                    f"worklist {s['warm_after_parse_ms']:.0f} ms"
                    + (f" (before: {before['warm_after_parse_ms']:.0f} ms)"
                       if before and "warm_after_parse_ms" in before else "")
                    + f"; the app's own drawing of it at {s['warm_app_worklist_s']} s"
                    + (f" (before: {before['warm_app_worklist_s']} s)"
                       if before and "warm_app_worklist_s" in before else "")
                    + f"{was('warm_worklist_s', 's')}"},
        {"name": "tablet_save_sign", "value": s["save_sign_s"],
         "figures": f"{_spread(s, 'save_sign_s')}; {s['save_data_requests']:.0f} API requests"
                    f"{was('save_sign_s', 's')}"},
        {"name": "tablet_shell_bytes", "value": s["shell_kb"],
         "figures": f"{s['shell_requests']:.0f} requests: page, styles, icons, the modules of the "
                    f"sign-in and the worklist; with every other screen the page loads "
                    f"{s['app_kb']} KB in {s['app_requests']:.0f} requests; the service worker then "
                    f"fetches {s['precache_kb']} KB more (manager pages, icons); data "
                    f"{s['cold_data_kb']} KB"
                    + (f"; uncompressed: {', '.join(s['shell_uncompressed'])}"
                       if s["shell_uncompressed"] else "") + was("shell_kb", "KB")},
        {"name": "tablet_warm_bytes", "value": s["warm_shell_kb"],
         "figures": f"{s['warm_shell_requests']:.0f} shell/asset requests"
                    + (f" ({', '.join(s['warm_shell_paths'])})" if s["warm_shell_paths"] else "")
                    + f", {s['warm_sw_update_checks']:.0f} service worker update check; data "
                    f"{s['warm_data_requests']:.0f} requests, {s['warm_data_kb']} KB"
                    + was("warm_shell_kb", "KB")},
    ]  # fmt: skip


def run(runs: int | None = None) -> list[dict[str, Any]]:
    """Cold start, sign-in, warm start and "Lưu sạp" on emulated 3G with a 4x slower CPU.

    BENCH_TABLET_BASELINE=<git ref> also measures that version of the app in the same run (before),
    both served at once and their runs alternating."""
    runs = runs or int(os.environ.get("BENCH_TABLET_RUNS", "5"))
    root = Path(os.environ.get("BENCH_TABLET_ROOT") or harness.ROOT).resolve()
    data_dir = harness.ROOT / "var" / "bench"
    server_url = os.environ.get("BENCH_DATABASE_URL") or None
    ref = os.environ.get("BENCH_TABLET_BASELINE")
    embedded = None
    if server_url is None:
        embedded = harness.EmbeddedPostgres(data_dir)
        server_url = embedded.url
    try:
        sides = [_Side("after", root)]
        if ref:
            sides.insert(0, _Side(ref, _baseline_tree(ref)))
        summaries = asyncio.run(
            _run(runs=runs, sides=sides, data_dir=data_dir, server_url=server_url)
        )
        s, before = summaries[-1], (summaries[0] if ref else None)
    finally:
        if embedded is not None:
            embedded.shutdown()
    rows = _rows(s, before)
    rows[-1]["detail"] = {"after": s, "before": before}
    return rows


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
