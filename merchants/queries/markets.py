"""SQL of markets: their rows, zones, archive state and edits."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from merchants import schemas

_MARKET_SELECT = """
SELECT m.id, m.name, m.province_code, m.ward_code, w.name AS ward_name,
       m.legacy_ward_code, m.legacy_ward_name, m.legacy_district_name,
       m.address, m.lat, m.lon, m.zones, m.retired_zones, m.version,
       m.archived_at IS NOT NULL AS archived, m.archived_at, m.archive_reason, m.asks_licence,
       (SELECT count(*) FROM stall s WHERE s.market_id = m.id AND s.status = 'active') AS stall_count
FROM market m
LEFT JOIN admin_unit w ON w.scheme = m.ward_scheme AND w.code = m.ward_code
"""


async def insert_market(conn: asyncpg.Connection, m: schemas.MarketCreate) -> int:
    """Create a market; returns its id."""
    return int(
        await conn.fetchval(
            """INSERT INTO market (name, province_code, ward_code, legacy_ward_code, legacy_ward_name,
                                   legacy_district_name, address, lat, lon, zones, asks_licence)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id""",
            m.name,
            m.province_code,
            m.ward_code,
            m.legacy_ward_code,
            m.legacy_ward_name,
            m.legacy_district_name,
            m.address,
            m.lat,
            m.lon,
            m.zones,
            m.asks_licence,
        )
    )


async def get_market(
    conn: asyncpg.Connection, market_id: int, *, for_update: bool = False
) -> schemas.Market | None:
    """One market with its active stall count; for_update locks its row (edits, archive)."""
    row = await conn.fetchrow(
        _MARKET_SELECT + " WHERE m.id = $1" + (" FOR UPDATE OF m" if for_update else ""), market_id
    )
    return schemas.Market(**dict(row)) if row else None


async def list_markets(
    conn: asyncpg.Connection, ids: list[int] | None = None, *, include_archived: bool = False
) -> list[schemas.Market]:
    """Markets (all, or those with the given ids) by name; archived ones only when asked for."""
    rows = await conn.fetch(
        _MARKET_SELECT
        + """ WHERE ($1::bigint[] IS NULL OR m.id = any($1::bigint[]))
                AND ($2 OR m.archived_at IS NULL)
              ORDER BY m.name_sort, m.name, m.id""",
        ids,
        include_archived,
    )
    return [schemas.Market(**dict(r)) for r in rows]


async def update_market(
    conn: asyncpg.Connection,
    *,
    market_id: int,
    name: str,
    address: str | None,
    ward_code: str | None,
    lat: float | None,
    lon: float | None,
    zones: list[str],
    retired_zones: list[str],
    asks_licence: bool,
) -> None:
    """Write a market's editable fields and bump its version."""
    await conn.execute(
        """UPDATE market SET name = $2, address = $3, ward_code = $4, lat = $5, lon = $6,
                  zones = $7, retired_zones = $8, asks_licence = $9, version = version + 1,
                  updated_at = clock_timestamp()
           WHERE id = $1""",
        market_id,
        name,
        address,
        ward_code,
        lat,
        lon,
        zones,
        retired_zones,
        asks_licence,
    )


async def set_market_archived(
    conn: asyncpg.Connection, *, market_id: int, archived: bool, user_id: int, reason: str
) -> None:
    """Archive a market (who, when, why) or bring it back (the last reason is kept in the audit)."""
    await conn.execute(
        """UPDATE market SET archived_at = CASE WHEN $2 THEN clock_timestamp() END,
                  archived_by = CASE WHEN $2 THEN $3::bigint END,
                  archive_reason = CASE WHEN $2 THEN $4::text END,
                  version = version + 1, updated_at = clock_timestamp()
           WHERE id = $1""",
        market_id,
        archived,
        user_id,
        reason,
    )


@dataclass(frozen=True)
class MarketZones:
    """What decides which zones a stall of the market may be put in."""

    market_id: int
    zones: list[str]
    retired_zones: list[str]
    archived: bool
    asks_licence: bool = False


