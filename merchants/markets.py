"""Markets: create one, read one or the list within the caller's scope."""

from __future__ import annotations

import logging

import asyncpg

from core import access, audit
from core.types import User
from merchants import errors, queries, schemas

log = logging.getLogger("choso.merchants")


async def create_market(
    conn: asyncpg.Connection, *, user: User, body: schemas.MarketCreate
) -> schemas.Market:
    """Create a market (and its ward, when a new ward code comes with a name)."""
    async with conn.transaction():
        if body.ward_code is not None:
            if body.ward_name:
                await queries.upsert_admin_unit(
                    conn,
                    scheme="2025-07",
                    code=body.ward_code,
                    level="ward",
                    name=body.ward_name,
                    parent_code=body.province_code,
                )
            elif not await queries.admin_unit_exists(conn, "2025-07", body.ward_code):
                raise errors.UnknownWard(
                    f"Ward {body.ward_code} is not known; send ward_name to add it.",
                    field="ward_code",
                )
        market_id = await queries.insert_market(conn, body)
        market = await queries.get_market(conn, market_id)
        assert market is not None
        await audit.record(
            conn,
            actor_id=user.id,
            action="create",
            entity="market",
            entity_id=market_id,
            after=market.model_dump(mode="json"),
        )
    return market


async def get_market(conn: asyncpg.Connection, market_id: int) -> schemas.Market:
    """A market, or market_not_found."""
    market = await queries.get_market(conn, market_id)
    if market is None:
        raise errors.MarketNotFound(f"No market with id {market_id}.")
    return market


async def list_markets(conn: asyncpg.Connection, *, user: User) -> list[schemas.Market]:
    """Markets in the caller's scope."""
    if user.role not in access.READ_ROLES:
        return []
    return await queries.list_markets(conn, await access.market_scope(conn, user))


async def get_market_for(conn: asyncpg.Connection, *, user: User, market_id: int) -> schemas.Market:
    """A market in scope; 404 otherwise (its existence is not revealed)."""
    market = await queries.get_market(conn, market_id)
    if market is None or not await access.can_see_market(conn, user, market_id):
        raise errors.MarketNotFound(f"No market with id {market_id}.")
    return market
