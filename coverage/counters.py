"""Coverage: stall levels, transactional counters, the programme rule and market status.

How the numbers stay right (the consistency argument)
------------------------------------------------------
Facts live on `stall`, `payment_account` and `stall_coverage` (sign printed/delivered, verified
account, last payment, fees flag). `stall_coverage.counted_*` (+ `counted_zone`,
`counted_partners`) record what the counters currently hold for each stall. Invariant:

    every counter row == the sum of counted_* over the stalls it covers

It holds because counted_* are only ever changed together with the counters, in one transaction:
`on_stall_changed` locks the stall's coverage row, derives the stall's levels from the facts,
and when they differ from counted_* writes the new counted_* and adds the difference
(`SET x = x + $n`) to the market, zone, partner and rollup rows. Two changes of one stall are
serialised by the row lock; changes of different stalls commute (they are additions). A
transaction that rolls back takes its counter deltas with it. A registration does the same for
a stall nobody else can see yet without reading it back: it inserts the coverage row with
counted_* = new_stall_levels() and adds that vector in one statement at the end of its
transaction (coverage_queries.NEW_STALL_COUNTERS, then settle_new_stall). Market creation, ward moves and
deletions move a market's numbers between area rollups in a trigger, in the same transaction.

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

Lock order, everywhere: stall rows -> rule lock (shared) -> market counter row -> zone rows ->
partner rows -> rollup rows (sorted). A caller that changes several stalls in one transaction
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
from coverage.levels import evaluate_status, levels_of, local_day, vector
from coverage.queries import counters as q
from coverage.queries.counters import Counts


@dataclass
class _Delta:
    market: Counts
    zones: dict[str, Counts]
    partners: dict[str, Counts]


def delta_for(changes: list[tuple[Counts, str, list[str], Counts, str, list[str]]]) -> _Delta:
    """Sum of (old vector, old zone, old partners) -> (new ...) changes of one market's stalls."""
    market = Counts()
    zones: dict[str, Counts] = defaultdict(Counts)
    partners: dict[str, Counts] = defaultdict(Counts)
    for old, old_zone, old_partners, new, new_zone, new_partners in changes:
        market = market + new - old
        zones[old_zone] = zones[old_zone] - old
        zones[new_zone] = zones[new_zone] + new
        for p in old_partners:
            partners[p] = partners[p] - old
        for p in new_partners:
            partners[p] = partners[p] + new
    return _Delta(market, dict(zones), dict(partners))


async def apply_delta(
    conn: asyncpg.Connection, market_id: int, delta: _Delta, *, reason: q.Reason, at: datetime
) -> None:
    """Add a market's delta everywhere and re-evaluate its status (in the caller's transaction)."""
    rule = await q.current_rule(conn, lock="shared")
    counters = await q.apply_market_delta(conn, market_id, delta.market)
    status = evaluate_status(counters.counts, rule.thresholds, counters.status)
    status_change = (0, 0, 0, 0)
    if status != counters.status:
        status_change = await _record_status(
            conn, counters, status, rule_version=rule.version, reason=reason, at=at
        )
    await q.apply_zone_deltas(conn, market_id, delta.zones)
    await q.apply_partner_deltas(conn, market_id, delta.partners)
    area = await q.market_area(conn, market_id)
    slot = market_id % q.SLOTS
    rollups = [
        q.RollupDelta(kind, key, slot, delta.market, status_change)
        for kind, key in (
            ("ward", area.ward),
            ("legacy_district", area.legacy_district),
            ("province", area.province),
        )
    ]
    rollups += [q.RollupDelta("partner", p, slot, d) for p, d in delta.partners.items()]
    await q.apply_rollup_deltas(conn, rollups)


async def _record_status(
    conn: asyncpg.Connection,
    counters: q.MarketCounters,
    status: s.Status,
    *,
    rule_version: int,
    reason: q.Reason,
    at: datetime,
) -> tuple[int, int, int, int]:
    """Write a market's new status, its history line and today's snapshot (the caller holds the
    market's counter row); returns the status delta its area rollups need."""
    market_id = counters.market_id
    await q.set_market_status(
        conn, market_id=market_id, status=status, rule_version=rule_version, at=at
    )
    await q.insert_status_history(
        conn,
        market_id=market_id,
        status=status,
        previous=counters.status,
        rule_version=rule_version,
        reason=reason,
        counts=counters.counts,
        at=at,
    )
    changed = q.MarketCounters(market_id, counters.counts, status, at, rule_version)
    await q.upsert_snapshot(conn, market_id=market_id, day=local_day(at), counters=changed)
    return q.status_delta(counters.status, status)


