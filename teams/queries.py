"""SQL of teams (members with history, markets, the scope they give) and of field activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from core import access
from teams import kinds

# ---------------------------------------------------------------- reading teams

_TEAM_SELECT = """
SELECT t.id, t.name, t.ward_code, w.name AS ward_name, t.leader_id, t.created_at, t.updated_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'id', u.id, 'username', u.username, 'role', u.role,
                     'display_name', nullif(u.display_name, ''), 'joined_at', m.joined_at,
                     'is_leader', u.id IS NOT DISTINCT FROM t.leader_id)
                     ORDER BY u.id IS DISTINCT FROM t.leader_id, u.username)
                 FROM team_membership m JOIN app_user u ON u.id = m.user_id
                 WHERE m.team_id = t.id AND m.left_at IS NULL), '[]') AS members,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                     'id', u.id, 'username', u.username,
                     'display_name', nullif(u.display_name, ''),
                     'joined_at', m.joined_at, 'left_at', m.left_at)
                     ORDER BY m.left_at DESC, m.id DESC)
                 FROM team_membership m JOIN app_user u ON u.id = m.user_id
                 WHERE m.team_id = t.id AND m.left_at IS NOT NULL), '[]') AS past_members,
       coalesce((SELECT jsonb_agg(jsonb_build_object('id', k.id, 'name', k.name)
                     ORDER BY k.name_sort, k.name, k.id)
                 FROM team_market tm JOIN market k ON k.id = tm.market_id
                 WHERE tm.team_id = t.id), '[]') AS markets
