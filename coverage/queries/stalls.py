"""SQL of one stall's coverage: its facts (sign, verification, payments, fees, revisit,
reprint), what the counters hold for it, and the transacting window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from core.crypto import keys_of


def needs_sign(stall: str) -> str:
    """SQL condition on a stall id expression: the stall has no sign yet (none issued or
    delivered: a confirmed print issues one) or its sign shows an account corrected or deactivated
    since (sign_reprint_needed). The same stalls the dashboard counts as without a sign, plus
    those to reprint: what "print the missing signs" prints."""
    return f"""NOT EXISTS (SELECT 1 FROM stall_coverage c WHERE c.stall_id = {stall}
                AND (c.sign_issued_at IS NOT NULL OR c.sign_delivered_at IS NOT NULL)
                AND NOT c.sign_reprint_needed)"""


def settled(stall: str) -> str:
    """SQL condition on a stall id expression: nothing is left to do at the stall, by the rule of
    the worklist's "Cần làm" (web/static/js/views/worklist.js categories): it has an account in
    use, its level is qr_verified or transacting (a stall receiving payments is past the sign),
    and it needs no return visit and no reprint."""
    return f"""(EXISTS (SELECT 1 FROM stall_coverage c WHERE c.stall_id = {stall}
                 AND (c.counted_qr_verified OR c.counted_transacting)
                 AND NOT c.needs_revisit AND NOT c.sign_reprint_needed)
             AND EXISTS (SELECT 1 FROM payment_account a WHERE a.stall_id = {stall} AND a.active))"""


@dataclass(frozen=True)
class StallState:
    """A stall's coverage facts (locked) and what the counters hold for it."""

    stall_id: int
    market_id: int
    stall_code: str
    status: str
    zone: str
    sign_issued_at: datetime | None
    sign_delivered_at: datetime | None
    verified_at: datetime | None
    verified_method: str | None
    verified_account_ok: bool
    last_payment_at: datetime | None
    fees_cashless: bool
    needs_revisit: bool
    revisit_reason: str | None
    partners: list[str]
    counted: tuple[bool, bool, bool, bool, bool]
    counted_zone: str
    counted_partners: list[str]
    now: datetime


@dataclass(frozen=True)
class Account:
    id: int
    bin: str
    account_number: str
    service: str
    active: bool


async def ensure_stall_coverage(conn: asyncpg.Connection, stall_id: int) -> bool:
    """Create the stall's coverage row if missing; False when the stall does not exist.

    Takes a key-share lock on the stall first: every coverage write locks the stall row before its
    coverage row (the foreign-key check of a later update would otherwise do it in reverse order).
    """
    return bool(
        await conn.fetchval(
            """WITH s AS (SELECT id, market_id FROM stall WHERE id = $1 FOR KEY SHARE),
                    ins AS (INSERT INTO stall_coverage (stall_id, market_id)
                            SELECT id, market_id FROM s ON CONFLICT (stall_id) DO NOTHING)
               SELECT EXISTS (SELECT 1 FROM s)""",
            stall_id,
        )
    )


