"""All SQL of markets, stalls, stallholders, payment accounts and consent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from merchants import schemas
from qr import banks


# ---------------------------------------------------------------- markets

_MARKET_SELECT = """
SELECT m.id, m.name, m.province_code, m.ward_code, w.name AS ward_name,
       m.legacy_ward_code, m.legacy_ward_name, m.legacy_district_name,
       m.address, m.lat, m.lon, m.zones,
       (SELECT count(*) FROM stall s WHERE s.market_id = m.id AND s.status = 'active') AS stall_count
FROM market m
LEFT JOIN admin_unit w ON w.scheme = m.ward_scheme AND w.code = m.ward_code
"""


async def upsert_admin_unit(
    conn: asyncpg.Connection,
    *,
    scheme: str,
    code: str,
    level: str,
    name: str,
    parent_code: str | None = None,
) -> None:
    """Insert an administrative unit, or keep the existing one."""
    await conn.execute(
        "INSERT INTO admin_unit (scheme, code, level, name, parent_code) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (scheme, code) DO NOTHING",
        scheme,
        code,
        level,
        name,
        parent_code,
    )


async def admin_unit_exists(conn: asyncpg.Connection, scheme: str, code: str) -> bool:
    """Whether (scheme, code) is a known unit."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM admin_unit WHERE scheme = $1 AND code = $2)", scheme, code
        )
    )


async def insert_market(conn: asyncpg.Connection, m: schemas.MarketCreate) -> int:
    """Create a market; returns its id."""
    return int(
        await conn.fetchval(
            """INSERT INTO market (name, province_code, ward_code, legacy_ward_code, legacy_ward_name,
                                   legacy_district_name, address, lat, lon, zones)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id""",
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
        )
    )


async def get_market(conn: asyncpg.Connection, market_id: int) -> schemas.Market | None:
    """One market with its active stall count."""
    row = await conn.fetchrow(_MARKET_SELECT + " WHERE m.id = $1", market_id)
    return schemas.Market(**dict(row)) if row else None


async def list_markets(conn: asyncpg.Connection, ids: list[int] | None = None) -> list[schemas.Market]:
    """Markets (all, or those with the given ids) by name."""
    if ids is None:
        rows = await conn.fetch(_MARKET_SELECT + " ORDER BY m.name, m.id")
    else:
        rows = await conn.fetch(_MARKET_SELECT + " WHERE m.id = any($1) ORDER BY m.name, m.id", ids)
    return [schemas.Market(**dict(r)) for r in rows]


