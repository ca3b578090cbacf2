"""SQL parts that count new stalls inside their writer's statement: a registration's one stall
(NEW_STALL_COUNTED) and a stall list import's batch (BATCH_STALL_*)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from coverage.queries.counts import Counts, MarketCounters, counters_from_row
from coverage.queries.rule import RULE_IN_FORCE, RULE_LOCK

# A stall a registration writes (its statement's CTEs `new_stall`: id, market_id, zone, and
# `account`: active, partner_code), counted in the same statement: its coverage row with what the
# counters hold for it ($counted_*, the levels of a new stall), then the shared rule lock and the
# rule in force read after it (coverage_rule_in_force(), migration 0014: a fresh snapshot), then
# its market's counter row (locked, lock order: stall rows -> rule lock -> counter rows) moved by
# the stall's vector ($delta_*) with the market's status under that rule (coverage_status(), the
# twin of levels.evaluate_status), a status history line and the day's snapshot when the status
# changed, and its partners' rows. `{after}` is an SQL expression over the statement's other
# writes, evaluated first.
# The new stall's coverage row (both parts): what the counters hold for it, its zone and partners
# when counted; followed by the columns each part returns.
_COVERAGE_ROW = """
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
    RETURNING """
# Counter rows (market, partner) move by the row being inserted (`excluded`).
_ADD_COUNTS = """
        active_stalls = t.active_stalls + excluded.active_stalls,
        qr_issued = t.qr_issued + excluded.qr_issued,
        qr_verified = t.qr_verified + excluded.qr_verified,
        transacting = t.transacting + excluded.transacting,
        fees_cashless = t.fees_cashless + excluded.fees_cashless"""

# The market's status after the stall: evaluated once for the row inserted (`first`) and once for
# the row updated (`after`), each in a sub-select that is not pulled up (OFFSET 0), so that the
# status, its time and its rule version read one evaluation. coverage_status is inlined there (its
# arguments are plain columns: PostgreSQL inlines it only when no argument used several times is a
# sub-select, and a call it does not inline is parsed and planned at every execution).
NEW_STALL_COUNTED = (
    _COVERAGE_ROW
    + """market_id, counted_zone, counted_partners
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
           $delta_fees_cashless, first.status,
           CASE WHEN first.status <> 'not_started' THEN r.version END
    FROM coverage_row k, rule r,
         LATERAL (SELECT coverage_status($delta_active, $delta_qr_issued, $delta_qr_verified,
                                         $delta_transacting, $delta_fees_cashless, r.thresholds,
                                         'not_started') AS status
                  OFFSET 0) first
    WHERE (SELECT count(*) FROM counted_before) >= 0
    ON CONFLICT (market_id) DO UPDATE SET"""
    + _ADD_COUNTS
    + """,
        (status, status_since, rule_version) = (
            SELECT after.status,
                   CASE WHEN after.status <> t.status THEN clock_timestamp()
                        ELSE t.status_since END,
                   CASE WHEN after.status <> t.status THEN r.version ELSE t.rule_version END
            FROM rule r,
                 LATERAL (SELECT coverage_status(
                                     t.active_stalls + excluded.active_stalls,
                                     t.qr_issued + excluded.qr_issued,
                                     t.qr_verified + excluded.qr_verified,
                                     t.transacting + excluded.transacting,
                                     t.fees_cashless + excluded.fees_cashless,
                                     r.thresholds, t.status) AS status
                          OFFSET 0) after),
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
    ON CONFLICT (market_id, partner_code) DO UPDATE SET"""
    + _ADD_COUNTS
    + """
    RETURNING 1
)"""
)

# What a statement with NEW_STALL_COUNTED may select to check it (the stall was counted once).
NEW_STALL_COUNTED_CHECK = """(SELECT count(*) FROM rule) AS rule_read,
       (SELECT count(*) FROM market_row) AS market_rows"""


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
    _COVERAGE_ROW
    + """counted_zone, counted_partners
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
    ON CONFLICT (market_id) DO UPDATE SET"""
    + _ADD_COUNTS
    + """,
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
    ON CONFLICT (market_id, partner_code) DO UPDATE SET"""
    + _ADD_COUNTS
    + """
    RETURNING 1
)"""
)

# What a statement with BATCH_STALL_COUNTERS selects, for new_stall_counted().
BATCH_STALL_RESULT = """
m.market_id, m.active_stalls, m.qr_issued, m.qr_verified, m.transacting, m.fees_cashless,
m.status, m.status_since, m.rule_version, r.version AS rule_now, r.thresholds,
clock_timestamp() AS now, (SELECT count(*) FROM partner_rows) AS partner_rows
FROM market_row m, rule r"""


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
