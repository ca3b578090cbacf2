"""SQL of the sign printer: what to print for a market, and the record of prints."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from core.crypto import open_account, seal_text


@dataclass(frozen=True)
class SignRow:
    stall_id: int
    stall_code: str
    zone: str | None
    goods: str | None
    holder_id: int | None
    holder_name: str | None
    market_name: str
    account_id: int
    bin: str
    account_number: str
    account_name: str | None
    service: str
    reference: str | None


async def market_sign_rows(
    conn: asyncpg.Connection, *, market_id: int, zone: str | None, only_unprinted: bool
) -> list[SignRow]:
    """The first active account of every active stall of a market, in natural stall-code order."""
    rows = await conn.fetch(
        """SELECT s.id AS stall_id, s.stall_code, s.zone, s.goods, s.holder_id, h.full_name AS holder_name,
                  m.name AS market_name, a.id AS account_id, a.bin, a.account_number, a.account_name, a.service,
                  a.reference
           FROM stall s
           JOIN market m ON m.id = s.market_id
           LEFT JOIN stallholder h ON h.id = s.holder_id
           JOIN LATERAL (SELECT * FROM payment_account pa WHERE pa.stall_id = s.id AND pa.active
                         ORDER BY pa.position, pa.id LIMIT 1) a ON true
           WHERE s.market_id = $1 AND s.status = 'active'
             AND ($2::text IS NULL OR upper(s.zone) = upper($2))
             AND (NOT $3 OR NOT EXISTS (SELECT 1 FROM sign_print p WHERE p.stall_id = s.id))
             AND NOT EXISTS (SELECT 1 FROM consent c WHERE c.stallholder_id = s.holder_id
                             AND c.purpose = 'qr_sign' AND c.withdrawn_at IS NOT NULL
                             AND NOT EXISTS (SELECT 1 FROM consent c2 WHERE c2.stallholder_id = s.holder_id
                                             AND c2.purpose = 'qr_sign' AND c2.withdrawn_at IS NULL))
           ORDER BY s.code_sort, s.id""",
        market_id,
        zone,
        only_unprinted,
    )
    return [
        SignRow(**(dict(r) | {"account_number": open_account(r["account_number"])})) for r in rows
    ]


async def record_prints(
    conn: asyncpg.Connection, *, prints: list[tuple[int, int, str]], fmt: str, user_id: int | None
) -> None:
    """Record (stall_id, account_id, payload) prints; the payload (it holds the number) sealed."""
    await conn.executemany(
        "INSERT INTO sign_print (stall_id, payment_account_id, payload, format, printed_by) VALUES ($1, $2, $3, $4, $5)",
        [(s, a, seal_text(p), fmt, user_id) for s, a, p in prints],
    )


async def market_name(conn: asyncpg.Connection, market_id: int) -> str | None:
    """A market's name."""
    return await conn.fetchval("SELECT name FROM market WHERE id = $1", market_id)
