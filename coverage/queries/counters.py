"""SQL of the coverage counters: per-stall facts, market and partner counters, rule, statuses, snapshots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import asyncpg

from core.crypto import keys_of

LEVELS = ("qr_issued", "qr_verified", "transacting", "fees_cashless")
COUNT_FIELDS = ("active_stalls", *LEVELS)
STATUSES = ("not_started", "in_progress", "cashless", "lapsed")
Status = Literal["not_started", "in_progress", "cashless", "lapsed"]
Reason = Literal["stall_change", "daily", "rule_change"]
STATUS_NAMES: tuple[Status, ...] = ("not_started", "in_progress", "cashless", "lapsed")
# Any number: serialises rule changes against status evaluations (see coverage.py).
RULE_LOCK = 727000006


@dataclass(frozen=True)
class Counts:
    """Active stalls and how many of them reached each level."""

    active_stalls: int = 0
    qr_issued: int = 0
    qr_verified: int = 0
    transacting: int = 0
    fees_cashless: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def __sub__(self, other: Counts) -> Counts:
        return Counts(*(a - b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, int, int, int, int]:
        return (
            self.active_stalls,
            self.qr_issued,
            self.qr_verified,
            self.transacting,
            self.fees_cashless,
        )

    def is_zero(self) -> bool:
        return not any(self.astuple())

    @classmethod
    def of(cls, row: Any) -> Counts:
        return cls(*(int(row[f] or 0) for f in COUNT_FIELDS))


def status_tuple(status: str | None, sign: int = 1) -> tuple[int, int, int, int]:
    return tuple(sign * int(status == s) for s in STATUSES)  # type: ignore[return-value]


@dataclass(frozen=True)
class Rule:
    version: int
    thresholds: dict[str, float]
    created_at: datetime
    created_by: str | None = None
    effective_from: datetime | None = None
    applied_at: datetime | None = None


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
class MarketCounters:
    market_id: int
    counts: Counts
    status: Status
    status_since: datetime
    rule_version: int | None


@dataclass(frozen=True)
class Account:
    id: int
    bin: str
    account_number: str
    service: str
    active: bool


@dataclass(frozen=True)
class GroupRow:
    key: str
    name: str | None
    markets: int | None
    counts: Counts
    statuses: dict[str, int] | None
    status: Status | None = None
    lat: float | None = None
    lon: float | None = None
    ward_code: str | None = None
    ward_name: str | None = None
    legacy_district: str | None = None
    province_code: str | None = None


@dataclass(frozen=True)
class Tile:
    id: int
    stall_code: str
    zone: str
    status: str
    counted: tuple[bool, bool, bool, bool, bool]
    needs_revisit: bool
    revisit_reason: str | None
    sign_reprint_needed: bool = False


@dataclass(frozen=True)
class HistoryRow:
    status: Status
    previous_status: Status | None
    rule_version: int
    reason: Reason
    counts: Counts
    changed_at: datetime


@dataclass(frozen=True)
class SnapshotRow:
    day: date
    counts: Counts
    status: Status | None
    markets: int = 1
    statuses: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- rule

_RULE_COLUMNS = """r.version, r.thresholds, r.created_at, u.username AS created_by, r.effective_from,
       r.applied_at"""
# The rule in force is the version applied last: a version made for today applies at once, one
# scheduled for a later day when the coverage job reaches its day (coverage/rule.py). Of versions
# applied together, the one with the latest day (then the newest) is the rule.
RULE_IN_FORCE_ORDER = "r.applied_at DESC, r.effective_from DESC, r.version DESC"
RULE_IN_FORCE = f"""SELECT r.version, r.thresholds FROM programme_rule r
    WHERE r.applied_at IS NOT NULL ORDER BY {RULE_IN_FORCE_ORDER} LIMIT 1"""


async def current_rule(conn: asyncpg.Connection, *, lock: str | None = None) -> Rule:
    """The rule in force; lock='shared' or 'exclusive' also takes the transaction's rule lock."""
    prefix = {
        None: "",
        "shared": f"SELECT pg_advisory_xact_lock_shared({RULE_LOCK}); ",
        "exclusive": f"SELECT pg_advisory_xact_lock({RULE_LOCK}); ",
    }[lock]
    if prefix:
        await conn.execute(prefix)
    row = await conn.fetchrow(
        f"""SELECT {_RULE_COLUMNS}
           FROM programme_rule r LEFT JOIN app_user u ON u.id = r.created_by
           WHERE r.applied_at IS NOT NULL
           ORDER BY {RULE_IN_FORCE_ORDER} LIMIT 1"""
    )
    assert row is not None, "migration 0004 seeds rule version 1"
    return _rule(row)


def _rule(row: asyncpg.Record) -> Rule:
    thresholds = row["thresholds"]
    if isinstance(thresholds, str):
        thresholds = json.loads(thresholds)
    return Rule(
        version=row["version"],
        thresholds={k: float(v) for k, v in thresholds.items()},
        created_at=row["created_at"],
        created_by=row["created_by"],
        effective_from=row["effective_from"],
        applied_at=row["applied_at"],
    )


