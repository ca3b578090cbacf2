"""Use cases of the administrative-unit directory: list, search, look up."""

from __future__ import annotations

import re

import asyncpg

from admin_units import errors, queries, schemas
from core.text import fold

SEARCH_LIMIT = 50
_OTHER = re.compile(r"[^a-z0-9]+")


def search_key(text: str) -> str:
    """Diacritic-insensitive key of a name or a query: 'Xã Ea H’leo' -> 'xa ea h leo'.

    The Python twin of the database's admin_unit_fold (admin_unit.name_folded).
    """
    return _OTHER.sub(" ", fold(text)).strip()


def province_code(code: str) -> str:
    """A province code as the directory writes it: two digits ('1' -> '01')."""
    return code.zfill(2) if code.isdigit() else code


def ward_code(code: str) -> str:
    """A ward code as the directory writes it: five digits ('70' -> '00070')."""
    return code.zfill(5) if code.isdigit() else code


async def list_units(
    conn: asyncpg.Connection, *, province: str | None, q: str | None, limit: int = SEARCH_LIMIT
) -> list[schemas.AdminUnit]:
    """Provinces; the wards of a province; or wards matching `q`, best first (at most `limit`)."""
    code = province_code(province) if province is not None else None
    if code is not None and not await queries.province_exists(conn, code):
        raise errors.ProvinceNotFound(f"No province has the code {province}.", field="province")
    if q is None or not q.strip():
        if code is None:
            return await queries.provinces(conn)
        return await queries.wards_of(conn, code)
    key = search_key(q)
    if not key:  # only punctuation: nothing can match it
        return []
    return await queries.search_wards(conn, key=key, province_code=code, limit=limit)


async def get_unit(conn: asyncpg.Connection, code: str) -> schemas.AdminUnit | None:
    """The province ('48') or ward ('20242') with this code in the post-2025 directory, if any."""
    return await queries.get_unit(conn, code)


async def ward_exists(conn: asyncpg.Connection, code: str) -> bool:
    """Whether `code` is a ward, commune or special zone of the post-2025 directory."""
    return await queries.ward_exists(conn, ward_code(code))