async def settle_new_stall(conn: asyncpg.Connection, added: q.NewStallCounted) -> None:
    """on_stall_changed for a stall registered in this transaction, after its counters moved.

    The registration inserted the stall's coverage row with counted_* = new_stall_levels()
    (nothing counted before: the whole vector is the delta) and took the shared rule lock after
    it; a later statement added the vector (q.NEW_STALL_COUNTERS) and read the rule. What is
    left is the market's status under that rule, as apply_delta does.
    """
    counters = added.counters
    status = evaluate_status(counters.counts, added.thresholds, counters.status)
    if status == counters.status:
        return
    status_change = await _record_status(
        conn, counters, status, rule_version=added.rule_version, reason="stall_change", at=added.now
    )
    area = await q.market_area(conn, counters.market_id)
    slot = counters.market_id % q.SLOTS
    await q.apply_rollup_deltas(
        conn,
        [
            q.RollupDelta(kind, key, slot, Counts(), status_change)
            for kind, key in (
                ("ward", area.ward),
                ("legacy_district", area.legacy_district),
                ("province", area.province),
            )
        ],
    )


async def on_stall_changed(conn: asyncpg.Connection, *, stall_id: int, window_days: int) -> None:
    """Recompute one stall's levels after any change and move the counters by the difference."""
    window = window_days
    async with conn.transaction():
        if not await q.ensure_stall_coverage(conn, stall_id):
            raise StallNotFound(f"No stall with id {stall_id}.")
        state = await q.stall_state(conn, stall_id, for_update=True)
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
        await q.set_counted(
            conn, stall_id=stall_id, flags=new, zone=new_zone, partners=new_partners
        )
        delta = delta_for(
            [
                (
                    vector(state.counted),
                    state.counted_zone,
                    state.counted_partners,
                    vector(new),
                    new_zone,
                    new_partners,
                )
            ]
        )
        await apply_delta(conn, state.market_id, delta, reason="stall_change", at=state.now)


async def record_payment(
    conn: asyncpg.Connection,
    *,
    stall_id: int,
    occurred_at: datetime,
    window_days: int,
) -> None:
    """A payment.received was stored for the stall: it may enter the `transacting` level."""
    async with conn.transaction():
        if not await q.ensure_stall_coverage(conn, stall_id):
            raise StallNotFound(f"No stall with id {stall_id}.")
        await q.bump_last_payment(conn, stall_id=stall_id, occurred_at=occurred_at)
        await on_stall_changed(conn, stall_id=stall_id, window_days=window_days)