async def insert_rule(
    conn: asyncpg.Connection,
    *,
    thresholds: dict[str, float],
    created_by: int,
    effective_from: datetime | None,
) -> Rule:
    """Store the next rule version, effective now (None) or from a later moment; not applied yet."""
    row = await conn.fetchrow(
        f"""WITH r AS (
               INSERT INTO programme_rule (version, thresholds, created_by, effective_from)
               SELECT coalesce(max(version), 0) + 1, $1::jsonb, $2,
                      coalesce($3::timestamptz, clock_timestamp())
               FROM programme_rule
               RETURNING *)
           SELECT {_RULE_COLUMNS} FROM r LEFT JOIN app_user u ON u.id = r.created_by""",
        thresholds,
        created_by,
        effective_from,
    )
    return _rule(row)


async def mark_rules_applied(conn: asyncpg.Connection, versions: list[int]) -> datetime:
    """These versions were applied now (every market re-evaluated); returns when."""
    return await conn.fetchval(
        """UPDATE programme_rule SET applied_at = t.now
           FROM (SELECT clock_timestamp() AS now) t
           WHERE version = any($1::int[]) RETURNING t.now""",
        versions,
    )


async def due_rules(conn: asyncpg.Connection) -> list[Rule]:
    """Versions whose day has come and that were not applied yet, in the order they apply."""
    rows = await conn.fetch(
        f"""SELECT {_RULE_COLUMNS}
           FROM programme_rule r LEFT JOIN app_user u ON u.id = r.created_by
           WHERE r.applied_at IS NULL AND r.effective_from <= clock_timestamp()
           ORDER BY r.effective_from, r.version"""
    )
    return [_rule(r) for r in rows]


async def rule_versions(conn: asyncpg.Connection) -> list[Rule]:
    """Every rule version, newest first."""
    rows = await conn.fetch(
        f"""SELECT {_RULE_COLUMNS}
           FROM programme_rule r LEFT JOIN app_user u ON u.id = r.created_by
           ORDER BY r.version DESC"""
    )
    return [_rule(r) for r in rows]


# ---------------------------------------------------------------- one stall


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


