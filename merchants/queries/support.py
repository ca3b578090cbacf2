"""SQL of the support package per stall (table stall_support, migration 0022)."""

from __future__ import annotations

import asyncpg

from merchants import schemas


async def stall_support(conn: asyncpg.Connection, stall_id: int) -> list[schemas.SupportRecord]:
    rows = await conn.fetch(
        """SELECT s.item, s.state, s.updated_at,
                  coalesce(nullif(u.display_name, ''), u.username) AS updated_by
           FROM stall_support s LEFT JOIN app_user u ON u.id = s.updated_by
           WHERE s.stall_id = $1
           ORDER BY array_position($2::text[], s.item)""",
        stall_id,
        list(schemas.SUPPORT_ITEMS),
    )
    return [schemas.SupportRecord(**dict(r)) for r in rows]


async def states_for_update(conn: asyncpg.Connection, stall_id: int) -> dict[str, str]:
    """The stall's records, locked (the stall row first: one writer of a stall's package at a
    time, in the order every stall edit takes)."""
    await conn.execute("SELECT 1 FROM stall WHERE id = $1 FOR UPDATE", stall_id)
    rows = await conn.fetch("SELECT item, state FROM stall_support WHERE stall_id = $1", stall_id)
    return {r["item"]: r["state"] for r in rows}


async def write(
    conn: asyncpg.Connection, *, stall_id: int, changes: dict[str, str | None], actor_id: int
) -> None:
    """Set (or, for None, take back) these items' records."""
    gone = [item for item, state in changes.items() if state is None]
    kept = [(item, state) for item, state in changes.items() if state is not None]
    if gone:
        await conn.execute(
            "DELETE FROM stall_support WHERE stall_id = $1 AND item = any($2::text[])",
            stall_id,
            gone,
        )
    if kept:
        await conn.execute(
            """INSERT INTO stall_support (stall_id, item, state, updated_by)
               SELECT $1, x.item, x.state, $4
               FROM unnest($2::text[], $3::text[]) AS x (item, state)
               ON CONFLICT (stall_id, item) DO UPDATE SET
                   state = excluded.state, updated_by = excluded.updated_by,
                   updated_at = clock_timestamp()""",
            stall_id,
            [i for i, _ in kept],
            [s for _, s in kept],
            actor_id,
        )


async def market_counts(
    conn: asyncpg.Connection, market_id: int
) -> tuple[int, int, dict[str, dict[str, int]]]:
    """(active stalls, those with any record, {item: {state: count}}) of the market's active stalls."""
    totals = await conn.fetchrow(
        """SELECT count(*) AS active_stalls,
                  count(*) FILTER (WHERE EXISTS (SELECT 1 FROM stall_support x WHERE x.stall_id = s.id))
                      AS consulted
           FROM stall s WHERE s.market_id = $1 AND s.status = 'active'""",
        market_id,
    )
    rows = await conn.fetch(
        """SELECT x.item, x.state, count(*) AS n
           FROM stall_support x JOIN stall s ON s.id = x.stall_id
           WHERE s.market_id = $1 AND s.status = 'active'
           GROUP BY x.item, x.state""",
        market_id,
    )
    by_item: dict[str, dict[str, int]] = {}
    for r in rows:
        by_item.setdefault(r["item"], {})[r["state"]] = int(r["n"])
    return int(totals["active_stalls"]), int(totals["consulted"]), by_item


async def area_counts(
    conn: asyncpg.Connection,
    *,
    market_ids: list[int] | None,
    province: str | None,
    ward: str | None,
) -> tuple[int, int, dict[str, dict[str, int]]]:
    """(active stalls, those with any record, {item: {state: count}}) over the markets (not
    archived) of an area within these markets (None: any). Active stalls come from the markets'
    coverage counters (equal to a recount: the soak checks it), so a national area costs one row
    a market, not one a stall; the records are few by comparison."""
    area = """SELECT id FROM market
              WHERE archived_at IS NULL AND ($1::bigint[] IS NULL OR id = any($1))
                AND ($2::text IS NULL OR province_code = $2) AND ($3::text IS NULL OR ward_code = $3)"""
    args = (market_ids, province, ward)
    active = await conn.fetchval(
        f"SELECT coalesce(sum(active_stalls), 0) FROM market_coverage WHERE market_id IN ({area})",
        *args,
    )
    rows = await conn.fetch(
        f"""SELECT x.item, x.state, count(*) AS n, count(DISTINCT x.stall_id) AS stalls
            FROM stall_support x JOIN stall s ON s.id = x.stall_id
            WHERE s.status = 'active' AND s.market_id IN ({area})
            GROUP BY GROUPING SETS ((x.item, x.state), ())""",
        *args,
    )
    consulted = 0
    by_item: dict[str, dict[str, int]] = {}
    for r in rows:
        if r["item"] is None:
            consulted = int(r["stalls"])
        else:
            by_item.setdefault(r["item"], {})[r["state"]] = int(r["n"])
    return int(active), consulted, by_item
