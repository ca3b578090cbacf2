"""SQL of the stall exports (CSV, GeoJSON): one filtered, streamed query and its access log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg


@dataclass(frozen=True)
class ExportFilter:
    market_ids: list[int] | None  # None: every market
    market_id: int | None = None
    ward_code: str | None = None
    level: str | None = None
    needs_revisit: bool | None = None
    province: str | None = None
    without_ward: bool = False  # only markets whose ward is not recorded


_LEVEL_COLUMN = {
    "registered": "c.counted_active",
    "qr_issued": "c.counted_qr_issued",
    "qr_verified": "c.counted_qr_verified",
    "transacting": "c.counted_transacting",
    "fees_cashless": "c.counted_fees_cashless",
}

# The support package's items in their order (merchants.schemas.SUPPORT_ITEMS, migration 0022).
_SUPPORT_ORDER = (
    "ARRAY['sales_app', 'digital_signature', 'e_invoice', 'domain', 'payment_account', 'ecommerce']"
)

_EXPORT_FROM = """
FROM stall s
JOIN market m ON m.id = s.market_id
JOIN stall_coverage c ON c.stall_id = s.id
LEFT JOIN admin_unit w ON w.scheme = m.ward_scheme AND w.code = m.ward_code
LEFT JOIN stallholder h ON h.id = s.holder_id
WHERE ($1::bigint[] IS NULL OR s.market_id = any($1::bigint[]))
  AND ($2::bigint IS NULL OR s.market_id = $2)
  AND ($3::text IS NULL OR m.ward_code = $3)
  AND ($4::boolean IS NULL OR c.needs_revisit = $4)
  AND ($5::text IS NULL OR m.province_code = $5)
  AND (NOT $6::boolean OR m.ward_code IS NULL)
"""


def _export_where(f: ExportFilter) -> tuple[str, list[Any]]:
    sql = _EXPORT_FROM
    if f.level is not None:
        sql += f"  AND {_LEVEL_COLUMN[f.level]}\n"
    return sql, [
        f.market_ids, f.market_id, f.ward_code, f.needs_revisit, f.province, f.without_ward
    ]  # fmt: skip


async def export_rows(
    conn: asyncpg.Connection, f: ExportFilter, *, personal: bool
) -> AsyncIterator[dict[str, Any]]:
    """Stream the filtered stalls as flat dicts (personal fields only when asked)."""
    where, args = _export_where(f)
    personal_cols = (
        ", h.full_name AS holder_name, h.phone_e164 AS phone, s.licence_no" if personal else ""
    )
    sql = f"""SELECT s.id AS stall_id, s.market_id, m.name AS market_name, m.ward_code,
                     w.name AS ward_name, m.legacy_district_name AS legacy_district, s.stall_code,
                     s.zone, s.goods, s.status,
                     c.counted_active AS registered, c.counted_qr_issued AS qr_issued,
                     c.counted_qr_verified AS qr_verified, c.counted_transacting AS transacting,
                     c.counted_fees_cashless AS fees_cashless, c.needs_revisit, c.revisit_reason,
                     c.sign_issued_at, c.sign_delivered_at, c.verified_at, c.verified_method,
                     c.last_payment_at,
                     (SELECT count(*) FROM payment_account a WHERE a.stall_id = s.id AND a.active)
                         AS account_count,
                     coalesce((SELECT array_agg(a.bin ORDER BY a.position,
                         a.id) FROM payment_account a
                               WHERE a.stall_id = s.id AND a.active), '{{}}') AS bins,
                     coalesce((SELECT array_agg(DISTINCT a.partner_code ORDER BY a.partner_code)
                               FROM payment_account a
                               WHERE a.stall_id = s.id AND a.active AND a.partner_code IS NOT NULL),
                              '{{}}') AS partner_codes,
                     coalesce((SELECT array_agg(DISTINCT coalesce(p.name, a.partner_code)
                                                ORDER BY coalesce(p.name, a.partner_code))
                               FROM payment_account a LEFT JOIN partner p ON p.code = a.partner_code
                               WHERE a.stall_id = s.id AND a.active AND a.partner_code IS NOT NULL),
                              '{{}}') AS partner_names,
                     s.confirm_by, s.also_accepts,
                     coalesce((SELECT array_agg(x.item || ':' || x.state
                                                ORDER BY array_position({_SUPPORT_ORDER}, x.item))
                               FROM stall_support x WHERE x.stall_id = s.id), '{{}}') AS support,
                     s.lat, s.lon, m.lat AS market_lat,
                     m.lon AS market_lon{personal_cols}
              {where}
              ORDER BY m.name_sort, m.name, s.market_id, coalesce(s.zone, ''), s.code_sort, s.id"""
    async with conn.transaction():
        async for row in conn.cursor(sql, *args, prefetch=500):
            yield dict(row)


async def log_export_access(
    conn: asyncpg.Connection, f: ExportFilter, *, actor_id: int, route: str
) -> int:
    """One access_log row per stallholder whose personal fields an export carries (reason
    `list_export`: a manager's stall list, not the person's own data export)."""
    where, args = _export_where(f)
    result = await conn.execute(
        f"""INSERT INTO access_log (actor_id, stallholder_id, route, reason)
            SELECT DISTINCT ${len(args) + 1}::bigint, s.holder_id, ${len(args) + 2}::text, 'list_export'
            {where} AND s.holder_id IS NOT NULL""",
        *args,
        actor_id,
        route,
    )
    return int(result.split()[-1])


async def market_rows(
    conn: asyncpg.Connection,
    market_ids: list[int] | None,
    *,
    province: str | None = None,
    ward: str | None = None,
) -> list[dict[str, Any]]:
    """One row per market that is not archived (all, or these; of a province or a ward): area,
    status and since when, rule version, counters. An archived market is out of the dashboard's
    counts, and so out of its table (a reviewer's workbook had 32 rows under "31 chợ")."""
    rows = await conn.fetch(
        """SELECT m.id AS market_id, m.name AS market_name, m.ward_code, w.name AS ward_name,
                  m.legacy_district_name AS legacy_district, m.province_code,
                  coalesce(c.status, 'not_started') AS status, c.status_since, c.rule_version,
                  coalesce(c.active_stalls, 0) AS active_stalls,
                  coalesce(c.qr_issued, 0) AS qr_issued, coalesce(c.qr_verified, 0) AS qr_verified,
                  coalesce(c.transacting, 0) AS transacting,
                  coalesce(c.fees_cashless, 0) AS fees_cashless
           FROM market m
           LEFT JOIN market_coverage c ON c.market_id = m.id
           LEFT JOIN admin_unit w ON w.scheme = m.ward_scheme AND w.code = m.ward_code
           WHERE ($1::bigint[] IS NULL OR m.id = any($1::bigint[]))
             AND ($2::text IS NULL OR m.province_code = $2)
             AND ($3::text IS NULL OR m.ward_code = $3)
             AND m.archived_at IS NULL
           ORDER BY m.name_sort, m.name, m.id""",
        market_ids,
        province,
        ward,
    )
    return [dict(r) for r in rows]