async def stall_state(
    conn: asyncpg.Connection, stall_id: int, *, for_update: bool
) -> StallState | None:
    """The stall's coverage facts; for_update locks its coverage row (not the stall record)."""
    row = await conn.fetchrow(
        """SELECT s.id AS stall_id, s.market_id, s.stall_code, s.status, coalesce(s.zone,
                '') AS zone,
                  c.sign_issued_at, c.sign_delivered_at, c.verified_at, c.verified_method,
                  EXISTS (SELECT 1 FROM payment_account a
                          WHERE a.id = c.verified_account_id AND a.stall_id = s.id AND a.active)
                      AS verified_account_ok,
                  c.last_payment_at, c.fees_cashless, c.needs_revisit, c.revisit_reason,
                  coalesce((SELECT array_agg(DISTINCT a.partner_code ORDER BY a.partner_code)
                            FROM payment_account a
                            WHERE a.stall_id = s.id AND a.active AND a.partner_code IS NOT NULL),
                           '{}') AS partners,
                  c.counted_active, c.counted_qr_issued, c.counted_qr_verified,
                  c.counted_transacting, c.counted_fees_cashless, c.counted_zone,
                      c.counted_partners,
                  clock_timestamp() AS now
           FROM stall_coverage c JOIN stall s ON s.id = c.stall_id
           WHERE c.stall_id = $1"""
        + (" FOR UPDATE OF c" if for_update else ""),
        stall_id,
    )
    if row is None:
        return None
    return StallState(
        stall_id=row["stall_id"],
        market_id=row["market_id"],
        stall_code=row["stall_code"],
        status=row["status"],
        zone=row["zone"],
        sign_issued_at=row["sign_issued_at"],
        sign_delivered_at=row["sign_delivered_at"],
        verified_at=row["verified_at"],
        verified_method=row["verified_method"],
        verified_account_ok=row["verified_account_ok"],
        last_payment_at=row["last_payment_at"],
        fees_cashless=row["fees_cashless"],
        needs_revisit=row["needs_revisit"],
        revisit_reason=row["revisit_reason"],
        partners=list(row["partners"]),
        counted=(
            row["counted_active"],
            row["counted_qr_issued"],
            row["counted_qr_verified"],
            row["counted_transacting"],
            row["counted_fees_cashless"],
        ),
        counted_zone=row["counted_zone"],
        counted_partners=list(row["counted_partners"]),
        now=row["now"],
    )


async def set_counted(
    conn: asyncpg.Connection,
    *,
    stall_id: int,
    flags: tuple[bool, bool, bool, bool, bool],
    zone: str,
    partners: list[str],
) -> None:
    """Record what the counters now hold for a stall."""
    await conn.execute(
        """UPDATE stall_coverage SET counted_active = $2, counted_qr_issued = $3,
                  counted_qr_verified = $4, counted_transacting = $5, counted_fees_cashless = $6,
                  counted_zone = $7, counted_partners = $8, updated_at = clock_timestamp()
           WHERE stall_id = $1""",
        stall_id,
        *flags,
        zone,
        partners,
    )


async def set_sign_issued(conn: asyncpg.Connection, *, stall_id: int, user_id: int | None) -> None:
    """A sign was generated for the stall (the first time counts)."""
    await conn.execute(
        """UPDATE stall_coverage SET sign_issued_at = coalesce(sign_issued_at, clock_timestamp()),
                  sign_issued_by = coalesce(sign_issued_by, $2), updated_at = clock_timestamp()
           WHERE stall_id = $1""",
        stall_id,
        user_id,
    )


async def set_sign_delivered(conn: asyncpg.Connection, *, stall_id: int, user_id: int) -> bool:
    """A volunteer put the sign up at the stall; False when the sign the stall has now was
    delivered already (no print confirmed since the last delivery): that delivery stays, nothing
    changes."""
    return bool(
        await conn.fetchval(
            """UPDATE stall_coverage SET sign_delivered_at = clock_timestamp(),
                      sign_delivered_by = $2, updated_at = clock_timestamp()
               WHERE stall_id = $1
                 AND (sign_delivered_at IS NULL
                      OR EXISTS (SELECT 1 FROM sign_print p WHERE p.stall_id = $1
                                 AND p.printed_at > stall_coverage.sign_delivered_at))
               RETURNING true""",
            stall_id,
            user_id,
        )
    )


async def set_verified(
    conn: asyncpg.Connection, *, stall_id: int, account_id: int, method: str, user_id: int | None
) -> None:
    """The stall's code was verified against this account; a return visit is no longer needed."""
    await conn.execute(
        """UPDATE stall_coverage SET verified_at = clock_timestamp(), verified_account_id = $2,
                  verified_method = $3, verified_by = $4, needs_revisit = false,
                      revisit_reason = NULL,
                  revisit_flagged_at = NULL, updated_at = clock_timestamp()
           WHERE stall_id = $1""",
        stall_id,
        account_id,
        method,
        user_id,
    )


