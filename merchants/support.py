"""The digital-transformation support package per stall (users_want #21): what a household was
consulted about, received or declined, item by item; and how far a market has got.

Read with the stall (the same scope: field roles in the stall's market); recorded by those who may
edit the stall. A change that changes nothing writes nothing; each real change is one audit entry
of the stall (action `support`, the items before and after), so it is in the stall's history.
"""

from __future__ import annotations

import asyncpg

from core import access, audit
from core.errors import Forbidden
from core.types import User
from merchants import errors, markets, schemas, stalls
from merchants.queries import support as support_q


async def stall_support_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int
) -> schemas.StallSupport:
    await stalls.stall_in_scope(conn, user, stall_id)
    return schemas.StallSupport(
        stall_id=stall_id, items=await support_q.stall_support(conn, stall_id)
    )


async def record_support(
    conn: asyncpg.Connection, *, user: User, stall_id: int, body: schemas.SupportIn
) -> schemas.StallSupport:
    """Set the named items; the same body sent again (a retry) changes nothing; an item changed
    by someone else since the device read it (`was`) refuses the whole request (409)."""
    # Out of scope reads as missing (404) before the write check says anything (403 for a role).
    await stalls.stall_in_scope(conn, user, stall_id)
    await stalls.writable_stall(conn, user, stall_id)
    async with conn.transaction():
        before = await support_q.states_for_update(conn, stall_id)
        if body.was is not None:
            moved = sorted(
                item
                for item, state in body.items.items()
                if item in body.was and before.get(item) not in (body.was[item], state)
            )
            if moved:
                raise errors.SupportChanged(
                    f"Changed on another device since this one read them: {', '.join(moved)}.",
                    items=moved,
                )
        changes: dict[str, str | None] = {
            item: state for item, state in body.items.items() if before.get(item) != state
        }
        if changes:
            await support_q.write(conn, stall_id=stall_id, changes=changes, actor_id=user.id)
            await audit.record(
                conn,
                actor_id=user.id,
                action="support",
                entity="stall",
                entity_id=stall_id,
                before={"support": {item: before.get(item) for item in changes}},
                after={"support": changes},
            )
        items = await support_q.stall_support(conn, stall_id)
    return schemas.StallSupport(stall_id=stall_id, items=items)


def _counts(by_item: dict[str, dict[str, int]]) -> list[schemas.SupportItemCounts]:
    return [
        schemas.SupportItemCounts(
            item=item,  # type: ignore[arg-type]
            offered=by_item.get(item, {}).get("offered", 0),
            delivered=by_item.get(item, {}).get("delivered", 0),
            declined=by_item.get(item, {}).get("declined", 0),
        )
        for item in schemas.SUPPORT_ITEMS
    ]


async def area_support_for(
    conn: asyncpg.Connection, *, user: User, province: str | None, ward: str | None
) -> schemas.AreaSupportCounts:
    """The package over the caller's markets in an area (the country, a province, a ward):
    counts only, for every role that reads coverage."""
    if user.role not in access.READ_ROLES:
        raise Forbidden("This role does not read coverage.")
    scope = await access.market_scope(conn, user)
    active, consulted, by_item = await support_q.area_counts(
        conn, market_ids=scope, province=province, ward=ward
    )
    return schemas.AreaSupportCounts(
        province=province,
        ward=ward,
        active_stalls=active,
        consulted=consulted,
        items=_counts(by_item),
    )


async def market_support_for(
    conn: asyncpg.Connection, *, user: User, market_id: int
) -> schemas.SupportCounts:
    """Counts only (no person), for every role that reads the market (404 out of scope)."""
    await markets.get_market_for(conn, user=user, market_id=market_id)
    active, consulted, by_item = await support_q.market_counts(conn, market_id)
    return schemas.SupportCounts(
        market_id=market_id,
        active_stalls=active,
        consulted=consulted,
        items=_counts(by_item),
    )
