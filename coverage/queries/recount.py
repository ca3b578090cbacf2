"""SQL of the recount: the counters' truth from the facts alone, what is stored, the rebuild."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from coverage.queries.counts import Counts
from coverage.queries.rule import RULE_LOCK

# The truth, from the facts alone ($1 = start of the transacting window).
_TRUTH = """
SELECT s.id AS stall_id, s.market_id, coalesce(s.zone, '') AS zone,
       (s.status = 'active') AS active,
       (s.status = 'active' AND (c.sign_issued_at IS NOT NULL OR c.sign_delivered_at IS NOT NULL
                                 OR v.ok)) AS qr_issued,
       (s.status = 'active' AND v.ok) AS qr_verified,
       (s.status = 'active' AND coalesce(c.last_payment_at >= $1, false)) AS transacting,
       (s.status = 'active' AND coalesce(c.fees_cashless, false)) AS fees_cashless,
       CASE WHEN s.status = 'active' THEN coalesce(
           (SELECT array_agg(DISTINCT a.partner_code ORDER BY a.partner_code) FROM payment_account a
            WHERE a.stall_id = s.id AND a.active AND a.partner_code IS NOT NULL), '{}')
       ELSE '{}' END AS partners
FROM stall s
LEFT JOIN stall_coverage c ON c.stall_id = s.id
CROSS JOIN LATERAL (SELECT coalesce(EXISTS (
    SELECT 1 FROM payment_account a
    WHERE a.id = c.verified_account_id AND a.stall_id = s.id AND a.active), false) AS ok) v
