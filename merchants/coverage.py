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

import asyncio
import contextlib
import functools
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction
from typing import cast

import asyncpg

from core import access
from core import queries as core_q
from core.errors import Forbidden, Invalid
from core.queries import User
from merchants import coverage_queries as q
from merchants import coverage_schemas as s
from merchants import errors
from merchants.coverage_queries import Counts

log = logging.getLogger("choso.coverage")

VN_TZ = timezone(timedelta(hours=7), "ICT")  # Vietnam has no daylight saving time
FLAG_LEVELS = ("registered", "qr_issued", "qr_verified", "transacting", "fees_cashless")
_SERVICE_CODES = {"account": "QRIBFTTA", "card": "QRIBFTTC"}
MAX_IMAGE_PIXELS = 40_000_000


class QrMismatch(Invalid):
    code, title = "qr_mismatch", "The scanned code does not match a stored account of this stall"


class NoQrFound(Invalid):
    code, title = "no_qr_found", "No QR code was found in the image"


class BadImage(Invalid):
    code, title = "invalid_image", "The upload is not a readable image"


def window_days_default() -> int:
    """N of `transacting` (settings.transacting_window_days) when a caller does not pass it."""
    from core.settings import get_settings

    return get_settings().transacting_window_days


def local_day(at: datetime) -> date:
    """The calendar day in Vietnam of a moment."""
    return at.astimezone(VN_TZ).date()


# ---------------------------------------------------------------- pure rules


def levels_of(state: q.StallState, window_start: datetime) -> tuple[bool, bool, bool, bool, bool]:
    """(active, qr_issued, qr_verified, transacting, fees_cashless) of a stall from its facts."""
    if state.status != "active":
        return (False, False, False, False, False)
    verified = state.verified_account_ok
    issued = state.sign_issued_at is not None or state.sign_delivered_at is not None or verified
    transacting = state.last_payment_at is not None and state.last_payment_at >= window_start
    return (True, issued, verified, transacting, state.fees_cashless)


def vector(flags: tuple[bool, ...]) -> Counts:
    """A stall's contribution to the counters."""
    return Counts(*(int(f) for f in flags))


def highest_level(flags: tuple[bool, bool, bool, bool, bool]) -> s.TileLevel:
    """The highest level a stall reached (fees_cashless is a separate flag)."""
    active, issued, verified, transacting, _ = flags
    if not active:
        return "inactive"
    if transacting:
        return "transacting"
    if verified:
        return "qr_verified"
    if issued:
        return "qr_issued"
    return "registered"


def thresholds_met(counts: Counts, thresholds: dict[str, float]) -> bool:
    """Whether every threshold is met (exact arithmetic: 9 of 10 meets 0.9)."""
    if counts.active_stalls == 0:
        return False
    return all(
        Fraction(getattr(counts, level), counts.active_stalls) >= Fraction(str(t))
        for level, t in thresholds.items()
    )


def evaluate_status(counts: Counts, thresholds: dict[str, float], previous: str | None) -> s.Status:
    """cashless when every threshold is met; lapsed once cashless and no longer;
    not_started without active stalls or without any sign issued; in_progress otherwise."""
    if thresholds_met(counts, thresholds):
        return "cashless"
    if previous in ("cashless", "lapsed"):
        return "lapsed"
    if counts.active_stalls == 0 or counts.qr_issued == 0:
        return "not_started"
    return "in_progress"


# ---------------------------------------------------------------- counter maintenance


@dataclass
class _Delta:
    market: Counts
    zones: dict[str, Counts]
    partners: dict[str, Counts]


def _delta_for(changes: list[tuple[Counts, str, list[str], Counts, str, list[str]]]) -> _Delta:
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