async def set_sign_delivered(conn: asyncpg.Connection, *, stall_id: int, user_id: int) -> None:
    """A volunteer put the sign up at the stall (the latest delivery is kept)."""
    await conn.execute(
        """UPDATE stall_coverage SET sign_delivered_at = clock_timestamp(), sign_delivered_by = $2,
                  updated_at = clock_timestamp()
           WHERE stall_id = $1""",
        stall_id,
        user_id,
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


async def clear_verification_of(
    conn: asyncpg.Connection, *, stall_id: int, account_id: int
) -> bool:
    """The stall's verification, if it was of this account, no longer holds; whether it was."""
    result = await conn.execute(
        """UPDATE stall_coverage SET verified_at = NULL, verified_account_id = NULL,
                  verified_method = NULL, verified_by = NULL, updated_at = clock_timestamp()
           WHERE stall_id = $1 AND verified_account_id = $2""",
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


# ---------------------------------------------------------------- counters (writes)


async def apply_market_delta(
    conn: asyncpg.Connection, market_id: int, delta: Counts
) -> MarketCounters:
    """Add a delta to a market's counters (locks the market's counter row) and return them.

    A market's counter row is created with its first counted stall (no trigger, no hook at
    market creation): then the delta is the row.
    """
    row = await conn.fetchrow(_ADD_TO_MARKET, market_id, *delta.astuple())
    if row is None:
        row = await conn.fetchrow(_FIRST_OF_MARKET, market_id, *delta.astuple())
    assert row is not None
    return counters_from_row(row)


_MARKET_COLUMNS = """market_id, active_stalls, qr_issued, qr_verified, transacting, fees_cashless,
                     status, status_since, rule_version"""
_ADD_TO_MARKET = f"""
UPDATE market_coverage SET active_stalls = active_stalls + $2, qr_issued = qr_issued + $3,
       qr_verified = qr_verified + $4, transacting = transacting + $5,
       fees_cashless = fees_cashless + $6, updated_at = clock_timestamp()
WHERE market_id = $1
RETURNING {_MARKET_COLUMNS}"""
# A delta of a market without a row is all it has (never negative: nothing was counted before).
_FIRST_OF_MARKET = f"""
INSERT INTO market_coverage AS t (market_id, active_stalls, qr_issued, qr_verified, transacting,
                                  fees_cashless)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (market_id) DO UPDATE SET
    active_stalls = t.active_stalls + excluded.active_stalls,
    qr_issued = t.qr_issued + excluded.qr_issued,
    qr_verified = t.qr_verified + excluded.qr_verified,
    transacting = t.transacting + excluded.transacting,
    fees_cashless = t.fees_cashless + excluded.fees_cashless,
    updated_at = clock_timestamp()
RETURNING {_MARKET_COLUMNS}"""


# A stall a registration writes (its statement's CTEs `new_stall`: id, market_id, zone, and
# `account`: active, partner_code), counted in the same statement: its coverage row with what the
# counters hold for it ($counted_*, the levels of a new stall), then the shared rule lock and the
# rule in force read after it (coverage_rule_in_force(), migration 0014: a fresh snapshot), then
# its market's counter row (locked, lock order: stall rows -> rule lock -> counter rows) moved by
# the stall's vector ($delta_*) with the market's status under that rule (coverage_status(), the
# twin of levels.evaluate_status), a status history line and the day's snapshot when the status
# changed, and its partners' rows. `{after}` is an SQL expression over the statement's other
# writes, evaluated first.
_STATUS_AFTER = """coverage_status(t.active_stalls + excluded.active_stalls,
        t.qr_issued + excluded.qr_issued, t.qr_verified + excluded.qr_verified,
        t.transacting + excluded.transacting, t.fees_cashless + excluded.fees_cashless,
        (SELECT thresholds FROM rule), t.status)"""
_STATUS_FIRST = """coverage_status($delta_active, $delta_qr_issued, $delta_qr_verified,
        $delta_transacting, $delta_fees_cashless, r.thresholds, 'not_started')"""

NEW_STALL_COUNTED = (
    """
coverage_row AS (
    INSERT INTO stall_coverage (stall_id, market_id, counted_active, counted_qr_issued,
                                counted_qr_verified, counted_transacting, counted_fees_cashless,
                                counted_zone, counted_partners)
    SELECT new_stall.id, new_stall.market_id, $counted_active, $counted_qr_issued,
           $counted_qr_verified, $counted_transacting, $counted_fees_cashless,
           CASE WHEN $counted_active THEN coalesce(new_stall.zone, '') ELSE '' END,
           CASE WHEN $counted_active THEN ARRAY(SELECT DISTINCT partner_code FROM account
                                                WHERE account.stall_id = new_stall.id
                                                  AND active AND partner_code IS NOT NULL
                                                ORDER BY 1)
                ELSE '{{}}' END
    FROM new_stall
    WHERE {after} >= 0
    RETURNING market_id, counted_zone, counted_partners
), rule AS (
    SELECT r.version, r.thresholds FROM coverage_rule_in_force() AS r
    WHERE EXISTS (SELECT 1 FROM coverage_row)
), counted_before AS (
    SELECT c.status FROM market_coverage c
    WHERE c.market_id = (SELECT market_id FROM coverage_row) AND EXISTS (SELECT 1 FROM rule)
    FOR UPDATE
), market_row AS (
    INSERT INTO market_coverage AS t (market_id, active_stalls, qr_issued, qr_verified,
                                      transacting, fees_cashless, status, rule_version)
    SELECT k.market_id, $delta_active, $delta_qr_issued, $delta_qr_verified, $delta_transacting,
           $delta_fees_cashless, """
    + _STATUS_FIRST
    + """,
           CASE WHEN """
    + _STATUS_FIRST
    + """ <> 'not_started' THEN r.version END
    FROM coverage_row k, rule r
    WHERE (SELECT count(*) FROM counted_before) >= 0
    ON CONFLICT (market_id) DO UPDATE SET
        active_stalls = t.active_stalls + excluded.active_stalls,
        qr_issued = t.qr_issued + excluded.qr_issued,
        qr_verified = t.qr_verified + excluded.qr_verified,
        transacting = t.transacting + excluded.transacting,
        fees_cashless = t.fees_cashless + excluded.fees_cashless,
        status = """
    + _STATUS_AFTER
    + """,
        status_since = CASE WHEN """
    + _STATUS_AFTER
    + """ <> t.status THEN clock_timestamp() ELSE t.status_since END,
        rule_version = CASE WHEN """
    + _STATUS_AFTER
    + """ <> t.status THEN (SELECT version FROM rule) ELSE t.rule_version END,
        updated_at = clock_timestamp()
    RETURNING market_id, active_stalls, qr_issued, qr_verified, transacting, fees_cashless,
              status, status_since, rule_version
), status_change AS (
    SELECT m.*, coalesce((SELECT status FROM counted_before), 'not_started') AS previous
    FROM market_row m
    WHERE m.status <> coalesce((SELECT status FROM counted_before), 'not_started')
), status_line AS (
    INSERT INTO market_status_history (market_id, status, previous_status, rule_version, reason,
                                       active_stalls, qr_issued, qr_verified, transacting,
                                       fees_cashless, changed_at)
    SELECT market_id, status, previous, rule_version, 'stall_change', active_stalls, qr_issued,
           qr_verified, transacting, fees_cashless, status_since
    FROM status_change
    RETURNING 1
), status_day AS (
    INSERT INTO coverage_snapshot AS t (market_id, day, active_stalls, qr_issued, qr_verified,
                                        transacting, fees_cashless, status, rule_version)
    SELECT market_id, (status_since AT TIME ZONE INTERVAL '07:00')::date, active_stalls,
           qr_issued, qr_verified, transacting, fees_cashless, status, rule_version
    FROM status_change
    ON CONFLICT (market_id, day) DO UPDATE SET
        active_stalls = excluded.active_stalls, qr_issued = excluded.qr_issued,
        qr_verified = excluded.qr_verified, transacting = excluded.transacting,
        fees_cashless = excluded.fees_cashless, status = excluded.status,
        rule_version = excluded.rule_version, taken_at = clock_timestamp()
    RETURNING 1
), partner_rows AS (
    INSERT INTO partner_coverage AS t (market_id, partner_code, active_stalls, qr_issued,
                                       qr_verified, transacting, fees_cashless)
    SELECT m.market_id, p, $delta_active, $delta_qr_issued, $delta_qr_verified,
           $delta_transacting, $delta_fees_cashless
    FROM market_row m, coverage_row k, unnest(k.counted_partners) AS p
    ORDER BY 1, 2
    ON CONFLICT (market_id, partner_code) DO UPDATE SET
        active_stalls = t.active_stalls + excluded.active_stalls,
        qr_issued = t.qr_issued + excluded.qr_issued,
        qr_verified = t.qr_verified + excluded.qr_verified,
        transacting = t.transacting + excluded.transacting,
        fees_cashless = t.fees_cashless + excluded.fees_cashless
    RETURNING 1
)"""
)

# What a statement with NEW_STALL_COUNTED may select to check it (the stall was counted once).
NEW_STALL_COUNTED_CHECK = """(SELECT count(*) FROM rule) AS rule_read,
       (SELECT count(*) FROM market_row) AS market_rows,
       (SELECT count(*) FROM status_line) + (SELECT count(*) FROM status_day)
           + (SELECT count(*) FROM partner_rows) AS counter_writes"""


def new_stall_values(counted: tuple[bool, bool, bool, bool, bool]) -> dict[str, Any]:
    """The named parameters of NEW_STALL_COUNTED: a new stall's levels and its vector."""
    names = ("active", "qr_issued", "qr_verified", "transacting", "fees_cashless")
    return {f"counted_{n}": flag for n, flag in zip(names, counted, strict=True)} | {
        f"delta_{n}": int(flag) for n, flag in zip(names, counted, strict=True)
    }


# ---------------------------------------------------------------- a batch of new stalls
# A stall list import writes many new stalls in one statement (merchants.imports): each gets its
# coverage row and takes the shared rule lock (BATCH_STALL_ROWS); a second statement then adds
# their summed vector to their market's and partners' rows and reads the rule in force
# (BATCH_STALL_COUNTERS), and coverage.counters.settle_new_stalls evaluates the market's status.
# A registration (one stall) does all of it in its own statement (NEW_STALL_COUNTED).


@dataclass(frozen=True)
class NewStallCounted:
    """The counters of a market after a new stall was added, and the rule to evaluate them by."""

    counters: MarketCounters  # after the addition; status as it was before
    rule_version: int
    thresholds: dict[str, float]
    now: datetime


# A stall a registration has just written (its CTEs `new_stall`: id, market_id, zone, and
# `account`: stall_id, active, partner_code) gets its coverage row with what the counters will hold
# for it ($counted_*), and then the shared rule lock is taken (lock order: stall rows -> rule lock
# -> counter rows). `{after}` names the statement's other writes, which run first. A statement that
# writes several new stalls (a stall list import) gets one row per stall, each with its own
# partners, and takes the rule lock once per row (shared locks are re-entrant).
BATCH_STALL_ROWS = (
    """
coverage_row AS (
    INSERT INTO stall_coverage (stall_id, market_id, counted_active, counted_qr_issued,
                                counted_qr_verified, counted_transacting, counted_fees_cashless,
                                counted_zone, counted_partners)
    SELECT new_stall.id, new_stall.market_id, $counted_active, $counted_qr_issued,
           $counted_qr_verified, $counted_transacting, $counted_fees_cashless,
           CASE WHEN $counted_active THEN coalesce(new_stall.zone, '') ELSE '' END,
           CASE WHEN $counted_active THEN ARRAY(SELECT DISTINCT partner_code FROM account
                                                WHERE account.stall_id = new_stall.id
                                                  AND active AND partner_code IS NOT NULL
                                                ORDER BY 1)
                ELSE '{{}}' END
    FROM new_stall
    WHERE {after} >= 0
    RETURNING counted_zone, counted_partners
), rule_lock AS (
    SELECT pg_advisory_xact_lock_shared("""
    + str(RULE_LOCK)
    + """) FROM coverage_row
)"""
)

# The same stall then enters the counters, in a statement that starts after the one that took the
# shared rule lock (its snapshot then shows any rule committed before the lock was granted): its
# market's row (created by its first stall), then its partners' rows, and the rule in force is
# read. Parameters: $market_id, the stall's $delta_* and its distinct $partners.
BATCH_STALL_COUNTERS = (
    """
rule AS (
    """
    + RULE_IN_FORCE
    + """
), market_row AS (
    INSERT INTO market_coverage AS t (market_id, active_stalls, qr_issued, qr_verified,
                                      transacting, fees_cashless)
    VALUES ($market_id, $delta_active, $delta_qr_issued, $delta_qr_verified, $delta_transacting,
            $delta_fees_cashless)
    ON CONFLICT (market_id) DO UPDATE SET
        active_stalls = t.active_stalls + excluded.active_stalls,
        qr_issued = t.qr_issued + excluded.qr_issued,
        qr_verified = t.qr_verified + excluded.qr_verified,
        transacting = t.transacting + excluded.transacting,
        fees_cashless = t.fees_cashless + excluded.fees_cashless,
        updated_at = clock_timestamp()
    RETURNING market_id, active_stalls, qr_issued, qr_verified, transacting, fees_cashless,
              status, status_since, rule_version
), partner_rows AS (
    INSERT INTO partner_coverage AS t (market_id, partner_code, active_stalls, qr_issued,
                                       qr_verified, transacting, fees_cashless)
    SELECT m.market_id, p, $delta_active, $delta_qr_issued, $delta_qr_verified,
           $delta_transacting, $delta_fees_cashless
    FROM market_row m, unnest($partners::text[]) AS p
    ORDER BY 1, 2
    ON CONFLICT (market_id, partner_code) DO UPDATE SET
        active_stalls = t.active_stalls + excluded.active_stalls,
        qr_issued = t.qr_issued + excluded.qr_issued,
        qr_verified = t.qr_verified + excluded.qr_verified,
        transacting = t.transacting + excluded.transacting,
        fees_cashless = t.fees_cashless + excluded.fees_cashless
    RETURNING 1
)"""
)

# What a statement with BATCH_STALL_COUNTERS selects, for new_stall_counted().
BATCH_STALL_RESULT = """
m.market_id, m.active_stalls, m.qr_issued, m.qr_verified, m.transacting, m.fees_cashless,
m.status, m.status_since, m.rule_version, r.version AS rule_now, r.thresholds,
clock_timestamp() AS now, (SELECT count(*) FROM partner_rows) AS partner_rows
FROM market_row m, rule r"""


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


def batch_stall_values(*, market_id: int, counts: Counts, partners: list[str]) -> dict[str, Any]:
    """The named parameters of BATCH_STALL_COUNTERS (partners distinct, as counted_partners)."""
    return {
        "market_id": market_id,
        "delta_active": counts.active_stalls,
        "delta_qr_issued": counts.qr_issued,
        "delta_qr_verified": counts.qr_verified,
        "delta_transacting": counts.transacting,
        "delta_fees_cashless": counts.fees_cashless,
        "partners": partners,
    }


def batch_stall_counted(row: asyncpg.Record | None, market_id: int) -> NewStallCounted:
    """The BATCH_STALL_RESULT of a statement."""
    assert row is not None, f"market {market_id}: no counter row"
    thresholds = row["thresholds"]
    if isinstance(thresholds, str):
        thresholds = json.loads(thresholds)
    return NewStallCounted(
        counters=counters_from_row(row),
        rule_version=row["rule_now"],
        thresholds={k: float(v) for k, v in thresholds.items()},
        now=row["now"],
    )


def counters_from_row(row: asyncpg.Record) -> MarketCounters:
    return MarketCounters(
        market_id=row["market_id"],
        counts=Counts.of(row),
        status=row["status"],
        status_since=row["status_since"],
        rule_version=row["rule_version"],
    )


async def set_market_status(
    conn: asyncpg.Connection, *, market_id: int, status: str, rule_version: int, at: datetime
) -> None:
    """Write a market's new status."""
    await conn.execute(
        """UPDATE market_coverage SET status = $2, status_since = $4, rule_version = $3
           WHERE market_id = $1""",
        market_id,
        status,
        rule_version,
        at,
    )


_UPSERT_COUNTS = """
ON CONFLICT ({key}) DO UPDATE SET
    active_stalls = t.active_stalls + excluded.active_stalls,
    qr_issued = t.qr_issued + excluded.qr_issued,
    qr_verified = t.qr_verified + excluded.qr_verified,
    transacting = t.transacting + excluded.transacting,
    fees_cashless = t.fees_cashless + excluded.fees_cashless
"""


def _columns(deltas: Sequence[Counts]) -> list[list[int]]:
    return [list(col) for col in zip(*(d.astuple() for d in deltas), strict=True)]


async def apply_partner_deltas(
    conn: asyncpg.Connection, market_id: int, deltas: dict[str, Counts]
) -> None:
    """Add deltas to a market's partner counters, in partner order."""
    items = sorted((p, d) for p, d in deltas.items() if not d.is_zero())
    if not items:
        return
    await conn.execute(
        """INSERT INTO partner_coverage AS t (market_id, partner_code, active_stalls, qr_issued,
                                              qr_verified, transacting, fees_cashless)
           SELECT $1::bigint, * FROM unnest($2::text[], $3::int[], $4::int[], $5::int[],
               $6::int[], $7::int[])
           ORDER BY 1, 2"""
        + _UPSERT_COUNTS.format(key="market_id, partner_code"),
        market_id,
        [p for p, _ in items],
        *_columns([d for _, d in items]),
    )


async def insert_status_history(
    conn: asyncpg.Connection,
    *,
    market_id: int,
    status: str,
    previous: str | None,
    rule_version: int,
    reason: str,
    counts: Counts,
    at: datetime,
) -> None:
    """Record a status change with the numbers that caused it."""
    await conn.execute(
        """INSERT INTO market_status_history (market_id, status, previous_status, rule_version,
                reason,
                                              active_stalls, qr_issued, qr_verified, transacting,
                                              fees_cashless, changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        market_id,
        status,
        previous,
        rule_version,
        reason,
        *counts.astuple(),
        at,
    )


async def upsert_snapshot(
    conn: asyncpg.Connection, *, market_id: int, day: date, counters: MarketCounters
) -> None:
    """Write (or overwrite) a market's numbers for a day."""
    await conn.execute(
        """INSERT INTO coverage_snapshot AS t (market_id, day, active_stalls, qr_issued,
                qr_verified,
                                               transacting, fees_cashless, status, rule_version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (market_id, day) DO UPDATE SET
               active_stalls = excluded.active_stalls, qr_issued = excluded.qr_issued,
               qr_verified = excluded.qr_verified, transacting = excluded.transacting,
               fees_cashless = excluded.fees_cashless, status = excluded.status,
               rule_version = excluded.rule_version, taken_at = clock_timestamp()""",
        market_id,
        day,
        *counters.counts.astuple(),
        counters.status,
        counters.rule_version,
    )


async def snapshot_all(conn: asyncpg.Connection, *, day: date) -> int:
    """Write every market's numbers for a day; returns how many markets."""
    result = await conn.execute(
        """INSERT INTO coverage_snapshot AS t (market_id, day, active_stalls, qr_issued,
                qr_verified,
                                               transacting, fees_cashless, status, rule_version)
           SELECT m.id, $1, coalesce(c.active_stalls, 0), coalesce(c.qr_issued, 0),
                  coalesce(c.qr_verified, 0), coalesce(c.transacting, 0),
                  coalesce(c.fees_cashless, 0), coalesce(c.status, 'not_started'), c.rule_version
           FROM market m LEFT JOIN market_coverage c ON c.market_id = m.id
           ON CONFLICT (market_id, day) DO UPDATE SET
               active_stalls = excluded.active_stalls, qr_issued = excluded.qr_issued,
               qr_verified = excluded.qr_verified, transacting = excluded.transacting,
               fees_cashless = excluded.fees_cashless, status = excluded.status,
               rule_version = excluded.rule_version, taken_at = clock_timestamp()""",
        day,
    )
    return int(result.split()[-1])


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


async def lock_market_counters(
    conn: asyncpg.Connection, market_ids: list[int]
) -> list[MarketCounters]:
    """Counter rows of these markets, locked in id order."""
    rows = await conn.fetch(
        """SELECT market_id, active_stalls, qr_issued, qr_verified, transacting, fees_cashless,
                  status, status_since, rule_version
           FROM market_coverage WHERE market_id = any($1::bigint[]) ORDER BY market_id FOR
               UPDATE""",
        market_ids,
    )
    return [counters_from_row(r) for r in rows]


async def all_market_ids(conn: asyncpg.Connection) -> list[int]:
    """Ids of every market that has counters (its first stall created them)."""
    return [
        int(r["market_id"])
        for r in await conn.fetch("SELECT market_id FROM market_coverage ORDER BY 1")
    ]


@dataclass(frozen=True)
class NamedCounters:
    market_id: int
    name: str
    counts: Counts
    status: Status


async def market_counters_named(conn: asyncpg.Connection) -> list[NamedCounters]:
    """Every market's counters and status with its name, by name (a read: nothing is locked)."""
    rows = await conn.fetch(
        """SELECT c.market_id, m.name, c.active_stalls, c.qr_issued, c.qr_verified, c.transacting,
                  c.fees_cashless, c.status
           FROM market_coverage c JOIN market m ON m.id = c.market_id
           ORDER BY m.name, m.id"""
    )
    return [NamedCounters(r["market_id"], r["name"], Counts.of(r), r["status"]) for r in rows]


async def set_rule_version_all(conn: asyncpg.Connection, version: int) -> None:
    """Every market's status was evaluated under this rule version."""
    await conn.execute(
        "UPDATE market_coverage SET rule_version = $1 WHERE rule_version IS DISTINCT FROM $1",
        version,
    )


SUM_COUNTS = """sum(active_stalls) AS active_stalls, sum(qr_issued) AS qr_issued,
       sum(qr_verified) AS qr_verified, sum(transacting) AS transacting,
       sum(fees_cashless) AS fees_cashless"""


# ---------------------------------------------------------------- recount and rebuild

# The truth, from the facts alone ($1 = start of the transacting window).
_TRUTH = """
SELECT s.id AS stall_id, s.market_id, coalesce(s.zone, '') AS zone,
       (s.status = 'active') AS active,
       (s.status = 'active' AND (c.sign_issued_at IS NOT NULL OR c.sign_delivered_at IS NOT NULL
                                 OR v.ok)) AS qr_issued,
       (s.status = 'active' AND v.ok) AS qr_verified,
       (s.status = 'active' AND coalesce(c.last_payment_at >= $1, false)) AS transacting,
       (s.status = 'active' AND coalesce(c.fees_cashless, false)) AS fees_cashless,
       CASE WHEN s.status = 'active' THEN coalesce(
           (SELECT array_agg(DISTINCT a.partner_code ORDER BY a.partner_code) FROM payment_account a
            WHERE a.stall_id = s.id AND a.active AND a.partner_code IS NOT NULL), '{}')
       ELSE '{}' END AS partners
FROM stall s
LEFT JOIN stall_coverage c ON c.stall_id = s.id
CROSS JOIN LATERAL (SELECT coalesce(EXISTS (
    SELECT 1 FROM payment_account a
    WHERE a.id = c.verified_account_id AND a.stall_id = s.id AND a.active), false) AS ok) v
"""

_TRUTH_SUMS = """count(*) FILTER (WHERE t.active) AS active_stalls,
       count(*) FILTER (WHERE t.qr_issued) AS qr_issued,
       count(*) FILTER (WHERE t.qr_verified) AS qr_verified,
       count(*) FILTER (WHERE t.transacting) AS transacting,
       count(*) FILTER (WHERE t.fees_cashless) AS fees_cashless"""


async def truth_by_market(conn: asyncpg.Connection, window_start: datetime) -> dict[int, Counts]:
    """Full recount per market (scans every stall)."""
    rows = await conn.fetch(
        f"""SELECT m.id AS market_id, {_TRUTH_SUMS}
            FROM market m LEFT JOIN ({_TRUTH}) t ON t.market_id = m.id GROUP BY m.id""",
        window_start,
    )
    return {int(r["market_id"]): Counts.of(r) for r in rows}


async def truth_by_partner(
    conn: asyncpg.Connection, window_start: datetime
) -> dict[tuple[int, str], Counts]:
    """Full recount per (market, partner)."""
    rows = await conn.fetch(
        f"""SELECT t.market_id, p AS partner, {_TRUTH_SUMS}
            FROM ({_TRUTH}) t, unnest(t.partners) AS p GROUP BY 1, 2""",
        window_start,
    )
    return {(int(r["market_id"]), r["partner"]): Counts.of(r) for r in rows}


async def stored_by_market(conn: asyncpg.Connection) -> dict[int, tuple[Counts, str]]:
    rows = await conn.fetch(
        "SELECT market_id, active_stalls, qr_issued, qr_verified, transacting, fees_cashless, "
        "status FROM market_coverage"
    )
    return {int(r["market_id"]): (Counts.of(r), r["status"]) for r in rows}


async def stored_by_partner(conn: asyncpg.Connection) -> dict[tuple[int, str], Counts]:
    rows = await conn.fetch(
        "SELECT market_id, partner_code, active_stalls, qr_issued, qr_verified, transacting, "
        "fees_cashless FROM partner_coverage"
    )
    return {(int(r["market_id"]), r["partner_code"]): Counts.of(r) for r in rows}


async def stale_stall_flags(conn: asyncpg.Connection, window_start: datetime) -> int:
    """Stalls whose counted flags, zone or partners differ from the facts (or lack a row)."""
    return int(
        await conn.fetchval(
            f"""SELECT count(*)
                     FROM ({_TRUTH}) t LEFT JOIN stall_coverage c ON c.stall_id = t.stall_id
                WHERE c.stall_id IS NULL
                   OR (c.counted_active, c.counted_qr_issued, c.counted_qr_verified,
                       c.counted_transacting, c.counted_fees_cashless)
                      IS DISTINCT FROM (t.active, t.qr_issued, t.qr_verified, t.transacting,
                                        t.fees_cashless)
                   OR (t.active AND c.counted_zone <> t.zone)
                   OR c.counted_partners <> t.partners""",
            window_start,
        )
    )


async def rebuild_counters(conn: asyncpg.Connection, window_start: datetime) -> None:
    """Recompute every counter from the facts (set-based; for bulk loads and repairs).

    Takes the rule lock exclusively, so no stall change runs meanwhile. Status is left as is;
    the caller re-evaluates it.
    """
    await conn.execute(f"SELECT pg_advisory_xact_lock({RULE_LOCK})")
    await conn.execute(
        """INSERT INTO stall_coverage (stall_id, market_id)
           SELECT s.id, s.market_id FROM stall s
           WHERE NOT EXISTS (SELECT 1 FROM stall_coverage c WHERE c.stall_id = s.id)"""
    )
    await conn.execute(
        f"""UPDATE stall_coverage c SET counted_active = t.active, counted_qr_issued = t.qr_issued,
                   counted_qr_verified = t.qr_verified, counted_transacting = t.transacting,
                   counted_fees_cashless = t.fees_cashless,
                   counted_zone = CASE WHEN t.active THEN t.zone ELSE '' END,
                   counted_partners = t.partners
            FROM ({_TRUTH}) t
            WHERE t.stall_id = c.stall_id
              AND ((c.counted_active, c.counted_qr_issued, c.counted_qr_verified,
                    c.counted_transacting, c.counted_fees_cashless, c.counted_zone,
                        c.counted_partners)
                   IS DISTINCT FROM (t.active, t.qr_issued, t.qr_verified, t.transacting,
                                     t.fees_cashless, CASE WHEN t.active THEN t.zone ELSE '' END,
                                     t.partners))""",
        window_start,
    )
    await rebuild_aggregates(conn)


async def rebuild_aggregates(conn: asyncpg.Connection) -> None:
    """Recompute market and partner counters from the stalls' counted flags."""
    await conn.execute(
        """INSERT INTO market_coverage AS mc (market_id, active_stalls, qr_issued, qr_verified,
                                              transacting, fees_cashless)
           SELECT c.market_id, count(*) FILTER (WHERE c.counted_active),
                  count(*) FILTER (WHERE c.counted_qr_issued),
                  count(*) FILTER (WHERE c.counted_qr_verified),
                  count(*) FILTER (WHERE c.counted_transacting),
                  count(*) FILTER (WHERE c.counted_fees_cashless)
           FROM stall_coverage c GROUP BY c.market_id
           ON CONFLICT (market_id) DO UPDATE SET
               active_stalls = excluded.active_stalls, qr_issued = excluded.qr_issued,
               qr_verified = excluded.qr_verified, transacting = excluded.transacting,
               fees_cashless = excluded.fees_cashless, updated_at = clock_timestamp()
           WHERE (mc.active_stalls, mc.qr_issued, mc.qr_verified, mc.transacting,
                  mc.fees_cashless) IS DISTINCT FROM
                 (excluded.active_stalls, excluded.qr_issued, excluded.qr_verified,
                  excluded.transacting, excluded.fees_cashless)"""
    )
    await conn.execute(
        """UPDATE market_coverage mc SET active_stalls = 0, qr_issued = 0, qr_verified = 0,
                  transacting = 0, fees_cashless = 0, updated_at = clock_timestamp()
           WHERE NOT EXISTS (SELECT 1 FROM stall_coverage c WHERE c.market_id = mc.market_id)
             AND mc.active_stalls + mc.qr_issued + mc.qr_verified + mc.transacting
                 + mc.fees_cashless > 0"""
    )
    await conn.execute(
        """DELETE FROM partner_coverage;
           INSERT INTO partner_coverage (market_id, partner_code, active_stalls, qr_issued,
                                         qr_verified, transacting, fees_cashless)
           SELECT market_id, p, count(*), count(*) FILTER (WHERE counted_qr_issued),
                  count(*) FILTER (WHERE counted_qr_verified),
                  count(*) FILTER (WHERE counted_transacting),
                  count(*) FILTER (WHERE counted_fees_cashless)
           FROM stall_coverage, unnest(counted_partners) AS p GROUP BY market_id, p;"""
    )


async def write_statuses(
    conn: asyncpg.Connection, changes: Sequence[tuple[int, str, int, datetime]]
) -> None:
    """Write many (market_id, status, rule_version, at) at once."""
    if not changes:
        return
    await conn.executemany(
        """UPDATE market_coverage SET status = $2, rule_version = $3, status_since = $4
           WHERE market_id = $1""",
        changes,
    )


async def insert_status_histories(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Status-history rows: (market_id, status, previous, rule_version, reason, *counts, at)."""
    if not rows:
        return
    await conn.executemany(
        """INSERT INTO market_status_history (market_id, status, previous_status, rule_version,
                reason,
                                              active_stalls, qr_issued, qr_verified, transacting,
                                              fees_cashless, changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)""",
        rows,
    )


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
                  c.counted_fees_cashless
           FROM stall s JOIN stall_coverage c ON c.stall_id = s.id WHERE s.id = $1""",
        stall_id,
    )
    return dict(row) if row else None


# Only one worker of all instances runs the periodic re-evaluation at a time.
_JOB_LOCK = 727_000_007


async def db_now(conn: asyncpg.Connection) -> datetime:
    """The database's clock (every worker agrees on it)."""
    return await conn.fetchval("SELECT clock_timestamp()")


async def try_job_lock(conn: asyncpg.Connection) -> bool:
    """Take the re-evaluation lock for this session, if no one holds it."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", _JOB_LOCK))


async def release_job_lock(conn: asyncpg.Connection) -> None:
    """Release the re-evaluation lock."""
    await conn.execute("SELECT pg_advisory_unlock($1)", _JOB_LOCK)
