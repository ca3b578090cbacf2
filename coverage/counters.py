"""Coverage counters: what each market's numbers hold, kept right in the transaction of every change.

How the numbers stay right (the consistency argument)
------------------------------------------------------
Facts live on `stall`, `payment_account` and `stall_coverage` (sign printed/delivered, verified
account, last payment, fees flag). `stall_coverage.counted_*` (+ `counted_zone`,
`counted_partners`) record what the counters currently hold for each stall. Invariant:

    every counter row == the sum of counted_* over the stalls it covers

It holds because counted_* are only ever changed together with the counters, in one transaction:
`on_stall_changed` locks the stall's coverage row, derives the stall's levels from the facts,
and when they differ from counted_* writes the new counted_* and adds the difference
(`SET x = x + $n`) to the market and partner rows. Two changes of one stall are
serialised by the row lock; changes of different stalls commute (they are additions). A
transaction that rolls back takes its counter deltas with it. A registration does the same for
a stall nobody else can see yet without reading it back, inside its one statement: it inserts the
coverage row with counted_* = new_stall_levels(), takes the rule lock, adds that vector to its
market's and partners' rows and evaluates the market's status in SQL (registration_row_part;
coverage_status() is the SQL twin of levels.evaluate_status).

Only what cannot be summed cheaply is written: a market's counters (its row is created with its
first counted stall) and its partners' counters. Zones are summed from the market's stall rows,
wards, legacy districts and provinces from their markets' rows, at read time (coverage.reads), so
moving a market to another ward moves its numbers with it, and nothing else has to be kept right.

Time: `transacting` means "a payment in the last N days". Entering the window happens when a
payment is recorded (record_payment -> on_stall_changed). Leaving it happens with time alone, so
`reevaluate_all` (run at start-up and every hour by the app; daily at least) finds the stalls
still counted whose last payment is older than the window (partial index, no scan) and removes
them the same way. Between two runs a stall may stay counted at most one run interval too long;
`recount(conn)` compares the counters with a full recount from the facts at a given time.

Status: evaluated from a market's counters under the rule in force whenever they change, in the
same transaction (holding the market's counter row). Rule changes take an exclusive advisory
lock and every status evaluation a shared one, so no status is ever evaluated with a superseded
rule after the new one is committed.

Lock order, everywhere: stall rows -> rule lock (shared) -> market counter row -> partner rows
(sorted). A caller that changes several stalls in one transaction
should do so in stall-id order and may still meet a deadlock under load; prefer one stall per
transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from core import audit
from core.errors import Invalid, StallNotFound
from core.types import User
from coverage import schemas as s
from coverage.levels import evaluate_status, levels_of, local_day, new_stall_levels, vector
from coverage.queries import counters as counters_q
from coverage.queries import job as job_q
from coverage.queries import new_stalls as new_stalls_q
from coverage.queries import recount as recount_q
from coverage.queries import rule as rule_q
from coverage.queries import snapshots as snapshots_q
from coverage.queries import stalls as stalls_q
from coverage.queries.counts import Counts, MarketCounters, Reason


@dataclass
class _Delta:
    market: Counts
    partners: dict[str, Counts]


def delta_for(changes: list[tuple[Counts, list[str], Counts, list[str]]]) -> _Delta:
    """Sum of (old vector, old partners) -> (new vector, new partners) of one market's stalls."""
    market = Counts()
    partners: dict[str, Counts] = defaultdict(Counts)
    for old, old_partners, new, new_partners in changes:
        market = market + new - old
        for p in old_partners:
            partners[p] = partners[p] - old
        for p in new_partners:
            partners[p] = partners[p] + new
    return _Delta(market, dict(partners))


async def apply_delta(
    conn: asyncpg.Connection,
    market_id: int,
    delta: _Delta,
    *,
    reason: Reason,
    at: datetime,
    now: datetime | None = None,
) -> None:
    """Add a market's delta to its counters and re-evaluate its status (caller's transaction).

    `at` is when the change happened; `now` (default `at`) is when it is recorded: the day whose
    snapshot takes the counters as they are now."""
    rule = await rule_q.current_rule(conn, lock="shared")
    counters = await counters_q.apply_market_delta(conn, market_id, delta.market)
    status = evaluate_status(counters.counts, rule.thresholds, counters.status)
    if status != counters.status:
        await _record_status(
            conn, counters, status, rule_version=rule.version, reason=reason, at=at, now=now
        )
    await counters_q.apply_partner_deltas(conn, market_id, delta.partners)


