"""SQL of the market and partner counters: deltas added under the row lock, market statuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from coverage.queries.counts import Counts, MarketCounters, Status, counters_from_row


async def apply_market_delta(
    conn: asyncpg.Connection, market_id: int, delta: Counts
) -> MarketCounters:
    """Add a delta to a market's counters (locks the market's counter row) and return them.

    A market's counter row is created with its first counted stall (no trigger, no hook at
    market creation): then the delta is the row.
    """
    row = await conn.fetchrow(_ADD_TO_MARKET, market_id, *delta.astuple())
    if row is None:
        row = await conn.fetchrow(_FIRST_OF_MARKET, market_id, *delta.astuple())
    assert row is not None
    return counters_from_row(row)


_MARKET_COLUMNS = """market_id, active_stalls, qr_issued, qr_verified, transacting, fees_cashless,
                     status, status_since, rule_version"""
_ADD_TO_MARKET = f"""
UPDATE market_coverage SET active_stalls = active_stalls + $2, qr_issued = qr_issued + $3,
       qr_verified = qr_verified + $4, transacting = transacting + $5,
       fees_cashless = fees_cashless + $6, updated_at = clock_timestamp()
WHERE market_id = $1
RETURNING {_MARKET_COLUMNS}"""
# A delta of a market without a row is all it has (never negative: nothing was counted before).
_FIRST_OF_MARKET = f"""
INSERT INTO market_coverage AS t (market_id, active_stalls, qr_issued, qr_verified, transacting,
                                  fees_cashless)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (market_id) DO UPDATE SET
    active_stalls = t.active_stalls + excluded.active_stalls,
    qr_issued = t.qr_issued + excluded.qr_issued,
    qr_verified = t.qr_verified + excluded.qr_verified,
    transacting = t.transacting + excluded.transacting,
    fees_cashless = t.fees_cashless + excluded.fees_cashless,
    updated_at = clock_timestamp()
RETURNING {_MARKET_COLUMNS}"""


async def set_market_status(
    conn: asyncpg.Connection, *, market_id: int, status: str, rule_version: int, at: datetime
) -> None:
    """Write a market's new status."""
    await conn.execute(
        """UPDATE market_coverage SET status = $2, status_since = $4, rule_version = $3
           WHERE market_id = $1""",
        market_id,
        status,
        rule_version,
        at,
    )


_UPSERT_COUNTS = """
ON CONFLICT ({key}) DO UPDATE SET
    active_stalls = t.active_stalls + excluded.active_stalls,
    qr_issued = t.qr_issued + excluded.qr_issued,
    qr_verified = t.qr_verified + excluded.qr_verified,
    transacting = t.transacting + excluded.transacting,
    fees_cashless = t.fees_cashless + excluded.fees_cashless
"""


def _columns(deltas: Sequence[Counts]) -> list[list[int]]:
    return [list(col) for col in zip(*(d.astuple() for d in deltas), strict=True)]


async def apply_partner_deltas(
    conn: asyncpg.Connection, market_id: int, deltas: dict[str, Counts]
) -> None:
    """Add deltas to a market's partner counters, in partner order."""
    items = sorted((p, d) for p, d in deltas.items() if not d.is_zero())
    if not items:
        return
    await conn.execute(
        """INSERT INTO partner_coverage AS t (market_id, partner_code, active_stalls, qr_issued,
                                              qr_verified, transacting, fees_cashless)
           SELECT $1::bigint, * FROM unnest($2::text[], $3::int[], $4::int[], $5::int[],
               $6::int[], $7::int[])
           ORDER BY 1, 2"""
        + _UPSERT_COUNTS.format(key="market_id, partner_code"),
        market_id,
        [p for p, _ in items],
        *_columns([d for _, d in items]),
    )


async def lock_market_counters(
    conn: asyncpg.Connection, market_ids: list[int]
) -> list[MarketCounters]:
    """Counter rows of these markets, locked in id order."""
    rows = await conn.fetch(
        """SELECT market_id, active_stalls, qr_issued, qr_verified, transacting, fees_cashless,
                  status, status_since, rule_version
           FROM market_coverage WHERE market_id = any($1::bigint[]) ORDER BY market_id FOR
               UPDATE""",
        market_ids,
    )
    return [counters_from_row(r) for r in rows]


async def all_market_ids(conn: asyncpg.Connection) -> list[int]:
    """Ids of every market that has counters (its first stall created them)."""
    return [
        int(r["market_id"])
        for r in await conn.fetch("SELECT market_id FROM market_coverage ORDER BY 1")
    ]


async def live_market_ids(conn: asyncpg.Connection) -> list[int]:
    """Ids of the markets with counters that are not archived (those a rule's preview lists)."""
    return [
        int(r["market_id"])
        for r in await conn.fetch(
            """SELECT c.market_id FROM market_coverage c JOIN market m ON m.id = c.market_id
               WHERE m.archived_at IS NULL ORDER BY 1"""
        )
    ]


@dataclass(frozen=True)
class NamedCounters:
    market_id: int
    name: str
    counts: Counts
    status: Status


async def market_counters_named(conn: asyncpg.Connection) -> list[NamedCounters]:
    """Every market's counters and status with its name, by name (a read: nothing is locked);
    archived markets are left out, as they are out of every list and rollup. A market whose first
    stall was never counted has no counter row yet: zero counts, not started."""
    rows = await conn.fetch(
        """SELECT m.id AS market_id, m.name, c.active_stalls, c.qr_issued, c.qr_verified,
                  c.transacting, c.fees_cashless, coalesce(c.status, 'not_started') AS status
           FROM market m LEFT JOIN market_coverage c ON c.market_id = m.id
           WHERE m.archived_at IS NULL
           ORDER BY m.name_sort, m.name, m.id"""
    )
    return [NamedCounters(r["market_id"], r["name"], Counts.of(r), r["status"]) for r in rows]


async def write_statuses(
    conn: asyncpg.Connection, changes: Sequence[tuple[int, str, int, datetime]]
) -> None:
    """Write many (market_id, status, rule_version, at) at once."""
    if not changes:
        return
    await conn.executemany(
        """UPDATE market_coverage SET status = $2, rule_version = $3, status_since = $4
           WHERE market_id = $1""",
        changes,
    )
