"""Account-name checks: the accounts to check and their outcome."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from core.crypto import keys_of
from partners.queries.accounts import _opened


@dataclass(frozen=True)
class NameCheckTarget:
    id: int
    bin: str
    account_number: str
    account_name: str | None


async def accounts_to_check(conn: asyncpg.Connection, *, stall_id: int) -> list[NameCheckTarget]:
    """A stall's accounts whose name was never checked against the bank."""
    rows = await conn.fetch(
        """SELECT id, bin, account_number, account_name FROM payment_account
           WHERE stall_id = $1 AND name_check IS NULL ORDER BY position, id""",
        stall_id,
    )
    return [NameCheckTarget(**_opened(r, keys_of(conn))) for r in rows]


async def set_name_check(
    conn: asyncpg.Connection, *, account_id: int, check: str, bank_account_name: str | None
) -> None:
    """Store the outcome of an account-name check."""
    await conn.execute(
        "UPDATE payment_account SET name_check = $2, bank_account_name = $3, "
        "name_checked_at = clock_timestamp() "
        "WHERE id = $1",
        account_id,
        check,
        bank_account_name,
    )