async def active_account_stall(conn: asyncpg.Connection, account_id: int) -> int | None:
    """The stall of an active payment account (None: no such account, or not in use)."""
    return await conn.fetchval(
        "SELECT stall_id FROM payment_account WHERE id = $1 AND active", account_id
    )


async def flag_revisit_unless_flagged(
    conn: asyncpg.Connection, *, stall_id: int, reason: str
) -> bool:
    """flag_revisit, unless the stall is on the list already (that reason stays); whether it was
    flagged now."""
    return bool(
        await conn.fetchval(
            """UPDATE stall_coverage SET needs_revisit = true, revisit_reason = $2,
                      revisit_flagged_at = clock_timestamp(), updated_at = clock_timestamp()
               WHERE stall_id = $1 AND NOT needs_revisit
               RETURNING true""",
            stall_id,
            reason,
        )
    )


async def clear_revisit_for(conn: asyncpg.Connection, *, stall_id: int, reason: str) -> bool:
    """Take the stall off the list of stalls to visit again when it is there for this reason;
    whether it was."""
    return bool(
        await conn.fetchval(
            """UPDATE stall_coverage SET needs_revisit = false, revisit_reason = NULL,
                      revisit_flagged_at = NULL, updated_at = clock_timestamp()
               WHERE stall_id = $1 AND needs_revisit AND revisit_reason = $2
               RETURNING true""",
            stall_id,
            reason,
        )
    )


async def flag_revisit(conn: asyncpg.Connection, *, stall_id: int, reason: str) -> None:
    """Put the stall on the list of stalls to visit again."""
    await conn.execute(
        """UPDATE stall_coverage SET needs_revisit = true, revisit_reason = $2,
                  revisit_flagged_at = clock_timestamp(), updated_at = clock_timestamp()
           WHERE stall_id = $1""",
        stall_id,
        reason,
    )


async def set_fees_cashless(conn: asyncpg.Connection, *, stall_id: int, value: bool) -> None:
    """Whether the stall pays its market fees cashless."""
    await conn.execute(
        "UPDATE stall_coverage SET fees_cashless = $2, updated_at = clock_timestamp() "
        "WHERE stall_id = $1",
        stall_id,
        value,
    )


async def payment_counts(conn: asyncpg.Connection, *, stall_id: int, occurred_at: datetime) -> bool:
    """Whether a payment to the stall moves its transacting level: not when the stall's holder was
    erased and the payment was made before the erasure or the stall has no active account since
    (the old sign's reference still names the stall; the money went to the erased account)."""
    return bool(
        await conn.fetchval(
            """SELECT h.erased_at IS NULL
                      OR ($2::timestamptz > h.erased_at
                          AND EXISTS (SELECT 1 FROM payment_account a
                                      WHERE a.stall_id = s.id AND a.active))
               FROM stall s LEFT JOIN stallholder h ON h.id = s.holder_id
               WHERE s.id = $1""",
            stall_id,
            occurred_at,
        )
    )


async def bump_last_payment(
    conn: asyncpg.Connection, *, stall_id: int, occurred_at: datetime
) -> None:
    """Keep the latest payment time; a time in the future is clamped to now."""
    await conn.execute(
        """UPDATE stall_coverage
           SET last_payment_at = greatest(last_payment_at, least($2::timestamptz,
               clock_timestamp())),
               updated_at = clock_timestamp()
           WHERE stall_id = $1""",
        stall_id,
        occurred_at,
    )


async def rename_counted_zone(
    conn: asyncpg.Connection, *, market_id: int, old: list[str], new: str
) -> None:
    """What the counters hold for the market's stalls in zones `old` is now held in zone `new`."""
    await conn.execute(
        """UPDATE stall_coverage SET counted_zone = $3, updated_at = clock_timestamp()
           WHERE market_id = $1 AND counted_zone = any($2::text[])""",
        market_id,
        old,
        new,
    )


