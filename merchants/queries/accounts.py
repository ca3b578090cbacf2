"""SQL of a stall's payment accounts: add, correct, deactivate, reactivate (numbers sealed)."""

from __future__ import annotations

import asyncpg

from core.crypto import keys_of
from merchants import schemas


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
            keys_of(conn).seal(account.account_number),
            account.account_name,
            account.service,
            account.partner_code,
            created_by,
            account.reference,
        )
    )


async def correct_account(
    conn: asyncpg.Connection, *, account_id: int, account: schemas.PaymentAccountIn
) -> None:
    """Write a corrected account (number sealed); its earlier name check no longer holds."""
    await conn.execute(
        """UPDATE payment_account SET bin = $2, account_number = $3, account_name = $4,
                  reference = $5, name_check = NULL, name_checked_at = NULL,
                  bank_account_name = NULL
           WHERE id = $1""",
        account_id,
        account.bin,
        keys_of(conn).seal(account.account_number),
        account.account_name,
        account.reference,
    )


async def set_account_active(conn: asyncpg.Connection, *, account_id: int, active: bool) -> None:
    """Stop showing an account on the stall (the row stays), or show a stopped one again."""
    await conn.execute("UPDATE payment_account SET active = $2 WHERE id = $1", account_id, active)


async def stall_paid_on(
    conn: asyncpg.Connection, *, market_id: int, bin: str, account_number: str, besides: int
) -> int | None:
    """Another active stall of the market with this account in use (the smallest id), if any:
    the registration's shared-account check (queries.registration), for an added or corrected
    account of stall `besides`."""
    found = await conn.fetchval(
        """SELECT min(s.id) FROM payment_account p JOIN stall s ON s.id = p.stall_id
           WHERE p.bin = $2 AND p.account_number = $3 AND p.active
             AND s.market_id = $1 AND s.status = 'active' AND s.id <> $4""",
        market_id,
        bin,
        keys_of(conn).seal(account_number),
        besides,
    )
    return None if found is None else int(found)
