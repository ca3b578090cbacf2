"""Who reaches coverage data: a market readable by the caller, a stall the caller may change."""

from __future__ import annotations

import asyncpg

from core import access
from core.errors import MarketNotFound, StallNotFound
from core.types import User
from coverage.queries import reads
from coverage.queries import stalls as stalls_q


async def readable_market(conn: asyncpg.Connection, user: User, market_id: int) -> None:
    """404 unless the market exists and is in the caller's scope."""
    if await reads.market_counters(conn, market_id) is None or not await access.can_see_market(
        conn, user, market_id
    ):
        raise MarketNotFound(f"No market with id {market_id}.")


async def writable_stall(conn: asyncpg.Connection, user: User, stall_id: int) -> int:
    """The stall's market, after checking the caller may change stalls there."""
    access.require_write_role(user)  # the role first: it reveals nothing
    market_id = await stalls_q.stall_market(conn, stall_id)
    missing = StallNotFound(f"No stall with id {stall_id}.")
    if market_id is None:
        raise missing
    await access.require_record_write(conn, user, market_id, missing)
    return market_id