async def mark_sign_issued(
    conn: asyncpg.Connection, stall_id: int, user: User | None = None, *, window_days: int
) -> None:
    """A printable sign was generated for the stall (called by the QR module)."""
    async with conn.transaction():
        if not await q.ensure_stall_coverage(conn, stall_id):
            raise StallNotFound(f"No stall with id {stall_id}.")
        await q.set_sign_issued(conn, stall_id=stall_id, user_id=user.id if user else None)
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
        if not await q.ensure_stall_coverage(conn, stall_id):
            raise StallNotFound(f"No stall with id {stall_id}.")
        state = await q.stall_state(conn, stall_id, for_update=True)
        assert state is not None
        if state.verified_account_ok:
            return False
        accounts = {a.id: a for a in await q.stall_accounts(conn, stall_id) if a.active}
        if account_id not in accounts:
            raise Invalid("The account is not an active account of this stall.", field="account_id")
        await q.set_verified(
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
    conn: asyncpg.Connection, market_ids: list[int], rule: q.Rule, *, reason: q.Reason, at: datetime
) -> int:
    """Re-evaluate these markets' status (locks their counter rows); returns how many changed."""
    rows = await q.lock_market_counters(conn, market_ids)
    changes, history, rollups = [], [], []
    changed: list[q.MarketCounters] = []
    areas: dict[int, q.Area] = {}
    for c in rows:
        status = evaluate_status(c.counts, rule.thresholds, c.status)
        if status == c.status:
            continue
        changes.append((c.market_id, status, rule.version, at))
        history.append(
            (c.market_id, status, c.status, rule.version, reason, *c.counts.astuple(), at)
        )
        changed.append(q.MarketCounters(c.market_id, c.counts, status, at, rule.version))
    if not changed:
        return 0
    areas = await q.market_areas(conn, [c.market_id for c in changed])
    previous = {c.market_id: c.status for c in rows}
    for c in changed:
        area, slot = areas[c.market_id], c.market_id % q.SLOTS
        delta = q.status_delta(previous[c.market_id], c.status)
        for kind, key in (
            ("ward", area.ward),
            ("legacy_district", area.legacy_district),
            ("province", area.province),
        ):
            rollups.append(q.RollupDelta(kind, key, slot, Counts(), delta))
    await q.write_statuses(conn, changes)
    await q.insert_status_histories(conn, history)
    day = local_day(at)
    for c in changed:
        await q.upsert_snapshot(conn, market_id=c.market_id, day=day, counters=c)
    await q.apply_rollup_deltas(conn, rollups)
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
        now = await q.db_now(conn)
    assert now is not None
    start = now - timedelta(days=window)
    bad: list[str] = []
    rule = await q.current_rule(conn)
    truth = await q.truth_by_market(conn, start)
    stored = await q.stored_by_market(conn)
    for market_id in sorted(set(truth) | set(stored)):
        t = truth.get(market_id, Counts())
        got, status = stored.get(market_id, (None, None))
        if got != t:
            bad.append(f"market {market_id}: counters {got} != recount {t}")
        if status is not None and evaluate_status(t, rule.thresholds, status) != status:
            bad.append(
                f"market {market_id}: status {status} is not what rule v{rule.version} gives"
            )
    for name, truth_rows, stored_rows in (
        ("zone", await q.truth_by_zone(conn, start), await q.stored_by_zone(conn)),
        ("partner", await q.truth_by_partner(conn, start), await q.stored_by_partner(conn)),
    ):
        for key in sorted(set(truth_rows) | set(stored_rows)):
            t, got = truth_rows.get(key, Counts()), stored_rows.get(key, Counts())
            if t != got:
                bad.append(f"{name} {key}: counters {got} != recount {t}")
    areas = await q.all_market_areas(conn)
    expected: dict[tuple[str, str], tuple[int, Counts, tuple[int, ...]]] = {}
    for market_id, area in areas.items():
        counts = truth.get(market_id, Counts())
        status_vec = q.status_delta(None, stored.get(market_id, (None, "not_started"))[1])
        for group in (
            ("ward", area.ward),
            ("legacy_district", area.legacy_district),
            ("province", area.province),
        ):
            m, c, st = expected.get(group, (0, Counts(), (0, 0, 0, 0)))
            expected[group] = (
                m + 1,
                c + counts,
                tuple(a + b for a, b in zip(st, status_vec, strict=True)),
            )
    partner_totals: dict[str, Counts] = defaultdict(Counts)
    for (_, partner), counts in (await q.truth_by_partner(conn, start)).items():
        partner_totals[partner] = partner_totals[partner] + counts
    for partner, counts in partner_totals.items():
        expected[("partner", partner)] = (0, counts, (0, 0, 0, 0))
    rollups = await q.stored_rollups(conn)
    zero = (0, Counts(), (0, 0, 0, 0))
    for group in sorted(set(expected) | set(rollups)):
        if expected.get(group, zero) != rollups.get(group, zero):
            bad.append(
                f"rollup {group}: stored {rollups.get(group, zero)} "
                f"!= recount {expected.get(group, zero)}"
            )
    stale = await q.stale_stall_flags(conn, start)
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
            now = await q.db_now(conn)
        assert now is not None
        if trust_stall_flags:
            await q.current_rule(conn, lock="exclusive")
            await q.rebuild_aggregates(conn)
        else:
            await q.rebuild_counters(conn, now - timedelta(days=window))
        rule = await q.current_rule(conn)
        await reevaluate_markets(conn, await q.all_market_ids(conn), rule, reason="daily", at=now)
        await q.rebuild_rollups(conn)