FROM team t
LEFT JOIN admin_unit w ON w.scheme = t.ward_scheme AND w.code = t.ward_code
"""


async def teams(conn: asyncpg.Connection, team_ids: list[int] | None) -> list[dict[str, Any]]:
    """Teams (all, or these) with members, past members and markets; by ward name, then name."""
    rows = await conn.fetch(
        _TEAM_SELECT
        + " WHERE $1::bigint[] IS NULL OR t.id = any($1::bigint[]) ORDER BY w.name, t.name, t.id",
        team_ids,
    )
    return [dict(r) for r in rows]


@dataclass(frozen=True)
class TeamState:
    """What a change of a team starts from (read with the team's row locked)."""

    id: int
    name: str
    ward_code: str
    leader_id: int | None
    member_ids: list[int]
    market_ids: list[int]


async def lock_team(conn: asyncpg.Connection, team_id: int) -> TeamState | None:
    """A team's fields, current members and markets; its row stays locked until the commit."""
    row = await conn.fetchrow(
        """SELECT t.id, t.name, t.ward_code, t.leader_id,
                  ARRAY(SELECT user_id FROM team_membership
                        WHERE team_id = t.id AND left_at IS NULL ORDER BY user_id) AS member_ids,
                  ARRAY(SELECT market_id FROM team_market
                        WHERE team_id = t.id ORDER BY market_id) AS market_ids
           FROM team t WHERE t.id = $1 FOR UPDATE""",
        team_id,
    )
    return TeamState(**dict(row)) if row else None


@dataclass(frozen=True)
class TeamPlace:
    """Where a team works: its ward and markets (for scope checks)."""

    id: int
    ward_code: str
    market_ids: list[int]


async def team_place(conn: asyncpg.Connection, team_id: int) -> TeamPlace | None:
    """A team's ward and markets."""
    row = await conn.fetchrow(
        """SELECT id, ward_code, ARRAY(SELECT market_id FROM team_market WHERE team_id = t.id
                                       ORDER BY market_id) AS market_ids
           FROM team t WHERE id = $1""",
        team_id,
    )
    return TeamPlace(**dict(row)) if row else None


@dataclass(frozen=True)
class ManagedScope:
    """What a manager manages, from their own scope rows (never from a team they are in)."""

    market_ids: list[int]
    ward_codes: list[str]


async def managed_scope(conn: asyncpg.Connection, user_id: int) -> ManagedScope:
    """Markets assigned to the user directly, through a ward or through a whole province, and
    the wards of all three (a province's: every ward of it in the directory)."""
    row = await conn.fetchrow(
        """WITH direct AS (
               SELECT market_id FROM user_market WHERE user_id = $1 AND team_id IS NULL
               UNION
               SELECT m.id FROM market m JOIN user_ward w
                 ON w.ward_scheme = m.ward_scheme AND w.ward_code = m.ward_code
               WHERE w.user_id = $1
               UNION
               SELECT m.id FROM market m JOIN user_province p ON p.province_code = m.province_code
               WHERE p.user_id = $1
           ), wards AS (
               SELECT ward_code FROM user_ward WHERE user_id = $1 AND ward_scheme = '2025-07'
               UNION
               SELECT a.code FROM admin_unit a JOIN user_province p
                 ON a.scheme = p.province_scheme AND a.parent_code = p.province_code
               WHERE p.user_id = $1 AND a.scheme = '2025-07' AND a.level = 'ward'
               UNION
               SELECT ward_code FROM market
               WHERE id IN (SELECT market_id FROM direct) AND ward_scheme = '2025-07'
                 AND ward_code IS NOT NULL
           )
           SELECT ARRAY(SELECT market_id FROM direct ORDER BY 1) AS market_ids,
                  ARRAY(SELECT ward_code FROM wards ORDER BY 1) AS ward_codes""",
        user_id,
    )
    return ManagedScope(market_ids=list(row["market_ids"]), ward_codes=list(row["ward_codes"]))


async def teams_in(
    conn: asyncpg.Connection, *, market_ids: list[int], ward_codes: list[str]
) -> list[int]:
    """Teams of these wards, or working in one of these markets."""
    rows = await conn.fetch(
        """SELECT t.id FROM team t
           WHERE (t.ward_scheme = '2025-07' AND t.ward_code = any($2::text[]))
              OR EXISTS (SELECT 1 FROM team_market tm
                         WHERE tm.team_id = t.id AND tm.market_id = any($1::bigint[]))
           ORDER BY t.id""",
        market_ids,
        ward_codes,
    )
    return [int(r["id"]) for r in rows]


async def current_team(conn: asyncpg.Connection, user_id: int) -> tuple[int, bool] | None:
    """(team id, whether the user leads it) of the user's current team."""
    row = await conn.fetchrow(
        """SELECT m.team_id, t.leader_id IS NOT DISTINCT FROM m.user_id AS leads
           FROM team_membership m JOIN team t ON t.id = m.team_id
           WHERE m.user_id = $1 AND m.left_at IS NULL""",
        user_id,
    )
    return (int(row["team_id"]), bool(row["leads"])) if row else None


@dataclass(frozen=True)
class UserFacts:
    id: int
    role: str
    active: bool


async def user_facts(conn: asyncpg.Connection, user_ids: list[int]) -> list[UserFacts]:
    """Role and active flag of these users (unknown ids are left out)."""
    rows = await conn.fetch(
        "SELECT id, role, active FROM app_user WHERE id = any($1::bigint[]) ORDER BY id", user_ids
    )
    return [UserFacts(**dict(r)) for r in rows]


async def missing_markets(conn: asyncpg.Connection, market_ids: list[int]) -> list[int]:
    """Which of these market ids do not exist."""
    rows = await conn.fetch(
        "SELECT x FROM unnest($1::bigint[]) x WHERE NOT EXISTS (SELECT 1 FROM market WHERE id = x)"
        " ORDER BY x",
        market_ids,
    )
    return [int(r["x"]) for r in rows]


async def memberships_elsewhere(
    conn: asyncpg.Connection, *, user_ids: list[int], team_id: int | None
) -> list[tuple[int, int]]:
    """(user id, team id) of these users' current memberships in other teams."""
    rows = await conn.fetch(
        """SELECT user_id, team_id FROM team_membership
           WHERE user_id = any($1::bigint[]) AND left_at IS NULL
             AND team_id IS DISTINCT FROM $2::bigint
           ORDER BY user_id""",
        user_ids,
        team_id,
    )
    return [(int(r["user_id"]), int(r["team_id"])) for r in rows]


async def candidates(
    conn: asyncpg.Connection, *, query: str | None, limit: int, scope: ManagedScope | None
) -> list[dict]:
    """Active volunteers and managers (by username or name) with the team they are in now.

    For a manager (`scope`), only people of their area: not in a team of another ward, and with
    no area of their own or one that meets the manager's (a ward, a market, or a province holding
    one of the manager's wards). Others' names and teams are not the manager's to see."""
    rows = await conn.fetch(
        """SELECT u.id, u.username, nullif(u.display_name, '') AS display_name, u.role,
                  m.team_id, t.name AS team_name
           FROM app_user u
           LEFT JOIN team_membership m ON m.user_id = u.id AND m.left_at IS NULL
           LEFT JOIN team t ON t.id = m.team_id
           WHERE u.active AND u.role IN ('volunteer', 'manager')
             AND ($1::text IS NULL OR strpos(lower(u.username), lower($1)) > 0
                  -- folded as the ward search folds (migration 0008): no case, no marks, đ = d
                  OR strpos(admin_unit_fold(u.display_name), admin_unit_fold($1)) > 0)
             AND ($3::text[] IS NULL OR (
                  (m.team_id IS NULL OR t.ward_code = any($3::text[]))
                  AND (
                      (NOT EXISTS (SELECT 1 FROM user_ward w WHERE w.user_id = u.id)
                       AND NOT EXISTS (SELECT 1 FROM user_market k WHERE k.user_id = u.id)
                       AND NOT EXISTS (SELECT 1 FROM user_province p WHERE p.user_id = u.id))
                      OR EXISTS (SELECT 1 FROM user_ward w
                                 WHERE w.user_id = u.id AND w.ward_code = any($3::text[]))
                      OR EXISTS (SELECT 1 FROM user_market k
                                 WHERE k.user_id = u.id AND k.market_id = any($4::bigint[]))
                      OR EXISTS (SELECT 1 FROM user_province p JOIN admin_unit a
                                   ON a.scheme = p.province_scheme AND a.parent_code = p.province_code
                                 WHERE p.user_id = u.id AND a.level = 'ward'
                                   AND a.code = any($3::text[])))))
           ORDER BY u.username LIMIT $2""",
        query,
        limit,
        None if scope is None else scope.ward_codes,
        None if scope is None else scope.market_ids,
    )
    return [dict(r) for r in rows]


# ---------------------------------------------------------------- writing teams


async def insert_team(
    conn: asyncpg.Connection, *, name: str, ward_code: str, leader_id: int | None, created_by: int
) -> int:
    """A new team; UniqueViolationError (team_ward_name_key) when the ward has one of this name."""
    return int(
        await conn.fetchval(
            "INSERT INTO team (name, ward_code, leader_id, created_by) VALUES ($1, $2, $3, $4) "
            "RETURNING id",
            name,
            ward_code,
            leader_id,
            created_by,
        )
    )


async def update_team(
    conn: asyncpg.Connection, *, team_id: int, name: str, ward_code: str, leader_id: int | None
) -> None:
    """Write a team's name, ward and leader."""
    await conn.execute(
        "UPDATE team SET name = $2, ward_code = $3, leader_id = $4, updated_at = clock_timestamp() "
        "WHERE id = $1",
        team_id,
        name,
        ward_code,
        leader_id,
    )


async def join(conn: asyncpg.Connection, *, team_id: int, user_ids: list[int], by: int) -> None:
    """Open memberships; UniqueViolationError (team_membership_current_key) when a user is in
    another team meanwhile."""
    await conn.execute(
        "INSERT INTO team_membership (team_id, user_id, added_by) "
        "SELECT $1, x, $3 FROM unnest($2::bigint[]) x ORDER BY x",
        team_id,
        user_ids,
        by,
    )


async def leave(conn: asyncpg.Connection, *, team_id: int, user_ids: list[int], by: int) -> None:
    """Close these users' open memberships of the team (the rows stay: history)."""
    await conn.execute(
        "UPDATE team_membership SET left_at = clock_timestamp(), removed_by = $3 "
        "WHERE team_id = $1 AND user_id = any($2::bigint[]) AND left_at IS NULL",
        team_id,
        user_ids,
        by,
    )


async def set_markets(conn: asyncpg.Connection, *, team_id: int, market_ids: list[int]) -> None:
    """Replace a team's markets."""
    await conn.execute(
        "DELETE FROM team_market WHERE team_id = $1 AND market_id <> ALL($2::bigint[])",
        team_id,
        market_ids,
    )
    await conn.execute(
        "INSERT INTO team_market (team_id, market_id) SELECT $1, unnest($2::bigint[]) "
        "ON CONFLICT DO NOTHING",
        team_id,
        market_ids,
    )


async def sync_scope(conn: asyncpg.Connection, *team_ids: int) -> None:
    """Make the teams' user_market rows what their members and markets say: one row per current
    member and market, none for members who left or markets a team gave up."""
    await conn.execute(
        """WITH wanted AS (
               SELECT m.team_id, m.user_id, tm.market_id
               FROM team_membership m JOIN team_market tm ON tm.team_id = m.team_id
               WHERE m.team_id = ANY($1::bigint[]) AND m.left_at IS NULL
           ), gone AS (
               DELETE FROM user_market um
               WHERE um.team_id = ANY($1::bigint[])
                 AND NOT EXISTS (SELECT 1 FROM wanted w
                                 WHERE w.team_id = um.team_id AND w.user_id = um.user_id
                                   AND w.market_id = um.market_id)
               RETURNING 1
           )
           INSERT INTO user_market (user_id, market_id, team_id)
           SELECT user_id, market_id, team_id FROM wanted ORDER BY team_id, user_id, market_id
           ON CONFLICT DO NOTHING""",
        list(team_ids),
    )


# ---------------------------------------------------------------- activity

_ICT = "'Asia/Ho_Chi_Minh'"

# The group key of an attributed action `x`, and its label (columns of `x` and joined names).
_GROUPS: dict[str, tuple[str, str]] = {
    "day": (f"((x.at AT TIME ZONE {_ICT})::date)::text", "g.key"),
    "user": (
        "x.actor_id::text",
        # The name people know, with the user name that tells two of the same name apart.
        "CASE WHEN $9 THEN (SELECT CASE WHEN coalesce(display_name, '') <> ''"
        " THEN display_name || ' (' || username || ')' ELSE username END"
        " FROM app_user WHERE id = g.key::bigint) END",
    ),
    "team": ("x.team_id::text", "(SELECT name FROM team WHERE id = g.key::bigint)"),
    "market": ("x.market_id::text", "(SELECT name FROM market WHERE id = g.key::bigint)"),
    "ward": (
        "(SELECT ward_code FROM market WHERE id = x.market_id)",
        "(SELECT name FROM admin_unit WHERE scheme = '2025-07' AND code = g.key)",
    ),
}

_COUNTS = ",\n".join(f"count(*) FILTER (WHERE x.kind = '{k}') AS {k}" for k in kinds.KINDS)

# Field actions of a period, each with its market and the actor's team at that moment.
#   $1-$3 the mapping (action, entity, kind); $4, $5 first and last local day;
#   $6 market ids in scope (NULL: all); $7 only this actor ... $8 ... or this team's actions;
#   $9 whether names may be shown; $10 verify methods that are not field work.
_ACTIVITY = """
WITH kind AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS k (action, entity, kind)
), entry AS (
    SELECT a.id, a.actor_id, a.at, a.action, a.entity,
           CASE WHEN a.entity_id ~ '^[0-9]{{1,18}}$' THEN a.entity_id::bigint END AS eid
    FROM audit_log a
    WHERE a.at >= ($4::date)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
      AND a.at < ($5::date + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh'
      AND a.actor_id IS NOT NULL
      AND (a.action, a.entity) IN (SELECT action, entity FROM kind)
      AND NOT (a.action = 'verify' AND coalesce(a.after->>'method', '') = any($10::text[]))
), placed AS (
    SELECT e.*,
           CASE e.entity
               WHEN 'stall' THEN (SELECT market_id FROM stall WHERE id = e.eid)
               WHEN 'stallholder' THEN (SELECT s.market_id FROM stall s WHERE s.holder_id = e.eid
                                        ORDER BY s.id LIMIT 1)
               WHEN 'payment_account' THEN (SELECT s.market_id FROM payment_account p
                                            JOIN stall s ON s.id = p.stall_id WHERE p.id = e.eid)
           END AS market_id,
           (SELECT m.team_id FROM team_membership m
            WHERE m.user_id = e.actor_id AND m.joined_at <= e.at
              AND (m.left_at IS NULL OR e.at < m.left_at)
            ORDER BY m.joined_at DESC LIMIT 1) AS team_id
    FROM entry e
), scoped AS (
    SELECT * FROM placed p
    WHERE ($6::bigint[] IS NULL OR p.market_id = any($6::bigint[]))
      AND ($7::bigint IS NULL OR p.actor_id = $7 OR p.team_id = $8::bigint)
), x AS (
    SELECT s.*, k.kind FROM scoped s
    JOIN kind k ON k.action = s.action AND k.entity = s.entity
    UNION ALL
    -- A check right after a failed one of the same stall: a good one fixed the wrong code; a
    -- failed one is the same wrong sign again (only the first failure finds it).
    SELECT s.*, CASE s.action WHEN 'verify' THEN 'codes_fixed' ELSE 'return_visits' END
    FROM scoped s
    WHERE s.action IN ('verify', 'verify_failed') AND s.entity = 'stall'
      AND (s.action = 'verify') = (coalesce(
          (SELECT p.action FROM audit_log p
           WHERE p.entity = 'stall' AND p.entity_id = s.eid::text
             AND p.action IN ('verify', 'verify_failed') AND p.id < s.id
             AND NOT (p.action = 'verify'
                      AND coalesce(p.after->>'method', '') = any($10::text[]))
           ORDER BY p.id DESC LIMIT 1), '') = 'verify_failed')
)
SELECT g.*, {label} AS label, $9::boolean AS names_shown FROM (
    SELECT {key} AS key, {counts}
    FROM x GROUP BY 1
) g
"""


@dataclass(frozen=True)
class ActivityFilter:
    start: date
    end: date
    market_ids: list[int] | None  # None: every market (actions without a market included)
    actor_id: int | None  # only this user's actions ...
    team_id: int | None  # ... or (with actor_id) also those attributed to this team
    names: bool  # whether usernames may be returned


async def activity(
    conn: asyncpg.Connection, f: ActivityFilter, group_by: str
) -> list[dict[str, Any]]:
    """Counts per kind of the field actions in the filter, per group (key, label, counts)."""
    key, label = _GROUPS[group_by]
    sql = _ACTIVITY.format(key=key, label=label, counts=_COUNTS)
    actions, entities, kind_names = kinds.mapping_rows()
    rows = await conn.fetch(
        sql,
        actions,
        entities,
        kind_names,
        f.start,
        f.end,
        f.market_ids,
        f.actor_id,
        f.team_id,
        f.names,
        list(kinds.NOT_FIELD_METHODS),
    )
    return [dict(r) for r in rows]


# ---------------------------------------------------------------- return visits assigned to a person

# The people who may be asked to visit a market's stalls: active volunteers and managers whose
# scope covers it (core.access: the market, its ward or its province), and when $team is set only
# that team's current members. $market, $team.
_ELIGIBLE = (
    """
SELECT u.id, u.username, coalesce(nullif(u.display_name, ''), u.username) AS name, u.role
FROM app_user u, market mk
WHERE mk.id = $1 AND u.active AND u.role IN ('volunteer', 'manager')
  AND """
    + access.works_in_market_sql("u.id", "mk")
    + """
  AND ($2::bigint IS NULL OR EXISTS (SELECT 1 FROM team_membership m WHERE m.user_id = u.id
                                     AND m.team_id = $2 AND m.left_at IS NULL))
"""
)


@dataclass(frozen=True)
class Assignee:
    id: int
    username: str
    name: str
    role: str


async def assignees(
    conn: asyncpg.Connection, *, market_id: int, team_id: int | None
) -> list[Assignee]:
    """Everyone who may be asked to visit this market's stalls, by name."""
    rows = await conn.fetch(_ELIGIBLE + " ORDER BY name, u.id", market_id, team_id)
    return [Assignee(**dict(r)) for r in rows]


async def assignee(
    conn: asyncpg.Connection, *, market_id: int, team_id: int | None, user_id: int
) -> Assignee | None:
    """This user, when they may be asked to visit this market's stalls."""
    row = await conn.fetchrow(_ELIGIBLE + " AND u.id = $3", market_id, team_id, user_id)
    return Assignee(**dict(row)) if row else None


async def led_team_in_market(
    conn: asyncpg.Connection, *, user_id: int, market_id: int
) -> int | None:
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


async def is_member(conn: asyncpg.Connection, *, team_id: int, user_id: int) -> bool:
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
    works_here: bool  # the person could still be asked to visit this market (see _ASSIGNMENT)


# Someone was at the stall since it was assigned: a visit was recorded, or its sign was checked or
# handed over (a reviewer checked the sign, the stall left the leader's return list, and stayed on
# the volunteer's "Được giao đi lại" until a visit was written too).
_BEEN_SINCE = """(EXISTS (SELECT 1 FROM stall_visit v
                           WHERE v.stall_id = a.stall_id AND v.visited_at >= a.assigned_at)
                  OR EXISTS (SELECT 1 FROM stall_coverage c
                             WHERE c.stall_id = a.stall_id
                               AND (c.verified_at >= a.assigned_at
                                    OR c.sign_delivered_at >= a.assigned_at)))"""

# `works_here`: the person could be asked today (active, a field role, works in the stall's market:
# the rule of _ELIGIBLE without the team); false once they were deactivated or left the market.
_ASSIGNMENT = (
    """
SELECT a.stall_id, a.user_id, coalesce(nullif(u.display_name, ''), u.username) AS name,
       coalesce(nullif(b.display_name, ''), b.username) AS assigned_by, a.assigned_at,
       """
    + _BEEN_SINCE
    + """ AS visited_since,
       (u.active AND u.role IN ('volunteer', 'manager') AND """
    + access.works_in_market_sql("u.id", "mk")
    + """) AS works_here
FROM stall_assignment a
JOIN stall s ON s.id = a.stall_id
JOIN market mk ON mk.id = s.market_id
JOIN app_user u ON u.id = a.user_id
JOIN app_user b ON b.id = a.assigned_by
"""
)


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
        _ASSIGNMENT + " WHERE s.market_id = $1 ORDER BY s.code_sort, s.id",
        market_id,
    )
    return [AssignmentRow(**dict(r)) for r in rows]