async def _record_status(
    conn: asyncpg.Connection,
    counters: MarketCounters,
    status: s.Status,
    *,
    rule_version: int,
    reason: Reason,
    at: datetime,
    now: datetime | None = None,
) -> None:
    """Write a market's new status since `at`, its history line, and the snapshot of the day of
    `now` (default `at`; the caller holds the market's counter row)."""
    market_id = counters.market_id
    await counters_q.set_market_status(
        conn, market_id=market_id, status=status, rule_version=rule_version, at=at
    )
    await snapshots_q.insert_status_history(
        conn,
        market_id=market_id,
        status=status,
        previous=counters.status,
        rule_version=rule_version,
        reason=reason,
        counts=counters.counts,
        at=at,
    )
    changed = MarketCounters(market_id, counters.counts, status, at, rule_version)
    day = local_day(now or at)
    await snapshots_q.upsert_snapshot(conn, market_id=market_id, day=day, counters=changed)


# ---------------------------------------------------------------- a registration's part


def registration_row_part(*, after: str) -> str:
    """The WITH-list part of a registration statement that counts the new stall in the same
    statement: its coverage row, then the shared rule lock and the rule in force, its market's
    counters and status (a status change writes its history line and the day's snapshot) and its
    partners' counters. It reads the statement's CTEs `new_stall` and `account`; `after` is an
    SQL expression over the statement's other writes, evaluated first."""
    return new_stalls_q.NEW_STALL_COUNTED.format(after=after)


def registration_row_values() -> dict[str, object]:
    """The named parameters of registration_row_part: the levels of a stall just registered."""
    return new_stalls_q.new_stall_values(new_stall_levels())


def registration_row_check() -> str:
    """Columns a registration statement selects to check its part ran (registration_counted)."""
    return new_stalls_q.NEW_STALL_COUNTED_CHECK


def registration_counted(row: asyncpg.Record) -> bool:
    """Whether the statement counted its new stall: rule read once, one market row moved."""
    return bool(row["rule_read"] == 1 and row["market_rows"] == 1)


# ---------------------------------------------------------------- a batch of new stalls


def batch_rows_part(*, after: str) -> str:
    """The WITH-list part of a statement that writes many new stalls (a stall list import; CTEs
    `new_stall` and `account`): their coverage rows, then the shared rule lock. Their counters
    follow in a second statement (batch_counters_part)."""
    return new_stalls_q.BATCH_STALL_ROWS.format(after=after)


def batch_rows_values() -> dict[str, object]:
    """The named parameters of batch_rows_part: the levels of a stall just written."""
    names = ("active", "qr_issued", "qr_verified", "transacting", "fees_cashless")
    return {f"counted_{n}": flag for n, flag in zip(names, new_stall_levels(), strict=True)}


def batch_counters_part() -> tuple[str, str]:
    """(WITH-list part, selected columns) of the statement that adds new stalls written by
    batch_rows_part to their market's and partners' counters and reads the rule in force."""
    return new_stalls_q.BATCH_STALL_COUNTERS, new_stalls_q.BATCH_STALL_RESULT


def batch_counters_values(
    *, market_id: int, partners: list[str], stalls: int = 1
) -> dict[str, object]:
    """The named parameters of batch_counters_part, for `stalls` new stalls of the market
    that all count for the same `partners` (a stall list import: many stalls, no partner)."""
    one = vector(new_stall_levels())
    counts = Counts(*(stalls * n for n in one.astuple()))
    return new_stalls_q.batch_stall_values(market_id=market_id, counts=counts, partners=partners)


async def stalls_moved_zone(conn: asyncpg.Connection, stall_ids: list[int]) -> None:
    """These stalls' zones were changed in the caller's transaction, nothing else about them:
    what the counters hold for them moves to their new zone (zones are summed from these rows at
    read time, so no counter changes). One statement, for a stall list import's updates."""
    await stalls_q.move_counted_zones(conn, stall_ids)


