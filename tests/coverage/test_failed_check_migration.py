"""Migration 0029 ends the verification of stalls whose latest check, before it, read another
account's code (as coverage.verify now does), and the counters move with it."""

from __future__ import annotations

import asyncio

from core import db
from coverage import counters
from tests.conftest import TEST_KEYS


async def test_stalls_flagged_after_their_check_are_no_longer_counted_verified(fresh_db):
    await asyncio.to_thread(db.downgrade, fresh_db, "0028")
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        market_id = await conn.fetchval("SELECT id FROM market WHERE name = 'Chợ Thử Một'")
        await conn.execute(
            """INSERT INTO stall (market_id, stall_code, code_key, code_sort, search_text)
               SELECT $1, c, c, c, c FROM unnest(ARRAY['A-1', 'A-2', 'A-3', 'A-4']) c""",
            market_id,
        )
        await conn.execute(
            """INSERT INTO payment_account (stall_id, bin, account_number, partner_code)
               SELECT id, '970422', $2, 'MB' FROM stall WHERE market_id = $1""",
            market_id,
            TEST_KEYS.seal("0123456789"),
        )
        # checked, then its sign read as another account's code (the old behaviour kept the
        # check). A-2: the same with a delivered sign (it stays "sign issued"). A-3: flagged
        # first, then checked (the flag is older: the check stands). A-4: flagged for an invalid
        # code (says nothing of the sign).
        await conn.execute(
            """INSERT INTO stall_coverage (stall_id, market_id, verified_at, verified_account_id,
                                           verified_method, sign_delivered_at, needs_revisit,
                                           revisit_reason, revisit_flagged_at)
               SELECT s.id, s.market_id, now() - interval '2 days', a.id, 'scan',
                      CASE WHEN s.stall_code = 'A-2' THEN now() - interval '3 days' END,
                      true,
                      CASE WHEN s.stall_code = 'A-4' THEN 'qr_invalid' ELSE 'qr_mismatch' END,
                      now() - CASE WHEN s.stall_code = 'A-3' THEN interval '3 days'
                                   ELSE interval '1 day' END
               FROM stall s JOIN payment_account a ON a.stall_id = s.id
               WHERE s.market_id = $1""",
            market_id,
        )
        await counters.rebuild(conn, window_days=30)
        before = await conn.fetchrow(
            "SELECT qr_issued, qr_verified FROM market_coverage WHERE market_id = $1", market_id
        )
        assert dict(before) == {"qr_issued": 4, "qr_verified": 4}
    finally:
        await conn.close()
    await asyncio.to_thread(db.migrate, fresh_db)
    conn = await db.connect(fresh_db, keys=TEST_KEYS)
    try:
        verified = dict(
            await conn.fetch(
                """SELECT s.stall_code, c.verified_at IS NOT NULL FROM stall s
                   JOIN stall_coverage c ON c.stall_id = s.id WHERE s.market_id = $1""",
                market_id,
            )
        )
        assert verified == {"A-1": False, "A-2": False, "A-3": True, "A-4": True}
        after = await conn.fetchrow(
            "SELECT qr_issued, qr_verified FROM market_coverage WHERE market_id = $1", market_id
        )
        assert dict(after) == {"qr_issued": 3, "qr_verified": 2}
        partner = await conn.fetchrow(
            "SELECT qr_issued, qr_verified FROM partner_coverage "
            "WHERE market_id = $1 AND partner_code = 'MB'",
            market_id,
        )
        assert dict(partner) == {"qr_issued": 3, "qr_verified": 2}
        report = await counters.recount(conn, window_days=30)
        assert report.ok, report.mismatches
    finally:
        await conn.close()
