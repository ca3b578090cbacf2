"""SQL of the demo data set: a lock so one worker loads it, markets' units, the stalls it advances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from core import db
from core.crypto import keys_of

_DEMO_LOCK = 727000002


async def any_market(conn: asyncpg.Connection) -> bool:
    """Whether any market exists (demo data loads into an empty database only)."""
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM market)"))


async def try_demo_lock(conn: asyncpg.Connection) -> bool:
    """The session lock one loader holds while loading demo data (workers start together)."""
    db.hold_session_state(conn)  # released explicitly; the pool's full reset if that fails
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", _DEMO_LOCK))


async def release_demo_lock(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", _DEMO_LOCK)


async def insert_crosswalk(conn: asyncpg.Connection, *, old_code: str, new_code: str) -> None:
    """A pre-2025 ward and the ward it became."""
    await conn.execute(
        "INSERT INTO admin_crosswalk (old_scheme, old_code, new_scheme, new_code) "
        "VALUES ('2025-01', $1, '2025-07', $2) ON CONFLICT DO NOTHING",
        old_code,
        new_code,
    )


@dataclass(frozen=True)
class StallFirstAccount:
    id: int
    market_id: int
    account_id: int | None
    bin: str | None
    account_number: str | None  # opened
    reference: str | None


async def stalls_with_first_account(conn: asyncpg.Connection) -> list[StallFirstAccount]:
    """Every stall with its first payment account (if any), by market and id."""
    rows = await conn.fetch(
        """SELECT s.id, s.market_id, a.id AS account_id, a.bin, a.account_number, a.reference
           FROM stall s LEFT JOIN LATERAL (SELECT id, bin, account_number, reference
                                           FROM payment_account
                                           WHERE stall_id = s.id ORDER BY position, id LIMIT 1) a
                ON true
           ORDER BY s.market_id, s.id"""
    )
    return [
        StallFirstAccount(
            **(dict(r) | {"account_number": keys_of(conn).open_or_none(r["account_number"])})
        )
        for r in rows
    ]


async def name_user(conn: asyncpg.Connection, user_id: int, display_name: str) -> None:
    """Give a demo user the display name people see (only if they have none)."""
    await conn.execute(
        "UPDATE app_user SET display_name = $2 WHERE id = $1 AND display_name IS NULL",
        user_id,
        display_name,
    )


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


# Timestamps the demo's field work writes with the database clock, to be moved to the simulated day.
_BACKDATED = (
    ("market", ("created_at", "updated_at")),
    ("stall", ("created_at", "updated_at")),
    ("stallholder", ("created_at", "updated_at")),
    ("payment_account", ("created_at",)),
    ("consent", ("granted_at",)),
    ("onboarding", ("created_at", "updated_at")),
    ("onboarding_status", ("at",)),
    ("idempotency_key", ("created_at",)),
    ("audit_log", ("at",)),
    ("sign_print", ("printed_at",)),
    (
        "stall_coverage",
        ("sign_issued_at", "sign_delivered_at", "verified_at", "revisit_flagged_at", "updated_at"),
    ),
    ("market_coverage", ("status_since", "updated_at")),
    ("market_status_history", ("changed_at",)),
    ("stall_support", ("updated_at",)),
    ("access_log", ("at",)),  # a print reads the stall record (merchants.signs)
)


async def db_clock(conn: asyncpg.Connection) -> datetime:
    """The database's clock."""
    value: datetime = await conn.fetchval("SELECT clock_timestamp()")
    return value


async def backdate(conn: asyncpg.Connection, *, since: datetime, to: datetime) -> None:
    """Move every timestamp written since `since` to `to` (the demo's simulated day)."""
    for table, columns in _BACKDATED:
        for column in columns:
            await conn.execute(
                f'UPDATE "{table}" SET "{column}" = $2 WHERE "{column}" >= $1', since, to
            )


async def backdate_stall(
    conn: asyncpg.Connection, *, stall_id: int, since: datetime, to: datetime
) -> None:
    """Move one stall's sign, check and print times written since `since` to `to` (a demo action
    on that stall, at the moment the story gives it)."""
    await conn.execute(
        """UPDATE stall_coverage SET
               sign_issued_at = CASE WHEN sign_issued_at >= $2 THEN $3 ELSE sign_issued_at END,
               sign_delivered_at = CASE WHEN sign_delivered_at >= $2 THEN $3
                                        ELSE sign_delivered_at END,
               verified_at = CASE WHEN verified_at >= $2 THEN $3 ELSE verified_at END,
               revisit_flagged_at = CASE WHEN revisit_flagged_at >= $2 THEN $3
                                         ELSE revisit_flagged_at END
           WHERE stall_id = $1""",
        stall_id,
        since,
        to,
    )
    await conn.execute(
        "UPDATE sign_print SET printed_at = $3 WHERE stall_id = $1 AND printed_at >= $2",
        stall_id,
        since,
        to,
    )


