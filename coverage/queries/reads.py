"""SQL of the coverage reads: market numbers, rollups, stall tiles, history, the report's lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from core import sql
from coverage.queries.counts import (
    LEVELS,
    STATUSES,
    SUM_COUNTS,
    Counts,
    GroupRow,
    HistoryRow,
    MarketCounters,
    SnapshotRow,
    Tile,
    counters_from_row,
)
from coverage.queries.history import snapshot_rows


async def market_counters(conn: asyncpg.Connection, market_id: int) -> MarketCounters | None:
    """A market's counters and status."""
    row = await conn.fetchrow(
        f"""SELECT m.id AS market_id, {_COUNTERS_OR_NONE}
            FROM market m LEFT JOIN market_coverage c ON c.market_id = m.id WHERE m.id = $1""",
        market_id,
    )
    return counters_from_row(row) if row else None


# A market's counters, or the numbers of a market whose first stall has not come yet (`c` may be
# a missing row of market_coverage joined to market `m`).
_COUNTERS_OR_NONE = """coalesce(c.active_stalls, 0) AS active_stalls,
       coalesce(c.qr_issued, 0) AS qr_issued, coalesce(c.qr_verified, 0) AS qr_verified,
       coalesce(c.transacting, 0) AS transacting, coalesce(c.fees_cashless, 0) AS fees_cashless,
       coalesce(c.status, 'not_started') AS status,
       coalesce(c.status_since, m.created_at) AS status_since, c.rule_version"""


async def zone_counters(conn: asyncpg.Connection, market_id: int) -> list[tuple[str, Counts]]:
    """A market's numbers per zone (zones with an active stall), summed from its stalls' rows."""
    rows = await conn.fetch(
        """SELECT counted_zone AS zone, count(*) AS active_stalls,
                  count(*) FILTER (WHERE counted_qr_issued) AS qr_issued,
                  count(*) FILTER (WHERE counted_qr_verified) AS qr_verified,
                  count(*) FILTER (WHERE counted_transacting) AS transacting,
                  count(*) FILTER (WHERE counted_fees_cashless) AS fees_cashless
           FROM stall_coverage WHERE market_id = $1 AND counted_active
           GROUP BY counted_zone ORDER BY counted_zone""",
        market_id,
    )
    return [(r["zone"], Counts.of(r)) for r in rows]


async def market_zones(conn: asyncpg.Connection, market_id: int) -> list[str]:
    """The zones a market declares."""
    return list(await conn.fetchval("SELECT zones FROM market WHERE id = $1", market_id) or [])


def _group(
    row: asyncpg.Record, *, with_statuses: bool = True, with_markets: bool = True
) -> GroupRow:
    return GroupRow(
        key=row["key"],
        name=row["name"],
        markets=int(row["markets"]) if with_markets else None,
        counts=Counts.of(row),
        statuses={s: int(row[s]) for s in STATUSES} if with_statuses else None,
        lat=row.get("lat"),
        lon=row.get("lon"),
        province_code=row.get("province_code"),
    )


# The markets of an area ($province and $ward may be NULL: no condition), and of a scope
# ($market_ids NULL: every market); archived markets are never in one (their rows stay).
# Used inside each read's own statement.
_IN_AREA = """m.archived_at IS NULL
    AND ($market_ids::bigint[] IS NULL OR m.id = any($market_ids::bigint[]))
    AND ($province::text IS NULL OR m.province_code = $province::text)
    AND ($ward::text IS NULL OR m.ward_code = $ward::text)"""

