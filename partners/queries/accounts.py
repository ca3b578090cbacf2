"""Accounts and stalls as partners name them: by number, stall code, phone, market."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from core.crypto import Keys, keys_of
from partners.queries.reach import in_reach, stall_in_reach


@dataclass(frozen=True)
class Account:
    id: int
    stall_id: int
    market_id: int
    bin: str
    account_number: str
    account_name: str | None
    partner_code: str | None
    active: bool


def _opened(row: asyncpg.Record, keys: Keys) -> dict[str, Any]:
    """A row with its sealed account number opened (core/crypto.py)."""
    return dict(row) | {"account_number": keys.open_or_none(row["account_number"])}


_ACCOUNT = """
SELECT a.id, a.stall_id, s.market_id, a.bin, a.account_number, a.account_name, a.partner_code,
       a.active
FROM payment_account a JOIN stall s ON s.id = a.stall_id
"""


async def get_account(conn: asyncpg.Connection, account_id: int) -> Account | None:
    """One payment account with its stall's market."""
    row = await conn.fetchrow(_ACCOUNT + " WHERE a.id = $1", account_id)
    return Account(**_opened(row, keys_of(conn))) if row else None


async def accounts_by_number(
    conn: asyncpg.Connection,
    *,
    account_number: str,
    bin: str | None = None,
    stall_id: int | None = None,
    within_reach_of: str | None = None,
) -> list[Account]:
    """Active accounts with this number (optionally this BIN and stall, within a partner's reach)."""
    rows = await conn.fetch(
        _ACCOUNT
        + """ WHERE a.account_number = $1 AND a.active
              AND ($2::text IS NULL OR a.bin = $2) AND ($3::bigint IS NULL OR a.stall_id = $3)
              AND ($4::text IS NULL OR """
        + in_reach("a", "$4")
        + """)
            ORDER BY a.id""",
        keys_of(conn).seal(account_number),
        bin,
        stall_id,
        within_reach_of,
    )
    return [Account(**_opened(r, keys_of(conn))) for r in rows]


async def accounts_by_numbers(
    conn: asyncpg.Connection, numbers: list[str], *, within_reach_of: str
) -> list[Account]:
    """Active accounts with any of these numbers, within the partner's reach."""
    rows = await conn.fetch(
        _ACCOUNT
        + " WHERE a.account_number = any($1::text[]) AND a.active AND "
        + in_reach("a", "$2")
        + " ORDER BY a.id",
        keys_of(conn).seal_all(numbers),
        within_reach_of,
    )
    return [Account(**_opened(r, keys_of(conn))) for r in rows]


async def account_in_reach(
    conn: asyncpg.Connection, *, account_id: int, stall_id: int, partner_code: str
) -> Account | None:
    """The stall's account with this id, if within the partner's reach (active or not)."""
    row = await conn.fetchrow(
        _ACCOUNT + " WHERE a.id = $1 AND a.stall_id = $2 AND " + in_reach("a", "$3"),
        account_id,
        stall_id,
        partner_code,
    )
    return Account(**_opened(row, keys_of(conn))) if row else None


async def stall_market_in_reach(
    conn: asyncpg.Connection, *, stall_id: int, partner_code: str
) -> int | None:
    """The market of a stall that shows an account within the partner's reach (active or not)."""
    value = await conn.fetchval(
        "SELECT s.market_id FROM stall s WHERE s.id = $1 AND EXISTS ("
        "SELECT 1 FROM payment_account a WHERE a.stall_id = s.id AND " + in_reach("a", "$2") + ")",
        stall_id,
        partner_code,
    )
    return int(value) if value is not None else None


@dataclass(frozen=True)
class Candidate:
    """A stall's account ranked for a partner.

    0 onboarded by it, 1 tagged with its code, 2 at one of its BINs, 3 anything else.
    """

    account_id: int
    stall_id: int
    rank: int


async def stall_candidates(
    conn: asyncpg.Connection, *, stall_ids: list[int], partner_code: str, within_reach: bool
) -> list[Candidate]:
    """Active accounts of these stalls (only those within the partner's reach when asked), ranked
    by how surely they belong to the partner."""
    rows = await conn.fetch(
        """SELECT a.id AS account_id, a.stall_id,
                  CASE WHEN EXISTS (SELECT 1 FROM onboarding o
                                    WHERE o.payment_account_id = a.id AND o.partner_code = $2)
                       THEN 0
                       WHEN a.partner_code = $2 THEN 1
                       WHEN a.bin = any(coalesce((SELECT bins FROM partner WHERE code = $2), '{}'))
                       THEN 2
                       ELSE 3 END AS rank
           FROM payment_account a
           WHERE a.stall_id = any($1::bigint[]) AND a.active
             AND (NOT $3 OR """
        + in_reach("a", "$2")
        + """)
           ORDER BY a.stall_id, a.position, a.id""",
        stall_ids,
        partner_code,
        within_reach,
    )
    return [Candidate(**dict(r)) for r in rows]


async def stall_market_id(conn: asyncpg.Connection, stall_id: int) -> int | None:
    """The market of a stall, or None."""
    value = await conn.fetchval("SELECT market_id FROM stall WHERE id = $1", stall_id)
    return int(value) if value is not None else None


@dataclass(frozen=True)
class MarketName:
    id: int
    name: str


async def all_markets(conn: asyncpg.Connection) -> list[MarketName]:
    """Every market's id and name."""
    rows = await conn.fetch("SELECT id, name FROM market ORDER BY id")
    return [MarketName(**dict(r)) for r in rows]


@dataclass(frozen=True)
class StallRef:
    id: int
    market_id: int
    code_key: str
    phone_e164: str | None


async def stalls_by_codes(
    conn: asyncpg.Connection, pairs: list[tuple[int, str]], *, within_reach_of: str
) -> list[StallRef]:
    """Stalls for (market id, code key) pairs that show an active account within the partner's
    reach."""
    if not pairs:
        return []
    rows = await conn.fetch(
        """SELECT s.id, s.market_id, s.code_key, h.phone_e164
           FROM unnest($1::bigint[], $2::text[]) AS p(market_id, code_key)
           JOIN stall s ON s.market_id = p.market_id AND s.code_key = p.code_key
           LEFT JOIN stallholder h ON h.id = s.holder_id
           WHERE """
        + stall_in_reach("s.id", "$3"),
        [p[0] for p in pairs],
        [p[1] for p in pairs],
        within_reach_of,
    )
    return [StallRef(**dict(r)) for r in rows]


async def stalls_by_phones(
    conn: asyncpg.Connection, phones: list[str], *, within_reach_of: str
) -> list[StallRef]:
    """Active stalls whose holder has one of these phone numbers and that show an active account
    within the partner's reach."""
    rows = await conn.fetch(
        """SELECT s.id, s.market_id, s.code_key, h.phone_e164
           FROM stall s JOIN stallholder h ON h.id = s.holder_id
           WHERE h.phone_e164 = any($1::text[]) AND s.status = 'active' AND """
        + stall_in_reach("s.id", "$2")
        + """
           ORDER BY s.id""",
        phones,
        within_reach_of,
    )
    return [StallRef(**dict(r)) for r in rows]
