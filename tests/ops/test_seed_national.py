"""`make seed-national`: a synthetic national programme, consistent, clearly marked, loaded once.

A small plan with more markets than the directory has wards (so every ward gets one) and 90 days
of history; the full plan (10,000 markets, 2,000,000 stalls) is the same code at another size.
"""

from __future__ import annotations

from collections import Counter

import pytest

from core import db
from core.auth import verify_password
from core.text import stall_search_text
from coverage import counters
from ops.demo import DEMO_PASSWORD
from ops.national import seed
from tests.conftest import TEST_KEYS, _admin, with_database

PLAN = seed.Plan(markets=3_400, stalls=60_000, volunteers=400, teams=100, days=90)
TABLES = (
    "market", "stall", "stallholder", "payment_account", "onboarding", "consent", "audit_log",
    "payment_event", "coverage_snapshot", "coverage_area_day", "market_status_history", "app_user",
    "user_market", "team", "team_membership", "team_market",
)  # fmt: skip


async def _counts(conn) -> dict[str, int]:
    return {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in TABLES}


@pytest.fixture(scope="module")
async def loaded(server_url, template_db):
    """One database with the plan loaded (module-wide: the load takes a while)."""
    name = f"choso_seed_{template_db[-6:]}"
    await _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    url = with_database(server_url, name)
    conn = await db.connect(url, keys=TEST_KEYS)
    try:
        result = await seed.seed(conn, plan=PLAN, window_days=30)
        yield conn, result
    finally:
        await conn.close()
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.slow
async def test_every_ward_and_province_of_the_directory_has_markets(loaded):
    conn, result = loaded
    assert result.loaded
    missing = await conn.fetchval(
        """SELECT count(*) FROM admin_unit u
           WHERE u.scheme = '2025-07' AND u.level = 'ward'
             AND NOT EXISTS (SELECT 1 FROM market m WHERE m.ward_code = u.code)"""
    )
    assert missing == 0
    provinces = await conn.fetchval(
        "SELECT count(DISTINCT province_code) FROM market WHERE name LIKE 'Chợ Thử Nghiệm %'"
    )
    assert provinces == 34
    assert result.counts["markets"] == PLAN.markets and result.counts["wards"] == 3321
    # Every market is drawn near its province's centre, inside Vietnam's box.
    outside = await conn.fetchval(
        "SELECT count(*) FROM market WHERE name LIKE 'Chợ Thử Nghiệm %' "
        "AND NOT (lat BETWEEN 8 AND 24 AND lon BETWEEN 102 AND 110)"
    )
    assert outside == 0


@pytest.mark.slow
async def test_markets_are_spread_over_every_status_and_counters_equal_a_recount(loaded):
    conn, _ = loaded
    statuses = Counter(
        {r["status"]: r["n"] for r in await conn.fetch(
            "SELECT status, count(*) AS n FROM market_coverage GROUP BY status"
        )}
    )  # fmt: skip
    assert set(statuses) == {"not_started", "in_progress", "cashless", "lapsed"}
    assert statuses["in_progress"] > statuses["cashless"] > statuses["lapsed"] > 0
    empty = await conn.fetchval(
        "SELECT count(*) FROM market m WHERE NOT EXISTS (SELECT 1 FROM stall s "
        "WHERE s.market_id = m.id)"
    )
    assert empty > 0  # markets the programme has not reached yet
    assert await conn.fetchval("SELECT count(*) FROM stall") == PLAN.stalls
    assert (await counters.recount(conn, window_days=30)).ok
    # A lapsed market was cashless before: its history says so.
    lapsed_before = await conn.fetchval(
        """SELECT bool_and(EXISTS (SELECT 1 FROM market_status_history h
                                   WHERE h.market_id = c.market_id AND h.status = 'cashless'))
           FROM market_coverage c WHERE c.status = 'lapsed'"""
    )
    assert lapsed_before


@pytest.mark.slow
async def test_history_activity_and_people_are_consistent(loaded):
    conn, _ = loaded
    days = await conn.fetchval(
        "SELECT count(DISTINCT day) FROM coverage_snapshot s JOIN market m ON m.id = s.market_id "
        "WHERE m.name LIKE 'Chợ Thử Nghiệm %'"
    )
    assert days == PLAN.days + 1  # 90 past days and today
    assert (
        await conn.fetchval("SELECT count(*) FROM coverage_area_day WHERE kind = 'all'")
        == PLAN.days + 1
    )
    # Activity: one register entry per stall and one verify per verified stall, each by a
    # volunteer who works in the stall's market.
    registered = await conn.fetchval(
        """SELECT count(*) FROM audit_log a JOIN stall s ON s.id::text = a.entity_id
           JOIN user_market um ON um.user_id = a.actor_id AND um.market_id = s.market_id
           WHERE a.action = 'register' AND a.entity = 'stall'"""
    )
    assert registered == PLAN.stalls
    verified = await conn.fetchval(
        "SELECT count(*) FROM stall_coverage WHERE verified_account_id IS NOT NULL"
    )
    checks = await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'verify'")
    assert checks == verified > 0
    span = await conn.fetchval(
        "SELECT max(at) - min(at) FROM audit_log WHERE action IN ('register', 'verify')"
    )
    assert span.days >= 60  # over the programme's 90 days
    # People and accounts: the search text is the app's own, numbers are sealed.
    rows = await conn.fetch(
        """SELECT s.stall_code, s.goods, s.search_text, h.full_name, h.phone_e164,
                  a.account_number
           FROM stall s JOIN stallholder h ON h.id = s.holder_id
           LEFT JOIN payment_account a ON a.stall_id = s.id
           ORDER BY s.id LIMIT 200"""
    )
    for r in rows:
        assert r["full_name"].startswith("Thử Nghiệm ")
        assert r["search_text"] == stall_search_text(
            r["stall_code"], r["full_name"], r["phone_e164"], r["goods"]
        )
        if r["account_number"] is not None:
            assert TEST_KEYS.open(r["account_number"]).startswith("TN")
    hashes = await conn.fetch(
        "SELECT password_hash FROM app_user WHERE username IN ('tn-quocgia', 'tn-0001-1')"
    )
    assert len(hashes) == 2
    assert all(verify_password(h[0], DEMO_PASSWORD) for h in hashes)
    volunteers = await conn.fetchval(
        "SELECT count(*) FROM app_user WHERE username ~ '^tn-[0-9]{4}-[0-9]+$' AND role = 'volunteer'"
    )
    assert volunteers == PLAN.volunteers
    assert (
        await conn.fetchval("SELECT display_name FROM app_user WHERE username = 'tn-0001-1'")
        == "Thử Nghiệm 0001-1"
    )  # people see a name, marked synthetic like the stallholders'