async def _apply(
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


@functools.cache
def new_stall_levels() -> tuple[bool, bool, bool, bool, bool]:
    """The levels of a stall being registered: active, with no sign, check or payment yet."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    fresh = q.StallState(
        stall_id=0, market_id=0, stall_code="", status="active", zone="", sign_issued_at=None,
        sign_delivered_at=None, verified_at=None, verified_method=None, verified_account_ok=False,
        last_payment_at=None, fees_cashless=False, needs_revisit=False, revisit_reason=None,
        partners=[], counted=(False, False, False, False, False), counted_zone="",
        counted_partners=[], now=epoch,
    )  # fmt: skip
    return levels_of(fresh, epoch)


async def settle_new_stall(conn: asyncpg.Connection, added: q.NewStallCounted) -> None:
    """on_stall_changed for a stall registered in this transaction, after its counters moved.

    The registration inserted the stall's coverage row with counted_* = new_stall_levels()
    (nothing counted before: the whole vector is the delta) and took the shared rule lock after
    it; a later statement added the vector (q.NEW_STALL_COUNTERS) and read the rule. What is
    left is the market's status under that rule, as _apply does.
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


async def on_stall_changed(
    conn: asyncpg.Connection, *, stall_id: int, window_days: int | None = None
) -> None:
    """Recompute one stall's levels after any change and move the counters by the difference."""
    window = window_days if window_days is not None else window_days_default()
    async with conn.transaction():
        if not await q.ensure_stall_coverage(conn, stall_id):
            raise errors.StallNotFound(f"No stall with id {stall_id}.")
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
        delta = _delta_for(
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
        await _apply(conn, state.market_id, delta, reason="stall_change", at=state.now)


async def record_payment(
    conn: asyncpg.Connection,
    *,
    stall_id: int,
    occurred_at: datetime,
    window_days: int | None = None,
) -> None:
    """A payment.received was stored for the stall: it may enter the `transacting` level."""
    async with conn.transaction():
        if not await q.ensure_stall_coverage(conn, stall_id):
            raise errors.StallNotFound(f"No stall with id {stall_id}.")
        await q.bump_last_payment(conn, stall_id=stall_id, occurred_at=occurred_at)
        await on_stall_changed(conn, stall_id=stall_id, window_days=window_days)


async def mark_sign_issued(
    conn: asyncpg.Connection, stall_id: int, user: User | None = None
) -> None:
    """A printable sign was generated for the stall (called by the QR module)."""
    async with conn.transaction():
        if not await q.ensure_stall_coverage(conn, stall_id):
            raise errors.StallNotFound(f"No stall with id {stall_id}.")
        await q.set_sign_issued(conn, stall_id=stall_id, user_id=user.id if user else None)
        await on_stall_changed(conn, stall_id=stall_id)


async def mark_name_matched(
    conn: asyncpg.Connection, *, stall_id: int, account_id: int, user: User | None = None
) -> bool:
    """The bank confirmed the account name of one of the stall's accounts (called by partners).

    Counts as verification unless the stall is already verified; returns whether it changed.
    """
    async with conn.transaction():
        if not await q.ensure_stall_coverage(conn, stall_id):
            raise errors.StallNotFound(f"No stall with id {stall_id}.")
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
        await core_q.insert_audit(
            conn,
            actor_id=user.id if user else None,
            action="verify",
            entity="stall",
            entity_id=stall_id,
            after={"method": "name_match", "payment_account_id": account_id},
        )
        await on_stall_changed(conn, stall_id=stall_id)
        return True


async def reevaluate_all(
    conn: asyncpg.Connection,
    *,
    now: datetime | None = None,
    window_days: int | None = None,
    chunk: int = 1000,
) -> int:
    """Daily job: expire `transacting` windows, re-evaluate every status, write today's snapshots.

    Returns how many stalls left the transacting window.
    """
    window = window_days if window_days is not None else window_days_default()
    if now is None:
        now = await q.db_now(conn)
    assert now is not None
    cutoff = now - timedelta(days=window)
    expired = 0
    for market_id in await q.expiring_markets(conn, cutoff):
        async with conn.transaction():
            rows = await q.expire_transacting(conn, market_id, cutoff)
            if not rows:
                continue
            expired += len(rows)
            gone = Counts(transacting=1)
            delta = _delta_for(
                [(gone, zone, partners, Counts(), zone, partners) for zone, partners in rows]
            )
            await _apply(conn, market_id, delta, reason="daily", at=now)
    ids = await q.all_market_ids(conn)
    for i in range(0, len(ids), chunk):
        async with conn.transaction():
            rule = await q.current_rule(conn, lock="shared")
            await _reevaluate(conn, ids[i : i + chunk], rule, reason="daily", at=now)
    async with conn.transaction():
        await q.snapshot_all(conn, day=local_day(now))
    return expired


async def _reevaluate(
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
    conn: asyncpg.Connection, *, now: datetime | None = None, window_days: int | None = None
) -> Recount:
    """Recount everything from the facts (scans every stall) and list where counters differ."""
    window = window_days if window_days is not None else window_days_default()
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
    window_days: int | None = None,
    trust_stall_flags: bool = False,
) -> None:
    """Recompute every counter from the facts and re-evaluate statuses (bulk loads, repairs).

    trust_stall_flags: a bulk loader that wrote consistent counted_* flags itself skips the
    per-stall recount and only sums them.
    """
    window = window_days if window_days is not None else window_days_default()
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
        await _reevaluate(conn, await q.all_market_ids(conn), rule, reason="daily", at=now)
        await q.rebuild_rollups(conn)


async def run_periodically(pool: asyncpg.Pool, *, interval_s: float, window_days: int) -> None:
    """Run reevaluate_all now and then every interval (the app starts this in its lifespan)."""
    while True:
        try:
            async with pool.acquire() as conn:
                if await q.try_job_lock(conn):
                    try:
                        expired = await reevaluate_all(conn, window_days=window_days)
                        log.info(
                            "coverage re-evaluated; %d stalls left the transacting window", expired
                        )
                    finally:
                        await q.release_job_lock(conn)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the next run tries again; the error is logged
            log.exception("coverage re-evaluation failed")
        await asyncio.sleep(interval_s)


# ---------------------------------------------------------------- rule


def _rule_out(rule: q.Rule) -> s.Rule:
    return s.Rule(
        version=rule.version,
        thresholds=rule.thresholds,
        created_at=rule.created_at,
        created_by=rule.created_by,
    )


async def get_rule(conn: asyncpg.Connection) -> s.Rule:
    """The programme rule in force."""
    return _rule_out(await q.current_rule(conn))


async def rule_history(conn: asyncpg.Connection) -> list[s.Rule]:
    """Every version of the programme rule, newest first."""
    return [_rule_out(r) for r in await q.rule_versions(conn)]


async def set_rule(conn: asyncpg.Connection, *, user: User, body: s.RuleIn) -> s.Rule:
    """Store a new rule version and re-evaluate every market's status under it."""
    async with conn.transaction():
        before = await q.current_rule(conn, lock="exclusive")
        thresholds = {str(k): float(v) for k, v in sorted(body.thresholds.items())}
        rule = await q.insert_rule(conn, thresholds=thresholds, created_by=user.id)
        now = await q.db_now(conn)
        changed = await _reevaluate(
            conn, await q.all_market_ids(conn), rule, reason="rule_change", at=now
        )
        await q.set_rule_version_all(conn, rule.version)
        await core_q.insert_audit(
            conn,
            actor_id=user.id,
            action="update",
            entity="programme_rule",
            entity_id=rule.version,
            before={"version": before.version, "thresholds": before.thresholds},
            after={
                "version": rule.version,
                "thresholds": rule.thresholds,
                "markets_changed": changed,
            },
        )
    return _rule_out(rule)


# ---------------------------------------------------------------- shaping


def _share(count: int, active: int) -> float:
    return round(count / active, 4) if active else 0.0


def levels_out(c: Counts) -> s.Levels:
    """Counts and shares of the four levels."""
    return s.Levels(
        **{
            lvl: s.LevelCount(count=getattr(c, lvl), share=_share(getattr(c, lvl), c.active_stalls))
            for lvl in q.LEVELS
        }
    )


def progress_out(c: Counts, thresholds: dict[str, float]) -> list[s.RuleProgress]:
    """How far each threshold is, in shares and in stalls still needed."""
    out = []
    for level, t in thresholds.items():
        count = getattr(c, level)
        need = Fraction(str(t)) * c.active_stalls
        needed = max(0, -(-need.numerator // need.denominator) - count)
        out.append(
            s.RuleProgress(
                level=cast(s.Level, level),
                threshold=t,
                count=count,
                share=_share(count, c.active_stalls),
                met=c.active_stalls > 0 and needed == 0,
                stalls_needed=needed,
            )
        )
    return out


def _stall_out(row: dict) -> s.StallCoverage:
    flags = (
        row["counted_active"],
        row["counted_qr_issued"],
        row["counted_qr_verified"],
        row["counted_transacting"],
        row["counted_fees_cashless"],
    )
    return s.StallCoverage(
        stall_id=row["stall_id"],
        market_id=row["market_id"],
        stall_code=row["stall_code"],
        zone=row["zone"],
        status=row["status"],
        level=highest_level(flags),
        levels=s.StallLevels(**dict(zip(FLAG_LEVELS, flags, strict=True))),
        sign_issued_at=row["sign_issued_at"],
        sign_delivered_at=row["sign_delivered_at"],
        verified_at=row["verified_at"],
        verified_method=row["verified_method"],
        last_payment_at=row["last_payment_at"],
        needs_revisit=row["needs_revisit"],
        revisit_reason=row["revisit_reason"],
    )


# ---------------------------------------------------------------- scope


async def _readable_market(conn: asyncpg.Connection, user: User, market_id: int) -> None:
    """404 unless the market exists and is in the caller's scope."""
    if await q.market_counters(conn, market_id) is None or not await access.can_see_market(
        conn, user, market_id
    ):
        raise errors.MarketNotFound(f"No market with id {market_id}.")


async def _writable_stall(conn: asyncpg.Connection, user: User, stall_id: int) -> int:
    """The stall's market, after checking the caller may change stalls there."""
    market_id = await q.stall_market(conn, stall_id)
    if market_id is None:
        raise errors.StallNotFound(f"No stall with id {stall_id}.")
    await access.require_market_write(conn, user, market_id)
    return market_id


# ---------------------------------------------------------------- field actions


async def stall_coverage(conn: asyncpg.Connection, stall_id: int) -> s.StallCoverage:
    """A stall's progress (no personal data)."""
    await q.ensure_stall_coverage(conn, stall_id)
    row = await q.stall_coverage_row(conn, stall_id)
    if row is None:
        raise errors.StallNotFound(f"No stall with id {stall_id}.")
    return _stall_out(row)


async def stall_coverage_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int
) -> s.StallCoverage:
    """stall_coverage within the caller's scope."""
    market_id = await q.stall_market(conn, stall_id)
    if market_id is None or not await access.can_see_market(conn, user, market_id):
        raise errors.StallNotFound(f"No stall with id {stall_id}.")
    return await stall_coverage(conn, stall_id)


async def sign_delivered_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int
) -> s.StallCoverage:
    """A volunteer put the stall's sign up."""
    await _writable_stall(conn, user, stall_id)
    async with conn.transaction():
        await q.ensure_stall_coverage(conn, stall_id)
        await q.set_sign_delivered(conn, stall_id=stall_id, user_id=user.id)
        await core_q.insert_audit(
            conn, actor_id=user.id, action="sign_delivered", entity="stall", entity_id=stall_id
        )
        await on_stall_changed(conn, stall_id=stall_id)
    return await stall_coverage(conn, stall_id)


async def sign_printed_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int
) -> s.StallCoverage:
    """A sign was printed for the stall outside the app."""
    await _writable_stall(conn, user, stall_id)
    async with conn.transaction():
        await mark_sign_issued(conn, stall_id, user)
        await core_q.insert_audit(
            conn, actor_id=user.id, action="sign_printed", entity="stall", entity_id=stall_id
        )
    return await stall_coverage(conn, stall_id)


