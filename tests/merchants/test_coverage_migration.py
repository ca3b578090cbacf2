"""Migrations 0004 and 0007 count stalls that existed before them, and downgrade cleanly."""

from __future__ import annotations

import asyncio

from core import db
from coverage import counters
from coverage.queries import reads
from tests.conftest import TEST_KEYS


async def test_upgrade_counts_existing_stalls_and_downgrade_drops_everything(fresh_db):
    await asyncio.to_thread(db.downgrade, fresh_db, "0003")
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        assert not await conn.fetchval("SELECT to_regclass('market_coverage') IS NOT NULL")
        market_id = await conn.fetchval("SELECT id FROM market WHERE name = 'Chợ Thử Một'")
        await conn.execute(
            """INSERT INTO stall (market_id, stall_code, code_key, code_sort, zone, status)
               VALUES ($1, 'A-1', 'A-1', 'A-1', 'A', 'active'), ($1, 'A-2', 'A-2', 'A-2', 'A',
                   'active'),
                      ($1, 'B-1', 'B-1', 'B-1', 'B', 'vacant'), ($1, 'C-1', 'C-1', 'C-1', NULL,
                          'active')""",
            market_id,
        )
        await conn.execute(
            """INSERT INTO payment_account (stall_id, bin, account_number, partner_code)
               SELECT id, '970422', '0123456789', 'MB' FROM stall WHERE stall_code IN ('A-1',
                   'B-1')"""
        )
    finally:
        await conn.close()
    await asyncio.to_thread(db.migrate, fresh_db)
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        report = await counters.recount(conn, window_days=30)
        assert report.ok, report.mismatches
        row = await conn.fetchrow(
            "SELECT active_stalls, status FROM market_coverage WHERE market_id = $1", market_id
        )
        assert (row["active_stalls"], row["status"]) == (3, "not_started")
        zones = {z: c.active_stalls for z, c in await reads.zone_counters(conn, market_id)}
        assert zones == {"A": 2, "": 1}  # summed from the stalls' rows (no zone table since 0007)
        partners = await reads.partner_groups(conn, None, only_key="MB")
        assert [(g.key, g.counts.active_stalls) for g in partners] == [("MB", 1)]
        assert not await conn.fetchval("SELECT to_regclass('coverage_rollup') IS NOT NULL")
        # A market created now has no counter row until its first stall, and reads as not started.
        new_id = await conn.fetchval(
            "INSERT INTO market (name, ward_code) VALUES ('Chợ Mới', '20242') RETURNING id"
        )
        fresh = await reads.market_counters(conn, new_id)
        assert fresh is not None and (fresh.status, fresh.counts.active_stalls) == (
            "not_started",
            0,
        )
        wards = {g.key: g.markets for g in await reads.area_groups(conn, "ward", None)}
        assert wards["20242"] == 2  # both markets of the ward, the new one included
        assert (await counters.recount(conn, window_days=30)).ok
    finally:
        await conn.close()
    await asyncio.to_thread(db.downgrade, fresh_db, "0003")
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        leftovers = await conn.fetchval(
            """SELECT count(*) FROM pg_class WHERE relname IN ('market_coverage',
                    'stall_coverage', 'zone_coverage',
               'partner_coverage', 'coverage_rollup', 'coverage_snapshot', 'market_status_history',
               'programme_rule')"""
        )
        assert leftovers == 0
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM pg_proc WHERE proname LIKE 'coverage_market%'"
            )
            == 0
        )
    finally:
        await conn.close()
