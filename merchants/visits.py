"""Visits to a stall: what a volunteer found there when the stall could not be registered or
finished yet (nobody there, not now, a document missing), or what they did besides (training, a
follow-up), so the next volunteer does not start over. Recorded exactly once per device key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from core import access, audit
from core.text import mask_numbers
from core.types import User
from merchants import errors, schemas, stalls
from merchants.queries import markets as markets_q
from merchants.queries import visits as visits_q

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# A visit sent later from a device's queue keeps the time it happened, up to this long ago.
OLDEST = timedelta(days=14)
# The day agreed to come back: from the visit's day, within a year.
COME_BACK_WITHIN = timedelta(days=366)


def _visit(row: visits_q.VisitRow) -> schemas.Visit:
    return schemas.Visit(
        id=row.id,
        stall_id=row.stall_id,
        outcome=row.outcome,  # type: ignore[arg-type]
        blockers=row.blockers,  # type: ignore[arg-type]
        come_back_on=row.come_back_on,
        note=row.note,
        visited_at=row.visited_at,
        visited_by=row.visited_by,
    )


def _when(body: schemas.VisitIn, now: datetime) -> datetime:
    """When the visit happened, checked against the server's clock. A time ahead of it is a device
    clock running fast: the visit happened now."""
    at = min(body.visited_at or now, now)
    if at < now - OLDEST:
        raise errors.InvalidVisitedAt(
            "visited_at must be within the last 14 days (a visit is sent from the queue within "
            "days, not weeks).",
            field="visited_at",
        )
    if body.come_back_on is not None:
        day = at.astimezone(VN).date()
        if not day <= body.come_back_on <= day + COME_BACK_WITHIN:
            raise errors.InvalidComeBackOn(
                "come_back_on must be the visit's day or later, within a year.",
                field="come_back_on",
            )
    return at


def _note(body: schemas.VisitIn) -> str | None:
    """The note as it is kept: any phone, account or CCCD number cut to its last 4 digits."""
    return mask_numbers(body.note) if body.note else None


def _same(row: visits_q.VisitRow, stall_id: int, body: schemas.VisitIn) -> bool:
    """Whether a stored visit is the one this request sends (a retry), not another one."""
    return (
        row.stall_id == stall_id
        and row.outcome == body.outcome
        and list(row.blockers) == list(body.blockers)
        and row.come_back_on == body.come_back_on
        and row.note == _note(body)
        and (body.visited_at is None or row.visited_at == min(body.visited_at, row.visited_at))
    )


def _replay(row: visits_q.VisitRow, stall_id: int, body: schemas.VisitIn) -> schemas.Visit:
    """The recorded visit, when the request is that visit sent again."""
    if not _same(row, stall_id, body):
        raise errors.IdempotencyKeyReused(
            "This Idempotency-Key was already used for another visit; make a new one per visit."
        )
    return _visit(row)


async def record_visit_for(
    conn: asyncpg.Connection,
    *,
    user: User,
    stall_id: int,
    body: schemas.VisitIn,
    idempotency_key: str,
) -> tuple[schemas.Visit, bool]:
    """Record a visit in the caller's scope; returns (visit, replayed). The same key sent again
    with the same visit answers the stored one; with another visit, idempotency_key_reused."""
    access.require_write_role(user)
    # A retry is answered before anything else is checked again: the visit is recorded, and a
    # check that would refuse it now (the time window moved on, the market was archived) must not
    # turn it into a failure on the device.
    existing = await visits_q.visit_by_key(conn, user_id=user.id, client_key=idempotency_key)
    if existing is not None:
        return _replay(existing, stall_id, body), True
    stall = await stalls.stall_in_scope(conn, user, stall_id)
    await access.require_market_write(conn, user, stall.market_id)
    at = _when(body, datetime.now(UTC))
    async with conn.transaction():
        new_id = await visits_q.insert_visit(
            conn,
            stall_id=stall_id,
            outcome=body.outcome,
            blockers=list(body.blockers),
            come_back_on=body.come_back_on,
            note=_note(body),
            visited_at=at,
            user_id=user.id,
            client_key=idempotency_key,
        )
        if new_id is None:  # the same key, sent at the same time: the other request recorded it
            existing = await visits_q.visit_by_key(
                conn, user_id=user.id, client_key=idempotency_key
            )
            assert existing is not None
            return _replay(existing, stall_id, body), True
        # The note stays out of the audit log: it may say things about the person, and the visit
        # row is where an erasure clears it.
        await audit.record(
            conn,
            actor_id=user.id,
            action="visit",
            entity="stall",
            entity_id=stall_id,
            after={
                "visit_id": new_id,
                "outcome": body.outcome,
                "blockers": list(body.blockers),
                "come_back_on": body.come_back_on.isoformat() if body.come_back_on else None,
            },
        )
        return _visit(await visits_q.visit(conn, new_id)), False


async def stall_visits_for(
    conn: asyncpg.Connection, *, user: User, stall_id: int, route: str, limit: int
) -> list[schemas.Visit]:
    """The stall's visits in scope, latest first; the read is logged (notes may be about the
    stallholder)."""
    stall = await stalls.stall_in_scope(conn, user, stall_id)
    await access.log_access(
        conn, user=user, stallholder_id=stall.holder.id, route=route, reason="stall_visits"
    )
    return [_visit(r) for r in await visits_q.stall_visits(conn, stall_id, limit=limit)]


# Appointments missed by up to this long still show: the stall is still to be visited.
OVERDUE = timedelta(days=7)


async def appointments_for(
    conn: asyncpg.Connection, *, user: User, market_id: int
) -> schemas.MarketAppointments:
    """The days agreed to come back to the market's stalls where work is left (a week overdue at
    most), for the printed list of the next visit: stall, zone, day and what the last visit found;
    no names or notes. Field roles, in scope (a market out of scope reads as one that does not
    exist)."""
    access.require_write_role(user)
    if not await markets_q.market_exists(conn, market_id) or not await access.can_see_market(
        conn, user, market_id
    ):
        raise errors.MarketNotFound(f"No market with id {market_id}.")
    since = datetime.now(VN).date() - OVERDUE
    rows = await visits_q.appointments(conn, market_id, since=since)
    return schemas.MarketAppointments(
        market_id=market_id,
        since=since,
        appointments=[
            schemas.Appointment(
                stall_id=r.stall_id,
                stall_code=r.stall_code,
                zone=r.zone,
                come_back_on=r.come_back_on,
                outcome=r.outcome,  # type: ignore[arg-type]
                blockers=r.blockers,  # type: ignore[arg-type]
                visited_at=r.visited_at,
            )
            for r in rows
        ],
    )
