"""What each part of the registration statement costs PostgreSQL, measured to the microsecond.

The HTTP bench (bench_registration.py) compares whole servers under load: its rounds move by 5-10 %
from one to the next, more than most single changes to the statement are worth. This bench holds
everything else still. One connection to one database runs, in turn, the registration statement
as merchants.queries.registration sends it, copies of it with one part left out, and the bare
insert; the kinds alternate statement by statement, each pass in a new random order (a drift of
the machine hits all of them, and none always follows the same one), and
each execution's CPU time is the backend's own, read from /proc/<pid>/schedstat (nanoseconds).
It reports per kind the median over the executions and its ratio to the full statement's median.

The copies are not what the app could do (each part written is a guarantee: the consents, the
onboarding's history and audit entry, the counters); they say what a part costs, so that a design
that writes less can be judged before it is built. "A/A" is the full statement again: the ratios'
own noise. Knobs: BENCH_STATEMENT_N (executions per kind, 1,500), BENCH_STATEMENT_WARM (3,000).
Needs Linux (/proc) and the embedded server, or BENCH_DATABASE_URL on this machine.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import re
import statistics
import uuid
from pathlib import Path
from typing import Any

from bench import harness
from bench.bare_app import INSERT, TABLE, _floor_registration
from bench.bench_registration import Bodies
from core import db
from core.crypto import Keys, secret_key
from core.settings import get_settings
from core.sql import Statement, compose
from merchants.queries import registration as registration_q

# (kind, what it leaves out: [(CTE name, the text that follows the CTE, what it becomes)])
_NOTHING = "SELECT 1 WHERE false"
_COVERAGE_ROW_READ = (
    "SELECT new_stall.market_id, coalesce(new_stall.zone, '') AS counted_zone,"
    " ARRAY(SELECT DISTINCT partner_code FROM account WHERE account.stall_id = new_stall.id"
    " AND active AND partner_code IS NOT NULL ORDER BY 1) AS counted_partners FROM new_stall"
    " WHERE $counted_active"
)
PARTS: dict[str, list[tuple[str, str, str]]] = {
    "A/A (the full statement again)": [],
    "no onboarding status line": [("onboarding_history", "), onboarding_audit", _NOTHING)],
    "no onboarding audit entry": [("onboarding_audit", "),\nconsent_row", _NOTHING)],
    "no consent rows": [("consent_row", "),\ncoverage_row", _NOTHING)],
    "no status-change inserts": [
        ("status_line", "), status_day", _NOTHING),
        ("status_day", "), partner_rows", _NOTHING),
    ],
    "no partner counters": [("partner_rows", "),\nentry", _NOTHING)],
    "coverage row read, not written": [("coverage_row", "), rule AS", _COVERAGE_ROW_READ)],
    "nothing written (checks only)": [
        ("claim", "), holder AS", "SELECT NULL::bigint AS resource_id WHERE false")
    ],
}


def _named(statement: Statement) -> str:
    """The statement's text with $name parameters again (core.sql.compose numbered them)."""
    return re.sub(r"\$(\d+)", lambda m: "$" + statement.names[int(m.group(1)) - 1], statement.text)


def without(statement: Statement, cuts: list[tuple[str, str, str]]) -> Statement:
    """The statement with these CTEs' bodies replaced; numbered again (a part left out may have
    been the only one to use a parameter)."""
    text = _named(statement)
    for name, follows, body in cuts:
        start = text.index(f"{name} AS (")
        end = text.index(follows, start)
        text = f"{text[:start]}{name} AS ({body}\n{text[end:]}"
    return compose(text)


def _cpu_ns(pid: int) -> int:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


async def _run(*, n: int, warm: int, data_dir: Path, server_url: str | None) -> dict[str, Any]:
    if server_url is None:
        server_url = harness.EmbeddedPostgres(data_dir).url
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    template, database = f"choso_stmt_tmpl_{suffix}", f"choso_stmt_{suffix}"
    await harness.migrated_template(server_url, template)
    url = await harness.clone_database(server_url, template, database)
    try:
        seeded = await harness.seed(url, markets=20, volunteers=1, admin=False)
        conn = await db.connect(url, keys=Keys(secret_key(get_settings())))
        try:
            await conn.execute(TABLE)
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            full = registration_q._REGISTER_STALL
            statements = {"full statement": full} | {
                kind: without(full, cuts) for kind, cuts in PARTS.items()
            }
            user = seeded.user_ids["vol000"]
            bodies = Bodies(seeded.market_ids, "-", user)
            counter = itertools.count(1)

            async def once(kind: str) -> int:
                n = next(counter)
                raw = bodies.body(n)
                if kind == "bare insert":
                    started = _cpu_ns(pid)
                    await conn.fetchval(INSERT, f"B-{n}", raw.decode())
                    return _cpu_ns(pid) - started
                market = seeded.market_ids[n % len(seeded.market_ids)]
                new = _floor_registration(json.loads(raw), user, market, uuid.uuid4().hex)
                registration_q._REGISTER_STALL = statements[kind]
                try:
                    started = _cpu_ns(pid)
                    await registration_q.register_stall(conn, new)
                    return _cpu_ns(pid) - started
                finally:
                    registration_q._REGISTER_STALL = full

            kinds = [*statements, "bare insert"]
            for i in range(warm):
                await once(kinds[i % len(kinds)])
            await conn.execute("VACUUM (ANALYZE)")
            samples: dict[str, list[int]] = {k: [] for k in kinds}
            shuffled = random.Random(16)
            for _ in range(n):
                # Each pass in its own order: what ran just before (the bare insert's small
                # working set, say) shows in the next execution's time, so no kind may always
                # follow the same one.
                order = kinds[:]
                shuffled.shuffle(order)
                for kind in order:
                    samples[kind].append(await once(kind))
        finally:
            await conn.close()
    finally:
        await harness.drop_database(server_url, database)
        await harness.drop_database(server_url, template)
    medians = {k: statistics.median(v) / 1000 for k, v in samples.items()}
    base = medians["full statement"]
    return {
        "name": "registration_statement",
        "executions_per_kind": n,
        "backend_cpu_us_median": {k: round(v, 1) for k, v in medians.items()},
        "ratio_to_full": {k: round(v / base, 3) for k, v in medians.items()},
        "full_vs_bare_insert": round(base / medians["bare insert"], 2),
    }


def run() -> list[dict[str, Any]]:
    """The registration statement's parts, by PostgreSQL CPU per execution."""
    return [
        asyncio.run(
            _run(
                n=int(os.environ.get("BENCH_STATEMENT_N", 1500)),
                warm=int(os.environ.get("BENCH_STATEMENT_WARM", 3000)),
                data_dir=harness.ROOT / "var" / "bench",
                server_url=os.environ.get("BENCH_DATABASE_URL") or None,
            )
        )
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