async def market_zones(
    conn: asyncpg.Connection, market_id: int, *, lock: bool = False
) -> MarketZones | None:
    """A market's zones; lock=True reads it FOR KEY SHARE (see merchants.markets: a stall moved
    to a zone waits for a market edit in progress, and keeps the edit waiting until it commits)."""
    row = await conn.fetchrow(
        """SELECT id AS market_id, zones, retired_zones, archived_at IS NOT NULL AS archived,
                  asks_licence
           FROM market WHERE id = $1"""
        + (" FOR KEY SHARE" if lock else ""),
        market_id,
    )
    return MarketZones(**dict(row)) if row else None


async def stall_zones(conn: asyncpg.Connection, market_id: int) -> list[str]:
    """The distinct zones the market's stalls are in."""
    rows = await conn.fetch(
        "SELECT DISTINCT zone FROM stall WHERE market_id = $1 AND zone IS NOT NULL", market_id
    )
    return [r["zone"] for r in rows]


async def rename_stall_zone(
    conn: asyncpg.Connection, *, market_id: int, old: list[str], new: str
) -> int:
    """Move the market's stalls in zones `old` to zone `new` (each stall's version moves too)."""
    result = await conn.execute(
        """UPDATE stall SET zone = $3, version = version + 1, updated_at = clock_timestamp()
           WHERE market_id = $1 AND zone = any($2::text[])""",
        market_id,
        old,
        new,
    )
    return int(result.split()[-1])


async def market_exists(conn: asyncpg.Connection, market_id: int) -> bool:
    """Whether a market exists."""
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM market WHERE id = $1)", market_id)
    )


async def count_markets(conn: asyncpg.Connection) -> int:
    """How many markets exist."""
    return int(await conn.fetchval("SELECT count(*) FROM market"))


async def market_name(conn: asyncpg.Connection, market_id: int) -> str | None:
    """A market's name."""
    return await conn.fetchval("SELECT name FROM market WHERE id = $1", market_id)


async def _answer_counts(
    conn: asyncpg.Connection, market_id: int, column: str, codes: tuple[str, ...]
) -> dict[str, int]:
    """A list answer kept on the stall (`column`: null not asked, '{}' none of `codes`) over the
    market's active stalls, counted now: asked, each code (a stall under each of its codes) and
    none. `column` and `codes` come from this module, never from a request."""
    each = "".join(
        f", count(*) FILTER (WHERE {column} @> ARRAY['{code}']::text[]) AS {code}" for code in codes
    )
    row = await conn.fetchrow(
        f"""SELECT count(*) AS active_stalls,
                   count(*) FILTER (WHERE {column} IS NOT NULL) AS asked{each},
                   count(*) FILTER (WHERE {column} = '{{}}') AS none
            FROM stall WHERE market_id = $1 AND status = 'active'""",
        market_id,
    )
    assert row is not None
    return {key: int(value) for key, value in row.items()}


async def confirm_by_counts(conn: asyncpg.Connection, market_id: int) -> dict[str, int]:
    """How the holders of the market's active stalls learn that a payment arrived, counted now
    (stall.confirm_by, migration 0020): asked, each tool, and none."""
    return await _answer_counts(conn, market_id, "confirm_by", schemas.CONFIRM_TOOLS)


async def also_accepts_counts(conn: asyncpg.Connection, market_id: int) -> dict[str, int]:
    """Other ways the market's active stalls take payment, counted now (stall.also_accepts,
    migration 0023): asked, each method, and the VietQR sign only."""
    return await _answer_counts(conn, market_id, "also_accepts", schemas.ALSO_ACCEPTS)


async def market_named(
    conn: asyncpg.Connection, *, ward_code: str, name: str, other_than: int | None = None
) -> int | None:
    """A market of this ward, not archived, with this name (case and spacing aside), once every
    other writer of a market name in the ward is done: the ward's name lock is taken first, until
    the caller's transaction ends, so two markets of one name cannot be created side by side."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('market-name:' || $1, 0))", ward_code
    )
    return await conn.fetchval(
        """SELECT id FROM market
           WHERE ward_code = $1 AND archived_at IS NULL AND id IS DISTINCT FROM $3
             AND lower(regexp_replace(normalize(name, NFC), '\\s+', ' ', 'g'))
               = lower(regexp_replace(normalize($2, NFC), '\\s+', ' ', 'g'))
           ORDER BY id LIMIT 1""",
        ward_code,
        name.strip(),
        other_than,
    )