_AREA_GROUPS = sql.compose(
    f"""SELECT g.*,
               CASE $kind WHEN 'legacy_district' THEN nullif(g.key, '')
                          ELSE u.name END AS name,
               CASE $kind WHEN 'ward' THEN u.parent_code
                          WHEN 'province' THEN nullif(g.key, '') END AS province_code
        FROM (SELECT {{key}} AS key, count(*) AS markets,
                     coalesce(sum(c.active_stalls), 0) AS active_stalls,
                     coalesce(sum(c.qr_issued), 0) AS qr_issued,
                     coalesce(sum(c.qr_verified), 0) AS qr_verified,
                     coalesce(sum(c.transacting), 0) AS transacting,
                     coalesce(sum(c.fees_cashless), 0) AS fees_cashless,
                     count(*) FILTER (WHERE coalesce(c.status, 'not_started') = 'not_started')
                         AS not_started,
                     count(*) FILTER (WHERE c.status = 'in_progress') AS in_progress,
                     count(*) FILTER (WHERE c.status = 'cashless') AS cashless,
                     count(*) FILTER (WHERE c.status = 'lapsed') AS lapsed,
                     avg(m.lat) AS lat, avg(m.lon) AS lon
              FROM market m LEFT JOIN market_coverage c ON c.market_id = m.id
              WHERE {_IN_AREA}
              GROUP BY 1) g
        LEFT JOIN admin_unit u ON $kind IN ('ward', 'province') AND u.scheme = '2025-07'
                               AND u.code = g.key
        ORDER BY g.key"""
)

_AREA_KEYS = {
    "ward": "coalesce(m.ward_code, '')",
    "legacy_district": "coalesce(m.legacy_district_name, '')",
    "province": "coalesce(m.province_code, '')",
}
# One statement per kind: each groups by its own column (a plan per statement, no CASE per row).
_AREA_GROUPS_BY = {
    kind: sql.Statement(_AREA_GROUPS.text.replace("{key}", key), _AREA_GROUPS.names)
    for kind, key in _AREA_KEYS.items()
}


@dataclass(frozen=True)
class Area:
    """An area filter: a province, a ward (its code), both or neither."""

    province: str | None = None
    ward: str | None = None

    def values(self, market_ids: list[int] | None) -> dict[str, object]:
        return {"market_ids": market_ids, "province": self.province, "ward": self.ward}


EVERYWHERE = Area()


# ---------------------------------------------------------------- large answers built in SQL
# A national rollup has one group per market (10,000): the groups' JSON is built by PostgreSQL
# from the same rows as above, the same shape as coverage.shapes.group_dict / feature_dict
# (tests/coverage/test_shapes.py compares them), and passed through as text.


def share_sql(count: str, active: str) -> str:
    """SQL of coverage.shapes.share over two integer expressions (the same integer arithmetic)."""
    return (
        f"CASE WHEN {active} > 0 THEN ({count})::bigint * 10000"
        f" / ({active})::bigint / 10000.0::float8 ELSE 0.0::float8 END"
    )


def _levels_json(row: str) -> str:
    parts = ", ".join(
        f"'{level}', json_build_object('count', {row}.{level}, "
        f"'share', {share_sql(f'{row}.{level}', f'{row}.active_stalls')})"
        for level in LEVELS
    )
    return f"json_build_object({parts})"


_TOTALS = f"""count(*) AS groups, coalesce(sum(g.markets), 0) AS markets,
       coalesce(sum(g.active_stalls), 0) AS active_stalls,
       coalesce(sum(g.qr_issued), 0) AS qr_issued, coalesce(sum(g.qr_verified), 0) AS qr_verified,
       coalesce(sum(g.transacting), 0) AS transacting,
       coalesce(sum(g.fees_cashless), 0) AS fees_cashless,
       {", ".join(f"coalesce(sum(g.{st}), 0) AS {st}" for st in STATUSES)}"""


def _groups_json(rows: sql.Statement, group: str, order: str) -> sql.Statement:
    """A statement that reads `rows` (as g) and selects their JSON array and their totals."""
    return sql.Statement(
        f"""WITH g AS ({rows.text})
            SELECT coalesce(json_agg({group} ORDER BY {order}), '[]')::text AS json, {_TOTALS}
            FROM g""",
        rows.names,
    )


_STATUSES_JSON = (
    "json_build_object(" + ", ".join(f"'{st}', g.{st}" for st in STATUSES) + ")"
)  # fmt: skip

