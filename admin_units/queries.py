"""All SQL of the administrative-unit directory (scheme '2025-07', the post-reform units)."""

from __future__ import annotations

import asyncpg

from admin_units.schemas import AdminUnit

# The proper name without its type word, for alphabetical order and "starts with" matches:
# 'phuong hai chau' -> 'hai chau'. name_folded is admin_unit_fold(name), see migration 0007.
_BARE = r"regexp_replace(name_folded, '^(phuong|xa|dac khu|tinh|thanh pho) ', '')"

_SELECT = """
SELECT code, name, level, kind, CASE WHEN level = 'province' THEN code ELSE parent_code END
       AS province_code
FROM admin_unit
"""

_PROVINCES = f"""{_SELECT}
WHERE scheme = '2025-07' AND level = 'province'
ORDER BY {_BARE}, code
"""

_WARDS_OF = f"""{_SELECT}
WHERE scheme = '2025-07' AND level = 'ward' AND parent_code = $1
ORDER BY {_BARE}, name_folded, code
"""

# Best matches first: the whole name or the proper name exactly, then names that start with the
# query, then a word that starts with it, then anywhere. Ties: wards (phường) before communes,
# where markets are most often, then the shorter name.
_SEARCH = f"""{_SELECT}
WHERE scheme = '2025-07' AND level = 'ward'
  AND ($2::text IS NULL OR parent_code = $2)
  AND strpos(name_folded, $1) > 0
ORDER BY CASE
           WHEN name_folded = $1 THEN 0
           WHEN {_BARE} = $1 THEN 1
           WHEN starts_with({_BARE}, $1) OR starts_with(name_folded, $1) THEN 2
           WHEN strpos(' ' || name_folded, ' ' || $1) > 0 THEN 3
           ELSE 4
         END,
         CASE kind WHEN 'phuong' THEN 0 WHEN 'xa' THEN 1 ELSE 2 END,
         length(name_folded), name_folded, code
LIMIT $3
"""

_GET = f"""{_SELECT}
WHERE scheme = '2025-07' AND code = $1 AND level IN ('province', 'ward')
"""

_WARD_EXISTS = """
SELECT EXISTS (SELECT 1 FROM admin_unit WHERE scheme = '2025-07' AND level = 'ward' AND code = $1)
"""

_PROVINCE_EXISTS = """
SELECT EXISTS (SELECT 1 FROM admin_unit
               WHERE scheme = '2025-07' AND level = 'province' AND code = $1)
"""


def _unit(row: asyncpg.Record) -> AdminUnit:
    return AdminUnit(
        code=row["code"],
        name=row["name"],
        level=row["level"],
        kind=row["kind"],
        province_code=row["province_code"],
    )


async def provinces(conn: asyncpg.Connection) -> list[AdminUnit]:
    """Every province, alphabetically by proper name."""
    return [_unit(r) for r in await conn.fetch(_PROVINCES)]


async def wards_of(conn: asyncpg.Connection, province_code: str) -> list[AdminUnit]:
    """Every ward, commune and special zone of a province, alphabetically by proper name."""
    return [_unit(r) for r in await conn.fetch(_WARDS_OF, province_code)]


async def search_wards(
    conn: asyncpg.Connection, *, key: str, province_code: str | None, limit: int
) -> list[AdminUnit]:
    """Wards whose folded name contains `key` (a search key), best matches first."""
    return [_unit(r) for r in await conn.fetch(_SEARCH, key, province_code, limit)]


async def get_unit(conn: asyncpg.Connection, code: str) -> AdminUnit | None:
    """The province or ward with this code, if any."""
    row = await conn.fetchrow(_GET, code)
    return _unit(row) if row is not None else None


async def ward_exists(conn: asyncpg.Connection, code: str) -> bool:
    """Whether a ward-level unit has this code."""
    return bool(await conn.fetchval(_WARD_EXISTS, code))


async def province_exists(conn: asyncpg.Connection, code: str) -> bool:
    """Whether a province has this code."""
    return bool(await conn.fetchval(_PROVINCE_EXISTS, code))
