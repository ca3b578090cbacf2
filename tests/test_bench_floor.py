"""The registration bench's SQL floor (bench/bare_app.py) does the database work of a registration.

The bench reads the floor's ratio to the bare insert as the ceiling of the app's own ratio; that
holds only while the floor writes what a real registration writes. One registration through the
API and one through the floor must add the same rows to every table, and leave counters that a
full recount agrees with.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from bench import bare_app
from core.text import stall_search_text
from coverage import counters
from merchants import stalls
from tests.conftest import stall_body

TABLES = (
    "idempotency_key", "stallholder", "stall", "payment_account", "onboarding",
    "onboarding_status", "audit_log", "consent", "stall_coverage", "market_coverage",
    "partner_coverage",
)  # fmt: skip

# Rows and the sum of every counter: an upsert that adds to an existing row changes the sum.
_SNAPSHOT = " UNION ALL ".join(
    f"SELECT '{t}', count(*), 0::bigint FROM {t}" for t in TABLES[:9]
) + "".join(
    f" UNION ALL SELECT '{t}', count(*), coalesce(sum(active_stalls + qr_issued + qr_verified"
    f" + transacting + fees_cashless), 0) FROM {t}"
    for t in TABLES[9:]
)


async def _snapshot(live) -> dict[str, tuple[int, int]]:
    async with live.pool.acquire() as conn:
        return {r[0]: (r[1], r[2]) for r in await conn.fetch(_SNAPSHOT)}


def _delta(after: dict, before: dict) -> dict[str, tuple[int, int]]:
    return {t: (after[t][0] - before[t][0], after[t][1] - before[t][1]) for t in TABLES}


@pytest.fixture
async def floor_client(live, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", live.url)
    floor = bare_app.create_app()
    async with floor.router.lifespan_context(floor):
        yield httpx.AsyncClient(transport=httpx.ASGITransport(app=floor), base_url="http://floor")


async def test_the_floor_writes_what_a_registration_writes(live, floor_client):
    async with live.pool.acquire() as conn:
        market_id = await conn.fetchval("SELECT id FROM market WHERE name = 'Chợ Thử Một'")
        user_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'volunteer'")
    headers = await live.token("volunteer")

    def body(n: int) -> dict:
        new = stall_body(f"A-{n}", holder={"full_name": "Trần Văn Bình", "phone": f"090512345{n}"})
        new["payment_accounts"][0]["account_number"] = f"012345678{n}"
        return new

    async with live.client() as client:
        # The first stall of a market creates its zone, partner and rollup counter rows; the
        # compared registrations both find them (as in the bench, after its warm-up).
        for n in (1, 2):
            if n == 2:
                before = await _snapshot(live)
            real = await client.post(
                f"/api/markets/{market_id}/stalls",
                json=body(n),
                headers=headers | {"Idempotency-Key": uuid.uuid4().hex},
            )
            assert real.status_code == 201, real.text
    middle = await _snapshot(live)

    floor = await floor_client.post(
        f"/floor/markets/{market_id}/stalls",
        json=body(3),
        headers={"Idempotency-Key": uuid.uuid4().hex, "X-Bench-User": str(user_id)},
    )
    assert floor.status_code == 201, floor.text
    after = await _snapshot(live)

    by_app, by_floor = _delta(middle, before), _delta(after, middle)
    assert by_floor == by_app
    # Every table took part (the counter tables by their sums).
    assert all(rows > 0 or total > 0 for rows, total in by_app.values()), by_app
    async with live.pool.acquire() as conn:
        assert (await counters.recount(conn, window_days=30)).ok
        # The same bytes, too: the floor stores the sort key and search text the app makes.
        rows = await conn.fetch(
            """SELECT s.stall_code, s.code_key, s.code_sort, s.search_text, s.goods,
                      h.full_name, h.phone_e164
               FROM stall s JOIN stallholder h ON h.id = s.holder_id
               WHERE s.market_id = $1 AND s.stall_code IN ('A-2', 'A-3')""",
            market_id,
        )
    assert len(rows) == 2
    for row in rows:
        assert (row["code_key"], row["code_sort"]) == stalls.code_keys(row["stall_code"])
        assert row["search_text"] == stall_search_text(
            row["stall_code"], row["full_name"], row["phone_e164"], row["goods"]
        )


def test_the_median_of_the_rounds_pairs_each_round_with_its_own() -> None:
    from collections import Counter

    from bench.bench_registration import Round, _median_ratio
    from bench.loadgen import LoadResult

    def at(rps: float) -> Round:
        result = LoadResult(int(rps), 1.0, Counter({201: int(rps)}), 0, [], 0.0)
        return Round(result, 0.0, 0.0, 0.0, None)

    floor = [at(900), at(1000), at(1100)]
    bare = [at(3000), at(4000), at(3000)]  # ratios 0.3, 0.25, 0.3667: median 0.3
    assert _median_ratio(floor, bare) == 0.3
    # The best rounds of each side (1100 / 4000 = 0.275) are not what it reports.
    assert _median_ratio([at(1)], [at(0)]) == 0.0


async def test_each_cut_of_the_statement_bench_leaves_out_its_part_and_nothing_else(live):
    """bench/bench_statement.py times the registration statement with one part left out: each cut
    must still find its part in today's statement (a renamed CTE fails here, not in a bench run)
    and the copy must write everything else. In a transaction rolled back at the end: the copies
    leave counters a recount disagrees with."""
    import json

    from bench import bench_statement
    from merchants.queries import registration as registration_q

    # What each copy writes differently from the full statement: (rows, counter sum) per table.
    differs = {
        "A/A (the full statement again)": {},
        "no onboarding status line": {"onboarding_status": (0, 0)},
        "no onboarding audit entry": {"audit_log": (1, 0)},  # the register entry only
        "no consent rows": {"consent": (0, 0)},
        "no status-change inserts": {},  # the market's status does not change here
        "no partner counters": {"partner_coverage": (0, 0)},
        "coverage row read, not written": {"stall_coverage": (0, 0)},
        "nothing written (checks only)": {t: (0, 0) for t in TABLES},
    }
    assert set(differs) == set(bench_statement.PARTS)
    full = registration_q._REGISTER_STALL
    async with live.pool.acquire() as conn:
        market_id = await conn.fetchval("SELECT id FROM market WHERE name = 'Chợ Thử Hai'")
        user_id = await conn.fetchval("SELECT id FROM app_user WHERE username = 'volunteer'")
        undo = conn.transaction()
        await undo.start()
        try:
            by_kind = {}
            for n, (kind, cuts) in enumerate(
                # The first stall of the market makes its counter rows; the others add to them.
                [("first", []), ("full", []), *bench_statement.PARTS.items()]
            ):
                body = stall_body(
                    f"CUT-{n}", holder={"full_name": "Lê Thị Cắt", "phone": f"09077700{n:02d}"}
                )
                body["payment_accounts"][0]["account_number"] = f"77700{n:04d}"
                new = bare_app._floor_registration(
                    json.loads(json.dumps(body)), user_id, market_id, uuid.uuid4().hex
                )
                before = {r[0]: (r[1], r[2]) for r in await conn.fetch(_SNAPSHOT)}
                registration_q._REGISTER_STALL = bench_statement.without(full, cuts)
                try:
                    await registration_q.register_stall(conn, new)
                finally:
                    registration_q._REGISTER_STALL = full
                after = {r[0]: (r[1], r[2]) for r in await conn.fetch(_SNAPSHOT)}
                by_kind[kind] = _delta(after, before)
        finally:
            await undo.rollback()
    by_kind.pop("first")
    everything = by_kind.pop("full")
    assert all(rows > 0 or total > 0 for rows, total in everything.values()), everything
    for kind, delta in by_kind.items():
        assert delta == everything | differs[kind], kind


def test_the_bench_counts_cpu_of_the_processes_alive_at_the_end_never_less_than_zero():
    """A PostgreSQL process that ends during a round (an autovacuum worker) took its CPU time with
    it: summed over the processes alive at each reading, the bare insert's database CPU once came
    out at -0.481 ms a request. Per process: one that ended is left out, a new one counts from 0."""
    from bench.bench_registration import _cpu_used

    before = {1: 10.0, 2: 5.0, 3: 7.5}  # 3 ends during the round
    after = {1: 10.5, 2: 5.25, 4: 0.125}  # 4 starts during it
    assert _cpu_used(before, after) == 0.875
