"""Coverage reads must not grow with the number of stalls.

Seeds two databases in one run -- small (20,000 stalls) and large (2,000,000 stalls in 10,000
markets) -- with set-based SQL, builds the counters with the service's own rebuild, then times
GET /api/markets/{id}/coverage and the city-wide rollups (group_by=province and ward) through
the ASGI app. Prints the medians and the large/small ratio (the target is at most 2x).

    python -m bench.bench_coverage               # full size (a few minutes on 2 cores)
    BENCH_COVERAGE_SCALE=0.05 python -m bench.bench_coverage   # 100,000 stalls / 500 markets

BENCH_DATABASE_URL points at a server to use; otherwise an embedded PostgreSQL under
var/bench_coverage is started. The bench databases are dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
from pydantic import SecretStr

from core.crypto import Keys
from core.state import state_of

BENCH_KEYS = Keys(b"choso-coverage-bench")  # the bench's own databases: any fixed key

ROOT = Path(__file__).resolve().parent.parent
WARDS = 94  # the new Thành phố Đà Nẵng has 94 commune-level units: same geography at both sizes
DISTRICTS = 8
ZONES = ("A", "B", "C", "D")
PARTNERS = ("MB", "VCB", "MOMO")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _server_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    from core import db

    return str(db.embedded_server(ROOT / "var" / "bench_coverage").get_uri())


async def _seed(url: str, *, markets: int, stalls: int) -> float:
    """Markets over 94 wards, stalls with a spread of levels; counters by the service's rebuild."""
    from core import db
    from coverage import counters

    started = time.perf_counter()
    per_market = max(1, stalls // markets)
    conn = await db.connect(url, keys=BENCH_KEYS)
    try:
        await conn.execute("SET synchronous_commit = off")
        await conn.execute(
            """INSERT INTO admin_unit (scheme, code, level, name, parent_code)
               VALUES ('2025-07', '48', 'province', 'Thành phố Đà Nẵng', NULL);
               INSERT INTO admin_unit (scheme, code, level, name, parent_code)
               SELECT '2025-07', (30000 + g)::text, 'ward', 'Phường Thử ' || g, '48'
               FROM generate_series(0, $WARDS - 1) g;""".replace("$WARDS", str(WARDS))
        )
        await conn.execute(
            """INSERT INTO market (name, province_code, ward_code, legacy_district_name, lat,
                    lon, zones)
               SELECT 'Chợ Thử ' || g, '48', (30000 + g % $1)::text, 'Quận ' || (g % $2),
                      15.9 + (g % 97) * 0.003, 108.0 + (g % 89) * 0.003, $3::text[]
               FROM generate_series(1, $4) g""",
            WARDS,
            DISTRICTS,
            list(ZONES),
            markets,
        )
        await conn.execute(
            """INSERT INTO stall (market_id, stall_code, code_key, code_sort, zone, status,
                    search_text)
               SELECT m.id, z.zone || '-' || i, z.zone || '-' || i,
                   z.zone || '-' || lpad(i::text, 6, '0'),
                      z.zone, CASE WHEN (m.id + i) % 20 = 0 THEN 'vacant' ELSE 'active' END, ''
               FROM market m CROSS JOIN generate_series(1, $1) i
               CROSS JOIN LATERAL (SELECT ($2::text[])[1 + i % 4] AS zone) z""",
            per_market,
            list(ZONES),
        )
        # Seven stalls in ten show an account (stored sealed, as the app stores it); partner by
        # stall id.
        ids = [r[0] for r in await conn.fetch("SELECT id FROM stall WHERE id % 10 < 7 ORDER BY id")]
        await conn.copy_records_to_table(
            "payment_account",
            columns=["stall_id", "bin", "account_number", "partner_code"],
            records=[
                (i, "970422", sealed, PARTNERS[i % 3])
                for i, sealed in zip(
                    ids, BENCH_KEYS.seal_all(f"{i:010d}" for i in ids), strict=True
                )
            ],
        )
        now = datetime.now(UTC)
        # Facts, and counted flags that agree with them (the same rules as levels.levels_of).
        await conn.execute(
            """INSERT INTO stall_coverage (stall_id, market_id, sign_delivered_at, verified_at,
                       verified_method, verified_account_id, last_payment_at, fees_cashless,
                       counted_active, counted_qr_issued, counted_qr_verified, counted_transacting,
                       counted_fees_cashless, counted_zone, counted_partners)
               SELECT s.id, s.market_id,
                      CASE WHEN f.issued THEN $1::timestamptz END,
                      CASE WHEN f.verified THEN $1::timestamptz END,
                      CASE WHEN f.verified THEN 'scan' END,
                      CASE WHEN f.verified THEN a.id END,
                      CASE WHEN f.paid THEN $1::timestamptz - interval '2 days' END,
                      f.fees,
                      f.active, f.active AND f.issued, f.active AND f.verified, f.active AND f.paid,
                      f.active AND f.fees,
                      CASE WHEN f.active THEN s.zone ELSE '' END,
                      CASE WHEN f.active
                          AND a.id IS NOT NULL THEN ARRAY[a.partner_code] ELSE '{}' END
               FROM stall s
               LEFT JOIN payment_account a ON a.stall_id = s.id
               CROSS JOIN LATERAL (SELECT s.status = 'active' AS active,
                                          (s.id + s.market_id) % 10 < 6 OR (a.id IS NOT NULL
                                              AND s.id % 10 < 4) AS issued,
                                          a.id IS NOT NULL AND s.id % 10 < 4 AS verified,
                                          (s.id * 7 + s.market_id) % 10 < 2 AS paid,
                                          s.id % 10 = 9 AS fees) f""",
            now,
        )
        await conn.execute("ANALYZE")
        await counters.rebuild(conn, now=now, window_days=30, trust_stall_flags=True)
        await conn.execute("VACUUM ANALYZE")  # so autovacuum does not wake up during the timing
    finally:
        await conn.close()
    return time.perf_counter() - started


async def _admin_token(url: str) -> str:
    from core import db
    from core.auth import token_hash

    token = f"bench-{uuid.uuid4().hex}"
    conn = await db.connect(url, keys=BENCH_KEYS)
    try:
        user_id = await conn.fetchval(
            "INSERT INTO app_user (username, password_hash, role) "
            "VALUES ('benchadmin', 'x', 'admin') RETURNING id"
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
        async with state_of(self.app).pool.acquire() as conn:
            rows = await conn.fetch("SELECT id FROM market ORDER BY random() LIMIT $1", requests)
        self.market_ids = [r["id"] for r in rows]
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://bench"
        )

    def paths(self, kind: str, n: int) -> list[str]:
        if kind == "market":
            return [
                f"/api/markets/{self.market_ids[i % len(self.market_ids)]}/coverage"
                for i in range(n)
            ]
        return [f"/api/coverage?group_by={kind}"] * n

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
    """Median per endpoint and size; sizes alternate in small batches so machine noise hits both."""
    samples: dict[str, dict[str, list[float]]] = {label: {} for label in targets}
    for kind in ("market", "province", "ward"):
        for t in targets.values():
            await t.times(t.paths(kind, 20))  # warm-up
        batch = 10
        for start in range(0, requests, batch):
            for label, t in targets.items():
                paths = t.paths(kind, start + batch)[start:]
                samples[label].setdefault(kind, []).extend(await t.times(paths))
    return {
        label: {k: statistics.median(v) for k, v in kinds.items()}
        for label, kinds in samples.items()
    }


async def _contention(url: str, *, operations: int) -> dict[str, float]:
    """Stall changes per second in markets of one province, one at a time vs 16 concurrent."""
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

        async def flip(stall_id: int, value: bool) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "UPDATE stall_coverage SET fees_cashless = $2 WHERE stall_id = $1",
                    stall_id,
                    value,
                )
                await counters.on_stall_changed(conn, stall_id=stall_id, window_days=30)

        async def hold() -> None:
            async with pool.acquire() as conn:
                await conn.fetchval("SELECT pg_sleep(0.05)")

        await asyncio.gather(*[hold() for _ in range(16)])  # open every connection before timing
        t0 = time.perf_counter()
        for s in stalls[:operations]:
            await flip(s, True)
        serial = operations / (time.perf_counter() - t0)
        sem = asyncio.Semaphore(16)

        async def limited(s: int) -> None:
            async with sem:
                await flip(s, True)

        t0 = time.perf_counter()
        await asyncio.gather(*[limited(s) for s in stalls[operations : operations * 2]])
        concurrent = operations / (time.perf_counter() - t0)
    finally:
        await pool.close()
    return {"serial_per_s": serial, "concurrent16_per_s": concurrent}