_AREA_GROUP_JSON = f"""json_build_object(
    'key', g.key, 'name', g.name, 'markets', g.markets, 'active_stalls', g.active_stalls,
    'levels', {_levels_json("g")}, 'statuses', {_STATUSES_JSON}, 'status', NULL,
    'lat', g.lat, 'lon', g.lon, 'province_code', g.province_code, 'ward_code', NULL)"""

_MARKET_ROWS = f"""SELECT m.id, m.name, m.name_sort, m.lat, m.lon, m.ward_code, m.province_code,
           w.name AS ward_name, m.legacy_district_name, 1 AS markets, {_COUNTERS_OR_NONE},
           {", ".join(f"(coalesce(c.status, 'not_started') = '{st}')::integer AS {st}" for st in STATUSES)}
    FROM market m LEFT JOIN market_coverage c ON c.market_id = m.id
    LEFT JOIN admin_unit w ON w.scheme = m.ward_scheme AND w.code = m.ward_code
    WHERE {{in_area}}"""

_MARKET_GROUP_JSON = f"""json_build_object(
    'key', g.id::text, 'name', g.name, 'markets', 1, 'active_stalls', g.active_stalls,
    'levels', {_levels_json("g")}, 'statuses', {_STATUSES_JSON}, 'status', g.status,
    'lat', g.lat, 'lon', g.lon, 'province_code', g.province_code, 'ward_code', g.ward_code)"""

_FEATURE_JSON = f"""json_build_object(
    'type', 'Feature', 'id', g.id,
    'geometry', CASE WHEN g.lat IS NOT NULL AND g.lon IS NOT NULL
                     THEN json_build_object('type', 'Point', 'coordinates', json_build_array(g.lon, g.lat))
                END,
    'properties', json_build_object(
        'id', g.id, 'name', g.name, 'ward_code', g.ward_code, 'ward', g.ward_name,
        'legacy_district', g.legacy_district_name, 'status', g.status,
        'active_stalls', g.active_stalls, 'qr_issued', g.qr_issued, 'qr_verified', g.qr_verified,
        'transacting', g.transacting, 'fees_cashless', g.fees_cashless,
        {", ".join(f"'{level}_share', {share_sql(f'g.{level}', 'g.active_stalls')}" for level in LEVELS)}))"""


_AREA_GROUPS_JSON = {
    kind: _groups_json(statement, _AREA_GROUP_JSON, "g.key")
    for kind, statement in _AREA_GROUPS_BY.items()
}
_MARKET_GROUPS_JSON = _groups_json(
    sql.compose(_MARKET_ROWS.format(in_area=_IN_AREA)),
    _MARKET_GROUP_JSON,
    "g.name_sort, g.name, g.id",
)  # markets in the Vietnamese alphabet, as every list and export has them
_MARKET_FEATURES_JSON = _groups_json(
    sql.compose(_MARKET_ROWS.format(in_area=_IN_AREA)), _FEATURE_JSON, "g.name_sort, g.name, g.id"
)


@dataclass(frozen=True)
class GroupsJson:
    """Groups as a JSON array (text), and their totals."""

    json: str
    groups: int
    total: GroupRow


def _groups_out(row: asyncpg.Record) -> GroupsJson:
    return GroupsJson(
        json=row["json"],
        groups=int(row["groups"]),
        total=GroupRow(
            key="",
            name=None,
            markets=int(row["markets"]),
            counts=Counts.of(row),
            statuses={st: int(row[st]) for st in STATUSES},
        ),
    )


async def area_groups_json(
    conn: asyncpg.Connection, kind: str, market_ids: list[int] | None, area: Area = EVERYWHERE
) -> GroupsJson:
    """area_groups as the JSON array of their GroupCoverage, and their totals."""
    statement = _AREA_GROUPS_JSON[kind]
    row = await conn.fetchrow(
        statement.text, *statement.args({"kind": kind, **area.values(market_ids)})
    )
    return _groups_out(row)


async def market_groups_json(
    conn: asyncpg.Connection, market_ids: list[int] | None, area: Area = EVERYWHERE
) -> GroupsJson:
    """market_groups as the JSON array of their GroupCoverage, and their totals."""
    row = await conn.fetchrow(
        _MARKET_GROUPS_JSON.text, *_MARKET_GROUPS_JSON.args(area.values(market_ids))
    )
    return _groups_out(row)