"""

_TRUTH_SUMS = """count(*) FILTER (WHERE t.active) AS active_stalls,
       count(*) FILTER (WHERE t.qr_issued) AS qr_issued,
       count(*) FILTER (WHERE t.qr_verified) AS qr_verified,
       count(*) FILTER (WHERE t.transacting) AS transacting,
       count(*) FILTER (WHERE t.fees_cashless) AS fees_cashless"""


async def truth_by_market(conn: asyncpg.Connection, window_start: datetime) -> dict[int, Counts]:
    """Full recount per market (scans every stall)."""
    rows = await conn.fetch(
        f"""SELECT m.id AS market_id, {_TRUTH_SUMS}
            FROM market m LEFT JOIN ({_TRUTH}) t ON t.market_id = m.id GROUP BY m.id""",
        window_start,
    )
    return {int(r["market_id"]): Counts.of(r) for r in rows}


async def truth_by_partner(
    conn: asyncpg.Connection, window_start: datetime
) -> dict[tuple[int, str], Counts]:
    """Full recount per (market, partner)."""
    rows = await conn.fetch(
        f"""SELECT t.market_id, p AS partner, {_TRUTH_SUMS}
            FROM ({_TRUTH}) t, unnest(t.partners) AS p GROUP BY 1, 2""",
        window_start,
    )
    return {(int(r["market_id"]), r["partner"]): Counts.of(r) for r in rows}


async def stored_by_market(conn: asyncpg.Connection) -> dict[int, tuple[Counts, str]]:
    rows = await conn.fetch(
        "SELECT market_id, active_stalls, qr_issued, qr_verified, transacting, fees_cashless, "
        "status FROM market_coverage"
    )
    return {int(r["market_id"]): (Counts.of(r), r["status"]) for r in rows}


async def stored_by_partner(conn: asyncpg.Connection) -> dict[tuple[int, str], Counts]:
    rows = await conn.fetch(
        "SELECT market_id, partner_code, active_stalls, qr_issued, qr_verified, transacting, "
        "fees_cashless FROM partner_coverage"
    )
    return {(int(r["market_id"]), r["partner_code"]): Counts.of(r) for r in rows}


async def stale_stall_flags(conn: asyncpg.Connection, window_start: datetime) -> int:
    """Stalls whose counted flags, zone or partners differ from the facts (or lack a row)."""
    return int(
        await conn.fetchval(
            f"""SELECT count(*)
                     FROM ({_TRUTH}) t LEFT JOIN stall_coverage c ON c.stall_id = t.stall_id
                WHERE c.stall_id IS NULL
                   OR (c.counted_active, c.counted_qr_issued, c.counted_qr_verified,
                       c.counted_transacting, c.counted_fees_cashless)
                      IS DISTINCT FROM (t.active, t.qr_issued, t.qr_verified, t.transacting,
                                        t.fees_cashless)
                   OR (t.active AND c.counted_zone <> t.zone)
                   OR c.counted_partners <> t.partners""",
            window_start,
        )
    )


async def rebuild_counters(conn: asyncpg.Connection, window_start: datetime) -> None:
    """Recompute every counter from the facts (set-based; for bulk loads and repairs).

    Takes the rule lock exclusively, so no stall change runs meanwhile. Status is left as is;
    the caller re-evaluates it.
    """
    await conn.execute(f"SELECT pg_advisory_xact_lock({RULE_LOCK})")
    await conn.execute(
        """INSERT INTO stall_coverage (stall_id, market_id)
           SELECT s.id, s.market_id FROM stall s
           WHERE NOT EXISTS (SELECT 1 FROM stall_coverage c WHERE c.stall_id = s.id)"""
    )
    await conn.execute(
        f"""UPDATE stall_coverage c SET counted_active = t.active, counted_qr_issued = t.qr_issued,
                   counted_qr_verified = t.qr_verified, counted_transacting = t.transacting,
                   counted_fees_cashless = t.fees_cashless,
                   counted_zone = CASE WHEN t.active THEN t.zone ELSE '' END,
                   counted_partners = t.partners
            FROM ({_TRUTH}) t
            WHERE t.stall_id = c.stall_id
              AND ((c.counted_active, c.counted_qr_issued, c.counted_qr_verified,
                    c.counted_transacting, c.counted_fees_cashless, c.counted_zone,
                        c.counted_partners)
                   IS DISTINCT FROM (t.active, t.qr_issued, t.qr_verified, t.transacting,
                                     t.fees_cashless, CASE WHEN t.active THEN t.zone ELSE '' END,
                                     t.partners))""",
        window_start,
    )
    await rebuild_aggregates(conn)


async def rebuild_aggregates(conn: asyncpg.Connection) -> None:
    """Recompute market and partner counters from the stalls' counted flags."""
    await conn.execute(
        """INSERT INTO market_coverage AS mc (market_id, active_stalls, qr_issued, qr_verified,
                                              transacting, fees_cashless)
           SELECT c.market_id, count(*) FILTER (WHERE c.counted_active),
                  count(*) FILTER (WHERE c.counted_qr_issued),
                  count(*) FILTER (WHERE c.counted_qr_verified),
                  count(*) FILTER (WHERE c.counted_transacting),
                  count(*) FILTER (WHERE c.counted_fees_cashless)
           FROM stall_coverage c GROUP BY c.market_id
           ON CONFLICT (market_id) DO UPDATE SET
               active_stalls = excluded.active_stalls, qr_issued = excluded.qr_issued,
               qr_verified = excluded.qr_verified, transacting = excluded.transacting,
               fees_cashless = excluded.fees_cashless, updated_at = clock_timestamp()
           WHERE (mc.active_stalls, mc.qr_issued, mc.qr_verified, mc.transacting,
                  mc.fees_cashless) IS DISTINCT FROM
                 (excluded.active_stalls, excluded.qr_issued, excluded.qr_verified,
                  excluded.transacting, excluded.fees_cashless)"""
    )
    await conn.execute(
        """UPDATE market_coverage mc SET active_stalls = 0, qr_issued = 0, qr_verified = 0,
                  transacting = 0, fees_cashless = 0, updated_at = clock_timestamp()
           WHERE NOT EXISTS (SELECT 1 FROM stall_coverage c WHERE c.market_id = mc.market_id)
             AND mc.active_stalls + mc.qr_issued + mc.qr_verified + mc.transacting
                 + mc.fees_cashless > 0"""
    )
    await conn.execute(
        """DELETE FROM partner_coverage;
           INSERT INTO partner_coverage (market_id, partner_code, active_stalls, qr_issued,
                                         qr_verified, transacting, fees_cashless)
           SELECT market_id, p, count(*), count(*) FILTER (WHERE counted_qr_issued),
                  count(*) FILTER (WHERE counted_qr_verified),
                  count(*) FILTER (WHERE counted_transacting),
                  count(*) FILTER (WHERE counted_fees_cashless)
           FROM stall_coverage, unnest(counted_partners) AS p GROUP BY market_id, p;"""
    )
