"""SQL of a market's numbers over time: status history lines and daily snapshots."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import asyncpg

from coverage.queries.counts import Counts, MarketCounters


async def insert_status_history(
    conn: asyncpg.Connection,
    *,
    market_id: int,
    status: str,
    previous: str | None,
    rule_version: int,
    reason: str,
    counts: Counts,
    at: datetime,
) -> None:
    """Record a status change with the numbers that caused it."""
    await conn.execute(
        """INSERT INTO market_status_history (market_id, status, previous_status, rule_version,
                reason,
                                              active_stalls, qr_issued, qr_verified, transacting,
                                              fees_cashless, changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        market_id,
        status,
        previous,
        rule_version,
        reason,
        *counts.astuple(),
        at,
    )


async def upsert_snapshot(
    conn: asyncpg.Connection, *, market_id: int, day: date, counters: MarketCounters
) -> None:
    """Write (or overwrite) a market's numbers for a day."""
    await conn.execute(
        """INSERT INTO coverage_snapshot AS t (market_id, day, active_stalls, qr_issued,
                qr_verified,
                                               transacting, fees_cashless, status, rule_version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (market_id, day) DO UPDATE SET
               active_stalls = excluded.active_stalls, qr_issued = excluded.qr_issued,
               qr_verified = excluded.qr_verified, transacting = excluded.transacting,
               fees_cashless = excluded.fees_cashless, status = excluded.status,
               rule_version = excluded.rule_version, taken_at = clock_timestamp()""",
        market_id,
        day,
        *counters.counts.astuple(),
        counters.status,
        counters.rule_version,
    )


async def snapshot_all(conn: asyncpg.Connection, *, day: date) -> int:
    """Write every market's numbers for a day; returns how many markets."""
    result = await conn.execute(
        """INSERT INTO coverage_snapshot AS t (market_id, day, active_stalls, qr_issued,
                qr_verified,
                                               transacting, fees_cashless, status, rule_version)
           SELECT m.id, $1, coalesce(c.active_stalls, 0), coalesce(c.qr_issued, 0),
                  coalesce(c.qr_verified, 0), coalesce(c.transacting, 0),
                  coalesce(c.fees_cashless, 0), coalesce(c.status, 'not_started'), c.rule_version
           FROM market m LEFT JOIN market_coverage c ON c.market_id = m.id
           ON CONFLICT (market_id, day) DO UPDATE SET
               active_stalls = excluded.active_stalls, qr_issued = excluded.qr_issued,
               qr_verified = excluded.qr_verified, transacting = excluded.transacting,
               fees_cashless = excluded.fees_cashless, status = excluded.status,
               rule_version = excluded.rule_version, taken_at = clock_timestamp()""",
        day,
    )
    return int(result.split()[-1])


async def insert_status_histories(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Status-history rows: (market_id, status, previous, rule_version, reason, *counts, at)."""
    if not rows:
        return
    await conn.executemany(
        """INSERT INTO market_status_history (market_id, status, previous_status, rule_version,
                reason,
                                              active_stalls, qr_issued, qr_verified, transacting,
                                              fees_cashless, changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        rows,
    )