async def market_features_json(
    conn: asyncpg.Connection, market_ids: list[int] | None, area: Area = EVERYWHERE
) -> str:
    """The markets as the JSON array of their MarketFeature (GeoJSON points)."""
    row = await conn.fetchrow(
        _MARKET_FEATURES_JSON.text, *_MARKET_FEATURES_JSON.args(area.values(market_ids))
    )
    return str(row["json"])


async def area_groups(
    conn: asyncpg.Connection, kind: str, market_ids: list[int] | None, area: Area = EVERYWHERE
) -> list[GroupRow]:
    """Numbers per ward, legacy district or province, summed from their markets' counters (every
    market, or these; in an area), with the mean point of their markets; markets without a stall
    yet count as not started."""
    statement = _AREA_GROUPS_BY[kind]
    rows = await conn.fetch(
        statement.text, *statement.args({"kind": kind, **area.values(market_ids)})
    )
    return [_group(r) for r in rows]


_PARTNER_GROUPS = sql.compose(
    f"""SELECT g.*, coalesce(p.name, g.key) AS name FROM (
            SELECT partner_code AS key, 0 AS markets, {SUM_COUNTS}
            FROM partner_coverage
            WHERE ($only_key::text IS NULL OR partner_code = $only_key::text)
              AND market_id IN (SELECT m.id FROM market m WHERE {_IN_AREA})
            GROUP BY partner_code) g
        LEFT JOIN partner p ON p.code = g.key  -- the name people know, not the code
        ORDER BY g.key"""
)


async def partner_groups(
    conn: asyncpg.Connection,
    market_ids: list[int] | None,
    *,
    only_key: str | None = None,
    area: Area = EVERYWHERE,
) -> list[GroupRow]:
    """Numbers per partner (stalls with an active account of it), summed from per-market rows
    (archived markets left out)."""
    rows = await conn.fetch(
        _PARTNER_GROUPS.text,
        *_PARTNER_GROUPS.args({"only_key": only_key, **area.values(market_ids)}),
    )
    return [_group(r, with_statuses=False, with_markets=False) for r in rows]


_MARKET_GROUPS = sql.compose(
    f"""SELECT m.id, m.name, m.lat, m.lon, m.ward_code, m.province_code, w.name AS ward_name,
               m.legacy_district_name, {_COUNTERS_OR_NONE}
        FROM market m LEFT JOIN market_coverage c ON c.market_id = m.id
        LEFT JOIN admin_unit w ON w.scheme = m.ward_scheme AND w.code = m.ward_code
        WHERE {_IN_AREA}
        ORDER BY m.name_sort, m.name, m.id"""
)


async def market_groups(
    conn: asyncpg.Connection, market_ids: list[int] | None, area: Area = EVERYWHERE
) -> list[GroupRow]:
    """One group per market (all markets, or these; in an area), with status, area and point."""
    rows = await conn.fetch(_MARKET_GROUPS.text, *_MARKET_GROUPS.args(area.values(market_ids)))
    return [
        GroupRow(
            key=str(r["id"]),
            name=r["name"],
            markets=1,
            counts=Counts.of(r),
            statuses={s: int(r["status"] == s) for s in STATUSES},
            status=r["status"],
            lat=r["lat"],
            lon=r["lon"],
            ward_code=r["ward_code"],
            ward_name=r["ward_name"],
            legacy_district=r["legacy_district_name"],
            province_code=r["province_code"],
        )
        for r in rows
    ]


async def partner_code_of(conn: asyncpg.Connection, user_id: int) -> str | None:
    """The partner a partner user works for."""
    return await conn.fetchval("SELECT partner_code FROM app_user WHERE id = $1", user_id)


