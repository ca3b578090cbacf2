"""Teams: create, read, change members, leader and markets; members' scope follows the markets.

A membership change or a market change rewrites the team's user_market rows in the same
transaction (queries.sync_scope), so a member works in the team's markets from the moment they
join and stops the moment they leave. Leaving closes the membership (left_at); nothing is deleted.
"""

from __future__ import annotations

import asyncpg

from admin_units import service as admin_units
from core import audit
from core.types import User
from teams import errors, queries, schemas, scope

audit.name_records(queries.AUDIT_NAMES)

MEMBER_ROLES = frozenset({"volunteer", "manager"})
CANDIDATE_LIMIT = 50


async def _team(conn: asyncpg.Connection, team_id: int) -> schemas.Team:
    rows = await queries.teams(conn, [team_id])
    if not rows:
        raise errors.TeamNotFound(f"No team with id {team_id}.")
    return schemas.Team(**rows[0])


async def list_teams(conn: asyncpg.Connection, *, user: User) -> list[schemas.Team]:
    """Teams the caller may see."""
    ids = await scope.visible_team_ids(conn, user)
    if ids == []:
        return []
    return [schemas.Team(**r) for r in await queries.teams(conn, ids)]


async def get_team(conn: asyncpg.Connection, *, user: User, team_id: int) -> schemas.Team:
    """One team the caller may see (404 otherwise)."""
    ids = await scope.visible_team_ids(conn, user)
    if ids is not None and team_id not in ids:
        raise errors.TeamNotFound(f"No team with id {team_id}.")
    return await _team(conn, team_id)


async def _check_ward(conn: asyncpg.Connection, ward_code: str) -> str:
    code = admin_units.ward_code(ward_code)
    if not await admin_units.ward_exists(conn, code):
        raise errors.UnknownWard(f"No ward has the code {ward_code}.", field="ward_code")
    return code


async def _check_new_members(conn: asyncpg.Connection, user_ids: set[int], team_id: int | None):
    if not user_ids:
        return
    facts = {f.id: f for f in await queries.user_facts(conn, sorted(user_ids))}
    unknown = sorted(i for i in user_ids if i not in facts or not facts[i].active)
    if unknown:
        raise errors.UnknownUsers(
            f"No active user with ids {unknown}.", field="member_ids", user_ids=unknown
        )
    wrong = sorted(i for i in user_ids if facts[i].role not in MEMBER_ROLES)
    if wrong:
        raise errors.NotAFieldRole(
            f"Users {wrong} are neither volunteers nor managers.",
            field="member_ids",
            user_ids=wrong,
        )
    elsewhere = await queries.memberships_elsewhere(
        conn, user_ids=sorted(user_ids), team_id=team_id
    )
    if elsewhere:
        raise errors.InOtherTeam(
            "A user is in one team at a time: remove them from their team first "
            f"(user, team): {elsewhere}.",
            field="member_ids",
            members=[{"user_id": u, "team_id": t} for u, t in elsewhere],
        )


async def _check_markets(conn: asyncpg.Connection, market_ids: set[int]) -> None:
    missing = await queries.missing_markets(conn, sorted(market_ids))
    if missing:
        raise errors.UnknownMarkets(
            f"Unknown market ids: {missing}.", field="market_ids", market_ids=missing
        )


def _check_leader(leader_id: int | None, member_ids: set[int]) -> None:
    if leader_id is not None and leader_id not in member_ids:
        raise errors.LeaderNotMember(
            "The leader must be one of the team's members.", field="leader_id"
        )


def _audit_view(team: schemas.Team) -> dict:
    return {
        "name": team.name,
        "ward_code": team.ward_code,
        "leader_id": team.leader_id,
        "member_ids": sorted(m.id for m in team.members),
        "market_ids": sorted(m.id for m in team.markets),
    }


def _name_taken(exc: asyncpg.UniqueViolationError) -> errors.TeamNameTaken | None:
    if exc.constraint_name == "team_ward_name_key":
        return errors.TeamNameTaken("Another team of this ward has this name.", field="name")
    return None


def _in_other_team(exc: asyncpg.UniqueViolationError) -> errors.InOtherTeam | None:
    if exc.constraint_name == "team_membership_current_key":
        return errors.InOtherTeam(
            "A user joined another team meanwhile; reload and try again.", field="member_ids"
        )
    return None


async def sync_team_scopes(conn: asyncpg.Connection, team_ids: list[int]) -> None:
    """Give the members of these teams their teams' markets (user_market rows marked with the
    team), as creating or changing a team does: for teams written in bulk (ops.national)."""
    await queries.sync_scope(conn, *team_ids)


