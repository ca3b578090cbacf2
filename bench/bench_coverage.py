"""Coverage reads at national scale must not grow with the number of stalls.

Seeds two databases with the synthetic national programme (ops.national.seed: the national
directory's 34 provinces and 3,321 wards, the same markets at both sizes) at 20,000 and
2,000,000 stalls, and times through the ASGI app, the two sizes alternating in small batches:

    market      GET /api/markets/{id}/coverage             (random markets)
    province    GET /api/coverage?group_by=province        (the country, one row per province)
    ward        GET /api/coverage?group_by=ward            (every ward of the country)
    all_markets GET /api/coverage?group_by=market          (every market of the country)
    drill       GET /api/coverage?group_by=ward&province=… and group_by=market&ward=… (random)
    map         GET /api/coverage/markets.geojson?ward=…   (random wards)
    history     GET /api/coverage/history                  (the country, 90 days)

and prints the medians and the large/small ratios (target: at most 2x). On the large database it
also measures, in the same run, what the history and the every-market rollup cost the way they
were computed before (one snapshot lookup per market and day; a pydantic model per group encoded
by FastAPI) against now: the before/after ratios.

    python -m bench.bench_coverage               # full size (10,000 markets; the seed takes minutes)
    BENCH_COVERAGE_SCALE=0.05 python -m bench.bench_coverage   # 500 markets, 100,000 stalls

BENCH_DATABASE_URL points at a server to use; otherwise an embedded PostgreSQL under
var/bench_coverage is started. The bench databases are dropped at the end, unless
BENCH_COVERAGE_KEEP=1: then they are kept (named by their size) and found again by the next run
(the seed sees its marker and changes nothing).
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from fastapi.routing import serialize_response
from fastapi.utils import create_model_field
from pydantic import SecretStr

from core.crypto import Keys
from core.state import state_of

BENCH_KEYS = Keys(b"choso-coverage-bench")  # the bench's own databases: any fixed key

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("market", "province", "ward", "all_markets", "drill", "map", "history")
WINDOW_DAYS = 30


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _server_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    from core import db

    return str(db.embedded_server(ROOT / "var" / "bench_coverage").get_uri())


def _keep() -> bool:
    return os.environ.get("BENCH_COVERAGE_KEEP", "").lower() in ("1", "true", "yes")


async def _seed(url: str, *, markets: int, stalls: int) -> tuple[float, bool]:
    """The national programme at this size (ops.national.seed); (seconds, loaded now)."""
    from core import db
    from ops.national import seed

    started = time.perf_counter()
    plan = seed.Plan(
        markets=markets,
        stalls=stalls,
        volunteers=max(2, 2 * markets),
        teams=max(1, markets // 4),
    )
    conn = await db.connect(url, keys=BENCH_KEYS)
    try:
        loaded = await seed.seed(conn, plan=plan, window_days=WINDOW_DAYS)
        await conn.execute("VACUUM ANALYZE")  # so autovacuum does not wake up during the timing
    finally:
        await conn.close()
    return time.perf_counter() - started, loaded.loaded


async def _admin_token(url: str) -> str:
    from core import db
    from core.auth import token_hash

    token = f"bench-{uuid.uuid4().hex}"
    conn = await db.connect(url, keys=BENCH_KEYS)
    try:
        user_id = await conn.fetchval(
            """INSERT INTO app_user (username, password_hash, role)
               VALUES ('benchadmin', 'x', 'admin')
               ON CONFLICT (username) DO UPDATE SET role = 'admin' RETURNING id"""
        )
        await conn.execute(
            "INSERT INTO auth_token (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
            token_hash(token),
            user_id,
            datetime.now(UTC) + timedelta(hours=2),
        )
    finally:
        await conn.close()
    return token


class _Target:
    """One seeded database behind the ASGI app (no lifespan, so no periodic job runs)."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def open(self, requests: int) -> None:
        from core import db
        from core.settings import Settings
        from main import create_app

        token = await _admin_token(self.url)
        self.headers = {"Authorization": f"Bearer {token}"}
        settings = Settings(
            database_url=self.url,
            demo_data=False,
            auto_migrate=False,
            secret_key=SecretStr("bench"),
            data_dir=ROOT / "var" / "bench_coverage",
        )
        self.app = create_app(settings)
        state_of(self.app).pool = await db.create_pool(
            self.url, keys=BENCH_KEYS, min_size=1, max_size=4
        )
        rng = random.Random(16)
        async with state_of(self.app).pool.acquire() as conn:
            ids = [r["id"] for r in await conn.fetch("SELECT id FROM market ORDER BY id")]
            wards = [
                r[0]
                for r in await conn.fetch(
                    "SELECT DISTINCT ward_code FROM market WHERE ward_code IS NOT NULL ORDER BY 1"
                )
            ]
            provinces = [
                r[0]
                for r in await conn.fetch("SELECT DISTINCT province_code FROM market ORDER BY 1")
            ]
        self.market_ids = [rng.choice(ids) for _ in range(requests)]
        self.wards = [rng.choice(wards) for _ in range(requests)]
        self.provinces = [rng.choice(provinces) for _ in range(requests)]
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://bench", timeout=120
        )

    def paths(self, kind: str, n: int) -> list[str]:
        def at(values: list[Any], i: int) -> Any:
            return values[i % len(values)]

        if kind == "market":
            return [f"/api/markets/{at(self.market_ids, i)}/coverage" for i in range(n)]
        if kind == "drill":
            return [
                f"/api/coverage?group_by=ward&province={at(self.provinces, i)}"
                if i % 2 == 0
                else f"/api/coverage?group_by=market&ward={at(self.wards, i)}"
                for i in range(n)
            ]
        if kind == "map":
            return [f"/api/coverage/markets.geojson?ward={at(self.wards, i)}" for i in range(n)]
        if kind == "history":
            return ["/api/coverage/history"] * n
        group_by = {"all_markets": "market"}.get(kind, kind)
        return [f"/api/coverage?group_by={group_by}"] * n

    async def times(self, paths: list[str]) -> list[float]:
        out = []
        for path in paths:
            t0 = time.perf_counter()
            r = await self.client.get(path, headers=self.headers)
            out.append(time.perf_counter() - t0)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return out

    async def close(self) -> None:
        await self.client.aclose()
        await state_of(self.app).pool.close()


