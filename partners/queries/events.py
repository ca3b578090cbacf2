"""Partner messages (events, notifications) stored once, and the payments they report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from core.crypto import keys_of
from partners import schemas
from partners.queries.accounts import _opened


@dataclass(frozen=True)
class StoredEvent:
    id: int
    fingerprint: bytes
    result: str | None


async def claim_event(
    conn: asyncpg.Connection,
    *,
    partner_code: str,
    external_id: str,
    type: str,
    payload: dict[str, Any],
    fingerprint: bytes,
    body_sha256: bytes,
) -> int | None:
    """Record a partner message; None when (partner, id) was already received.

    A concurrent claim of the same id waits on the unique index until the first transaction ends.
    """
    value = await conn.fetchval(
        """INSERT INTO partner_event (partner_code, external_id, type, payload, fingerprint,
                                      body_sha256)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT ON CONSTRAINT partner_event_partner_external_key DO NOTHING
           RETURNING id""",
        partner_code,
        external_id,
        type,
        keys_of(conn).seal_numbers_in(payload),
        fingerprint,
        body_sha256,
    )
    return int(value) if value is not None else None


async def stored_event(
    conn: asyncpg.Connection, *, partner_code: str, external_id: str
) -> StoredEvent | None:
    """The earlier message with this (partner, id)."""
    row = await conn.fetchrow(
        "SELECT id, fingerprint, result FROM partner_event "
        "WHERE partner_code = $1 AND external_id = $2",
        partner_code,
        external_id,
    )
    return StoredEvent(**dict(row)) if row else None


async def finish_event(
    conn: asyncpg.Connection, *, event_id: int, result: str, payment_account_id: int | None
) -> None:
    """Mark a message processed with its outcome."""
    await conn.execute(
        "UPDATE partner_event SET processed_at = clock_timestamp(), result = $2, "
        "payment_account_id = $3 "
        "WHERE id = $1",
        event_id,
        result,
        payment_account_id,
    )


async def insert_payment(
    conn: asyncpg.Connection,
    *,
    partner_code: str,
    external_id: str,
    payment_account_id: int | None,
    stall_id: int | None,
    amount: int,
    occurred_at: datetime,
    account_number: str | None,
    reference: str | None,
) -> int | None:
    """Record money received (matched when the stall is known); None if already recorded."""
    value = await conn.fetchval(
        """INSERT INTO payment_event (partner_code, external_id, payment_account_id, stall_id,
                                      amount,
                                      occurred_at, matched, account_number, reference)
           VALUES ($1, $2, $3, $4, $5, $6, $4::bigint IS NOT NULL, $7, $8)
           ON CONFLICT ON CONSTRAINT payment_event_partner_external_key DO NOTHING
           RETURNING id""",
        partner_code,
        external_id,
        payment_account_id,
        stall_id,
        amount,
        occurred_at,
        keys_of(conn).seal_or_none(account_number),
        reference,
    )
    return int(value) if value is not None else None


@dataclass(frozen=True)
class PaymentRow:
    id: int
    partner_code: str
    external_id: str
    payment_account_id: int | None
    stall_id: int | None
    amount: int
    occurred_at: datetime
    matched: bool


async def payment_by_key(
    conn: asyncpg.Connection, *, partner_code: str, external_id: str
) -> PaymentRow | None:
    """The recorded payment with this partner transaction id."""
    row = await conn.fetchrow(
        """SELECT id, partner_code, external_id, payment_account_id, stall_id, amount, occurred_at,
                  matched
           FROM payment_event WHERE partner_code = $1 AND external_id = $2""",
        partner_code,
        external_id,
    )
    return PaymentRow(**dict(row)) if row else None


async def unmatched_payments(
    conn: asyncpg.Connection, *, partner_code: str, after_id: int | None, limit: int
) -> list[schemas.UnmatchedPayment]:
    """Verified payments no stall was found for, oldest first."""
    rows = await conn.fetch(
        """SELECT id, external_id, amount, occurred_at, received_at, account_number, reference
           FROM payment_event
           WHERE partner_code = $1 AND NOT matched AND ($2::bigint IS NULL OR id > $2)
           ORDER BY id LIMIT $3""",
        partner_code,
        after_id,
        limit,
    )
    return [schemas.UnmatchedPayment(**_opened(r, keys_of(conn))) for r in rows]


async def recent_notifications(
    conn: asyncpg.Connection, *, partner_code: str, limit: int
) -> list[schemas.Notification]:
    """The partner's latest verified messages, newest first (no payload)."""
    rows = await conn.fetch(
        """SELECT id, external_id, type, received_at, processed_at, result,
                  payment_account_id IS NOT NULL AS matched_account
           FROM partner_event WHERE partner_code = $1
           ORDER BY received_at DESC, id DESC LIMIT $2""",
        partner_code,
        limit,
    )
    return [schemas.Notification(**dict(r)) for r in rows]


async def unprocessed_event_count(conn: asyncpg.Connection, *, limit_s: float) -> int | None:
    """Partner messages received but not processed yet (None before the partners migration)."""
    exists = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM information_schema.columns
                          WHERE table_schema = current_schema() AND table_name = 'partner_event'
                            AND column_name = 'processed_at')""",
        timeout=limit_s,
    )
    if not exists:
        return None
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM partner_event WHERE processed_at IS NULL", timeout=limit_s
        )
    )
