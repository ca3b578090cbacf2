"""A stall's progress and the field facts behind it: sign printed or delivered, fees paid cashless."""

from __future__ import annotations

from typing import Literal

import asyncpg

from core import access, audit
from core.errors import StallNotFound
from core.types import User
from coverage import schemas as s
from coverage.counters import on_stall_changed
from coverage.queries import stalls as stalls_q
from coverage.scope import writable_stall
from coverage.shapes import stall_out


def needs_sign_sql(stall: str) -> str:
    """SQL condition on a stall id expression, for other packages' queries: the stall has no sign
    yet or its sign must be reprinted (coverage.queries.stalls.needs_sign)."""
    return stalls_q.needs_sign(stall)


def settled_sql(stall: str) -> str:
    """SQL condition on a stall id expression, for other packages' queries: nothing is left to do
    at the stall (coverage.queries.stalls.settled)."""
    return stalls_q.settled(stall)


async def stall_coverage(conn: asyncpg.Connection, stall_id: int) -> s.StallCoverage:
    """A stall's progress (no personal data)."""
    await stalls_q.ensure_stall_coverage(conn, stall_id)
    row = await stalls_q.stall_coverage_row(conn, stall_id)
    if row is None:
        raise StallNotFound(f"No stall with id {stall_id}.")
    return stall_out(row)


async def stall_coverage_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int
) -> s.StallCoverage:
    """stall_coverage within the caller's scope."""
    market_id = await stalls_q.stall_market(conn, stall_id)
    if market_id is None or not await access.can_see_market(conn, user, market_id):
        raise StallNotFound(f"No stall with id {stall_id}.")
    return await stall_coverage(conn, stall_id)


async def sign_delivered_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int, window_days: int
) -> s.StallCoverage:
    """A volunteer put the stall's sign up. The same sign delivered again (a second tap, a retry,
    a second device) changes nothing and counts once: only a sign printed since is a new one."""
    await writable_stall(conn, user, stall_id)
    async with conn.transaction():
        await stalls_q.ensure_stall_coverage(conn, stall_id)
        if await stalls_q.set_sign_delivered(conn, stall_id=stall_id, user_id=user.id):
            await audit.record(
                conn, actor_id=user.id, action="sign_delivered", entity="stall", entity_id=stall_id
            )
            await on_stall_changed(conn, stall_id=stall_id, window_days=window_days)
    return await stall_coverage(conn, stall_id)


async def fees_cashless_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int, value: bool, window_days: int
) -> s.StallCoverage:
    """Set whether the stall pays its market fees cashless."""
    await writable_stall(conn, user, stall_id)
    async with conn.transaction():
        await stalls_q.ensure_stall_coverage(conn, stall_id)
        await stalls_q.set_fees_cashless(conn, stall_id=stall_id, value=value)
        await audit.record(
            conn,
            actor_id=user.id,
            action="fees_cashless",
            entity="stall",
            entity_id=stall_id,
            after={"fees_cashless": value},
        )
        await on_stall_changed(conn, stall_id=stall_id, window_days=window_days)
    return await stall_coverage(conn, stall_id)


async def account_changing(
    conn: asyncpg.Connection,
    *,
    stall_id: int,
    account_id: int,
    reason: Literal["account_corrected", "account_deactivated"],
) -> None:
    """A payment account of the stall is about to be corrected or deactivated (the caller's
    transaction holds the stall row): a verification of it no longer holds, and a sign that shows
    it is flagged for reprint. The caller moves the counters once it changed (on_stall_changed)."""
    await stalls_q.ensure_stall_coverage(conn, stall_id)
    await stalls_q.clear_verification(conn, stall_id=stall_id, account_id=account_id)
    if await stalls_q.account_on_sign(conn, stall_id=stall_id, account_id=account_id):
        await stalls_q.set_reprint(conn, stall_id=stall_id, reason=reason)