async def fees_cashless_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int, value: bool
) -> s.StallCoverage:
    """Set whether the stall pays its market fees cashless."""
    await _writable_stall(conn, user, stall_id)
    async with conn.transaction():
        await q.ensure_stall_coverage(conn, stall_id)
        await q.set_fees_cashless(conn, stall_id=stall_id, value=value)
        await core_q.insert_audit(
            conn,
            actor_id=user.id,
            action="fees_cashless",
            entity="stall",
            entity_id=stall_id,
            after={"fees_cashless": value},
        )
        await on_stall_changed(conn, stall_id=stall_id)
    return await stall_coverage(conn, stall_id)


def _mask(account: str | None) -> str | None:
    return None if account is None else "…" + account[-4:]


async def verify(
    conn: asyncpg.Connection, *, user: User, stall_id: int, payloads: list[str]
) -> s.VerifyResult:
    """Verified when one read code is a valid VietQR naming exactly a stored active account of the
    stall; otherwise the stall is flagged for a return visit (kept) and qr_mismatch is raised."""
    from qr import payload as qr_payload

    decoded = [qr_payload.decode(p) for p in payloads]
    failure: QrMismatch | None = None
    async with conn.transaction():
        if not await q.ensure_stall_coverage(conn, stall_id):
            raise errors.StallNotFound(f"No stall with id {stall_id}.")
        await q.stall_state(conn, stall_id, for_update=True)
        accounts = [a for a in await q.stall_accounts(conn, stall_id) if a.active]
        match = next(
            (
                a
                for d in decoded
                if d.valid
                for a in accounts
                if a.bin == d.bin
                and a.account_number == d.account
                and (d.service_code is None or d.service_code == _SERVICE_CODES.get(a.service))
            ),
            None,
        )
        if match is not None:
            await q.set_verified(
                conn, stall_id=stall_id, account_id=match.id, method="scan", user_id=user.id
            )
            await core_q.insert_audit(
                conn,
                actor_id=user.id,
                action="verify",
                entity="stall",
                entity_id=stall_id,
                after={"method": "scan", "payment_account_id": match.id},
            )
            await on_stall_changed(conn, stall_id=stall_id)
        else:
            valid = [d for d in decoded if d.valid]
            if not accounts:
                reason, detail = "no_account", "The stall has no active payment account stored."
            elif not valid:
                reason = "qr_invalid"
                problems = "; ".join(p.message for d in decoded for p in d.problems)[:300]
                detail = f"The scanned code is not a valid VietQR payload ({problems})."
            else:
                reason = "qr_mismatch"
                detail = (
                    f"The scanned code names BIN {valid[0].bin} account {_mask(valid[0].account)}, "
                    "which is not an active account stored for this stall."
                )
            await q.flag_revisit(conn, stall_id=stall_id, reason=reason)
            await core_q.insert_audit(
                conn,
                actor_id=user.id,
                action="verify_failed",
                entity="stall",
                entity_id=stall_id,
                after={
                    "reason": reason,
                    "codes": [
                        {"bin": d.bin, "account": _mask(d.account), "valid": d.valid}
                        for d in decoded
                    ],
                },
            )
            failure = QrMismatch(
                detail + " The stall is flagged for a return visit.",
                field="payload",
                reason=reason,
                needs_revisit=True,
                scanned=[{"valid": d.valid, "bin": d.bin, "account": d.account} for d in decoded],
            )
    if failure is not None:
        raise failure  # after the commit: the return-visit flag stays
    assert match is not None
    out = await stall_coverage(conn, stall_id)
    return s.VerifyResult(**out.model_dump(), matched_account_id=match.id, codes_read=len(payloads))


