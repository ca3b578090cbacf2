"""The periodic job: transacting windows expire with time alone, so every hour (and at start-up)
one worker of all instances applies a rule version whose day has come, re-evaluates every market,
writes today's snapshots, and the areas' numbers of the days since its last run
(coverage_area_day, what country, province and ward series read)."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta

import asyncpg

from coverage.counters import apply_delta, delta_for, reevaluate_markets
from coverage.levels import local_day
from coverage.queries import counters as counters_q
from coverage.queries import history as qh
from coverage.queries import job as job_q
from coverage.queries import rule as rule_q
from coverage.queries import snapshots as snapshots_q
from coverage.queries import stalls as stalls_q
from coverage.queries.counts import Counts
from coverage.rule import apply_due_rules

log = logging.getLogger("choso.coverage")


async def reevaluate_all(
    conn: asyncpg.Connection,
    *,
    now: datetime | None = None,
    window_days: int,
    chunk: int = 1000,
) -> int:
    """Daily job: apply a scheduled rule whose day has come, expire `transacting` windows,
    re-evaluate every status, write today's snapshots.

    Returns how many stalls left the transacting window.
    """
    applied = await apply_due_rules(conn)
    if applied is not None:
        log.info("rule version %d applied on its day", applied)
    window = window_days
    if now is None:
        now = await job_q.db_now(conn)
    assert now is not None
    cutoff = now - timedelta(days=window)
    expired = 0
    for market_id in await stalls_q.expiring_markets(conn, cutoff):
        async with conn.transaction():
            rows = await stalls_q.expire_transacting(conn, market_id, cutoff)
            if not rows:
                continue
            expired += len(rows)
            gone = Counts(transacting=1)
            # Each stall left the window when its last payment became older than the window, not
            # when this job noticed: the counters move stall by stall at those moments, so a status
            # change carries the time it happened, the time the trend chart draws it.
            for last_payment_at, partners in rows:
                delta = delta_for([(gone, partners, Counts(), partners)])
                left = last_payment_at + timedelta(days=window)
                await apply_delta(
                    conn, market_id, delta, reason="daily", at=min(left, now), now=now
                )
    ids = await counters_q.all_market_ids(conn)
    for i in range(0, len(ids), chunk):
        async with conn.transaction():
            rule = await rule_q.current_rule(conn, lock="shared")
            await reevaluate_markets(conn, ids[i : i + chunk], rule, reason="daily", at=now)
    today = local_day(now)
    async with conn.transaction():
        await snapshots_q.snapshot_all(conn, day=today)
        await qh.write_area_days(conn, await area_days_due(conn, today))
    return expired


# The areas' numbers of a day are rewritten until the day is over: a status change after the
# last run of a day rewrites that day's snapshot of its market, so the next run (even days later,
# up to this many) rewrites the days since the last one written.
AREA_CATCH_UP_DAYS = 31


async def area_days_due(conn: asyncpg.Connection, today: date) -> list[date]:
    """The days whose area numbers the job (re)writes: from the last written (at most
    AREA_CATCH_UP_DAYS back, at least yesterday) to today."""
    last = await qh.last_area_day(conn)
    first = today - timedelta(days=1) if last is None else min(last, today - timedelta(days=1))
    first = max(first, today - timedelta(days=AREA_CATCH_UP_DAYS))
    return [first + timedelta(days=i) for i in range((today - first).days + 1)]


async def run_periodically(pool: asyncpg.Pool, *, interval_s: float, window_days: int) -> None:
    """Run reevaluate_all now and then every interval (the app starts this in its lifespan)."""
    while True:
        try:
            async with pool.acquire() as conn:
                if await job_q.try_job_lock(conn):
                    try:
                        expired = await reevaluate_all(conn, window_days=window_days)
                        log.info(
                            "coverage re-evaluated; %d stalls left the transacting window", expired
                        )
                    finally:
                        await job_q.release_job_lock(conn)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the next run tries again; the error is logged
            log.exception("coverage re-evaluation failed")
        await asyncio.sleep(interval_s)


async def rewrite_area_days(conn: asyncpg.Connection, *, start: date, end: date) -> None:
    """Rewrite the areas' numbers of every day from start to end (bulk loads, repairs)."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    for i in range(0, len(days), 10):
        async with conn.transaction():
            await qh.write_area_days(conn, days[i : i + 10])
