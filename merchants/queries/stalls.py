"""SQL of stalls and their holders: reads, the market's stall list and search, edits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from core.crypto import Keys, keys_of
from merchants import schemas
from merchants.queries import visits as visits_q
from qr import banks


async def stall_id_by_code(conn: asyncpg.Connection, market_id: int, code_key: str) -> int | None:
    """The stall with this code in this market."""
    value = await conn.fetchval(
        "SELECT id FROM stall WHERE market_id = $1 AND code_key = $2", market_id, code_key
    )
    return int(value) if value is not None else None


_STALL_SELECT = """
SELECT s.id, s.market_id, s.stall_code, s.zone, s.goods, s.status, s.version, s.lat, s.lon,
       s.accuracy_m, s.confirm_by, s.also_accepts, s.licence_no, s.created_at, s.updated_at, s.holder_id,
       h.full_name, h.phone_e164, h.cccd_last4, h.erased_at,
       s.import_id, (SELECT i.list_date FROM stall_import i WHERE i.id = s.import_id)
           AS import_list_date
FROM stall s LEFT JOIN stallholder h ON h.id = s.holder_id
"""


async def get_stall(
    conn: asyncpg.Connection, stall_id: int, *, for_update: bool = False
) -> schemas.Stall | None:
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
    return _stall(row, accounts, keys_of(conn))


def _bank_short(bin_: str) -> str | None:
    bank = banks.get(bin_)
    return bank.short_name if bank else None


def _stall(row: asyncpg.Record, accounts: Sequence[Mapping[str, Any]], keys: Keys) -> schemas.Stall:
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
            schemas.PaymentAccount(
                bank_short_name=_bank_short(a["bin"]),
                **(dict(a) | {"account_number": keys.open(a["account_number"])}),
            )
            for a in accounts
        ],
        location=location,
        # A registration's own row has no such column: a new stall was not asked yet.
        confirm_by=row.get("confirm_by"),
        also_accepts=row.get("also_accepts"),
        licence_no=row.get("licence_no"),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        source=_source(row),
    )


def _source(row: asyncpg.Record) -> schemas.StallSource:
    """Registered on a tablet, or created by an import (rows that do not say: registered)."""
    import_id = row.get("import_id")
    if import_id is None:
        return schemas.StallSource(kind="registration")
    return schemas.StallSource(
        kind="import", import_id=import_id, list_date=row.get("import_list_date")
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
    holder_id: int | None
    erased: bool
    full_name: str | None
    phone_e164: str | None
    bins: list[str]
    visit_outcome: str | None
    visited_at: datetime | None
    come_back_on: date | None
    come_back_for: str | None = None  # the outcome of the visit that agreed that day


async def list_stalls(
    conn: asyncpg.Connection,
    *,
    market_id: int,
    typed: str | None,
    compacted: str | None,
    after: tuple[str, int] | None,
    limit: int,
) -> list[StallListRow]:
    """A page of a market's stalls in natural stall-code order; with LIKE patterns, those whose
    search text matches either (core.text.search_keys)."""
    rows = await conn.fetch(
        """SELECT s.id, s.market_id, s.stall_code, s.code_sort, s.zone, s.goods, s.status, s.version,
                  s.holder_id, h.erased_at IS NOT NULL AS erased, h.full_name, h.phone_e164,
                  coalesce((SELECT array_agg(a.bin ORDER BY a.position, a.id) FROM payment_account a
                            WHERE a.stall_id = s.id AND a.active), '{}') AS bins,
                  v.outcome AS visit_outcome, v.visited_at, ag.come_back_on,
                  ag.outcome AS come_back_for
           FROM stall s LEFT JOIN stallholder h ON h.id = s.holder_id
           LEFT JOIN LATERAL (SELECT outcome, visited_at FROM stall_visit
                              WHERE stall_id = s.id ORDER BY visited_at DESC, id DESC LIMIT 1) v
                  ON true
           LEFT JOIN LATERAL """
        + visits_q.agreed_visit_sql("s.id")
        + """ ag ON true
           WHERE s.market_id = $1
             AND ($2::text IS NULL OR s.search_text LIKE $2 OR s.search_text LIKE $3::text)
             AND ($4::text IS NULL OR (s.code_sort, s.id) > ($4, $5::bigint))
           ORDER BY s.code_sort, s.id
           LIMIT $6""",
        market_id,
        typed,
        compacted,
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
    confirm_by: Sequence[str] | None,
    also_accepts: Sequence[str] | None,
    licence_no: str | None,
) -> None:
    """Write a stall's editable fields and bump its version."""
    await conn.execute(
        """UPDATE stall SET stall_code = $2, code_key = $3, code_sort = $4, zone = $5, goods = $6,
                  status = $7, lat = $8, lon = $9, accuracy_m = $10, search_text = $11,
                  confirm_by = $12, also_accepts = $13, licence_no = $14, version = version + 1,
                  updated_at = clock_timestamp()
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
        confirm_by,
        also_accepts,
        licence_no,
    )


async def bump_stall_version(conn: asyncpg.Connection, stall_id: int) -> None:
    """Mark a stall changed (a child row was added)."""
    await conn.execute(
        "UPDATE stall SET version = version + 1, updated_at = clock_timestamp() WHERE id = $1",
        stall_id,
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