async def verify_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int, payload: str
) -> s.VerifyResult:
    """verify after the scope check."""
    await _writable_stall(conn, user, stall_id)
    return await verify(conn, user=user, stall_id=stall_id, payloads=[payload])


def read_qr_codes(image: bytes) -> list[str]:
    """Texts of the QR codes in an image (blocking: run it in a thread)."""
    import io

    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as img:
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                raise BadImage(
                    f"The image is {width}x{height}; "
                    f"send at most {MAX_IMAGE_PIXELS // 1_000_000} MP."
                )
            img.load()
            qr_only = zxingcpp.BarcodeFormat.QRCode
            results = zxingcpp.read_barcodes(img.convert("L"), formats=qr_only)  # type: ignore[arg-type]
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BadImage("The upload is not a readable image (PNG, JPEG, WebP...).") from exc
    return [r.text for r in results if r.text]


async def verify_image_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int, image: bytes
) -> s.VerifyResult:
    """Read every QR code in a photo of the sign and verify them like a scanned payload."""
    await _writable_stall(conn, user, stall_id)
    codes = await asyncio.to_thread(read_qr_codes, image)
    if not codes:
        raise NoQrFound("No QR code was found in the image; take the photo closer and in focus.")
    return await verify(conn, user=user, stall_id=stall_id, payloads=codes)


