"""SQL of partners' service points (table service_point, migration 0021)."""

from __future__ import annotations

import asyncpg

from partners import schemas
from partners.queries.reach import in_reach

_COLUMNS = """p.id, p.partner_code, pa.name AS partner_name, pa.support_phone, p.market_id,
       m.name AS market_name, p.kind, p.name, p.address, p.opening_hours, p.lat, p.lon,
       p.created_at"""
_FROM = """FROM service_point p
JOIN partner pa ON pa.code = p.partner_code
JOIN market m ON m.id = p.market_id"""


async def list_points(
    conn: asyncpg.Connection,
    *,
    market_ids: list[int] | None,
    partner_code: str | None,
    market_id: int | None,
    province: str | None,
    ward: str | None,
    limit: int,
) -> list[schemas.ServicePoint]:
    """Points of these markets (None: any) and this partner (None: any), in an area; at most
    `limit` + 1 rows, so the caller can tell there are more."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} {_FROM}
        WHERE ($1::bigint[] IS NULL OR p.market_id = any($1))
          -- An archived market is off the map and the lists, and so are its points (read by its
          -- id, its page still shows them).
          AND ($3::bigint IS NOT NULL OR m.archived_at IS NULL)
          AND ($2::text IS NULL OR p.partner_code = $2)
          AND ($3::bigint IS NULL OR p.market_id = $3)
          AND ($4::text IS NULL OR m.province_code = $4)
          AND ($5::text IS NULL OR m.ward_code = $5)
        ORDER BY m.name_sort, m.name, p.market_id, p.kind, p.name, p.id
        LIMIT $6""",
        market_ids, partner_code, market_id, province, ward, limit + 1,
    )  # fmt: skip
    return [schemas.ServicePoint(**dict(r)) for r in rows]


async def get_point(
    conn: asyncpg.Connection, point_id: int, *, for_update: bool = False
) -> schemas.ServicePoint | None:
    lock = " FOR UPDATE OF p" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} {_FROM} WHERE p.id = $1{lock}", point_id)
    return schemas.ServicePoint(**dict(row)) if row else None


async def market_exists(conn: asyncpg.Connection, market_id: int) -> bool:
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM market WHERE id = $1)", market_id)
    )


async def partner_serves_market(
    conn: asyncpg.Connection, *, partner_code: str, market_id: int
) -> bool:
    """Whether the partner onboarded an account within its reach in the market: the markets its
    own page lists (views.partner_stats), where a partner user may place its points."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (
                   SELECT 1 FROM onboarding o
                   JOIN payment_account a ON a.id = o.payment_account_id
                   JOIN stall s ON s.id = a.stall_id
                   WHERE o.partner_code = $2 AND s.market_id = $1 AND """
            + in_reach("a", "$2")
            + ")",
            market_id,
            partner_code,
        )  # fmt: skip
    )


async def insert_point(
    conn: asyncpg.Connection, body: schemas.ServicePointIn, *, actor_id: int
) -> int:
    loc = body.location
    return int(
        await conn.fetchval(
            """INSERT INTO service_point (partner_code, market_id, kind, name, address,
                                          opening_hours, lat, lon, created_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id""",
            body.partner_code,
            body.market_id,
            body.kind,
            body.name,
            body.address,
            body.opening_hours,
            loc.lat if loc else None,
            loc.lon if loc else None,
            actor_id,
        )  # fmt: skip
    )


async def delete_point(conn: asyncpg.Connection, point_id: int) -> bool:
    return (await conn.execute("DELETE FROM service_point WHERE id = $1", point_id)) == "DELETE 1"


async def market_archived_locked(conn: asyncpg.Connection, market_id: int) -> bool | None:
    """Whether the market is archived (None: no such market), locked against a concurrent archive
    (which locks the market FOR UPDATE first) until the caller's transaction ends."""
    row = await conn.fetchrow(
        "SELECT archived_at IS NOT NULL AS archived FROM market WHERE id = $1 FOR KEY SHARE",
        market_id,
    )
    return None if row is None else bool(row["archived"])
