"""SQL of print jobs: the signs of a job in print order, and their confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from core.crypto import keys_of
from merchants.queries.signs import _SIGN_ROW, SignRow


@dataclass(frozen=True)
class PrintJobRow:
    id: int
    market_id: int
    zone: str | None
    size: str
    created_by: int | None
    created_at: datetime


@dataclass(frozen=True)
class PrintJobStallRow:
    stall_id: int
    stall_code: str
    zone: str | None
    payment_account_id: int
    confirmed_at: datetime | None


async def insert_print_job(
    conn: asyncpg.Connection,
    *,
    market_id: int,
    zone: str | None,
    size: str,
    user_id: int,
    signs: list[tuple[int, int, str]],
) -> int:
    """A print job with its (stall_id, account_id, payload) signs in print order; its id."""
    job_id = int(
        await conn.fetchval(
            """INSERT INTO print_job (market_id, zone, size, created_by) VALUES ($1, $2, $3, $4)
               RETURNING id""",
            market_id,
            zone,
            size,
            user_id,
        )
    )
    await conn.executemany(
        """INSERT INTO print_job_stall (job_id, stall_id, payment_account_id, position, payload)
           VALUES ($1, $2, $3, $4, $5)""",
        [(job_id, s, a, n, keys_of(conn).seal(p)) for n, (s, a, p) in enumerate(signs)],
    )
    return job_id


async def print_job(conn: asyncpg.Connection, job_id: int) -> PrintJobRow | None:
    """A print job."""
    row = await conn.fetchrow(
        "SELECT id, market_id, zone, size, created_by, created_at FROM print_job WHERE id = $1",
        job_id,
    )
    return PrintJobRow(**dict(row)) if row else None


async def print_job_stalls(conn: asyncpg.Connection, job_id: int) -> list[PrintJobStallRow]:
    """The signs of a print job in print order."""
    rows = await conn.fetch(
        """SELECT j.stall_id, s.stall_code, s.zone, j.payment_account_id, j.confirmed_at
           FROM print_job_stall j JOIN stall s ON s.id = j.stall_id
           WHERE j.job_id = $1 ORDER BY j.position""",
        job_id,
    )
    return [PrintJobStallRow(**dict(r)) for r in rows]


async def print_job_sign_rows(conn: asyncpg.Connection, job_id: int) -> list[tuple[str, SignRow]]:
    """(payload frozen in the job, sign data) of every sign of a job, in print order."""
    rows = await conn.fetch(
        "SELECT j.payload AS job_payload, "
        + _SIGN_ROW.strip().removeprefix("SELECT ")
        + """
           JOIN print_job_stall j ON j.stall_id = s.id
           JOIN payment_account a ON a.id = j.payment_account_id
           WHERE j.job_id = $1 ORDER BY j.position""",
        job_id,
    )
    keys = keys_of(conn)
    return [
        (
            keys.open(r["job_payload"]),
            SignRow(
                **(
                    {k: v for k, v in dict(r).items() if k != "job_payload"}
                    | {"account_number": keys.open(r["account_number"])}
                )
            ),
        )
        for r in rows
    ]


async def confirm_job_stalls(
    conn: asyncpg.Connection, *, job_id: int, stall_ids: list[int] | None, user_id: int
) -> list[tuple[int, int, str]]:
    """Mark signs of a job printed (all, or these stalls) unless already; (stall_id, account_id,
    payload) of those newly confirmed, in print order."""
    rows = await conn.fetch(
        """UPDATE print_job_stall SET confirmed_at = clock_timestamp(), confirmed_by = $3
           WHERE job_id = $1 AND confirmed_at IS NULL
             AND ($2::bigint[] IS NULL OR stall_id = any($2::bigint[]))
           RETURNING position, stall_id, payment_account_id, payload""",
        job_id,
        stall_ids,
        user_id,
    )
    keys = keys_of(conn)
    return [(r[1], r[2], keys.open(r[3])) for r in sorted(rows, key=lambda r: r[0])]
