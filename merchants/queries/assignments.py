"""SQL of return-visit assignments: who is asked to go back to which stall."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

# The people who may be asked to visit a market's stalls: active volunteers and managers whose
# scope covers it (core.queries _SCOPE_FACTS: the market, its ward or its province), and when
# $team is set only that team's current members. $market, $team.
_ELIGIBLE = """
SELECT u.id, u.username, coalesce(nullif(u.display_name, ''), u.username) AS name, u.role
FROM app_user u, market mk
WHERE mk.id = $1 AND u.active AND u.role IN ('volunteer', 'manager')
  AND (EXISTS (SELECT 1 FROM user_market um WHERE um.user_id = u.id AND um.market_id = mk.id)
       OR EXISTS (SELECT 1 FROM user_ward w WHERE w.user_id = u.id
                  AND w.ward_scheme = mk.ward_scheme AND w.ward_code = mk.ward_code)
       OR EXISTS (SELECT 1 FROM user_province p WHERE p.user_id = u.id
                  AND p.province_code = mk.province_code))
  AND ($2::bigint IS NULL OR EXISTS (SELECT 1 FROM team_membership m WHERE m.user_id = u.id
                                     AND m.team_id = $2 AND m.left_at IS NULL))
"""


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    name: str
    role: str


async def eligible(
    conn: asyncpg.Connection, *, market_id: int, team_id: int | None
) -> list[Person]:
    """Everyone who may be asked to visit this market's stalls, by name."""
    rows = await conn.fetch(_ELIGIBLE + " ORDER BY name, u.id", market_id, team_id)
    return [Person(**dict(r)) for r in rows]


async def eligible_one(
    conn: asyncpg.Connection, *, market_id: int, team_id: int | None, user_id: int
) -> Person | None:
    """This user, when they may be asked to visit this market's stalls."""
    row = await conn.fetchrow(_ELIGIBLE + " AND u.id = $3", market_id, team_id, user_id)
    return Person(**dict(row)) if row else None


async def leader_team(conn: asyncpg.Connection, *, user_id: int, market_id: int) -> int | None:
    """The team the user leads now, when that team works in this market."""
    return await conn.fetchval(
        """SELECT t.id FROM team t
           JOIN team_membership m ON m.team_id = t.id AND m.user_id = t.leader_id
                                 AND m.left_at IS NULL
           JOIN team_market tm ON tm.team_id = t.id AND tm.market_id = $2
           WHERE t.leader_id = $1""",
        user_id,
        market_id,
    )


async def team_member(conn: asyncpg.Connection, *, team_id: int, user_id: int) -> bool:
    """Whether the user is a member of the team now."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM team_membership WHERE team_id = $1 AND user_id = $2"
            " AND left_at IS NULL)",
            team_id,
            user_id,
        )
    )


@dataclass(frozen=True)
class AssignmentRow:
    stall_id: int
    user_id: int
    name: str
    assigned_by: str
    assigned_at: datetime
    visited_since: bool  # a visit of the stall was recorded since it was assigned


_ASSIGNMENT = """
SELECT a.stall_id, a.user_id, coalesce(nullif(u.display_name, ''), u.username) AS name,
       coalesce(nullif(b.display_name, ''), b.username) AS assigned_by, a.assigned_at,
       EXISTS (SELECT 1 FROM stall_visit v
               WHERE v.stall_id = a.stall_id AND v.visited_at >= a.assigned_at) AS visited_since
FROM stall_assignment a
JOIN app_user u ON u.id = a.user_id
JOIN app_user b ON b.id = a.assigned_by
"""


async def assignment(conn: asyncpg.Connection, stall_id: int) -> AssignmentRow | None:
    row = await conn.fetchrow(_ASSIGNMENT + " WHERE a.stall_id = $1", stall_id)
    return AssignmentRow(**dict(row)) if row else None


async def lock_assignment(conn: asyncpg.Connection, stall_id: int) -> int | None:
    """Who the stall is assigned to now (in the caller's transaction). The stall's row is locked
    first (NO KEY UPDATE: an edit of the stall waits, a reference to it does not), so that two
    people assigning the same stall at once write one after the other and each audit entry's
    `before` is what the other left. Two statements: read after the lock, the assignment is seen
    as the other transaction committed it (one statement would read it as it was before waiting)."""
    await conn.execute("SELECT 1 FROM stall WHERE id = $1 FOR NO KEY UPDATE", stall_id)
    return await conn.fetchval("SELECT user_id FROM stall_assignment WHERE stall_id = $1", stall_id)


async def put_assignment(conn: asyncpg.Connection, *, stall_id: int, user_id: int, by: int) -> None:
    await conn.execute(
        """INSERT INTO stall_assignment (stall_id, user_id, assigned_by) VALUES ($1, $2, $3)
           ON CONFLICT (stall_id) DO UPDATE
           SET user_id = excluded.user_id, assigned_by = excluded.assigned_by,
               assigned_at = clock_timestamp()""",
        stall_id,
        user_id,
        by,
    )


async def delete_assignment(conn: asyncpg.Connection, stall_id: int) -> None:
    await conn.execute("DELETE FROM stall_assignment WHERE stall_id = $1", stall_id)


async def market_assignments(conn: asyncpg.Connection, market_id: int) -> list[AssignmentRow]:
    """The market's assigned stalls, in stall-code order."""
    rows = await conn.fetch(
        _ASSIGNMENT
        + " JOIN stall s ON s.id = a.stall_id WHERE s.market_id = $1 ORDER BY s.code_sort, s.id",
        market_id,
    )
    return [AssignmentRow(**dict(r)) for r in rows]


async def mine(
    conn: asyncpg.Connection, *, user_id: int, market_ids: list[int] | None
) -> list[dict]:
    """The stalls this user is asked to visit again (schemas.MyAssignment's fields): those not
    visited since, and those visited that were asked in the last 14 days, in markets of their scope (None: all); the
    ones not visited since first, then by market and stall code."""
    rows = await conn.fetch(
        """SELECT a.stall_id, s.stall_code, s.zone, s.market_id, mk.name AS market_name,
                  coalesce(nullif(b.display_name, ''), b.username) AS assigned_by, a.assigned_at,
                  EXISTS (SELECT 1 FROM stall_visit v WHERE v.stall_id = a.stall_id
                          AND v.visited_at >= a.assigned_at) AS visited_since
           FROM stall_assignment a
           JOIN stall s ON s.id = a.stall_id
           JOIN market mk ON mk.id = s.market_id
           JOIN app_user b ON b.id = a.assigned_by
           WHERE a.user_id = $1 AND ($2::bigint[] IS NULL OR s.market_id = any($2::bigint[]))
             AND (a.assigned_at > clock_timestamp() - interval '14 days'
                  OR NOT EXISTS (SELECT 1 FROM stall_visit v WHERE v.stall_id = a.stall_id
                                 AND v.visited_at >= a.assigned_at))
           ORDER BY visited_since, mk.name, s.code_sort, s.id""",
        user_id,
        market_ids,
    )
    return [dict(r) for r in rows]