async def _run(
    large_stalls: int, large_markets: int, small_stalls: int, requests: int
) -> dict[str, Any]:
    from core import db
    from coverage import counters

    server = _server_url()
    per_market = large_stalls // large_markets
    small_markets = max(1, small_stalls // per_market)
    sizes = {"small": (small_markets, small_stalls), "large": (large_markets, large_stalls)}
    result: dict[str, Any] = {"stalls_per_market": per_market}
    names = {label: f"choso_bench_cov_{label}_{uuid.uuid4().hex[:6]}" for label in sizes}
    targets: dict[str, _Target] = {}
    try:
        for label, (markets, stalls) in sizes.items():
            admin = await asyncpg.connect(server)
            await admin.execute(f'CREATE DATABASE "{names[label]}"')
            await admin.close()
            url = _with_database(server, names[label])
            await asyncio.to_thread(db.migrate, url)
            seconds = await _seed(url, markets=markets, stalls=stalls)
            result[label] = {"markets": markets, "stalls": stalls, "seed_s": round(seconds, 1)}
            targets[label] = _Target(url)
            await targets[label].open(requests)
        conn = await db.connect(targets["small"].url, keys=BENCH_KEYS)
        try:
            report = await counters.recount(conn, window_days=30)
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
        for label, t in targets.items():
            ops = min(400, max(1, result[label]["markets"] // 2))
            result[label]["contention"] = await _contention(t.url, operations=ops)
    finally:
        for t in targets.values():
            await t.close()
        admin = await asyncpg.connect(server)
        for name in names.values():
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    for key in ("market", "province", "ward"):
        result[f"ratio_{key}"] = result["large"][key] / result["small"][key]
    return result


def run(
    large_stalls: int = 2_000_000,
    large_markets: int = 10_000,
    small_stalls: int = 20_000,
    requests: int = 200,
) -> dict[str, Any]:
    """Seed both sizes, time the reads, print and return medians and large/small ratios."""
    scale = float(os.environ.get("BENCH_COVERAGE_SCALE", "1"))
    if scale != 1:
        large_stalls, large_markets = int(large_stalls * scale), max(1, int(large_markets * scale))
    result = asyncio.run(_run(large_stalls, large_markets, small_stalls, requests))
    for label in ("small", "large"):
        r = result[label]
        print(
            f"{label:5}: {r['markets']:>6} markets {r['stalls']:>9} stalls "
            f"(seeded in {r['seed_s']} s) | market coverage {r['market'] * 1000:.2f} ms | "
            f"province {r['province'] * 1000:.2f} ms | ward {r['ward'] * 1000:.2f} ms | "
            f"stall changes/s serial {r['contention']['serial_per_s']:.0f}, "
            f"16 concurrent {r['contention']['concurrent16_per_s']:.0f}"
        )
    print(
        f"ratio large/small: market {result['ratio_market']:.2f}x, "
        f"province {result['ratio_province']:.2f}x, "
        f"ward {result['ratio_ward']:.2f}x (target <= 2x)"
    )
    return result


if __name__ == "__main__":
    run()