async def create_team(
    conn: asyncpg.Connection, *, user: User, body: schemas.TeamCreate
) -> schemas.Team:
    """A new team of a ward with its members, leader and markets (admins; managers in scope)."""
    managed = await scope.managed(conn, user)
    members, markets = set(body.member_ids), set(body.market_ids)
    _check_leader(body.leader_id, members)
    try:
        async with conn.transaction():
            ward = await _check_ward(conn, body.ward_code)
            scope.require_ward(managed, ward)
            await _check_markets(conn, markets)
            scope.require_markets(managed, markets)
            await _check_new_members(conn, members, None)
            team_id = await queries.insert_team(
                conn, name=body.name, ward_code=ward, leader_id=body.leader_id, created_by=user.id
            )
            await queries.join(conn, team_id=team_id, user_ids=sorted(members), by=user.id)
            await queries.set_markets(conn, team_id=team_id, market_ids=sorted(markets))
            await queries.sync_scope(conn, team_id)
            team = await _team(conn, team_id)
            await audit.record(
                conn,
                actor_id=user.id,
                action="create",
                entity="team",
                entity_id=team_id,
                after=_audit_view(team),
            )
            return team
    except asyncpg.UniqueViolationError as exc:
        raise (_name_taken(exc) or _in_other_team(exc) or exc) from None


async def update_team(
    conn: asyncpg.Connection, *, user: User, team_id: int, patch: schemas.TeamPatch
) -> schemas.Team:
    """Change any of name, ward, leader, members and markets; members who leave keep their history."""
    managed = await scope.managed(conn, user)
    fields = patch.model_fields_set
    try:
        async with conn.transaction():
            before = await queries.lock_team(conn, team_id)
            place = await queries.team_place(conn, team_id)
            if before is None or place is None or not scope.manages_team(managed, place):
                raise errors.TeamNotFound(f"No team with id {team_id}.")
            old_view = _audit_view(await _team(conn, team_id))
            ward = before.ward_code
            if patch.ward_code is not None:
                ward = await _check_ward(conn, patch.ward_code)
                if ward != before.ward_code:
                    scope.require_ward(managed, ward)
            old_members, old_markets = set(before.member_ids), set(before.market_ids)
            members = old_members if patch.member_ids is None else set(patch.member_ids)
            markets = old_markets if patch.market_ids is None else set(patch.market_ids)
            leader = patch.leader_id if "leader_id" in fields else before.leader_id
            if leader is not None and leader not in members and "leader_id" not in fields:
                leader = None  # the leader left the team and nobody was named instead
            _check_leader(leader, members)
            await _check_markets(conn, markets - old_markets)
            scope.require_markets(managed, markets ^ old_markets)
            joining, leaving = members - old_members, old_members - members
            await _check_new_members(conn, joining, team_id)
            await queries.update_team(
                conn,
                team_id=team_id,
                name=patch.name or before.name,
                ward_code=ward,
                leader_id=leader,
            )
            await queries.leave(conn, team_id=team_id, user_ids=sorted(leaving), by=user.id)
            await queries.join(conn, team_id=team_id, user_ids=sorted(joining), by=user.id)
            if markets != old_markets:
                await queries.set_markets(conn, team_id=team_id, market_ids=sorted(markets))
            await queries.sync_scope(conn, team_id)
            team = await _team(conn, team_id)
            if _audit_view(team) != old_view:  # a save that changed nothing is not an edit
                await audit.record(
                    conn,
                    actor_id=user.id,
                    action="update",
                    entity="team",
                    entity_id=team_id,
                    before=old_view,
                    after=_audit_view(team),
                )
            return team
    except asyncpg.UniqueViolationError as exc:
        raise (_name_taken(exc) or _in_other_team(exc) or exc) from None


async def candidates(
    conn: asyncpg.Connection, *, user: User, query: str | None
) -> list[schemas.Candidate]:
    """Active volunteers and managers who may be added to a team, with their current team (for a
    manager, people of their area only: queries.candidates)."""
    managed = await scope.managed(conn, user)
    q = query.strip().lower() if query and query.strip() else None
    rows = await queries.candidates(conn, query=q, limit=CANDIDATE_LIMIT, scope=managed)
    return [schemas.Candidate(**r) for r in rows]


async def my_team(conn: asyncpg.Connection, *, user: User) -> tuple[int, bool] | None:
    """(team id, leads it) of the caller's current team, if any."""
    return await queries.current_team(conn, user.id)