async def _measure(targets: dict[str, _Target], *, requests: int) -> dict[str, dict[str, float]]:
    """Median per endpoint and size; sizes alternate in small batches so machine noise hits both.
    Answers of every market (all_markets: 10,000 groups) are timed a tenth as often."""
    samples: dict[str, dict[str, list[float]]] = {label: {} for label in targets}
    for kind in KINDS:
        n = max(10, requests // 10) if kind == "all_markets" else requests
        for t in targets.values():
            await t.times(t.paths(kind, min(n, 10)))  # warm-up
        batch = 5 if kind == "all_markets" else 10
        for start in range(0, n, batch):
            for label, t in targets.items():
                paths = t.paths(kind, start + batch)[start:]
                samples[label].setdefault(kind, []).extend(await t.times(paths))
    return {
        label: {k: statistics.median(v) for k, v in kinds.items()}
        for label, kinds in samples.items()
    }


async def _before_after(target: _Target, *, repeats: int) -> dict[str, float]:
    """On one database, in the same run: the country's 90-day history and the every-market
    rollup computed as before (medians, seconds) against the routes now."""
    from coverage import schemas as s
    from coverage.levels import local_day
    from coverage.queries import reads
    from coverage.queries import rule as rule_q
    from coverage.queries.counts import GroupRow
    from coverage.shapes import levels_out

    today = local_day(datetime.now(UTC))
    start, end = today - timedelta(days=90), today - timedelta(days=1)
    pool = state_of(target.app).pool

    async def history_before() -> None:
        # One snapshot lookup per market and day (coverage.queries.reads.snapshot_series over
        # every market, what the route ran for the country), then today's live point.
        async with pool.acquire() as conn:
            await reads.snapshot_series(conn, None, start, end)
            await reads.sum_market_counters(conn, None)

    def group_model(g: GroupRow) -> s.GroupCoverage:
        return s.GroupCoverage(
            key=g.key,
            name=g.name,
            markets=g.markets,
            active_stalls=g.counts.active_stalls,
            levels=levels_out(g.counts),
            statuses=s.StatusCounts(**g.statuses) if g.statuses is not None else None,
            status=g.status,
        )

    field = create_model_field(
        name="Response_coverage_rollup", type_=s.CoverageRollup, mode="serialization"
    )

    async def markets_before() -> None:
        # Rows into a pydantic model per group, then what FastAPI does with a returned model
        # (fastapi.routing.serialize_response: validate against the response model, dump JSON).
        async with pool.acquire() as conn:
            rule = await rule_q.current_rule(conn)
            groups = await reads.market_groups(conn, None)
        rollup = s.CoverageRollup(
            group_by="market",
            groups=[group_model(g) for g in groups],
            total=None,
            rule_version=rule.version,
            thresholds=rule.thresholds,
        )
        await serialize_response(field=field, response_content=rollup, dump_json=True)

    async def timed(fn: Any) -> float:
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            await fn()
            runs.append(time.perf_counter() - t0)
        return statistics.median(runs)

    async def route(path: str) -> float:
        return statistics.median(await target.times([path] * repeats))

    return {
        "history_before_s": await timed(history_before),
        "history_now_s": await route("/api/coverage/history"),
        "markets_before_s": await timed(markets_before),
        "markets_now_s": await route("/api/coverage?group_by=market"),
    }


async def _contention(url: str, *, operations: int) -> dict[str, float]:
    """Stall changes per second in distinct markets, one at a time vs 16 concurrent."""
    from core import db
    from coverage import counters

    pool = await db.create_pool(url, keys=BENCH_KEYS, min_size=2, max_size=17)
    try:
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT DISTINCT ON (s.market_id) s.id
                        FROM stall s JOIN stall_coverage c ON c.stall_id = s.id
                   WHERE s.status = 'active' ORDER BY s.market_id, s.id LIMIT $1""",
                operations * 2,
            )
        stalls = [r["id"] for r in rows]

        async def flip(stall_id: int) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "UPDATE stall_coverage SET fees_cashless = NOT fees_cashless "
                    "WHERE stall_id = $1",
                    stall_id,
                )
                await counters.on_stall_changed(conn, stall_id=stall_id, window_days=WINDOW_DAYS)

        async def hold() -> None:
            async with pool.acquire() as conn:
                await conn.fetchval("SELECT pg_sleep(0.05)")

        await asyncio.gather(*[hold() for _ in range(16)])  # open every connection before timing
        t0 = time.perf_counter()
        for s in stalls[:operations]:
            await flip(s)
        serial = operations / (time.perf_counter() - t0)
        sem = asyncio.Semaphore(16)

        async def limited(s: int) -> None:
            async with sem:
                await flip(s)

        t0 = time.perf_counter()
        await asyncio.gather(*[limited(s) for s in stalls[operations : operations * 2]])
        concurrent = operations / (time.perf_counter() - t0)
    finally:
        await pool.close()
    return {"serial_per_s": serial, "concurrent16_per_s": concurrent}


async def _run(markets: int, large_stalls: int, small_stalls: int, requests: int) -> dict[str, Any]:
    from core import db
    from coverage import counters

    server = _server_url()
    sizes = {"small": small_stalls, "large": large_stalls}
    result: dict[str, Any] = {"markets": markets}
    keep = _keep()
    names = {
        label: f"choso_bench_national_{markets}_{stalls}"
        if keep
        else f"choso_bench_cov_{label}_{uuid.uuid4().hex[:6]}"
        for label, stalls in sizes.items()
    }
    targets: dict[str, _Target] = {}
    try:
        for label, stalls in sizes.items():
            admin = await asyncpg.connect(server)
            exists = await admin.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", names[label]
            )
            if not exists:
                await admin.execute(f'CREATE DATABASE "{names[label]}"')
            await admin.close()
            url = _with_database(server, names[label])
            await asyncio.to_thread(db.migrate, url)
            seconds, loaded = await _seed(url, markets=markets, stalls=stalls)
            result[label] = {
                "markets": markets,
                "stalls": stalls,
                "seed_s": round(seconds, 1),
                "seeded_now": loaded,
            }
            targets[label] = _Target(url)
            await targets[label].open(requests)
        conn = await db.connect(targets["small"].url, keys=BENCH_KEYS)
        try:
            report = await counters.recount(conn, window_days=WINDOW_DAYS)
            assert report.ok, report.mismatches[:5]  # the seeded counters are the true numbers
        finally:
            await conn.close()
        for label, timings in (await _measure(targets, requests=requests)).items():
            result[label].update(timings)
        for label, t in targets.items():
            check = (
                await t.client.get("/api/coverage?group_by=province", headers=t.headers)
            ).json()
            assert check["total"]["markets"] == result[label]["markets"]
            result[label]["active_stalls"] = check["total"]["active_stalls"]
            result[label]["provinces"] = len(check["groups"])
            wards = (await t.client.get("/api/coverage?group_by=ward", headers=t.headers)).json()
            result[label]["wards"] = len(wards["groups"])
        result["before_after"] = await _before_after(targets["large"], repeats=5)
        for label, t in targets.items():
            ops = min(400, max(1, markets // 2))
            result[label]["contention"] = await _contention(t.url, operations=ops)
    finally:
        for t in targets.values():
            await t.close()
        if not keep:
            admin = await asyncpg.connect(server)
            for name in names.values():
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    for key in KINDS:
        result[f"ratio_{key}"] = result["large"][key] / result["small"][key]
    ba = result["before_after"]
    result["history_speedup"] = ba["history_before_s"] / ba["history_now_s"]
    result["markets_json_speedup"] = ba["markets_before_s"] / ba["markets_now_s"]
    return result


def run(
    large_stalls: int = 2_000_000,
    large_markets: int = 10_000,
    small_stalls: int = 20_000,
    requests: int = 100,
) -> dict[str, Any]:
    """Seed both sizes, time the reads, print and return medians and large/small ratios."""
    scale = float(os.environ.get("BENCH_COVERAGE_SCALE", "1"))
    if scale != 1:
        large_stalls, large_markets = int(large_stalls * scale), max(1, int(large_markets * scale))
    result = asyncio.run(_run(large_markets, large_stalls, small_stalls, requests))
    for label in ("small", "large"):
        r = result[label]
        print(
            f"{label:5}: {r['markets']:>6} markets in {r['wards']} wards of {r['provinces']} "
            f"provinces, {r['stalls']:>9} stalls (seeded in {r['seed_s']} s) | "
            + " | ".join(f"{k} {r[k] * 1000:.2f} ms" for k in KINDS)
            + f" | stall changes/s serial {r['contention']['serial_per_s']:.0f}, "
            f"16 concurrent {r['contention']['concurrent16_per_s']:.0f}"
        )
    print(
        "ratio large/small: "
        + ", ".join(f"{k} {result[f'ratio_{k}']:.2f}x" for k in KINDS)
        + " (target <= 2x)"
    )
    ba = result["before_after"]
    print(
        f"before/after at {result['large']['stalls']} stalls: history "
        f"{ba['history_before_s'] * 1000:.1f} -> {ba['history_now_s'] * 1000:.1f} ms "
        f"({result['history_speedup']:.1f}x), every market "
        f"{ba['markets_before_s'] * 1000:.1f} -> {ba['markets_now_s'] * 1000:.1f} ms "
        f"({result['markets_json_speedup']:.1f}x)"
    )
    return result


if __name__ == "__main__":
    run()