@pytest.mark.slow
async def test_volunteers_work_in_teams_and_their_activity_is_the_teams(loaded):
    """Every volunteer is a member of one team since the programme began, the team's markets are
    their markets (the team's own scope rows), and their registrations count for their team."""
    conn, result = loaded
    assert result.counts["teams"] == PLAN.teams
    assert await conn.fetchval("SELECT count(*) FROM team") == PLAN.teams
    assert (
        await conn.fetchval("SELECT count(*) FROM team_membership WHERE left_at IS NULL")
        == PLAN.volunteers
    )
    # The leader is a member, each team is in the ward of one of its markets (when it has one).
    assert (
        await conn.fetchval(
            """SELECT count(*) FROM team t
           WHERE NOT EXISTS (SELECT 1 FROM team_membership m
                             WHERE m.team_id = t.id AND m.user_id = t.leader_id)
              OR (EXISTS (SELECT 1 FROM team_market tm WHERE tm.team_id = t.id)
                  AND NOT EXISTS (SELECT 1 FROM team_market tm JOIN market k ON k.id = tm.market_id
                                  WHERE tm.team_id = t.id AND k.ward_code = t.ward_code))"""
        )
        == 0
    )
    # Scope rows: exactly members x the team's markets, all marked with the team.
    assert (
        await conn.fetchval(
            """SELECT count(*) FROM user_market um
           JOIN app_user u ON u.id = um.user_id AND u.username LIKE 'tn-%'
           WHERE um.team_id IS NULL"""
        )
        == 0
    )
    assert (
        await conn.fetchval(
            """(SELECT user_id, market_id FROM user_market WHERE team_id IS NOT NULL
            EXCEPT SELECT m.user_id, tm.market_id FROM team_membership m
                   JOIN team_market tm USING (team_id))
           UNION ALL
           (SELECT m.user_id, tm.market_id FROM team_membership m JOIN team_market tm USING (team_id)
            EXCEPT SELECT user_id, market_id FROM user_market WHERE team_id IS NOT NULL)
           LIMIT 1"""
        )
        is None
    )
    # The members' registrations fall to their team on its activity.
    busiest = await conn.fetchrow(
        """SELECT m.team_id, count(*) AS n FROM audit_log a
           JOIN team_membership m ON m.user_id = a.actor_id
           WHERE a.action = 'register' AND a.entity = 'stall'
           GROUP BY m.team_id ORDER BY n DESC LIMIT 1"""
    )
    assert busiest["n"] > 0


@pytest.mark.slow
async def test_every_reference_holds(loaded):
    """The load skips foreign-key triggers (session_replication_role): each reference of the
    tables it writes must hold all the same."""
    conn, _ = loaded
    constraints = await conn.fetch(
        """SELECT c.conname, c.conrelid::regclass::text AS child, c.confrelid::regclass::text
                  AS parent,
                  array_agg(a.attname ORDER BY k.n) AS child_cols,
                  array_agg(b.attname ORDER BY k.n) AS parent_cols
           FROM pg_constraint c
           CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k (ck, pk, n)
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.ck
           JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = k.pk
           WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
           GROUP BY c.conname, c.conrelid, c.confrelid"""
    )
    assert len(constraints) > 30
    broken = []
    for c in constraints:
        match = " AND ".join(
            f'p."{pc}" = x."{cc}"' for cc, pc in zip(c["child_cols"], c["parent_cols"], strict=True)
        )
        present = " AND ".join(f'x."{cc}" IS NOT NULL' for cc in c["child_cols"])
        orphans = await conn.fetchval(
            f"SELECT count(*) FROM {c['child']} x WHERE {present} "
            f"AND NOT EXISTS (SELECT 1 FROM {c['parent']} p WHERE {match})"
        )
        if orphans:
            broken.append((c["conname"], orphans))
    assert broken == []


@pytest.mark.slow
async def test_a_second_run_changes_nothing(loaded):
    conn, _ = loaded
    before = await _counts(conn)
    again = await seed.seed(conn, plan=PLAN, window_days=30)
    assert not again.loaded
    assert again.counts["stalls"] == PLAN.stalls
    assert await _counts(conn) == before
    marker = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'seed' AND entity = 'synthetic_dataset'"
    )
    assert marker == 1