# ---------------------------------------------------------------- reads


async def market_coverage_for(
    conn: asyncpg.Connection, *, user: User, market_id: int, window_days: int
) -> s.MarketCoverage:
    """A market's numbers, status, progress toward the rule and per-zone numbers."""
    await _readable_market(conn, user, market_id)
    counters = await q.market_counters(conn, market_id)
    assert counters is not None
    rule = await q.current_rule(conn)
    header = await q.market_header(conn, market_id)
    assert header is not None
    zones = dict(await q.zone_counters(conn, market_id))
    declared = await q.market_zones(conn, market_id)
    names = [z for z in declared if z] + sorted(z for z in zones if z not in declared)
    zone_list = [
        s.ZoneCoverage(
            zone=z,
            active_stalls=zones.get(z, Counts()).active_stalls,
            levels=levels_out(zones.get(z, Counts())),
        )
        for z in names
        if z in zones or z in declared
    ]
    return s.MarketCoverage(
        market_id=market_id,
        name=header["name"],
        active_stalls=counters.counts.active_stalls,
        levels=levels_out(counters.counts),
        status=counters.status,
        status_since=counters.status_since,
        rule_version=rule.version,
        thresholds=rule.thresholds,
        progress=progress_out(counters.counts, rule.thresholds),
        zones=zone_list,
        transacting_window_days=window_days,
    )