async def assignments_of(
    conn: asyncpg.Connection, *, user_id: int, market_ids: list[int] | None
) -> list[dict]:
    """The stalls this user is asked to visit again (schemas.MyAssignment's fields): those not
    visited since, and those visited that were asked in the last 14 days, in markets of their scope (None: all); the
    ones not visited since first, then by market and stall code."""
    rows = await conn.fetch(
        """SELECT a.stall_id, s.stall_code, s.zone, s.market_id, mk.name AS market_name,
                  coalesce(nullif(b.display_name, ''), b.username) AS assigned_by, a.assigned_at,
                  """
        + _BEEN_SINCE
        + """ AS visited_since
           FROM stall_assignment a
           JOIN stall s ON s.id = a.stall_id
           JOIN market mk ON mk.id = s.market_id
           JOIN app_user b ON b.id = a.assigned_by
           WHERE a.user_id = $1 AND ($2::bigint[] IS NULL OR s.market_id = any($2::bigint[]))
             AND (a.assigned_at > clock_timestamp() - interval '14 days' OR NOT """
        + _BEEN_SINCE
        + """)
           ORDER BY visited_since, mk.name_sort, mk.name, s.code_sort, s.id""",
        user_id,
        market_ids,
    )
    return [dict(r) for r in rows]


# How the audit log names a team (core.audit.name_records).
AUDIT_NAMES = {"team": "(SELECT name FROM team WHERE id = {id})"}