async def settle_new_stalls(
    conn: asyncpg.Connection, row: asyncpg.Record | None, market_id: int
) -> None:
    """on_stall_changed for stalls written in this transaction (batch_rows_part), after their
    counters moved (batch_counters_part).

    The first statement inserted the stalls' coverage rows with counted_* = new_stall_levels()
    (nothing counted before: the whole vector is the delta) and took the shared rule lock after
    them; the second added the vectors and read the rule; `row` is what it selected. What is left
    is the market's status under that rule, as apply_delta does.
    """
    added = new_stalls_q.batch_stall_counted(row, market_id)
    counters = added.counters
    status = evaluate_status(counters.counts, added.thresholds, counters.status)
    if status != counters.status:
        await _record_status(
            conn,
            counters,
            status,
            rule_version=added.rule_version,
            reason="stall_change",
            at=added.now,
        )


async def on_stall_changed(conn: asyncpg.Connection, *, stall_id: int, window_days: int) -> None:
    """Recompute one stall's levels after any change and move the counters by the difference."""
    window = window_days
    async with conn.transaction():
        if not await stalls_q.ensure_stall_coverage(conn, stall_id):
            raise StallNotFound(f"No stall with id {stall_id}.")
        state = await stalls_q.stall_state(conn, stall_id, for_update=True)
        assert state is not None
        new = levels_of(state, state.now - timedelta(days=window))
        new_zone = state.zone if new[0] else ""
        new_partners = state.partners if new[0] else []
        if (new, new_zone, new_partners) == (
            state.counted,
            state.counted_zone,
            state.counted_partners,
        ):
            return
        await stalls_q.set_counted(
            conn, stall_id=stall_id, flags=new, zone=new_zone, partners=new_partners
        )
        delta = delta_for(
            [(vector(state.counted), state.counted_partners, vector(new), new_partners)]
        )
        await apply_delta(conn, state.market_id, delta, reason="stall_change", at=state.now)


async def rename_zone(
    conn: asyncpg.Connection, *, market_id: int, old: list[str], new: str
) -> None:
    """The market's stalls in zones `old` were moved to zone `new` (a zone renamed, in the
    caller's transaction, after the stall rows): what the counters hold for them moves along.
    Zone numbers are summed from these rows, and the market's counters do not change."""
    await stalls_q.rename_counted_zone(conn, market_id=market_id, old=old, new=new)


async def record_payment(
    conn: asyncpg.Connection,
    *,
    stall_id: int,
    occurred_at: datetime,
    window_days: int,
) -> None:
    """A payment.received was stored for the stall: it may enter the `transacting` level."""
    async with conn.transaction():
        if not await stalls_q.ensure_stall_coverage(conn, stall_id):
            raise StallNotFound(f"No stall with id {stall_id}.")
        if not await stalls_q.payment_counts(conn, stall_id=stall_id, occurred_at=occurred_at):
            return  # stored by the caller, but not for an erased holder's old account
        await stalls_q.bump_last_payment(conn, stall_id=stall_id, occurred_at=occurred_at)
        await on_stall_changed(conn, stall_id=stall_id, window_days=window_days)


async def mark_sign_issued(
    conn: asyncpg.Connection, stall_id: int, user: User | None = None, *, window_days: int
) -> None:
    """A printable sign was generated for the stall (called by the QR module)."""
    async with conn.transaction():
        if not await stalls_q.ensure_stall_coverage(conn, stall_id):
            raise StallNotFound(f"No stall with id {stall_id}.")
        await stalls_q.set_sign_issued(conn, stall_id=stall_id, user_id=user.id if user else None)
        await on_stall_changed(conn, stall_id=stall_id, window_days=window_days)


async def mark_name_matched(
    conn: asyncpg.Connection,
    *,
    stall_id: int,
    account_id: int,
    user: User | None = None,
    window_days: int,
) -> bool:
    """The bank confirmed the account name of one of the stall's accounts (called by partners).

    Counts as verification unless the stall is already verified; returns whether it changed.
    """
    async with conn.transaction():
        if not await stalls_q.ensure_stall_coverage(conn, stall_id):
            raise StallNotFound(f"No stall with id {stall_id}.")
        state = await stalls_q.stall_state(conn, stall_id, for_update=True)
        assert state is not None
        if state.verified_account_ok:
            return False
        accounts = {a.id: a for a in await stalls_q.stall_accounts(conn, stall_id) if a.active}
        if account_id not in accounts:
            raise Invalid("The account is not an active account of this stall.", field="account_id")
        await stalls_q.set_verified(
            conn,
            stall_id=stall_id,
            account_id=account_id,
            method="name_match",
            user_id=user.id if user else None,
        )
        await audit.record(
            conn,
            actor_id=user.id if user else None,
            action="verify",
            entity="stall",
            entity_id=stall_id,
            after={"method": "name_match", "payment_account_id": account_id},
        )
        await on_stall_changed(conn, stall_id=stall_id, window_days=window_days)
        return True