async def last_audit_id(conn: asyncpg.Connection) -> int:
    """The newest audit entry's id (0 when there is none)."""
    return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM audit_log"))


async def backdate_audit(conn: asyncpg.Connection, *, after_id: int, at: datetime) -> None:
    """Give the audit entries written after `after_id` the moment the demo says they happened
    (field work spread over a day's hours, where `backdate` moves a whole step to one moment)."""
    await conn.execute("UPDATE audit_log SET at = $2 WHERE id > $1", after_id, at)


async def backdate_membership(
    conn: asyncpg.Connection,
    *,
    team_id: int,
    user_id: int,
    joined_at: datetime,
    left_at: datetime | None,
) -> None:
    """A demo membership as it happened: joined then, and left then (if it ended)."""
    await conn.execute(
        "UPDATE team_membership SET joined_at = $3, "
        "left_at = CASE WHEN left_at IS NULL THEN NULL ELSE $4::timestamptz END "
        "WHERE team_id = $1 AND user_id = $2",
        team_id,
        user_id,
        joined_at,
        left_at,
    )


async def active_stalls_since(
    conn: asyncpg.Connection, market_id: int
) -> list[tuple[int, datetime]]:
    """The market's active stalls with when each was registered, oldest first."""
    rows = await conn.fetch(
        "SELECT id, created_at FROM stall WHERE market_id = $1 AND status = 'active' ORDER BY id",
        market_id,
    )
    return [(int(r["id"]), r["created_at"]) for r in rows]


async def backdate_support(conn: asyncpg.Connection, *, stall_id: int, at: datetime) -> None:
    """The stall's support records as of the moment the demo says they were made."""
    await conn.execute("UPDATE stall_support SET updated_at = $2 WHERE stall_id = $1", stall_id, at)


@dataclass(frozen=True)
class PaidStall:
    stall_id: int
    last_payment_at: datetime
    account_id: int
    partner_code: str
    transacting: bool  # counted as receiving payments now (within the window)


async def paid_stalls(conn: asyncpg.Connection) -> list[PaidStall]:
    """Stalls the coverage counters hold a payment for, with their first active account and the
    partner that would report it (the account's, else the bank partner of its BIN)."""
    rows = await conn.fetch(
        """SELECT c.stall_id, c.last_payment_at, a.id AS account_id,
                  c.counted_transacting AS transacting,
                  coalesce(a.partner_code, (SELECT p.code FROM partner p
                                            WHERE a.bin = any(p.bins) ORDER BY p.code LIMIT 1))
                      AS partner_code
           FROM stall_coverage c
           JOIN LATERAL (SELECT id, bin, partner_code FROM payment_account
                         WHERE stall_id = c.stall_id AND active
                         ORDER BY position, id LIMIT 1) a ON true
           WHERE c.last_payment_at IS NOT NULL
           ORDER BY c.stall_id"""
    )
    return [PaidStall(**dict(r)) for r in rows if r["partner_code"] is not None]


async def insert_payments(
    conn: asyncpg.Connection, rows: list[tuple[str, str, int, int, int, datetime]]
) -> None:
    """Matched payments (partner, external id, account, stall, amount, when), as partners'
    notifications record them (partners.payments)."""
    await conn.copy_records_to_table(
        "payment_event",
        records=[(*r, True) for r in rows],
        columns=[
            "partner_code", "external_id", "payment_account_id", "stall_id", "amount",
            "occurred_at", "matched",
        ],
    )  # fmt: skip


async def date_first_rule(conn: asyncpg.Connection, at: datetime) -> None:
    """The programme's first rule (migration 0004) was set before the story began, not when the
    demo was loaded; only while it is the only version."""
    await conn.execute(
        """UPDATE programme_rule SET created_at = $1, effective_from = $1, applied_at = $1
           WHERE version = 1 AND NOT EXISTS (SELECT 1 FROM programme_rule WHERE version > 1)""",
        at,
    )