async def market_exists(conn: asyncpg.Connection, market_id: int) -> bool:
    """Whether a market exists."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM market WHERE id = $1)", market_id))


async def count_markets(conn: asyncpg.Connection) -> int:
    """How many markets exist."""
    return int(await conn.fetchval("SELECT count(*) FROM market"))


# ---------------------------------------------------------------- stalls


async def insert_holder(
    conn: asyncpg.Connection,
    *,
    full_name: str,
    phone: str | None,
    cccd_hash: bytes | None,
    cccd_last4: str | None,
) -> int:
    """Create a stallholder; returns the id."""
    return int(
        await conn.fetchval(
            "INSERT INTO stallholder (full_name, phone_e164, cccd_hash, cccd_last4) "
            "VALUES ($1, $2, $3, $4) RETURNING id",
            full_name,
            phone,
            cccd_hash,
            cccd_last4,
        )
    )


async def insert_stall(
    conn: asyncpg.Connection,
    *,
    market_id: int,
    stall_code: str,
    code_key: str,
    code_sort: str,
    zone: str | None,
    goods: str | None,
    holder_id: int,
    location: schemas.Location | None,
    search_text: str,
    created_by: int,
) -> int:
    """Create a stall; raises UniqueViolationError (stall_market_id_code_key) on a taken code."""
    return int(
        await conn.fetchval(
            """INSERT INTO stall (market_id, stall_code, code_key, code_sort, zone, goods, holder_id,
                                  lat, lon, accuracy_m, search_text, created_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id""",
            market_id,
            stall_code,
            code_key,
            code_sort,
            zone,
            goods,
            holder_id,
            location.lat if location else None,
            location.lon if location else None,
            location.accuracy_m if location else None,
            search_text,
            created_by,
        )
    )


async def insert_account(
    conn: asyncpg.Connection,
    *,
    stall_id: int,
    account: schemas.PaymentAccountIn,
    created_by: int,
) -> int:
    """Add a payment account to a stall (position = next); raises on a duplicate account."""
    return int(
        await conn.fetchval(
            """INSERT INTO payment_account (stall_id, bin, account_number, account_name, service,
                                            partner_code, position, created_by, reference)
               VALUES ($1, $2, $3, $4, $5, $6,
                       (SELECT coalesce(max(position) + 1, 0) FROM payment_account WHERE stall_id = $1),
                       $7, $8)
               RETURNING id""",
            stall_id,
            account.bin,
            account.account_number,
            account.account_name,
            account.service,
            account.partner_code,
            created_by,
            account.reference,
        )
    )


async def insert_consents(
    conn: asyncpg.Connection,
    *,
    holder_id: int,
    purposes: list[str],
    notice_version: str,
    collected_by: int,
) -> None:
    """Record consent, one row per purpose."""
    await conn.executemany(
        "INSERT INTO consent (stallholder_id, purpose, notice_version, collected_by) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (stallholder_id, purpose) WHERE withdrawn_at IS NULL DO NOTHING",
        [(holder_id, p, notice_version, collected_by) for p in purposes],
    )


async def stall_with_phone(conn: asyncpg.Connection, market_id: int, phone: str) -> int | None:
    """An active stall of this market whose holder has this phone."""
    value = await conn.fetchval(
        """SELECT s.id FROM stall s JOIN stallholder h ON h.id = s.holder_id
           WHERE s.market_id = $1 AND h.phone_e164 = $2 AND s.status = 'active'
           ORDER BY s.id LIMIT 1""",
        market_id,
        phone,
    )
    return int(value) if value is not None else None


async def stall_id_by_code(conn: asyncpg.Connection, market_id: int, code_key: str) -> int | None:
    """The stall with this code in this market."""
    value = await conn.fetchval(
        "SELECT id FROM stall WHERE market_id = $1 AND code_key = $2", market_id, code_key
    )
    return int(value) if value is not None else None


_STALL_SELECT = """
SELECT s.id, s.market_id, s.stall_code, s.zone, s.goods, s.status, s.version, s.lat, s.lon,
       s.accuracy_m, s.created_at, s.updated_at, s.holder_id,
       h.full_name, h.phone_e164, h.cccd_last4, h.erased_at
FROM stall s LEFT JOIN stallholder h ON h.id = s.holder_id
"""


async def get_stall(conn: asyncpg.Connection, stall_id: int, *, for_update: bool = False) -> schemas.Stall | None:
    """A stall with its holder and payment accounts."""
    row = await conn.fetchrow(
        _STALL_SELECT + " WHERE s.id = $1" + (" FOR UPDATE OF s" if for_update else ""), stall_id
    )
    if row is None:
        return None
    accounts = await conn.fetch(
        """SELECT id, bin, account_number, account_name, partner_code, service, active, reference,
                  name_check, bank_account_name
           FROM payment_account WHERE stall_id = $1 ORDER BY position, id""",
        stall_id,
    )
    return _stall(row, accounts)


def _bank_short(bin_: str) -> str | None:
    bank = banks.get(bin_)
    return bank.short_name if bank else None


def _stall(row: asyncpg.Record, accounts: list[asyncpg.Record]) -> schemas.Stall:
    location = (
        schemas.Location(lat=row["lat"], lon=row["lon"], accuracy_m=row["accuracy_m"])
        if row["lat"] is not None and row["lon"] is not None
        else None
    )
    return schemas.Stall(
        id=row["id"],
        market_id=row["market_id"],
        stall_code=row["stall_code"],
        zone=row["zone"],
        goods=row["goods"],
        status=row["status"],
        version=row["version"],
        holder=schemas.Holder(
            id=row["holder_id"],
            full_name=row["full_name"],
            phone=row["phone_e164"],
            cccd_last4=row["cccd_last4"],
            erased=row["erased_at"] is not None,
        ),
        payment_accounts=[
            schemas.PaymentAccount(bank_short_name=_bank_short(a["bin"]), **dict(a)) for a in accounts
        ],
        location=location,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


@dataclass(frozen=True)
class StallListRow:
    id: int
    market_id: int
    stall_code: str
    code_sort: str
    zone: str | None
    goods: str | None
    status: str
    version: int
    full_name: str | None
    phone_e164: str | None
    bins: list[str]


async def list_stalls(
    conn: asyncpg.Connection,
    *,
    market_id: int,
    query: str | None,
    after: tuple[str, int] | None,
    limit: int,
) -> list[StallListRow]:
    """A page of a market's stalls in natural stall-code order, optionally filtered by a folded query."""
    rows = await conn.fetch(
        """SELECT s.id, s.market_id, s.stall_code, s.code_sort, s.zone, s.goods, s.status, s.version,
                  h.full_name, h.phone_e164,
                  coalesce((SELECT array_agg(a.bin ORDER BY a.position, a.id) FROM payment_account a
                            WHERE a.stall_id = s.id AND a.active), '{}') AS bins
           FROM stall s LEFT JOIN stallholder h ON h.id = s.holder_id
           WHERE s.market_id = $1
             AND ($2::text IS NULL OR s.search_text LIKE '%' || $2 || '%')
             AND ($3::text IS NULL OR (s.code_sort, s.id) > ($3, $4::bigint))
           ORDER BY s.code_sort, s.id
           LIMIT $5""",
        market_id,
        query,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [StallListRow(**dict(r)) for r in rows]


async def update_stall(
    conn: asyncpg.Connection,
    *,
    stall_id: int,
    stall_code: str,
    code_key: str,
    code_sort: str,
    zone: str | None,
    goods: str | None,
    status: str,
    location: schemas.Location | None,
    search_text: str,
) -> None:
    """Write a stall's editable fields and bump its version."""
    await conn.execute(
        """UPDATE stall SET stall_code = $2, code_key = $3, code_sort = $4, zone = $5, goods = $6,
                  status = $7, lat = $8, lon = $9, accuracy_m = $10, search_text = $11,
                  version = version + 1, updated_at = clock_timestamp()
           WHERE id = $1""",
        stall_id,
        stall_code,
        code_key,
        code_sort,
        zone,
        goods,
        status,
        location.lat if location else None,
        location.lon if location else None,
        location.accuracy_m if location else None,
        search_text,
    )


async def bump_stall_version(conn: asyncpg.Connection, stall_id: int) -> None:
    """Mark a stall changed (a child row was added)."""
    await conn.execute(
        "UPDATE stall SET version = version + 1, updated_at = clock_timestamp() WHERE id = $1", stall_id
    )


async def update_holder(
    conn: asyncpg.Connection, *, holder_id: int, full_name: str | None, phone: str | None
) -> None:
    """Write a stallholder's name and phone."""
    await conn.execute(
        "UPDATE stallholder SET full_name = $2, phone_e164 = $3, updated_at = clock_timestamp() WHERE id = $1",
        holder_id,
        full_name,
        phone,
    )


async def table_counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Row counts of the registry tables (tests use them to prove nothing changed)."""
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM market) AS market, (SELECT count(*) FROM stall) AS stall,
                  (SELECT count(*) FROM stallholder) AS stallholder,
                  (SELECT count(*) FROM payment_account) AS payment_account,
                  (SELECT count(*) FROM consent) AS consent,
                  (SELECT count(*) FROM idempotency_key) AS idempotency_key"""
    )
    return dict(row)


async def stall_updated_at(conn: asyncpg.Connection, stall_id: int) -> datetime | None:
    """When a stall last changed."""
    return await conn.fetchval("SELECT updated_at FROM stall WHERE id = $1", stall_id)


async def stall_market_id(conn: asyncpg.Connection, stall_id: int) -> int | None:
    """The market of a stall."""
    value = await conn.fetchval("SELECT market_id FROM stall WHERE id = $1", stall_id)
    return int(value) if value is not None else None
