"""SQL of signs: the rows a market's signs are printed from, and confirmed prints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from core.crypto import keys_of
from coverage import stalls as coverage_stalls
from partners import registry
from privacy import consent


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
    partner_code: str | None


_SIGN_ROW = """
SELECT s.id AS stall_id, s.stall_code, s.zone, s.goods, s.holder_id, h.full_name AS holder_name,
       m.name AS market_name, a.id AS account_id, a.bin, a.account_number, a.account_name,
       a.service, a.reference, a.partner_code
FROM stall s
JOIN market m ON m.id = s.market_id
LEFT JOIN stallholder h ON h.id = s.holder_id
"""


async def market_sign_rows(
    conn: asyncpg.Connection, *, market_id: int, zone: str | None, only_unprinted: bool
) -> list[SignRow]:
    """The first active account of every active stall of a market whose holder consents to a sign
    (one its bank or wallet has not stopped first, as the stall's own sign does), in natural
    stall-code order; only_unprinted: stalls without a sign (none confirmed printed or
    delivered) or whose sign must be reprinted."""
    rows = await conn.fetch(
        _SIGN_ROW
        + """JOIN LATERAL (SELECT * FROM payment_account pa WHERE pa.stall_id = s.id AND pa.active
                         ORDER BY """
        + registry.stopped_sql("pa")
        + """, pa.position, pa.id LIMIT 1) a ON true
           WHERE s.market_id = $1 AND s.status = 'active'
             AND ($2::text IS NULL OR upper(s.zone) = upper($2))
             AND (NOT $3 OR """
        + coverage_stalls.needs_sign_sql("s.id")
        + """)
             AND """
        + consent.consented_sql("s.holder_id", "'qr_sign'")
        + " ORDER BY s.code_sort, s.id",
        market_id,
        zone,
        only_unprinted,
    )
    return [
        SignRow(**(dict(r) | {"account_number": keys_of(conn).open(r["account_number"])}))
        for r in rows
    ]


async def record_prints(
    conn: asyncpg.Connection,
    *,
    prints: list[tuple[int, int, str]],
    fmt: str,
    user_id: int | None,
    job_id: int | None = None,
) -> None:
    """Record confirmed (stall_id, account_id, payload) prints; payloads (they hold the number)
    sealed."""
    await conn.executemany(
        """INSERT INTO sign_print (stall_id, payment_account_id, payload, format, printed_by, job_id)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        [(s, a, keys_of(conn).seal(p), fmt, user_id, job_id) for s, a, p in prints],
    )


async def latest_prints(conn: asyncpg.Connection, stall_id: int) -> dict[int, tuple[str, datetime]]:
    """The payload and time of the latest confirmed print of each account of the stall ever
    printed."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (payment_account_id) payment_account_id, payload, printed_at
           FROM sign_print
           WHERE stall_id = $1 ORDER BY payment_account_id, printed_at DESC, id DESC""",
        stall_id,
    )
    return {
        r["payment_account_id"]: (keys_of(conn).open(r["payload"]), r["printed_at"]) for r in rows
    }
