"""Reading never changes state: every GET (and HEAD) of the OpenAPI schema, as every kind of caller,
leaves every table as it was, except the access log (reads of personal data are logged) and
sign-in bookkeeping (when a token or key was last used).

Opening a sign PDF, a market's signs.pdf or a QR image to look at it used to mark signs as issued;
printing is now confirmed explicitly (POST), so a preview can never move a number.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_authz_matrix import (  # noqa: F401 - `seeded` is a fixture
    CALLERS,
    ROUTES,
    RULES,
    _path,
    _resolve,
    caller_headers,
    seeded,
)

# Tables a read may write, and columns of others that are sign-in bookkeeping.
WRITABLE_BY_READS = {"access_log", "alembic_version"}
BOOKKEEPING_COLUMNS = {("api_key", "last_used_at"), ("auth_token", "last_used_at")}

GETS = [(m, p) for m, p in ROUTES if m == "GET"]


async def _fingerprint(conn) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row of every table (bookkeeping columns left out)."""
    tables = [
        r["table_name"]
        for r in await conn.fetch(
            """SELECT table_name FROM information_schema.tables
               WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
               ORDER BY 1"""
        )
        if r["table_name"] not in WRITABLE_BY_READS
    ]
    out: dict[str, tuple[int, str]] = {}
    for table in tables:
        columns = [
            r["column_name"]
            for r in await conn.fetch(
                """SELECT column_name FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = $1 ORDER BY 1""",
                table,
            )
            if (table, r["column_name"]) not in BOOKKEEPING_COLUMNS
        ]
        cols = ", ".join(f'"{c}"' for c in columns)
        row = await conn.fetchrow(
            f"""SELECT count(*) AS n,
                       md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS digest
                FROM (SELECT ROW({cols}) AS x FROM "{table}") t"""
        )
        out[table] = (int(row["n"]), str(row["digest"]))
    return out


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))


@pytest.mark.parametrize(("method", "path"), GETS, ids=[p for _, p in GETS])
async def test_a_read_changes_no_table(client, conn, seeded, method, path):  # noqa: F811
    rule = RULES[(method, path)]
    problems = []
    for caller in CALLERS:
        for verb in ("GET", "HEAD"):
            headers = (_resolve(rule.headers, seeded) or {}) | await caller_headers(
                conn, caller, seeded
            )
            before = await _fingerprint(conn)
            r = await client.request(
                verb, _path(path, seeded), headers=headers, params=_resolve(rule.query, seeded)
            )
            after = await _fingerprint(conn)
            changed = _changed(before, after)
            if changed:
                problems.append(f"{verb} as {caller} ({r.status_code}) changed {changed}")
    assert problems == []


async def test_the_fingerprint_sees_a_change(conn):
    """The check can fail: a write to any table shows."""
    before = await _fingerprint(conn)
    await conn.execute(
        "UPDATE market SET name = name || '.' WHERE id = (SELECT min(id) FROM market)"
    )
    assert _changed(before, await _fingerprint(conn)) == ["market"]
