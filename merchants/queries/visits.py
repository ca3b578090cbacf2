"""SQL of stall visits: write one exactly once per device key, read a stall's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from coverage import stalls as coverage_stalls
from privacy import consent


@dataclass(frozen=True)
class VisitRow:
    id: int
    stall_id: int
    outcome: str
    blockers: list[str]
    come_back_on: date | None
    note: str | None
    visited_at: datetime
    created_by: int
    visited_by: str | None


def agreed_visit_sql(stall: str) -> str:
    """A LATERAL subquery (alias it) of the visit whose day to come back still stands at stall
    `stall` (an SQL expression): the latest visit that set a day, unless a visit was made on or
    after that day since (it was kept). A later visit that sets no day keeps it: the stallholder
    still expects the volunteer then. A stallholder who withdrew their consent to the
    registration has left the programme: no day stands (the team went back to them). Columns:
    outcome, blockers, come_back_on, visited_at."""
    holder = f"(SELECT holder_id FROM stall WHERE id = {stall})"
    return f"""(SELECT a.outcome, a.blockers, a.come_back_on, a.visited_at
         FROM (SELECT id, outcome, blockers, come_back_on, visited_at FROM stall_visit
               WHERE stall_id = {stall} AND come_back_on IS NOT NULL
               ORDER BY visited_at DESC, id DESC LIMIT 1) a
         WHERE {consent.consented_sql(holder, "'registration'")}
           AND NOT EXISTS (
             SELECT 1 FROM stall_visit b
             WHERE b.stall_id = {stall} AND (b.visited_at, b.id) > (a.visited_at, a.id)
               AND (b.visited_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date >= a.come_back_on))"""


_COLUMNS = """v.id, v.stall_id, v.outcome, v.blockers, v.come_back_on, v.note, v.visited_at,
              v.created_by, coalesce(nullif(u.display_name, ''), u.username) AS visited_by"""


async def insert_visit(
    conn: asyncpg.Connection,
    *,
    stall_id: int,
    outcome: str,
    blockers: list[str],
    come_back_on: date | None,
    note: str | None,
    visited_at: datetime,
    user_id: int,
    client_key: str,
) -> int | None:
    """The new visit's id; None when this user already sent a visit with this key."""
    value: int | None = await conn.fetchval(
        """INSERT INTO stall_visit (stall_id, outcome, blockers, come_back_on, note, visited_at,
                                    created_by, client_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (created_by, client_key) DO NOTHING
           RETURNING id""",
        stall_id,
        outcome,
        blockers,
        come_back_on,
        note,
        visited_at,
        user_id,
        client_key,
    )
    return value


async def visit_by_key(
    conn: asyncpg.Connection, *, user_id: int, client_key: str
) -> VisitRow | None:
    row = await conn.fetchrow(
        f"""SELECT {_COLUMNS} FROM stall_visit v JOIN app_user u ON u.id = v.created_by
            WHERE v.created_by = $1 AND v.client_key = $2""",
        user_id,
        client_key,
    )
    return VisitRow(**dict(row)) if row else None


async def visit(conn: asyncpg.Connection, visit_id: int) -> VisitRow:
    row = await conn.fetchrow(
        f"""SELECT {_COLUMNS} FROM stall_visit v JOIN app_user u ON u.id = v.created_by
            WHERE v.id = $1""",
        visit_id,
    )
    assert row is not None
    return VisitRow(**dict(row))


async def stall_visits(conn: asyncpg.Connection, stall_id: int, *, limit: int) -> list[VisitRow]:
    """The stall's visits, latest first (by when they happened)."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM stall_visit v JOIN app_user u ON u.id = v.created_by
            WHERE v.stall_id = $1
            ORDER BY v.visited_at DESC, v.id DESC LIMIT $2""",
        stall_id,
        limit,
    )
    return [VisitRow(**dict(r)) for r in rows]


@dataclass(frozen=True)
class AppointmentRow:
    stall_id: int
    stall_code: str
    zone: str | None
    outcome: str
    blockers: list[str]
    come_back_on: date
    visited_at: datetime


async def appointments(
    conn: asyncpg.Connection, market_id: int, *, since: date
) -> list[AppointmentRow]:
    """The market's active stalls with a day agreed to come back that still stands
    (agreed_visit_sql; that day from `since` on) and where work is left or that visit asked for a
    follow-up (what it is about is not the stall's level: it stands), by that day, then stall
    code; with the visit that agreed it."""
    rows = await conn.fetch(
        """SELECT s.id AS stall_id, s.stall_code, s.zone, v.outcome, v.blockers, v.come_back_on,
                  v.visited_at
           FROM stall s
           JOIN LATERAL """
        + agreed_visit_sql("s.id")
        + """ v ON v.come_back_on >= $2
           WHERE s.market_id = $1 AND s.status = 'active'
             AND (v.outcome = 'follow_up' OR NOT """
        + coverage_stalls.settled_sql("s.id")
        + ") ORDER BY v.come_back_on, s.code_sort, s.id",
        market_id,
        since,
    )
    return [AppointmentRow(**dict(r)) for r in rows]
