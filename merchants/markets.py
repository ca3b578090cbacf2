"""Markets: create one, read one or the list within the caller's scope."""

from __future__ import annotations

import logging

import asyncpg

from admin_units import service as admin_units
from core import access, audit
from core.types import User
from merchants import errors, queries, schemas

log = logging.getLogger("choso.merchants")


async def create_market(
    conn: asyncpg.Connection, *, user: User, body: schemas.MarketCreate
) -> schemas.Market:
    """Create a market; its ward, if given, must be a ward of the national directory (and its
    province is the ward's)."""
    if body.ward_code is not None:
        code = admin_units.ward_code(body.ward_code)
        unit = await admin_units.get_unit(conn, code)
        if unit is None or unit.level != "ward":
            raise errors.UnknownWard(
                f"Ward {body.ward_code} is not in the national directory "
                "(GET /api/admin-units?province=48&q=... finds it by name).",
                field="ward_code",
            )
        province = unit.province_code or body.province_code
        if "province_code" in body.model_fields_set and province != body.province_code.zfill(2):
            raise errors.UnknownWard(
                f"Ward {code} ({unit.name}) is in province {province}, not {body.province_code}.",
                field="ward_code",
            )
        body = body.model_copy(update={"ward_code": code, "province_code": province})
    async with conn.transaction():
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