async def reevaluate_markets(
    conn: asyncpg.Connection,
    market_ids: list[int],
    rule: rule_q.Rule,
    *,
    reason: Reason,
    at: datetime,
) -> int:
    """Re-evaluate these markets' status (locks their counter rows); returns how many changed."""
    rows = await counters_q.lock_market_counters(conn, market_ids)
    changes, history = [], []
    changed: list[MarketCounters] = []
    for c in rows:
        status = evaluate_status(c.counts, rule.thresholds, c.status)
        if status == c.status:
            continue
        changes.append((c.market_id, status, rule.version, at))
        history.append(
            (c.market_id, status, c.status, rule.version, reason, *c.counts.astuple(), at)
        )
        changed.append(MarketCounters(c.market_id, c.counts, status, at, rule.version))
    if not changed:
        return 0
    await counters_q.write_statuses(conn, changes)
    await snapshots_q.insert_status_histories(conn, history)
    day = local_day(at)
    for c in changed:
        await snapshots_q.upsert_snapshot(conn, market_id=c.market_id, day=day, counters=c)
    return len(changed)


@dataclass(frozen=True)
class Recount:
    """Counters compared with a full recount from the facts."""

    mismatches: list[str]

    @property
    def ok(self) -> bool:
        return not self.mismatches


async def recount(
    conn: asyncpg.Connection, *, window_days: int, now: datetime | None = None
) -> Recount:
    """Recount everything from the facts (scans every stall) and list where counters differ."""
    window = window_days
    if now is None:
        now = await job_q.db_now(conn)
    assert now is not None
    start = now - timedelta(days=window)
    bad: list[str] = []
    rule = await rule_q.current_rule(conn)
    truth = await recount_q.truth_by_market(conn, start)
    stored = await recount_q.stored_by_market(conn)
    for market_id in sorted(set(truth) | set(stored)):
        t = truth.get(market_id, Counts())
        got, status = stored.get(market_id, (Counts(), None))  # no row: nothing counted yet
        if got != t:
            bad.append(f"market {market_id}: counters {got} != recount {t}")
        if status is not None and evaluate_status(t, rule.thresholds, status) != status:
            bad.append(
                f"market {market_id}: status {status} is not what rule v{rule.version} gives"
            )
    truth_partners = await recount_q.truth_by_partner(conn, start)
    stored_partners = await recount_q.stored_by_partner(conn)
    for key in sorted(set(truth_partners) | set(stored_partners)):
        t, got = truth_partners.get(key, Counts()), stored_partners.get(key, Counts())
        if t != got:
            bad.append(f"partner {key}: counters {got} != recount {t}")
    stale = await recount_q.stale_stall_flags(conn, start)
    if stale:
        bad.append(f"{stale} stalls have counted flags that differ from their facts")
    return Recount(bad)


async def rebuild(
    conn: asyncpg.Connection,
    *,
    now: datetime | None = None,
    window_days: int,
    trust_stall_flags: bool = False,
) -> None:
    """Recompute every counter from the facts and re-evaluate statuses (bulk loads, repairs).

    trust_stall_flags: a bulk loader that wrote consistent counted_* flags itself skips the
    per-stall recount and only sums them.
    """
    window = window_days
    async with conn.transaction():
        if now is None:
            now = await job_q.db_now(conn)
        assert now is not None
        if trust_stall_flags:
            await rule_q.current_rule(conn, lock="exclusive")
            await recount_q.rebuild_aggregates(conn)
        else:
            await recount_q.rebuild_counters(conn, now - timedelta(days=window))
        rule = await rule_q.current_rule(conn)
        await reevaluate_markets(
            conn, await counters_q.all_market_ids(conn), rule, reason="daily", at=now
        )
