"""Return visits assigned to a person: a team leader, a manager or an administrator asks someone
who works in the market to go back to a stall (users_want #12: the return-visit list, assignable
to volunteers). One person per stall at a time; taking it back or giving it to someone else is in
the audit log. Whether someone was at the stall since is read from its visits, sign checks and
hand-overs (queries._BEEN_SINCE), never written."""

from __future__ import annotations

import asyncpg

from core import access, audit
from core.types import User
from merchants import markets, stalls
from teams import errors, queries, schemas


async def _assigner_team(conn: asyncpg.Connection, user: User, market_id: int) -> int | None:
    """Who may assign in this market: administrators and managers who may work in it (None: to
    anyone who works there), and a volunteer leading a team that works in it (their team's id: to
    its members). Anyone else: 403 not_assigner."""
    if user.role in ("admin", "manager"):
        await access.require_market_write(conn, user, market_id)
        return None
    if user.role == "volunteer":
        team = await queries.led_team_in_market(conn, user_id=user.id, market_id=market_id)
        if team is not None:
            return int(team)
    raise errors.NotAssigner(
        "Only the leader of a team working in this market, its managers and administrators "
        "assign return visits."
    )


def _out(stall_id: int, row: queries.AssignmentRow | None) -> schemas.Assignment:
    if row is None:
        return schemas.Assignment(
            stall_id=stall_id, user_id=None, name=None, assigned_by=None, assigned_at=None,
            visited_since=False, works_here=None,
        )  # fmt: skip
    return schemas.Assignment(
        stall_id=row.stall_id, user_id=row.user_id, name=row.name, assigned_by=row.assigned_by,
        assigned_at=row.assigned_at, visited_since=row.visited_since, works_here=row.works_here,
    )  # fmt: skip


async def set_assignment(
    conn: asyncpg.Connection, *, user: User, stall_id: int, body: schemas.AssignmentIn
) -> schemas.Assignment:
    """Ask this person to visit the stall again (or nobody: user_id null). The same person again
    changes nothing (the day it was asked stays), unless the stall was visited since: then they are
    asked once more, from now. A team leader changes only what is held by nobody, by a member of
    their team, or by someone who no longer works in the market (deactivated, or gone from it:
    `works_here` false); anything else is 403 not_assigner."""
    stall = await stalls.stall_in_scope(conn, user, stall_id)
    team = await _assigner_team(conn, user, stall.market_id)
    if body.user_id is not None:
        person = await queries.assignee(
            conn, market_id=stall.market_id, team_id=team, user_id=body.user_id
        )
        if person is None:
            raise errors.AssigneeNotEligible(
                f"User {body.user_id} cannot be asked to visit this market: only active "
                "volunteers and managers who work in it"
                + (" and are in your team" if team is not None else "")
                + " (GET /api/markets/{id}/assignees).",
                field="user_id",
            )
    async with conn.transaction():
        before = await queries.lock_assignment(conn, stall_id)
        current = await queries.assignment(conn, stall_id)
        if (
            team is not None
            and current is not None
            and current.works_here
            and not await queries.is_member(conn, team_id=team, user_id=current.user_id)
        ):
            raise errors.NotAssigner(
                "Someone outside your team is asked to visit this stall: a manager of the market "
                "can change it."
            )
        again = (
            before is not None
            and before == body.user_id
            and bool(current and current.visited_since)
        )
        if before != body.user_id or again:
            if body.user_id is None:
                await queries.delete_assignment(conn, stall_id)
            else:
                await queries.put_assignment(
                    conn, stall_id=stall_id, user_id=body.user_id, by=user.id
                )
            await audit.record(
                conn,
                actor_id=user.id,
                action="assign" if body.user_id is not None else "unassign",
                entity="stall",
                entity_id=stall_id,
                before={"user_id": before},
                after={"user_id": body.user_id},
            )
    return _out(stall_id, await queries.assignment(conn, stall_id))


async def stall_assignment(
    conn: asyncpg.Connection, *, user: User, stall_id: int
) -> schemas.Assignment:
    """Who is asked to visit this stall again (field roles in scope; 404 stall_not_found else)."""
    access.require_write_role(user)
    await stalls.stall_in_scope(conn, user, stall_id)
    return _out(stall_id, await queries.assignment(conn, stall_id))


async def _market_in_scope(conn: asyncpg.Connection, user: User, market_id: int) -> None:
    access.require_write_role(user)
    await markets.get_market_for(conn, user=user, market_id=market_id)


async def assignees(
    conn: asyncpg.Connection, *, user: User, market_id: int
) -> list[schemas.Assignee]:
    """Whom the caller may ask to visit this market's stalls."""
    await _market_in_scope(conn, user, market_id)
    team = await _assigner_team(conn, user, market_id)
    people = await queries.assignees(conn, market_id=market_id, team_id=team)
    return [
        schemas.Assignee(id=p.id, username=p.username, name=p.name, role=p.role) for p in people
    ]


async def market_assignments(
    conn: asyncpg.Connection, *, user: User, market_id: int
) -> list[schemas.Assignment]:
    """Who is asked to visit which of the market's stalls (field roles in scope)."""
    await _market_in_scope(conn, user, market_id)
    rows = await queries.market_assignments(conn, market_id)
    return [_out(r.stall_id, r) for r in rows]


async def my_assignments(conn: asyncpg.Connection, *, user: User) -> list[schemas.MyAssignment]:
    """The stalls the caller is asked to visit again, in the markets they work in now."""
    access.require_write_role(user)
    scope = await access.market_scope(conn, user)
    rows = await queries.assignments_of(conn, user_id=user.id, market_ids=scope)
    return [schemas.MyAssignment(**r) for r in rows]
