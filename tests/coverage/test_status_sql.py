"""A registration evaluates its market's status in SQL (coverage_status, migration 0014): it must
say what coverage.levels.evaluate_status says, for every count, threshold and previous status."""

from __future__ import annotations

import itertools

from coverage.levels import evaluate_status
from coverage.queries.counts import Counts

RULES = (
    {"qr_verified": 0.9, "transacting": 0.3},
    {"qr_verified": 0.5},
    {"qr_issued": 0.3},
    {"qr_issued": 1.0, "qr_verified": 0.95, "transacting": 0.1, "fees_cashless": 0.25},
    {"transacting": 0.0},
)
PREVIOUS = ("not_started", "in_progress", "cashless", "lapsed")


async def test_the_sql_status_is_the_python_status(conn):
    cases = []
    for active in (0, 1, 2, 3, 9, 10, 20, 33):
        steps = sorted({0, 1, active // 3, active // 2, (9 * active) // 10, active - 1, active})
        for issued, verified, transacting, fees in itertools.product(
            [s for s in steps if 0 <= s <= active], repeat=4
        ):
            cases.append((active, issued, verified, transacting, fees))
    rows = []
    for rule, previous in itertools.product(RULES, PREVIOUS):
        for counts in cases:
            rows.append((counts, rule, previous))
    got = await conn.fetch(
        """SELECT coverage_status(a, i, v, t, f, r, p) AS status
           FROM unnest($1::int[], $2::int[], $3::int[], $4::int[], $5::int[], $6::jsonb[],
                       $7::text[]) WITH ORDINALITY AS x (a, i, v, t, f, r, p, n)
           ORDER BY n""",
        *[[c[k] for c, _, _ in rows] for k in range(5)],
        [rule for _, rule, _ in rows],
        [previous for _, _, previous in rows],
    )
    expected = [evaluate_status(Counts(*c), rule, previous) for c, rule, previous in rows]
    assert len(rows) > 10_000
    assert [r["status"] for r in got] == expected


async def test_a_registration_calls_no_status_function(conn, client, auth, markets):
    """coverage_status is written to be inlined into the registration statement: a call PostgreSQL
    does not inline is parsed and planned again at every execution (it once cost a registration
    ~15 % of its database time). Function call statistics count calls that were not inlined."""
    from tests.conftest import stall_body

    headers = await auth("volunteer")
    await conn.execute("SET LOCAL track_functions = 'all'")
    for n, code in enumerate(("Q-1", "Q-2")):  # the market's first stall, then one more
        body = stall_body(code, holder={"full_name": "Trần Văn Bình", "phone": f"09{n}1234567"})
        reply = await client.post(
            f"/api/markets/{markets['one']}/stalls",
            json=body,
            headers=headers | {"Idempotency-Key": f"inline-{code}"},
        )
        assert reply.status_code == 201, reply.text
    calls = await conn.fetchval(
        "SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions "
        "WHERE funcname = 'coverage_status'"
    )
    assert calls == 0