def _group_out(g: q.GroupRow) -> s.GroupCoverage:
    return s.GroupCoverage(
        key=g.key,
        name=g.name,
        markets=g.markets,
        active_stalls=g.counts.active_stalls,
        levels=levels_out(g.counts),
        statuses=s.StatusCounts(**g.statuses) if g.statuses is not None else None,
        status=g.status,
    )


async def coverage_rollup_for(
    conn: asyncpg.Connection, *, user: User, group_by: s.GroupBy
) -> s.CoverageRollup:
    """Numbers rolled up by market, ward, legacy district, province or partner, within scope.

    City-wide callers read the maintained rollups (at most 16 rows per group); scoped callers sum
    their own markets' counters. Partner users see their own partner group only.
    """
    rule = await q.current_rule(conn)
    if user.role == "partner":
        code = await q.partner_code_of(conn, user.id)
        if group_by != "partner":
            raise Forbidden("Partner accounts see the partner grouping only: use group_by=partner.")
        groups = await q.rollup_groups(conn, "partner", only_key=code) if code else []
    elif user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot read coverage numbers.")
    else:
        scope = await access.market_scope(conn, user)
        if group_by == "market":
            groups = await q.market_groups(conn, scope)
        elif scope is None:
            groups = await q.rollup_groups(conn, group_by)
        else:
            groups = await q.scoped_groups(conn, group_by, scope)
    total = None
    if group_by != "partner":
        counts = sum((g.counts for g in groups), Counts())
        statuses = {st: sum((g.statuses or {}).get(st, 0) for g in groups) for st in q.STATUSES}
        total = _group_out(
            q.GroupRow(
                key="",
                name=None,
                markets=sum(g.markets or 0 for g in groups),
                counts=counts,
                statuses=statuses,
            )
        )
    return s.CoverageRollup(
        group_by=group_by,
        groups=[_group_out(g) for g in groups],
        total=total,
        rule_version=rule.version,
        thresholds=rule.thresholds,
    )


