"""The manager pages at national scale: /dashboard and /map must stay as fast as in one city.

    python -m bench --only pages
    BENCH_PAGES_MARKETS=10000 BENCH_PAGES_STALLS=200000 python -m bench --only pages   # (defaults)
    BENCH_PAGES_RUNS=5 ...                 # runs per page and data set (median; default 3)
    BENCH_PAGES_SHOTS=docs/screenshots ... # also save screenshots of the national pages there
    BENCH_PAGES_KEEP=1 ...                 # keep the seeded national database for the next run
    BENCH_PAGES_BASELINE=main ...          # also that version's pages on the national data

Two databases on the same PostgreSQL, each behind its own `python -m ops.serve`:
  city      the demo data (31 Đà Nẵng and Hội An markets), signed in as the demo viewer `xem`
  national  the synthetic national programme (ops.national.seed: every province and ward,
            BENCH_PAGES_MARKETS markets with BENCH_PAGES_STALLS stalls), signed in as its national
            viewer `tn-quocgia`, whose pages open at the country (one row and circle per province)
In Debian's Chromium (Playwright), each run opens a page in a fresh browser context (empty cache)
with the token already on the device, and takes the time from navigation start to the first
meaningful render: the table filled (dashboard) or the list filled (map) and the map drawn (dots,
clusters or area circles on it), seen by a MutationObserver in the page, plus one frame. Also
measured then: the JS heap in use (CDP Performance.getMetrics JSHeapUsedSize), the bytes
transferred (Resource Timing transferSize of the page and everything it fetched, the API's part
apart) and the number of DOM elements; and the heap, bytes and elements again once the network is
idle (the ranking, the trend and the partners come after the first render). Reported: medians, and national / city ratios measured in
the same run. Nothing is asserted.

The page's pace depends on the number of markets and areas, not of stalls (the rollups read the
markets' counters), so the default national set has every market of the full programme (10,000)
and a tenth of its stalls, which seeds in minutes on two cores instead of most of an hour.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import harness
from bench.bench_tablet import CHROMIUM, CHROMIUM_ARGS, _baseline_tree, _Server

LAPTOP = {"width": 1366, "height": 768}
SECRET = "bench-secret-key-not-for-production"  # harness.app_env's SECRET_KEY
WINDOW_DAYS = 30
PAGES = ("dashboard", "map")

# Marks the first meaningful render: rows in the table (or the list) and the map drawn on screen.
READY_JS = """(() => {
  const done = () => {
    const rows = document.body.dataset.page === "map"
      ? document.querySelector("nav.market-index li, nav.area-index li")
      : document.querySelector(".markets-table tbody tr");
    const drawn = document.querySelector(".map-box .mk, .map-box .mk-cluster, .map-box .area-mk");
    const state = document.querySelector(".map-state");
    return rows && drawn && state && !state.textContent;
  };
  const watch = () => {
    const obs = new MutationObserver(() => {
      if (window.__ready === undefined && done()) {
        obs.disconnect();
        requestAnimationFrame(() => { window.__ready = performance.now(); });
      }
    });
    obs.observe(document.documentElement, { childList: true, subtree: true, characterData: true });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();"""

BYTES_JS = """() => {
  const all = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")];
  const sum = (list) => list.reduce((n, e) => n + (e.transferSize || 0), 0);
  return {
    total: sum(all),
    api: sum(all.filter((e) => new URL(e.name).pathname.startsWith("/api/"))),
    requests: all.length,
    elements: document.getElementsByTagName("*").length,
  };
}"""


def _server_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    from core import db

    return str(db.embedded_server(harness.ROOT / "var" / "bench_pages").get_uri())


async def _seed_national(url: str, *, markets: int, stalls: int) -> float:
    """The synthetic national programme (a second call finds it and does nothing); seconds."""
    from core import db
    from core.crypto import Keys
    from ops.national import seed

    started = time.perf_counter()
    await asyncio.to_thread(db.migrate, url)
    plan = seed.Plan(
        markets=markets,
        stalls=stalls,
        volunteers=max(2, markets // 5),
        teams=max(1, markets // 40),
        days=30,
    )
    conn = await db.connect(url, keys=Keys(SECRET.encode()))
    try:
        await seed.seed(conn, plan=plan, window_days=WINDOW_DAYS)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def _token(base: str, username: str) -> str:
    from ops.demo import DEMO_PASSWORD

    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        res = await c.post(
            "/api/auth/token", data={"username": username, "password": DEMO_PASSWORD}
        )
        res.raise_for_status()
        return str(res.json()["access_token"])


async def _open(browser: Any, base: str, token: str, path: str, shot: Path | None = None) -> dict:
    """One cold load of a page, signed in; its timings and costs."""
    context = await browser.new_context(
        base_url=base, viewport=LAPTOP, service_workers="block", locale="vi-VN"
    )
    try:
        await context.add_init_script(f"localStorage.setItem('choso.token', {token!r});")
        await context.add_init_script(READY_JS)
        page = await context.new_page()
        cdp = await context.new_cdp_session(page)
        await cdp.send("Performance.enable")
        await page.goto(path)
        deadline = time.monotonic() + 120
        while (ready := await page.evaluate("window.__ready")) is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path} at {base}: no meaningful render in 120 s")
            await asyncio.sleep(0.05)
        metrics = {
            m["name"]: m["value"] for m in (await cdp.send("Performance.getMetrics"))["metrics"]
        }
        costs = await page.evaluate(BYTES_JS)
        # And once everything the page asked for has come (the ranking, the trend, the partners).
        await page.wait_for_load_state("networkidle")
        got = (await cdp.send("Performance.getMetrics"))["metrics"]
        settled_heap = next((m["value"] for m in got if m["name"] == "JSHeapUsedSize"), 0)
        settled = await page.evaluate(BYTES_JS)
        if shot is not None:
            await asyncio.sleep(1.0)
            await page.screenshot(path=str(shot), full_page=True)
        return {
            "render_ms": round(float(ready), 1),
            "heap_mb": round(metrics.get("JSHeapUsedSize", 0) / 1_048_576, 2),
            "kb": round(costs["total"] / 1024, 1),
            "api_kb": round(costs["api"] / 1024, 1),
            "requests": costs["requests"],
            "elements": costs["elements"],
            "settled_heap_mb": round(settled_heap / 1_048_576, 2),
            "settled_kb": round(settled["total"] / 1024, 1),
            "settled_elements": settled["elements"],
            "url": page.url.removeprefix(base),
        }
    finally:
        await context.close()


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in runs), 2)


async def _run(
    *, markets: int, stalls: int, runs: int, shots: Path | None, baseline: str | None
) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    server_url = _server_url()
    keep = os.environ.get("BENCH_PAGES_KEEP", "").lower() in ("1", "true", "yes")
    tag = uuid.uuid4().hex[:6]
    names = {
        "city": f"choso_bench_pages_city_{tag}",
        "national": f"choso_bench_pages_{markets}_{stalls}"
        if keep
        else f"choso_bench_pages_nat_{tag}",
    }
    data_dir = harness.ROOT / "var" / "bench"
    servers: dict[str, harness.ServerProcess] = {}
    out: dict[str, Any] = {"markets": markets, "stalls": stalls, "runs": runs}
    try:
        admin = await asyncpg.connect(server_url)
        try:
            for name in names.values():
                exists = await admin.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name
                )
                if not exists:
                    await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        national_url = harness.with_database(server_url, names["national"])
        print(f"  seeding {markets} markets, {stalls} stalls ...", file=sys.stderr, flush=True)
        out["seed_s"] = round(await _seed_national(national_url, markets=markets, stalls=stalls), 1)
        users = {"city": "xem", "national": "tn-quocgia"}
        for label, name in names.items():
            port = harness.free_port()
            extra = {"AUTO_MIGRATE": "true", "DEMO_DATA": "true"} if label == "city" else {}
            env = harness.app_env(
                database_url=harness.with_database(server_url, name),
                data_dir=data_dir / f"pages-{label}",
                port=port,
                workers=1,
                extra=extra,
            )
            servers[label] = harness.ServerProcess(
                name=label,
                argv=[harness.PYTHON, "-m", "ops.serve"],
                env=env,
                port=port,
                log_path=data_dir / "logs" / f"pages-{label}.log",
            )
            servers[label].start()
        if baseline:  # the pages of another version (e.g. main before the drill-down), national
            port = harness.free_port()
            tree = _baseline_tree(baseline)
            env = harness.app_env(
                database_url=national_url,
                data_dir=data_dir / "pages-before",
                port=port,
                workers=1,
                extra={"PYTHONPATH": str(tree)},
            )
            servers["before"] = _Server(
                tree,
                name="before",
                argv=[harness.PYTHON, "-m", "ops.serve"],
                env=env,
                port=port,
                log_path=data_dir / "logs" / "pages-before.log",
            )
            servers["before"].start()
            users["before"] = users["national"]
        for server in servers.values():
            await server.wait_ready(within_s=900)
        bases = {label: f"http://127.0.0.1:{s.port}" for label, s in servers.items()}
        tokens = {label: await _token(bases[label], users[label]) for label in servers}
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                for label in servers:  # the server's first answers warm its caches
                    for page in PAGES:
                        await _open(browser, bases[label], tokens[label], f"/{page}")
                results: dict[str, dict[str, list[dict[str, Any]]]] = {}
                for n in range(runs):  # interleaved, so a slow moment hits both sizes alike
                    for page in PAGES:
                        for label in servers:
                            one = await _open(browser, bases[label], tokens[label], f"/{page}")
                            results.setdefault(page, {}).setdefault(label, []).append(one)
                            print(f"  {page} {label} run {n + 1}: {one}", file=sys.stderr)
                if shots is not None:
                    await asyncio.to_thread(shots.mkdir, parents=True, exist_ok=True)
                    for page in PAGES:
                        target = shots / f"drill-national-{page}-1366x768.png"
                        await _open(
                            browser, bases["national"], tokens["national"], f"/{page}", target
                        )
            finally:
                await browser.close()
        for page, by_label in results.items():
            for label, runs_of in by_label.items():
                out[f"{page}_{label}"] = {
                    key: _median(runs_of, key)
                    for key in (
                        "render_ms",
                        "heap_mb",
                        "kb",
                        "api_kb",
                        "requests",
                        "elements",
                        "settled_heap_mb",
                        "settled_kb",
                        "settled_elements",
                    )  # fmt: skip
                } | {"url": runs_of[0]["url"]}
    finally:
        for server in servers.values():
            server.stop()
        admin = await asyncpg.connect(server_url)
        try:
            for label, name in names.items():
                if label == "city" or not keep:
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
    return out


def run(markets: int | None = None, stalls: int | None = None) -> list[dict[str, Any]]:
    """Median first meaningful render, heap and bytes of /dashboard and /map, national vs city."""
    markets = markets or int(os.environ.get("BENCH_PAGES_MARKETS", "10000"))
    stalls = stalls or int(os.environ.get("BENCH_PAGES_STALLS", "200000"))
    runs = int(os.environ.get("BENCH_PAGES_RUNS", "3"))
    shots = os.environ.get("BENCH_PAGES_SHOTS")
    baseline = os.environ.get("BENCH_PAGES_BASELINE") or None
    result = asyncio.run(
        _run(
            markets=markets,
            stalls=stalls,
            runs=runs,
            shots=Path(shots) if shots else None,
            baseline=baseline,
        )
    )
    rows = []
    for page in PAGES:
        city, nat = result[f"{page}_city"], result[f"{page}_national"]
        rows.append(
            {
                "name": f"pages_{page}",
                "ratio": round(nat["render_ms"] / city["render_ms"], 2),
                "heap_ratio": round(nat["heap_mb"] / city["heap_mb"], 2),
                "bytes_ratio": round(nat["kb"] / city["kb"], 2),
                "figures": (
                    f"median of {result['runs']}: national ({result['markets']} markets, "
                    f"{result['stalls']} stalls, opens at {nat['url']}) {nat['render_ms']} ms, "
                    f"heap {nat['heap_mb']} MB, {nat['kb']} KB ({nat['api_kb']} KB API) in "
                    f"{nat['requests']:.0f} requests, {nat['elements']:.0f} elements | city (demo, "
                    f"opens at {city['url']}) {city['render_ms']} ms, heap {city['heap_mb']} MB, "
                    f"{city['kb']} KB ({city['api_kb']} KB API), {city['elements']:.0f} elements"
                    f"\n{'':<49}once the network is idle: national heap {nat['settled_heap_mb']} MB, "
                    f"{nat['settled_kb']} KB, {nat['settled_elements']:.0f} elements | city heap "
                    f"{city['settled_heap_mb']} MB, {city['settled_kb']} KB, "
                    f"{city['settled_elements']:.0f} elements"
                    + (
                        f"\n{'':<49}before ({baseline}), national: {b['render_ms']} ms "
                        f"({round(b['render_ms'] / nat['render_ms'], 1)}x now), heap "
                        f"{b['heap_mb']} MB, {b['kb']} KB, {b['elements']:.0f} elements; idle: "
                        f"heap {b['settled_heap_mb']} MB, {b['settled_kb']} KB"
                        if (b := result.get(f"{page}_before"))
                        else ""
                    )
                ),
                "detail": result,
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row["name"], row["ratio"], row["figures"])