async def stall_tiles(conn: asyncpg.Connection, market_id: int) -> list[Tile]:
    """Every stall of a market with its counted levels, in zone and stall-code order."""
    rows = await conn.fetch(
        """SELECT s.id, s.stall_code, coalesce(s.zone, '') AS zone, s.status,
                  coalesce(c.counted_active, false) AS a, coalesce(c.counted_qr_issued, false) AS i,
                  coalesce(c.counted_qr_verified, false) AS v, coalesce(c.counted_transacting,
                      false) AS t,
                  coalesce(c.counted_fees_cashless, false) AS f,
                  coalesce(c.needs_revisit, false) AS needs_revisit, c.revisit_reason,
                  coalesce(c.sign_reprint_needed, false) AS sign_reprint_needed
           FROM stall s LEFT JOIN stall_coverage c ON c.stall_id = s.id
           WHERE s.market_id = $1
           ORDER BY coalesce(s.zone, ''), s.code_sort, s.id""",
        market_id,
    )
    return [
        Tile(
            id=r["id"],
            stall_code=r["stall_code"],
            zone=r["zone"],
            status=r["status"],
            counted=(r["a"], r["i"], r["v"], r["t"], r["f"]),
            needs_revisit=r["needs_revisit"],
            revisit_reason=r["revisit_reason"],
            sign_reprint_needed=r["sign_reprint_needed"],
        )
        for r in rows
    ]


async def status_history(conn: asyncpg.Connection, market_id: int, limit: int) -> list[HistoryRow]:
    """A market's status changes, newest first."""
    rows = await conn.fetch(
        """SELECT status, previous_status, rule_version, reason, active_stalls, qr_issued,
                qr_verified,
                  transacting, fees_cashless, changed_at
           FROM market_status_history WHERE market_id = $1 ORDER BY changed_at DESC,
               id DESC LIMIT $2""",
        market_id,
        limit,
    )
    return [
        HistoryRow(
            status=r["status"],
            previous_status=r["previous_status"],
            rule_version=r["rule_version"],
            reason=r["reason"],
            counts=Counts.of(r),
            changed_at=r["changed_at"],
        )
        for r in rows
    ]


_SNAPSHOT_SERIES = sql.compose(
    f"""WITH days AS (SELECT d::date AS day
                      FROM generate_series($start::date, $end::date, '1 day') d),
             ms AS (SELECT m.id AS market_id FROM market m WHERE {_IN_AREA})
        SELECT days.day, count(s.market_id) AS markets, {SUM_COUNTS},
               count(*) FILTER (WHERE s.status = 'not_started') AS not_started,
               count(*) FILTER (WHERE s.status = 'in_progress') AS in_progress,
               count(*) FILTER (WHERE s.status = 'cashless') AS cashless,
               count(*) FILTER (WHERE s.status = 'lapsed') AS lapsed
        FROM days CROSS JOIN ms
        JOIN LATERAL (SELECT x.market_id, x.active_stalls, x.qr_issued, x.qr_verified,
                             x.transacting, x.fees_cashless, x.status
                      FROM coverage_snapshot x
                      WHERE x.market_id = ms.market_id AND x.day <= days.day
                      ORDER BY x.day DESC LIMIT 1) s ON true
        GROUP BY days.day ORDER BY days.day"""
)


async def snapshot_series(
    conn: asyncpg.Connection,
    market_ids: list[int] | None,
    start: date,
    end: date,
    area: Area = EVERYWHERE,
) -> list[SnapshotRow]:
    """Daily sums over markets (these, or all; in an area) from start to end; each market carries
    its last snapshot forward (one lookup per market and day: for a few markets; a whole area
    reads coverage_area_day).

    Days before a market's first snapshot do not count it; a day no market has data for is left out.
    Archived markets are left out of every day (their snapshots stay).
    """
    rows = await conn.fetch(
        _SNAPSHOT_SERIES.text,
        *_SNAPSHOT_SERIES.args({"start": start, "end": end, **area.values(market_ids)}),
    )
    return snapshot_rows(rows)