async def markets_geojson_for(conn: asyncpg.Connection, *, user: User) -> s.MarketFeatureCollection:
    """Markets in scope as GeoJSON points with flat properties (status, counts, shares)."""
    if user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot read coverage numbers.")
    rows = await q.market_groups(conn, await access.market_scope(conn, user))
    features = []
    for g in rows:
        c = g.counts
        features.append(
            s.MarketFeature(
                id=int(g.key),
                geometry=s.Point(coordinates=(g.lon, g.lat))
                if g.lat is not None and g.lon is not None
                else None,
                properties=s.MarketProperties(
                    id=int(g.key),
                    name=g.name or "",
                    ward_code=g.ward_code,
                    ward=g.ward_name,
                    legacy_district=g.legacy_district,
                    status=g.status or "not_started",
                    active_stalls=c.active_stalls,
                    qr_issued=c.qr_issued,
                    qr_verified=c.qr_verified,
                    transacting=c.transacting,
                    fees_cashless=c.fees_cashless,
                    qr_issued_share=_share(c.qr_issued, c.active_stalls),
                    qr_verified_share=_share(c.qr_verified, c.active_stalls),
                    transacting_share=_share(c.transacting, c.active_stalls),
                    fees_cashless_share=_share(c.fees_cashless, c.active_stalls),
                ),
            )
        )
    return s.MarketFeatureCollection(features=features)


async def stall_tiles_for(conn: asyncpg.Connection, *, user: User, market_id: int) -> s.MarketTiles:
    """A market's stalls per zone with their highest level (no personal data)."""
    await _readable_market(conn, user, market_id)
    tiles = await q.stall_tiles(conn, market_id)
    zones = dict(await q.zone_counters(conn, market_id))
    declared = await q.market_zones(conn, market_id)
    by_zone: dict[str, list[s.Tile]] = {}
    for t in tiles:
        by_zone.setdefault(t.zone, []).append(
            s.Tile(
                id=t.id,
                stall_code=t.stall_code,
                status=t.status,
                level=highest_level(t.counted),
                fees_cashless=t.counted[4],
                needs_revisit=t.needs_revisit,
                revisit_reason=t.revisit_reason,
            )
        )
    order = [z for z in declared if z in by_zone] + sorted(z for z in by_zone if z not in declared)
    return s.MarketTiles(
        market_id=market_id,
        zones=[
            s.ZoneTiles(
                zone=z,
                active_stalls=zones.get(z, Counts()).active_stalls,
                levels=levels_out(zones.get(z, Counts())),
                stalls=by_zone[z],
            )
            for z in order
        ],
    )


async def status_history_for(
    conn: asyncpg.Connection, *, user: User, market_id: int, limit: int
) -> list[s.StatusChange]:
    """A market's status changes, newest first."""
    await _readable_market(conn, user, market_id)
    return [
        s.StatusChange(
            status=h.status,
            previous_status=h.previous_status,
            rule_version=h.rule_version,
            reason=h.reason,
            changed_at=h.changed_at,
            active_stalls=h.counts.active_stalls,
            levels=levels_out(h.counts),
        )
        for h in await q.status_history(conn, market_id, limit)
    ]


MAX_HISTORY_DAYS = 1100


async def history_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int | None,
    start: date | None,
    end: date | None,
) -> s.CoverageHistory:
    """Daily series from snapshots (last value carried forward); today from the live counters."""
    if user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot read coverage numbers.")
    if market_id is not None:
        await _readable_market(conn, user, market_id)
        ids: list[int] | None = [market_id]
    else:
        ids = await access.market_scope(conn, user)
    today = local_day(datetime.now(UTC))
    end = end or today
    start = start or end - timedelta(days=90)
    if start > end:
        raise Invalid("'from' must not be after 'to'.", field="from")
    if (end - start).days > MAX_HISTORY_DAYS:
        raise Invalid(f"Ask for at most {MAX_HISTORY_DAYS} days at a time.", field="from")
    rows = await q.snapshot_series(conn, ids, start, min(end, today - timedelta(days=1)))
    points = [
        s.HistoryPoint(
            date=r.day,
            markets=r.markets,
            active_stalls=r.counts.active_stalls,
            levels=levels_out(r.counts),
            status=r.status if market_id is not None else None,
            statuses=s.StatusCounts(**r.statuses),
        )
        for r in rows
    ]
    if start <= today <= end:
        markets, counts, statuses = await q.sum_market_counters(conn, ids)
        single = [st for st in q.STATUS_NAMES if statuses[st]]
        points.append(
            s.HistoryPoint(
                date=today,
                markets=markets,
                active_stalls=counts.active_stalls,
                levels=levels_out(counts),
                status=single[0] if market_id is not None and single else None,
                statuses=s.StatusCounts(**statuses),
                live=True,
            )
        )
    return s.CoverageHistory.model_validate(
        {"market_id": market_id, "from": start, "to": end, "points": points}
    )