async def clear_verification(
    conn: asyncpg.Connection, *, stall_id: int, account_id: int | None = None
) -> bool:
    """The stall's verification no longer holds: whatever account it was of, or (account_id) only
    if it was of this account; whether there was one to end."""
    result = await conn.execute(
        """UPDATE stall_coverage SET verified_at = NULL, verified_account_id = NULL,
                  verified_method = NULL, verified_by = NULL, updated_at = clock_timestamp()
           WHERE stall_id = $1 AND verified_at IS NOT NULL
             AND ($2::bigint IS NULL OR verified_account_id = $2)""",
        stall_id,
        account_id,
    )
    return result != "UPDATE 0"


async def account_on_sign(conn: asyncpg.Connection, *, stall_id: int, account_id: int) -> bool:
    """Whether a sign hanging at the stall may show this (active) account: a sign was printed
    with it, or a sign was issued or delivered with no print the app recorded (printed outside
    the app) and this is the first active account, the one a sign shows."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM sign_print
                              WHERE stall_id = $1 AND payment_account_id = $2)
                   OR (EXISTS (SELECT 1 FROM stall_coverage c WHERE c.stall_id = $1
                               AND (c.sign_issued_at IS NOT NULL
                                    OR c.sign_delivered_at IS NOT NULL))
                       AND NOT EXISTS (SELECT 1 FROM sign_print WHERE stall_id = $1)
                       AND $2 = (SELECT id FROM payment_account WHERE stall_id = $1 AND active
                                 ORDER BY position, id LIMIT 1))""",
            stall_id,
            account_id,
        )
    )


async def sign_on_stall(conn: asyncpg.Connection, stall_id: int) -> bool:
    """Whether a sign may hang at the stall: one was printed (the app recorded it), or issued or
    delivered (printed outside the app)."""
    return bool(
        await conn.fetchval(
            """SELECT EXISTS (SELECT 1 FROM sign_print WHERE stall_id = $1)
                   OR EXISTS (SELECT 1 FROM stall_coverage c WHERE c.stall_id = $1
                              AND (c.sign_issued_at IS NOT NULL
                                   OR c.sign_delivered_at IS NOT NULL))""",
            stall_id,
        )
    )


async def set_reprint_unless_flagged(
    conn: asyncpg.Connection, *, stall_id: int, reason: str
) -> None:
    """Flag the stall's sign for reprint with a reason, unless it is flagged already (that reason,
    about a payment account, stays)."""
    await conn.execute(
        """UPDATE stall_coverage SET sign_reprint_needed = true, sign_reprint_reason = $2,
                  sign_reprint_flagged_at = clock_timestamp(), updated_at = clock_timestamp()
           WHERE stall_id = $1 AND NOT sign_reprint_needed""",
        stall_id,
        reason,
    )


async def set_reprint(conn: asyncpg.Connection, *, stall_id: int, reason: str | None) -> None:
    """Flag the stall's sign for reprint with a reason, or (None) clear the flag."""
    await conn.execute(
        """UPDATE stall_coverage SET sign_reprint_needed = $2::text IS NOT NULL,
                  sign_reprint_reason = $2,
                  sign_reprint_flagged_at = CASE WHEN $2::text IS NOT NULL THEN clock_timestamp() END,
                  updated_at = clock_timestamp()
           WHERE stall_id = $1""",
        stall_id,
        reason,
    )


async def forget_sign_and_payments(conn: asyncpg.Connection, stall_id: int) -> None:
    """The stall no longer has a sign up or recent payments: its sign facts, the check of its
    code, reprint flag and last payment go (a stallholder erased; the payments themselves stay,
    without the number)."""
    await conn.execute(
        """UPDATE stall_coverage
              SET sign_issued_at = NULL, sign_issued_by = NULL, sign_delivered_at = NULL,
                  sign_delivered_by = NULL, verified_at = NULL, verified_by = NULL,
                  verified_account_id = NULL, verified_method = NULL, sign_reprint_needed = false,
                  sign_reprint_reason = NULL, sign_reprint_flagged_at = NULL,
                  last_payment_at = NULL, updated_at = clock_timestamp()
            WHERE stall_id = $1""",
        stall_id,
    )