async def sign_details_changed(conn: asyncpg.Connection, *, stall_id: int) -> None:
    """What a sign shows besides its payment code (the stall's code and zone, the stallholder's
    name, the goods) was edited (the caller's transaction holds the stall row): a sign hanging at the stall
    no longer matches it and is flagged for reprint, unless an account reason flagged it first."""
    await stalls_q.ensure_stall_coverage(conn, stall_id)
    if await stalls_q.sign_on_stall(conn, stall_id):
        await stalls_q.set_reprint_unless_flagged(
            conn, stall_id=stall_id, reason="sign_details_changed"
        )


async def holder_erased(conn: asyncpg.Connection, *, stall_id: int) -> None:
    """The stall's holder was erased and its accounts deactivated (privacy.requests.erase, in its
    transaction; the caller moves the counters after, on_stall_changed): the sign at the stall
    shows an account that is gone, so the stall no longer counts as having a sign, and payments
    to that account no longer make it transacting. It counts again from a new account's sign."""
    await stalls_q.ensure_stall_coverage(conn, stall_id)
    await stalls_q.forget_sign_and_payments(conn, stall_id)


async def flag_reprint(
    conn: asyncpg.Connection,
    *,
    stall_id: int,
    reason: Literal["account_corrected", "account_deactivated", "sign_details_changed"],
) -> None:
    """Say why the stall's sign needs a reprint (flagging it when it was not); for callers that
    re-judge a flag (merchants.signs.reprint_after_reactivation; no scope check, callers do it)."""
    await stalls_q.ensure_stall_coverage(conn, stall_id)
    await stalls_q.set_reprint(conn, stall_id=stall_id, reason=reason)


async def clear_reprint(conn: asyncpg.Connection, *, stall_id: int) -> None:
    """A new print of the stall's current account was confirmed: its sign no longer needs a
    reprint (for the print confirmation; no scope check, callers do it)."""
    await stalls_q.ensure_stall_coverage(conn, stall_id)
    await stalls_q.set_reprint(conn, stall_id=stall_id, reason=None)


# Why a stall is on the list to visit again when the account its sign shows was stopped by the
# partner that holds it (partners.onboarding.record_onboarding): suspended (it may come back) or
# removed (for good).
ACCOUNT_SUSPENDED = "account_suspended"
ACCOUNT_REMOVED = "account_removed"


async def account_stopped(
    conn: asyncpg.Connection, *, account_id: int, removed: bool, actor_id: int | None
) -> None:
    """The bank or wallet holding an active payment account suspended or removed it, in the
    caller's transaction: a sign at the stall that shows it may no longer bring money in, so the
    stall goes on the list to visit again (unless it is there already, for another reason). The
    levels counted do not move (the code on the sign still matches; payments that stop show in
    "Đang giao dịch")."""
    stall_id = await stalls_q.active_account_stall(conn, account_id)
    if stall_id is None:
        return
    await stalls_q.ensure_stall_coverage(conn, stall_id)
    if not await stalls_q.account_on_sign(conn, stall_id=stall_id, account_id=account_id):
        return
    reason = ACCOUNT_REMOVED if removed else ACCOUNT_SUSPENDED
    if await stalls_q.flag_revisit_unless_flagged(conn, stall_id=stall_id, reason=reason):
        await _revisit_audit(conn, "revisit_flagged", stall_id, account_id, reason, actor_id)


async def account_resumed(
    conn: asyncpg.Connection, *, account_id: int, actor_id: int | None
) -> None:
    """A suspension of an active payment account was lifted: the stall comes off the list to visit
    again if that was why (a removal is final; a return visit for another reason stays)."""
    stall_id = await stalls_q.active_account_stall(conn, account_id)
    if stall_id is None:
        return
    await stalls_q.ensure_stall_coverage(conn, stall_id)
    if await stalls_q.clear_revisit_for(conn, stall_id=stall_id, reason=ACCOUNT_SUSPENDED):
        await _revisit_audit(
            conn, "revisit_cleared", stall_id, account_id, ACCOUNT_SUSPENDED, actor_id
        )


async def _revisit_audit(
    conn: asyncpg.Connection,
    action: str,
    stall_id: int,
    account_id: int,
    reason: str,
    actor_id: int | None,
) -> None:
    await audit.record(
        conn,
        actor_id=actor_id,
        action=action,
        entity="stall",
        entity_id=stall_id,
        after={"reason": reason, "payment_account_id": account_id},
    )