# ---------------------------------------------------------------- exports


EXPORT_COLUMNS = [
    "stall_id",
    "market_id",
    "market_name",
    "ward_code",
    "ward_name",
    "legacy_district",
    "stall_code",
    "zone",
    "goods",
    "status",
    "level",
    "registered",
    "qr_issued",
    "qr_verified",
    "transacting",
    "fees_cashless",
    "needs_revisit",
    "revisit_reason",
    "sign_issued_at",
    "sign_delivered_at",
    "verified_at",
    "verified_method",
    "last_payment_at",
    "account_count",
    "banks",
    "partner_codes",
    "lat",
    "lon",
    "location_source",
]
PERSONAL_COLUMNS = ["holder_name", "phone"]


async def export_scope(
    conn: asyncpg.Connection,
    *,
    user: User,
    market_id: int | None,
    ward_code: str | None,
    level: str | None,
    needs_revisit: bool | None,
) -> tuple[q.ExportFilter, bool]:
    """The filter an export runs with, and whether it may carry personal fields."""
    if user.role not in access.READ_ROLES:
        raise Forbidden("Your role cannot export stalls.")
    if market_id is not None:
        await _readable_market(conn, user, market_id)
    scope = await access.market_scope(conn, user)
    f = q.ExportFilter(
        market_ids=scope,
        market_id=market_id,
        ward_code=ward_code,
        level=level,
        needs_revisit=needs_revisit,
    )
    return f, access.sees_personal_data(user)


async def log_export(conn: asyncpg.Connection, f: q.ExportFilter, *, user: User, route: str) -> int:
    """Log the personal-data read of an export, one row per stallholder (like access.log_access)."""
    async with conn.transaction():
        return await q.log_export_access(conn, f, actor_id=user.id, route=route)


async def export_records(
    conn: asyncpg.Connection, f: q.ExportFilter, *, personal: bool
) -> AsyncIterator[dict]:
    """Flat export records in a stable column order."""
    from qr import banks

    async for r in q.export_rows(conn, f, personal=personal):
        flags = (
            r["registered"],
            r["qr_issued"],
            r["qr_verified"],
            r["transacting"],
            r["fees_cashless"],
        )
        has_own = r["lat"] is not None and r["lon"] is not None
        rec = {
            **{k: r[k] for k in EXPORT_COLUMNS if k in r},
            "level": highest_level(flags),
            "banks": " ".join(b.short_name if (b := banks.get(x)) else x for x in r["bins"]),
            "partner_codes": " ".join(r["partner_codes"]),
            "lat": r["lat"] if has_own else r["market_lat"],
            "lon": r["lon"] if has_own else r["market_lon"],
            "location_source": "stall"
            if has_own
            else ("market" if r["market_lat"] is not None else None),
            "zone": r["zone"] or "",
        }
        if personal:
            rec["holder_name"] = r["holder_name"]
            rec["phone"] = r["phone"]
        yield rec


# ---------------------------------------------------------------- report


async def report_pdf_for(
    conn: asyncpg.Connection, *, user: User, market_id: int, window_days: int
) -> bytes:
    """The one-page printable market report."""
    from merchants import report

    cov = await market_coverage_for(conn, user=user, market_id=market_id, window_days=window_days)
    header = await q.market_header(conn, market_id)
    assert header is not None
    today = local_day(datetime.now(UTC))
    history = await history_for(
        conn, user=user, market_id=market_id, start=today - timedelta(days=180), end=today
    )
    visits = await q.stalls_to_visit(conn, market_id)
    return await asyncio.to_thread(
        report.market_report,
        header=header,
        coverage=cov,
        history=history.points,
        visits=visits,
        today=today,
    )


@contextlib.asynccontextmanager
async def periodic_job(app) -> AsyncIterator[None]:  # noqa: ANN001 - a FastAPI app
    """Lifespan part: run reevaluate_all at start-up and every hour while the app runs."""
    settings = app.state.settings
    task = asyncio.create_task(
        run_periodically(
            app.state.pool, interval_s=3600, window_days=settings.transacting_window_days
        )
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