async def stall_accounts(conn: asyncpg.Connection, stall_id: int) -> list[Account]:
    """The stall's payment accounts (active or not)."""
    rows = await conn.fetch(
        """SELECT id, bin, account_number, service, active FROM payment_account
           WHERE stall_id = $1 ORDER BY position, id""",
        stall_id,
    )
    return [
        Account(**(dict(r) | {"account_number": keys_of(conn).open(r["account_number"])}))
        for r in rows
    ]


async def stall_market(conn: asyncpg.Connection, stall_id: int) -> int | None:
    """The market of a stall."""
    value = await conn.fetchval("SELECT market_id FROM stall WHERE id = $1", stall_id)
    return int(value) if value is not None else None


async def move_counted_zones(conn: asyncpg.Connection, stall_ids: list[int]) -> None:
    """Counted stalls among these hold their current zone (counted_zone follows stall.zone)."""
    await conn.execute(
        """UPDATE stall_coverage c SET counted_zone = coalesce(s.zone, ''),
                  updated_at = clock_timestamp()
           FROM stall s
           WHERE s.id = c.stall_id AND c.stall_id = any($1::bigint[]) AND c.counted_active
             AND c.counted_zone IS DISTINCT FROM coalesce(s.zone, '')""",
        stall_ids,
    )


async def expiring_markets(conn: asyncpg.Connection, cutoff: datetime) -> list[int]:
    """Markets with stalls counted as transacting whose last payment is older than cutoff."""
    rows = await conn.fetch(
        """SELECT DISTINCT market_id FROM stall_coverage
           WHERE counted_transacting AND last_payment_at < $1 ORDER BY market_id""",
        cutoff,
    )
    return [int(r["market_id"]) for r in rows]


async def expire_transacting(
    conn: asyncpg.Connection, market_id: int, cutoff: datetime
) -> list[tuple[datetime, list[str]]]:
    """Stop counting stalls whose last payment left the window; (last payment, partners) of each,
    oldest payment first."""
    rows = await conn.fetch(
        """UPDATE stall_coverage SET counted_transacting = false, updated_at = clock_timestamp()
           WHERE market_id = $1 AND counted_transacting AND last_payment_at < $2
           RETURNING last_payment_at, counted_partners""",
        market_id,
        cutoff,
    )
    found = [(r["last_payment_at"], list(r["counted_partners"])) for r in rows]
    return sorted(found, key=lambda x: x[0])


async def stall_coverage_row(conn: asyncpg.Connection, stall_id: int) -> dict[str, Any] | None:
    """A stall's progress as stored (for the stall coverage view)."""
    row = await conn.fetchrow(
        """SELECT s.id AS stall_id, s.market_id, s.stall_code, coalesce(s.zone, '') AS zone,
                s.status,
                  c.sign_issued_at, c.sign_delivered_at, c.verified_at, c.verified_method,
                  c.verified_account_id, c.last_payment_at, c.fees_cashless, c.needs_revisit,
                  c.revisit_reason, c.revisit_flagged_at, c.sign_reprint_needed,
                  c.sign_reprint_reason, c.sign_reprint_flagged_at,
                  c.counted_active, c.counted_qr_issued, c.counted_qr_verified,
                      c.counted_transacting,
                  c.counted_fees_cashless,
                  (SELECT max(p.printed_at) FROM sign_print p WHERE p.stall_id = s.id)
                      AS sign_printed_at
           FROM stall s JOIN stall_coverage c ON c.stall_id = s.id WHERE s.id = $1""",
        stall_id,
    )
    return dict(row) if row else None