_SUM_MARKET_COUNTERS = sql.compose(
    f"""SELECT count(*) AS markets, {SUM_COUNTS},
               count(*) FILTER (WHERE coalesce(c.status, 'not_started') = 'not_started')
                   AS not_started,
               count(*) FILTER (WHERE c.status = 'in_progress') AS in_progress,
               count(*) FILTER (WHERE c.status = 'cashless') AS cashless,
               count(*) FILTER (WHERE c.status = 'lapsed') AS lapsed
        FROM market m LEFT JOIN market_coverage c ON c.market_id = m.id
        WHERE {_IN_AREA}"""
)


async def sum_market_counters(
    conn: asyncpg.Connection, market_ids: list[int] | None, area: Area = EVERYWHERE
) -> tuple[int, Counts, dict[str, int]]:
    """Live totals over markets (all, or these; in an area): (markets, counts, markets per
    status)."""
    row = await conn.fetchrow(
        _SUM_MARKET_COUNTERS.text, *_SUM_MARKET_COUNTERS.args(area.values(market_ids))
    )
    return int(row["markets"]), Counts.of(row), {s: int(row[s]) for s in STATUSES}


@dataclass(frozen=True)
class VisitRow:
    stall_code: str
    zone: str
    reason: str


async def stalls_to_visit(conn: asyncpg.Connection, market_id: int) -> list[VisitRow]:
    """Active stalls that still need a visit: flagged first, then no sign, then not verified."""
    rows = await conn.fetch(
        """SELECT s.stall_code, coalesce(s.zone, '') AS zone,
                  CASE WHEN c.needs_revisit THEN 'revisit'
                       WHEN NOT c.counted_qr_issued THEN 'no_sign'
                       ELSE 'not_verified' END AS reason
           FROM stall s JOIN stall_coverage c ON c.stall_id = s.id
           WHERE s.market_id = $1 AND s.status = 'active'
             AND (c.needs_revisit OR NOT c.counted_qr_verified)
           ORDER BY CASE WHEN c.needs_revisit THEN 0 WHEN NOT c.counted_qr_issued THEN 1 ELSE 2 END,
                    coalesce(s.zone, ''), s.code_sort, s.id""",
        market_id,
    )
    return [VisitRow(**dict(r)) for r in rows]


async def market_header(conn: asyncpg.Connection, market_id: int) -> dict[str, Any] | None:
    """Name and area of a market, for reports."""
    row = await conn.fetchrow(
        """SELECT m.id, m.name, m.address, m.ward_code, w.name AS ward_name, m.legacy_ward_name,
                  m.legacy_district_name, p.name AS province_name
           FROM market m
           LEFT JOIN admin_unit w ON w.scheme = m.ward_scheme AND w.code = m.ward_code
           LEFT JOIN admin_unit p ON p.scheme = '2025-07' AND p.code = m.province_code
           WHERE m.id = $1""",
        market_id,
    )
    return dict(row) if row else None


@dataclass(frozen=True)
class ReturnVisitRow:
    market_id: int
    market_name: str
    ward_name: str | None
    stall_id: int | None
    stall_code: str | None
    zone: str | None
    reason: str | None
    since: Any


async def return_visits(conn: asyncpg.Connection, market_ids: list[int]) -> list[ReturnVisitRow]:
    """Each of these markets (by name) with its active stalls flagged for a return visit, in zone
    and stall-code order; a market without one has a single row with no stall."""
    rows = await conn.fetch(
        """SELECT m.id AS market_id, m.name AS market_name, w.name AS ward_name,
                  s.id AS stall_id, s.stall_code, coalesce(s.zone, '') AS zone,
                  c.revisit_reason AS reason, c.revisit_flagged_at AS since
           FROM market m
           LEFT JOIN admin_unit w ON w.scheme = m.ward_scheme AND w.code = m.ward_code
           LEFT JOIN (stall_coverage c JOIN stall s ON s.id = c.stall_id AND s.status = 'active')
             ON c.market_id = m.id AND c.needs_revisit
           WHERE m.id = any($1::bigint[])
           ORDER BY m.name_sort, m.name, m.id, coalesce(s.zone, ''), s.code_sort, s.id""",
        market_ids,
    )
    return [ReturnVisitRow(**dict(r)) for r in rows]
