"""Partners' service points near markets (users_want #22): where a stallholder can put in or take
out cash, find a transaction counter, or get help with an account. Shown on the map, on the
market's page and on the partner's own page.

Who sees what is the rule of the rest of the partner data: the read roles see the points of the
markets in their scope, whatever the partner; a partner's staff see their own partner's points
only. Who records them: an administrator anywhere; a manager in their markets; a partner's staff
for their own partner, in the markets their page lists (where it onboarded an account within its
reach). Anything out of the caller's reach reads exactly like something that does not exist.
"""

from __future__ import annotations

import asyncpg

from core import access, audit
from core.errors import Forbidden, MarketNotFound
from core.types import User
from partners import errors, registry, schemas
from partners.queries import points as points_q
from partners.queries import registry as registry_q

WRITERS = ("admin", "manager", "partner")


async def list_points(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int | None,
    province: str | None,
    ward: str | None,
    partner: str | None,
    limit: int,
) -> schemas.ServicePointPage:
    """The points the caller may see, of one market or an area, of one partner or all, at most
    `limit` of them."""
    partner_code = partner
    scope: list[int] | None = None
    if user.role == "partner":
        partner_code = await registry.partner_of(conn, user)
        if partner_code is None or partner not in (None, partner_code):
            return schemas.ServicePointPage(points=[], more=False)
    elif user.role in access.READ_ROLES:
        scope = await access.market_scope(conn, user)
        if market_id is not None and (
            (scope is not None and market_id not in scope)
            or not await points_q.market_exists(conn, market_id)
        ):
            raise MarketNotFound(f"No market with id {market_id}.")
    else:
        raise Forbidden("This role does not see service points.")
    rows = await points_q.list_points(
        conn, market_ids=scope, partner_code=partner_code, market_id=market_id,
        province=province, ward=ward, limit=limit,
    )  # fmt: skip
    return schemas.ServicePointPage(points=rows[:limit], more=len(rows) > limit)


async def add_point(
    conn: asyncpg.Connection, *, user: User, body: schemas.ServicePointIn
) -> schemas.ServicePoint:
    """Record a point; the partner and the market must be ones the caller may name."""
    if user.role not in WRITERS:
        raise Forbidden("Service points are recorded by administrators, managers and partners.")
    unknown_market = errors.UnknownMarket(f"No market with id {body.market_id}.", field="market_id")
    if user.role == "partner":
        if await registry.partner_of(conn, user) != body.partner_code:
            raise Forbidden("A partner user records service points for its own partner only.")
        if not await points_q.partner_serves_market(
            conn, partner_code=body.partner_code, market_id=body.market_id
        ):
            raise unknown_market
    else:
        if await registry_q.get_partner(conn, body.partner_code) is None:
            raise errors.UnknownPartner(
                f"Unknown partner code {body.partner_code}; GET /api/partners lists the codes.",
                field="partner_code",
            )
        scope = await access.market_scope(conn, user)
        if (scope is not None and body.market_id not in scope) or not await points_q.market_exists(
            conn, body.market_id
        ):
            raise unknown_market
    async with conn.transaction():
        if await points_q.market_archived_locked(conn, body.market_id):
            raise errors.MarketArchived(
                f"Market {body.market_id} is archived: it takes no new service points.",
                field="market_id",
            )
        point_id = await points_q.insert_point(conn, body, actor_id=user.id)
        point = await points_q.get_point(conn, point_id)
        assert point is not None
        await audit.record(
            conn, actor_id=user.id, action="create", entity="service_point",
            entity_id=point_id, after=point.model_dump(mode="json"),
        )  # fmt: skip
    return point


async def remove_point(conn: asyncpg.Connection, *, user: User, point_id: int) -> None:
    """Take a point off (closed, moved): gone from the map and the lists; the audit log keeps it."""
    if user.role not in WRITERS:
        raise Forbidden("Service points are removed by administrators, managers and partners.")
    not_found = errors.ServicePointNotFound(f"No service point with id {point_id}.")
    async with conn.transaction():
        point = await points_q.get_point(conn, point_id, for_update=True)
        if point is None:
            raise not_found
        if user.role == "partner":
            if await registry.partner_of(conn, user) != point.partner_code:
                raise not_found
        else:
            scope = await access.market_scope(conn, user)
            if scope is not None and point.market_id not in scope:
                raise not_found
        await points_q.delete_point(conn, point_id)
        await audit.record(
            conn, actor_id=user.id, action="delete", entity="service_point",
            entity_id=point_id, before=point.model_dump(mode="json"),
        )  # fmt: skip
